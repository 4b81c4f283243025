"""One chat turn: read the message, pick a tool, run it, answer from a template.

The turn is a synchronous generator of :class:`Event` (``token``, ``tool_call``,
``tool_result``, ``card``, ``citation``, ``done``); the API runs it in a worker thread and
forwards each event as SSE, or collects them into one JSON reply. Conversation state is
loaded at the start of the turn and saved before ``done``.

Who decides what: the rules (:mod:`app.agent.intent`, :mod:`app.agent.parsing`) read
numbers, places and phases; the model (:class:`app.agent.router.Router`) picks the tool
when the rules are unsure and fills arguments the rules missed (verified against the
message). Tools compute; templates speak. When the model is down or slow the same turn
runs on rules alone and is marked ``degraded``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from app.agent import intent as I
from app.agent import render as R
from app.agent.limits import RateLimiter, check_message
from app.agent.parsing import detect_language, parse_message
from app.agent.places import PlaceIndex
from app.agent.router import Proposal, Router, verified_arguments
from app.agent.sales import SalesTurns
from app.agent.state import ConversationState, ConversationStore
from app.agent.tools import ToolOutcome, ToolRunner
from app.core.metrics import record_turn
from app.agent.turn import Event, TurnContext
from app.core.errors import NotFound
from app.core.telemetry import traced_steps

__all__ = ["Assistant", "Event", "TurnContext", "collect"]

SIZE_SLOTS = ("monthly_kwh", "monthly_kwh_list", "bill_brl", "tariff_brl_per_kwh", "municipality", "uf",
              "ibge_code", "lat", "lon", "connection")


class Assistant(SalesTurns):
    def __init__(
        self,
        router: Router,
        runner: ToolRunner,
        store: ConversationStore,
        places: PlaceIndex | None,
        *,
        max_message_chars: int = 2000,
        consult_model: bool = True,
        rate_limiter: RateLimiter | None = None,
        shed_queue_depth: int = 2,
    ) -> None:
        self.router = router
        self.llm = router.llm
        self.rate_limiter = rate_limiter
        self.runner = runner
        self.store = store
        self.places = places
        self.max_message_chars = max_message_chars
        self.consult_model = consult_model
        self.shed_queue_depth = shed_queue_depth

    # -- public ------------------------------------------------------------------------
    def turn(self, conversation_id: str, message: str, language: str | None = None, *, role: str = "widget",
             company_id: str | None = None, employee_id: str | None = None,
             owner: str | None = None, creator: dict[str, str | None] | None = None) -> Iterator[Event]:
        """One turn. ``role`` and ``owner`` (the API key id) must come from the caller's
        authenticated key (the API does that); ``company_id``/``employee_id``: the buyer a
        sales-rep UI already knows; ``creator``: who a quote made in this turn is recorded as.
        Lazy: nothing runs until the first event is asked for."""
        steps = self._turn(conversation_id, message, language, role=role, company_id=company_id,
                           employee_id=employee_id, owner=owner, creator=creator)
        return traced_steps("chat.turn", steps, **{"helio.conversation_id": conversation_id, "helio.role": role})

    def _turn(self, conversation_id: str, message: str, language: str | None, *, role: str,
              company_id: str | None, employee_id: str | None, owner: str | None,
              creator: dict[str, str | None] | None) -> Iterator[Event]:
        started = time.monotonic()
        check_message(message, self.max_message_chars)
        state = self.store.load(conversation_id)
        if state.owner is not None and state.owner != owner:
            raise NotFound("Conversa não encontrada (ou expirada).", hint="Inicie outra com POST /v1/chat.")
        if not state.transcript:
            state.owner = owner
        parsed = parse_message(message, self.places, tuple(state.awaiting))
        lang = language if language in R.LANGS else detect_language(message, default=state.language)
        ctx = TurnContext(state=state, message=message, lang=lang, parsed=parsed, role=role, creator=creator)
        state.buyer.update({k: v for k, v in (("company_id", company_id), ("employee_id", employee_id)) if v})
        answer = self._confirmation(ctx)
        if answer is not None:  # "sim"/"não" to a quote summary: nothing for the model to choose
            skip, chosen = "confirmation", I.QUOTE
            yield from self._confirm_quote(ctx, answer)
        else:
            rules, skip, chosen = self._route(ctx)
            handler = {
                I.SIZE: self._size, I.FIND: self._find, I.GET: self._get, I.KNOW: self._know,
                I.GREET: self._greet, I.FINANCE: self._finance, I.QUOTE: self._quote,
            }.get(chosen, self._off_topic)
            yield from handler(ctx, rules)
        if ctx.degraded and any(r.startswith("llm") for r in ctx.degraded):
            yield from self._say(ctx, "\n\n" + R.templates(lang)["degraded_note"])
        state.language = lang
        state.add("user", message)
        state.add("assistant", "".join(ctx.text))
        self.store.save(state)
        usage = ctx.proposal.usage if ctx.proposal else None
        record_turn(chosen, bool(ctx.degraded))
        yield Event("done", {
            "conversation_id": state.id,
            "language": lang,
            "intent": chosen,
            "degraded": bool(ctx.degraded),
            "degraded_reasons": ctx.degraded,
            "awaiting": state.awaiting,
            "llm": {
                "backend": getattr(self.router.llm, "name", None),
                "skipped": skip,
                "proposed_tool": ctx.proposal.tool if ctx.proposal else None,
                "proposed_arguments": ctx.proposal.arguments if ctx.proposal else None,
                "completion_tokens": usage.completion_tokens if usage else 0,
                "ttft_s": usage.ttft_s if usage else None,
                "elapsed_s": usage.elapsed_s if usage else 0.0,
                "queue_wait_s": usage.queue_wait_s if usage else 0.0,
            },
            "elapsed_s": round(time.monotonic() - started, 4),
        })

    def prime(self, conversation_id: str, earlier_user_messages: list[str]) -> None:
        """Rebuild slots from a history sent by a stateless client (OpenAI-style), by rules only."""
        state = self.store.load(conversation_id)
        for text in earlier_user_messages:
            parsed = parse_message(text, self.places, tuple(state.awaiting))
            rules = I.classify(text, parsed, state.intent, state.awaiting)
            if rules.intent == I.SIZE:
                state.intent = I.SIZE
                state.slots.merge(parsed.slots())
                state.awaiting = state.slots.missing_for_sizing()
            state.language = detect_language(text, default=state.language)
        self.store.save(state)

    def _route(self, ctx: TurnContext) -> tuple[I.RuleIntent, str | None, str]:
        """(what the rules read, why the model was skipped, the intent chosen) for this turn."""
        state, parsed, message = ctx.state, ctx.parsed, ctx.message
        rules = I.classify(message, parsed, state.intent, state.awaiting, has_sizing=bool(state.sizing_capex_brl))
        skip = self._skip_model(rules)
        if self.consult_model and skip is None:
            ctx.proposal = self.router.propose(message, self._context_line(state),
                                               tools=self.runner.specs_for(ctx.role))
            if ctx.proposal.error:
                ctx.degraded.append(f"llm: {ctx.proposal.error}")
        elif self.router.llm is None:
            ctx.degraded.append("llm: nenhum modelo configurado")
        chosen = self._choose(rules, ctx.proposal, ctx.role)
        if chosen != I.SIZE and parsed.municipality and (parsed.uf or parsed.ibge_code):
            # Remember where the client is even when the turn is about something else.
            state.slots.merge({k: v for k, v in parsed.slots().items() if k in ("municipality", "uf", "ibge_code")})
        return rules, skip, chosen

    def _skip_model(self, rules: I.RuleIntent) -> str | None:
        """Why this turn does not ask the model, or ``None`` to ask it.

        Load shedding: when the rules are sure and ``shed_queue_depth`` requests already
        wait for the embedded model, waiting in line could only confirm what the rules
        know, so the turn goes ahead without it (not ``degraded``: nothing is lost).
        """
        if rules.sure and rules.intent == I.GREET:
            return "greeting"
        gate = getattr(self.router.llm, "gate", None)
        if rules.sure and gate is not None and gate.waiting >= self.shed_queue_depth:
            return "queue"
        return None

    # -- decisions ---------------------------------------------------------------------
    def _choose(self, rules: I.RuleIntent, proposal: Proposal | None, role: str) -> str:
        model_tool = proposal.tool if proposal and proposal.tool in self.runner.names_for(role) else None
        if rules.sure and rules.intent:
            return rules.intent
        if rules.intent == I.OFF:
            # No solar/energy word and nothing to size: the model may not pull an unrelated
            # request into a tool (SmolLM2 picks a tool for "capital da França").
            return I.OFF
        if model_tool:
            return model_tool
        if rules.intent:
            return rules.intent
        return I.OFF

    @staticmethod
    def _context_line(state: ConversationState) -> str | None:
        if state.intent != I.SIZE:
            return None
        known = {k: v for k, v in state.slots.model_dump().items() if v is not None}
        return f"Pending task: size_pv_system. Already known: {known}. Missing: {state.awaiting}."

    def _model_args(self, ctx: TurnContext, tool: str) -> dict[str, Any]:
        p = ctx.proposal
        if p is None or p.tool != tool:
            return {}
        return verified_arguments(p.arguments, ctx.message, self.places)

    # -- output helpers ----------------------------------------------------------------
    def _say(self, ctx: TurnContext, text: str) -> Iterator[Event]:
        ctx.text.append(text)
        for piece in R.chunks(text):
            yield Event("token", {"text": piece})

    def _call(self, ctx: TurnContext, name: str, args: dict[str, Any],
              context: dict[str, Any] | None = None) -> Iterator[Event | ToolOutcome]:
        ctx.tool_calls += 1
        yield Event("tool_call", {"name": name, "arguments": args})
        outcome = self.runner.run(name, args, role=ctx.role, context=context)
        yield Event("tool_result", {"name": name, "ok": outcome.ok, "error": outcome.error,
                                    "error_code": outcome.error_code})
        yield outcome

    def _run_tool(self, ctx: TurnContext, name: str, args: dict[str, Any],
                  context: dict[str, Any] | None = None) -> Iterator[Event]:
        """Run a tool; on an argument error, give the message back to the model once.
        ``context``: the session's values for the tool's injected arguments."""
        outcome: ToolOutcome | None = None
        for item in self._call(ctx, name, args, context):
            if isinstance(item, ToolOutcome):
                outcome = item
            else:
                yield item
        assert outcome is not None
        if not outcome.ok and outcome.error_code == "argumento_invalido" and self.router.available:
            retry = self.router.propose(ctx.message, error=outcome.error, tools=self.runner.specs_for(ctx.role))
            fixed = verified_arguments(retry.arguments, ctx.message, self.places) if retry.tool == name else {}
            if fixed and fixed != args:
                for item in self._call(ctx, name, fixed, context):
                    if isinstance(item, ToolOutcome):
                        outcome = item
                    else:
                        yield item
        ctx.outcome = outcome

    # -- handlers ----------------------------------------------------------------------
    def _greet(self, ctx: TurnContext, rules: I.RuleIntent) -> Iterator[Event]:
        yield from self._say(ctx, R.templates(ctx.lang)["greeting"])

    def _off_topic(self, ctx: TurnContext, rules: I.RuleIntent) -> Iterator[Event]:
        yield from self._say(ctx, R.templates(ctx.lang)["off_topic"])

    def _size(self, ctx: TurnContext, rules: I.RuleIntent) -> Iterator[Event]:
        t = R.templates(ctx.lang)
        state, parsed = ctx.state, ctx.parsed
        new = parsed.slots()
        for key, value in self._model_args(ctx, I.SIZE).items():
            if key in SIZE_SLOTS and key not in new and not (key == "uf" and "municipality" in new):
                new[key] = value
        if parsed.ambiguous_ufs and "uf" not in new:
            state.uf_options = list(parsed.ambiguous_ufs)
        if "uf" in new and "municipality" not in new and state.slots.municipality and self.places:
            found = self.places.lookup(state.slots.municipality, new["uf"])
            if found:
                new.update(municipality=found.name, ibge_code=found.ibge_code)
            else:  # another state: the city we had is not the site any more
                state.slots.municipality = state.slots.ibge_code = None
        had_result = state.last_sizing is not None
        changed = state.slots.merge(new)
        if state.slots.uf:
            state.uf_options = []
        state.intent = I.SIZE
        missing = state.slots.missing_for_sizing()
        shown = [k for k in changed if k not in ("ibge_code",) and (k != "uf" or "municipality" not in changed)]
        if missing:
            again = any(m in state.asked for m in missing)
            if shown:
                yield from self._say(ctx, t["understood"].format(
                    items=", ".join(R.fmt_slot(k, getattr(state.slots, k), ctx.lang) for k in shown)) + "\n")
            yield from self._say(ctx, R.ask_text(missing, ctx.lang, again, municipality=state.slots.municipality,
                                                 options=tuple(state.uf_options)))
            state.awaiting = missing
            state.asked = sorted(set(state.asked) | set(missing))
            return
        args = {k: v for k, v in state.slots.model_dump().items() if v is not None}
        yield from self._run_tool(ctx, I.SIZE, args)
        outcome = ctx.outcome
        state.awaiting = []
        if not outcome.ok:
            yield from self._say(ctx, t["sizing_failed"].format(error=outcome.error))
            return
        if had_result and shown:
            yield from self._say(ctx, t["updated"].format(
                items=", ".join(R.fmt_slot(k, getattr(state.slots, k), ctx.lang) for k in shown)) + "\n")
        text, facts = R.sizing_text(args, outcome.result or {}, ctx.lang)
        state.last_sizing = {"arguments": args, "facts": facts}
        yield Event("card", {"type": "sizing", "data": {"inputs": args, "facts": facts, "result": outcome.result}})
        products = R.sizing_products(outcome.result or {})
        if products:
            yield Event("card", {"type": "products", "data": {"items": products}})
        yield from self._say(ctx, text)
        yield from self._remember_sizing(ctx, outcome.result or {})

    def _find(self, ctx: TurnContext, rules: I.RuleIntent) -> Iterator[Event]:
        args = dict(rules.args)
        for key, value in self._model_args(ctx, I.FIND).items():
            # Free text narrows the search (AND): only when the rules found no filter at all.
            if key != "query" or not rules.args:
                args.setdefault(key, value)
        for key in ("product_id", "connection", "k"):
            args.pop(key, None)
        yield from self._run_tool(ctx, I.FIND, args)
        outcome = ctx.outcome
        if not outcome.ok:
            yield from self._say(ctx, R.templates(ctx.lang)["tool_error"].format(error=outcome.error))
            return
        items = (outcome.result or {}).get("items", [])
        yield Event("card", {"type": "products", "data": {"items": items, "total": outcome.result.get("total")}})
        yield from self._say(ctx, R.products_text(items, ctx.lang))

    def _get(self, ctx: TurnContext, rules: I.RuleIntent) -> Iterator[Event]:
        product_id = rules.args.get("product_id") or self._model_args(ctx, I.GET).get("product_id")
        if not product_id:
            yield from self._find(ctx, I.RuleIntent(I.FIND, False, I.product_filters(ctx.message, ctx.parsed)))
            return
        yield from self._run_tool(ctx, I.GET, {"product_id": product_id})
        outcome = ctx.outcome
        if not outcome.ok:
            yield from self._say(ctx, R.templates(ctx.lang)["product_failed"].format(error=outcome.error))
            return
        yield Event("card", {"type": "product", "data": outcome.result})
        yield from self._say(ctx, R.products_text([outcome.result], ctx.lang))

    def _know(self, ctx: TurnContext, rules: I.RuleIntent) -> Iterator[Event]:
        t = R.templates(ctx.lang)
        query = rules.args.get("query") or ctx.message.strip()
        yield from self._run_tool(ctx, I.KNOW, {"query": query})
        outcome = ctx.outcome
        if not outcome.ok:
            if outcome.error_code in ("indisponivel",):
                ctx.degraded.append("knowledge: base de conhecimento fora do ar")
                yield from self._say(ctx, t["knowledge_down"])
            else:
                yield from self._say(ctx, t["tool_error"].format(error=outcome.error))
            return
        lines, cites, dropped = [], [], 0
        for hit in (outcome.result or {}).get("hits", []):
            passage, had_injection = R.clean_passage(hit["text"])
            dropped += had_injection
            if not passage:
                continue
            n = len(cites) + 1
            cite = {"index": n, "label": R.citation_label(hit["citation"]), **hit["citation"], "score": hit["score"]}
            cites.append(cite)
            lines.append(f"[{n}] “{passage}” — {cite['label']}")
        if not lines:
            yield from self._say(ctx, t["knowledge_none"])
            return
        for cite in cites:
            yield Event("citation", cite)
        yield Event("card", {"type": "citations", "data": {"items": cites, "passages_with_instructions_removed": dropped}})
        yield from self._say(ctx, t["knowledge_head"] + "\n" + "\n".join(lines))


def collect(events: Iterator[Event]) -> dict[str, Any]:
    """A whole turn as one JSON-able reply (the non-streaming API)."""
    text, cards, citations, tools, done = [], [], [], [], {}
    for event in events:
        if event.type == "token":
            text.append(event.data["text"])
        elif event.type == "reset":  # a model-led answer withdrawn (app.agent.loop): its replacement follows
            text, cards, citations = [], [], []
        elif event.type == "card":
            cards.append(event.data)
        elif event.type == "citation":
            citations.append(event.data)
        elif event.type in ("tool_call", "tool_result"):
            tools.append({"event": event.type, **event.data})
        elif event.type == "done":
            done = event.data
    return {"message": "".join(text), "cards": cards, "citations": citations, "tools": tools, **done}
