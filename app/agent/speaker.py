"""Speech: a handler's :class:`~app.agent.reply.Reply` becomes words.

:class:`TemplateSpeaker` fills the answer templates of ``prompts/answers.<lang>.yaml``
(formatting in :mod:`app.agent.render`); every number it writes comes from the reply's
values (tool results or what the user typed). A model-written speaker (the grounded
``LLMSpeaker`` of the model-led issue) implements the same :class:`Speaker` protocol and can
fall back to this one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from app.agent import render
from app.agent.reply import Note, Say, SizingNotes
from app.agent.turn import Event


class Speaker(Protocol):
    def text(self, say: Say, lang: str) -> str:
        """The words for ``say`` in ``lang``."""
        ...

    def show(self, event: Event, lang: str) -> Event:
        """A card or citation as the client gets it (what it holds for people to read, worded)."""
        ...


class TemplateSpeaker:
    """Answers from the templates (see the module docstring)."""

    def text(self, say: Say, lang: str) -> str:
        t = render.templates(lang)
        v = say.values
        special = getattr(self, "_" + say.key.replace(".", "_"), None)
        if special is not None:
            return special(t, v, lang)
        node: Any = t
        for part in say.key.split("."):
            node = node[part]
        return node.format(**v) if v else node

    def show(self, event: Event, lang: str) -> Event:
        data = event.data.get("data") if event.type == "card" else None
        if isinstance(data, dict) and isinstance(data.get("notes"), SizingNotes):
            return replace(event, data={**event.data, "data": {**data, "notes": self.notes(data["notes"], lang)}})
        return event

    # -- notes about what the user gave -------------------------------------------------------
    @staticmethod
    def note(note: Note, lang: str) -> str:
        template = render.templates(lang)["notes"][note.key]
        if note.option is None:
            return template
        return template.format(value=render.fmt_option(*note.option, lang))

    def notes(self, notes: SizingNotes, lang: str) -> list[str]:
        """What became of each thing the user gave to a sizing, then the notes the handler added."""
        return (render.sizing_notes(notes.args, notes.result, lang, notes.battery_kwh)
                + [self.note(n, lang) for n in notes.extra])

    # -- templates that take more than a format ----------------------------------------------------
    @staticmethod
    def _degraded_note(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return "\n\n" + t["degraded_note"]

    @staticmethod
    def _slots(t: dict[str, Any], key: str, slots: dict[str, Any], lang: str) -> str:
        return t[key].format(items=", ".join(render.fmt_slot(k, value, lang) for k, value in slots.items())) + "\n"

    def _understood(self, t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return self._slots(t, "understood", v["slots"], lang)

    def _updated(self, t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return self._slots(t, "updated", v["slots"], lang)

    @staticmethod
    def _doubt(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return t["doubt"].format(raw=v["raw"], limit=v["limit"]) + "\n"

    @staticmethod
    def _ask(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return render.ask_text(v["missing"], lang, v["again"], municipality=v.get("municipality"),
                               options=tuple(v.get("options", ())))

    def _sizing(self, t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        lines = [t["sizing_head"].format(place=render.place_label(v["args"], v["result"]))]
        lines += [f"- {t['sizing_lines'][k].format(value=value)}" for k, value in v["facts"].items()]
        lines.append(t["sizing_foot"])
        text = "\n".join(lines)
        notes = self.notes(v["notes"], lang)
        if notes:
            text += "\n" + t["notes"]["head"] + "\n" + "\n".join(f"- {n}" for n in notes)
        return text

    @staticmethod
    def _sizing_next(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return "\n" + t["sizing_next"]

    @staticmethod
    def _sizing_next_sales(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return "\n" + t["sizing_next_sales"]

    @staticmethod
    def _products(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return render.products_text(v["items"], lang, v.get("filters"))

    @staticmethod
    def _knowledge(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return render.knowledge_answer_text(v["answer"], v["cites"], lang)

    @staticmethod
    def _financing(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return render.financing_text(v["result"], lang, v["from_sizing"])

    @staticmethod
    def _quote_preview(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return render.quote_preview_text(v["summary"], v["company"], lang)

    @staticmethod
    def _quote_pf_preview(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return render.person_preview_text(v["summary"], lang)

    @staticmethod
    def _quote_done(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        return render.quote_done_text(v["result"], lang)

    @staticmethod
    def _quote_company_which(t: dict[str, Any], v: dict[str, Any], lang: str) -> str:
        # names only, no ordinals: "a segunda" still picks one, and no number appears that no tool gave
        names = [c.name + (f" (CNPJ {render.fmt_cnpj(c.tax_id)})" if c.tax_id else "") for c in v["companies"]]
        options = "; ".join(names[:-1]) + (" or " if lang == "en" else " ou ") + names[-1]
        return t["quote"]["company_which"].format(name=v["name"], options=options)
