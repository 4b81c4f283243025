"""Decision apart from speech: handlers return typed replies, a speaker words them."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from test_agent_support import make_assistant, run_turn

from app.agent.assistant import Assistant
from app.agent.handlers import HANDLERS
from app.agent.handlers.sizing import size
from app.agent.parsing import parse_message
from app.agent.reply import Reply, Say, SizingNotes
from app.agent.speaker import TemplateSpeaker
from app.agent.state import ConversationState
from app.agent.turn import Event, TurnContext
from evals.fakes import FormulaSizing

HANDLERS_DIR = Path(__file__).resolve().parents[1] / "app" / "agent" / "handlers"


class NoTools:
    """The acting side of an agent for a handler that must not need a tool."""

    places = None
    knowledge_embedder = None

    def run_tool(self, ctx, name, args, context=None):
        raise AssertionError(f"no tool expected, got {name}")
        yield

    def model_args(self, ctx: TurnContext, tool: str) -> dict[str, Any]:
        return {}

    def commerce(self):
        return None


def drive(step) -> tuple[list[Event], Reply]:
    events = []
    try:
        while True:
            events.append(next(step))
    except StopIteration as stop:
        return events, stop.value


def test_a_handler_returns_what_to_say_not_words():
    message = "650 kWh por mês, trifásico"
    ctx = TurnContext(state=ConversationState(id="h1"), message=message, lang="pt-BR",
                      parsed=parse_message(message, None))
    events, reply = drive(size(NoTools(), ctx, None))
    assert events == []
    assert reply.says() == ["understood", "ask"]
    understood, ask = reply.parts
    assert understood.values == {"slots": {"monthly_kwh": 650.0, "connection": "three_phase"}}
    assert ask.values["missing"] == ["site"] and ctx.state.awaiting == ["site"]
    # The speaker words it, in either language, from the same reply.
    speaker = TemplateSpeaker()
    assert speaker.text(understood, "pt-BR") == "Anotei: consumo 650 kWh/mês, ligação trifásica.\n"
    assert speaker.text(understood, "en").startswith("Noted: ")


def test_another_speaker_plugs_into_the_same_turn():
    class KeySpeaker(TemplateSpeaker):
        def text(self, say: Say, lang: str) -> str:
            return f"<{say.key}>"

    assistant = make_assistant()
    assistant.speaker = KeySpeaker()
    reply = run_turn(assistant, "h2", "Cliente em Uberlândia MG, 650 kWh por mês, trifásico")
    assert reply["message"] == "<sizing><sizing_next>"
    sizing = next(c for c in reply["cards"] if c["type"] == "sizing")["data"]
    assert sizing["facts"]["system_kwp"] == "5,42 kWp"  # facts are the reply's; words are the speaker's
    assert all(isinstance(note, str) for note in sizing["notes"])


def test_card_notes_are_worded_by_the_speaker():
    args = {"roof_type": "metal", "monthly_kwh": 650, "municipality": "Uberlândia", "uf": "MG"}
    notes = SizingNotes(args, FormulaSizing().result(args))
    card = Event("card", {"type": "sizing", "data": {"notes": notes}})
    shown = TemplateSpeaker().show(card, "pt-BR")
    assert shown.data["data"]["notes"] == ["estrutura para telhado metálico"]
    assert card.data["data"]["notes"] is notes  # the handler's reply is left as it was


def test_no_mixin_and_handlers_never_word_an_answer():
    assert Assistant.__mro__ == (Assistant, object)
    assert set(HANDLERS) == {"size_pv_system", "find_products", "get_product", "search_knowledge",
                             "simulate_financing", "create_draft_quote", "greeting"}
    for path in HANDLERS_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "app.agent.assistant" not in imported, path.name
        called = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        assert not called & {"templates", "format", "sizing_text", "products_text", "financing_text",
                             "knowledge_text", "quote_preview_text", "quote_done_text"}, path.name


def test_the_sizing_tool_hands_over_the_engines_type():
    from app.agent.tools import ToolDeps, ToolRunner, make_tools
    from app.sizing.models import SizingResult

    runner = ToolRunner(make_tools(ToolDeps(sizing=FormulaSizing(), catalog=None, searcher=None)))
    outcome = runner.run("size_pv_system", {"monthly_kwh": 650, "municipality": "Uberlândia", "uf": "MG",
                                            "connection": "three_phase"})
    assert isinstance(outcome.result, SizingResult) and outcome.result.best.dc_kwp == 5.42
    assert outcome.data == outcome.result.model_dump(mode="json")  # what cards, the model and records get
    failed = runner.run("size_pv_system", {"monthly_kwh": 650, "municipality": "Atlantis", "uf": "XX"})
    assert not failed.ok and failed.data is None and "Atlantis" in failed.error
