"""One chat turn: read the message, pick a tool, run it, answer from a template.

The turn is a synchronous generator of :class:`Event` (``token``, ``tool_call``,
``tool_result``, ``card``, ``citation``, ``done``); the API runs it in a worker thread and
forwards each event as SSE, or collects them into one JSON reply. Conversation state is
loaded at the start of the turn and saved before ``done``.

Who decides what: :mod:`app.agent.decide` picks the task (deterministic where certain,
then the trained intent model of :mod:`app.agent.classifier`, with the conversation's task
under way for follow-ups); the rules (:mod:`app.agent.intent`, :mod:`app.agent.parsing`)
read numbers, places and phases. An LLM (:class:`app.agent.router.Router`) is consulted
only when ``consult_model`` is on (``CHAT__ROUTE_WITH_MODEL``; off by default, measured to
add nothing): then it picks the tool when the decision is unsure and fills arguments the
rules missed (verified against the message), and a turn it fails is marked ``degraded``.
Tools compute; templates speak.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from app.agent.intent import FINANCE, FIND, GET, GREET, KNOW, OFF, QUOTE, RuleIntent, SIZE, TOOLS
from app.agent import render
from app.agent.classifier import IntentModel
from app.agent.decide import arguments, decide
from app.agent.limits import RateLimiter, check_message
from app.agent import extractors
from app.agent.parsing import detect_language, parse_message, product_filters
from app.agent.places import PlaceIndex
from app.agent.router import Proposal, Router, verified_arguments
from app.agent.sales import SalesTurns
from app.agent.slots import SIZE_KEYS, SLOT_GROUPS
from app.agent.state import ConversationState, ConversationStore
from app.agent.tools import ToolOutcome, ToolRunner
from app.core.metrics import record_turn
from app.agent.turn import Event, TurnContext
from app.core.errors import NotFound
from app.core.telemetry import traced_steps
from app.retrieval.answer import Unit, answer_question

__all__ = ["Assistant", "Event", "TurnContext", "collect"]



def _fails_on(error: str | None, key: str) -> bool:
    """Whether a sizing error is about the option ``key`` (the engine names it)."""
    text = (error or "").lower()
    return {"distributor": "distribuidora", "budget_brl": "orçamento"}[key] in text


class Assistant(SalesTurns):
    def __init__(
        self,
        router: Router,
        runner: ToolRunner,
        store: ConversationStore,
        places: PlaceIndex | None,
        *,
        max_message_chars: int = 2000,
        consult_model: bool = False,
        intent_model: IntentModel | None = None,
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
        self.intent_model = intent_model  # None: the shipped model, loaded on the first turn
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

    def _open_turn(self, conversation_id: str, message: str, language: str | None, *, role: str,
                   company_id: str | None, employee_id: str | None, owner: str | None,
                   creator: dict[str, str | None] | None) -> TurnContext:
        """The conversation loaded (and owned), the message checked and read: what every turn starts
        from, the template one and the model-led one alike."""
        check_message(message, self.max_message_chars)
        state = self.store.load(conversation_id)
        if state.owner is not None and state.owner != owner:
            raise NotFound("Conversa não encontrada (ou expirada).", hint="Inicie outra com POST /v1/chat.")
        if not state.transcript:
            state.owner = owner
        parsed = parse_message(message, self.places, tuple(state.awaiting))
        lang = language if language in render.LANGS else detect_language(message, default=state.language)
        ctx = TurnContext(state=state, message=message, lang=lang, parsed=parsed, role=role, creator=creator)
        state.buyer.update({k: v for k, v in (("company_id", company_id), ("employee_id", employee_id)) if v})
        return ctx

    def _turn(self, conversation_id: str, message: str, language: str | None, *, role: str,
              company_id: str | None, employee_id: str | None, owner: str | None,
              creator: dict[str, str | None] | None) -> Iterator[Event]:
        started = time.monotonic()
        ctx = self._open_turn(conversation_id, message, language, role=role, company_id=company_id,
                              employee_id=employee_id, owner=owner, creator=creator)
        state, lang = ctx.state, ctx.lang
        answer = self._confirmation(ctx)
        if answer is not None:  # "sim"/"não" to a quote summary: nothing for the model to choose
            skip, chosen = "confirmation", QUOTE
            yield from self._confirm_quote(ctx, answer)
        else:
            rules, skip, chosen = self._route(ctx)
            handler = {
                SIZE: self._size, FIND: self._find, GET: self._get, KNOW: self._know,
                GREET: self._greet, FINANCE: self._finance, QUOTE: self._quote,
            }.get(chosen, self._off_topic)
            yield from handler(ctx, rules)
        if ctx.degraded and any(r.startswith("llm") for r in ctx.degraded):
            yield from self._say(ctx, "\n\n" + render.templates(lang)["degraded_note"])
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
            "route": ({"source": ctx.decision.source,
                       "confidence": ctx.decision.prediction.confidence if ctx.decision.prediction else None}
                      if ctx.decision is not None else {"source": "confirmation", "confidence": None}),
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
        """Rebuild slots from a history sent by a stateless client (OpenAI-style), with the
        same decision as a turn (no model, no tool run)."""
        state = self.store.load(conversation_id)
        for text in earlier_user_messages:
            parsed = parse_message(text, self.places, tuple(state.awaiting))
            decision = decide(text, parsed, state, model=self.intent_model)
            if decision.intent in TOOLS:
                state.last_intent = decision.intent
            if decision.intent == SIZE:
                state.intent = SIZE
                state.slots.merge(parsed.slots())
                state.awaiting = state.slots.missing_for_sizing()
            state.language = detect_language(text, default=state.language)
        self.store.save(state)

    def _route(self, ctx: TurnContext) -> tuple[RuleIntent, str | None, str]:
        """(the arguments read for the task, why the model was skipped, the task chosen).

        The decision is :func:`app.agent.decide.decide` (deterministic pieces, then the
        trained intent model). A configured LLM is asked only when ``consult_model`` is on
        and the decision is unsure; its pick is then taken if the role may use that tool.
        """
        state, parsed, message = ctx.state, ctx.parsed, ctx.message
        decision = decide(message, parsed, state, model=self.intent_model)
        ctx.decision = decision
        rules = decision.rule_intent()
        skip = "injection" if decision.source == "injection" else self._skip_model(rules)
        if self.consult_model and skip is None:
            ctx.proposal = self.router.propose(message, self._context_line(state),
                                               tools=self.runner.specs_for(ctx.role))
            if ctx.proposal.error:
                ctx.degraded.append(f"llm: {ctx.proposal.error}")
        elif self.consult_model and self.router.llm is None:
            ctx.degraded.append("llm: nenhum modelo configurado")
        chosen = self._choose(rules, ctx.proposal, ctx.role)
        if chosen != rules.intent:  # the LLM's pick: start from what the rules read for it
            rules = RuleIntent(chosen, False, arguments(chosen, message, parsed, state, decision.rules))
        if chosen != SIZE and parsed.municipality and (parsed.uf or parsed.ibge_code):
            # Remember where the client is even when the turn is about something else.
            state.slots.merge({k: v for k, v in parsed.slots().items() if k in ("municipality", "uf", "ibge_code")})
        if chosen in TOOLS:
            state.last_intent = chosen
            state.last_find = dict(rules.args) if chosen == FIND else state.last_find
        return rules, skip, chosen

    def _skip_model(self, rules: RuleIntent) -> str | None:
        """Why this turn does not ask the model, or ``None`` to ask it.

        Greetings have nothing for a model to add (nor injections, see ``_route``). Load shedding:
        when the decision is sure and ``shed_queue_depth`` requests already wait for the
        embedded model, waiting in line could only confirm what the intent model read, so
        the turn goes ahead without it (not ``degraded``: nothing is lost).
        """
        if rules.sure and rules.intent == GREET:
            return "greeting"
        gate = getattr(self.router.llm, "gate", None)
        if rules.sure and gate is not None and gate.waiting >= self.shed_queue_depth:
            return "queue"
        return None

    # -- decisions ---------------------------------------------------------------------
    def _choose(self, rules: RuleIntent, proposal: Proposal | None, role: str) -> str:
        model_tool = proposal.tool if proposal and proposal.tool in self.runner.names_for(role) else None
        if rules.sure and rules.intent:
            return rules.intent
        if rules.intent == OFF:
            # The intent model read no solar request: the LLM may not pull an unrelated
            # request into a tool (SmolLM2 picks a tool for "capital da França").
            return OFF
        if model_tool:
            return model_tool
        if rules.intent:
            return rules.intent
        return OFF

    @staticmethod
    def _context_line(state: ConversationState) -> str | None:
        if state.intent != SIZE:
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
        for piece in render.chunks(text):
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
        if (not outcome.ok and outcome.error_code == "argumento_invalido" and self.consult_model
                and self.router.available):
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
    def _greet(self, ctx: TurnContext, rules: RuleIntent) -> Iterator[Event]:
        yield from self._say(ctx, render.templates(ctx.lang)["greeting"])

    def _off_topic(self, ctx: TurnContext, rules: RuleIntent) -> Iterator[Event]:
        yield from self._say(ctx, render.templates(ctx.lang)["off_topic"])

    def _size(self, ctx: TurnContext, rules: RuleIntent) -> Iterator[Event]:
        t = render.templates(ctx.lang)
        state, parsed = ctx.state, ctx.parsed
        if parsed.battery_kwh and not (parsed.monthly_kwh or parsed.monthly_kwh_list or parsed.bill_brl):
            # "baterias de 5 kWh": a capacity to look up in the catalog, not a consumption to size.
            yield from self._find(ctx, RuleIntent(FIND, False, {}))
            return
        new: dict[str, Any] = {**parsed.slots(), **parsed.options()}
        for key, value in self._model_args(ctx, SIZE).items():
            if key in SIZE_KEYS and key not in new and not (key == "uf" and "municipality" in new):
                new[key] = value
        if not {"monthly_kwh", "monthly_kwh_list", "bill_brl", "system_kwp"} & set(new) and not parsed.doubts:
            again = extractors.consumption_follow_up(ctx.message, state.slots.monthly_kwh)
            if again:
                new["monthly_kwh"] = again
        if parsed.ambiguous_ufs and "uf" not in new:
            if state.slots.uf in parsed.ambiguous_ufs and self.places:
                # "muda pra Lajeado" in a conversation about Estrela/RS: the namesake in that UF.
                found = self.places.lookup(parsed.municipality or "", state.slots.uf)
                if found:
                    new.update(municipality=found.name, uf=found.uf, ibge_code=found.ibge_code)
            if "uf" not in new:
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
        state.intent = SIZE
        missing = state.slots.missing_for_sizing()
        if parsed.doubts:  # never size on a number nobody could mean: ask for it again
            missing = sorted({d.slot for d in parsed.doubts} | set(missing), key=SLOT_GROUPS.index)
        shown = [k for k in changed if k not in ("ibge_code",) and (k != "uf" or "municipality" not in changed)]
        if missing:
            again = any(m in state.asked for m in missing)
            if shown:
                yield from self._say(ctx, t["understood"].format(
                    items=", ".join(render.fmt_slot(k, getattr(state.slots, k), ctx.lang) for k in shown)) + "\n")
            for doubt in parsed.doubts:
                yield from self._say(ctx, t["doubt"].format(raw=doubt.raw, limit=doubt.limit) + "\n")
            yield from self._say(ctx, render.ask_text(missing, ctx.lang, again, municipality=state.slots.municipality,
                                                 options=tuple(state.uf_options)))
            state.awaiting = missing
            state.asked = sorted(set(state.asked) | set(missing))
            return
        args = {k: v for k, v in state.slots.model_dump().items() if v is not None}
        notes: list[str] = []
        if args.get("distributor"):
            args["distributor"] = extractors.distributor_for_uf(args["distributor"], args.get("uf"))
        if args.get("system_kwp") and not args.get("connection"):
            args["connection"] = "three_phase"  # generation barely depends on it; said in the answer
            notes.append(t["notes"]["assumed_connection"])
        yield from self._run_tool(ctx, SIZE, args)
        outcome = ctx.outcome
        for key, note in (("distributor", "distributor_unknown"), ("budget_brl", "budget_unmet")):
            # An option the engine cannot honour is dropped once and said, not allowed to sink the sizing.
            if not outcome.ok and args.get(key) is not None and _fails_on(outcome.error, key):
                notes.append(t["notes"][note].format(value=render.fmt_option(key, args[key], ctx.lang)))
                args = {k: v for k, v in args.items() if k != key}
                yield from self._run_tool(ctx, SIZE, args)
                outcome = ctx.outcome
        state.awaiting = []
        if not outcome.ok:
            yield from self._say(ctx, t["sizing_failed"].format(error=outcome.error))
            return
        if had_result and shown:
            yield from self._say(ctx, t["updated"].format(
                items=", ".join(render.fmt_slot(k, getattr(state.slots, k), ctx.lang) for k in shown)) + "\n")
        text, facts = render.sizing_text(args, outcome.result or {}, ctx.lang)
        notes = render.sizing_notes(args, outcome.result or {}, ctx.lang, parsed.battery_kwh) + notes
        if notes:
            text += "\n" + t["notes"]["head"] + "\n" + "\n".join(f"- {n}" for n in notes)
        state.last_sizing = {"arguments": args, "facts": facts}
        yield Event("card", {"type": "sizing", "data": {"inputs": args, "facts": facts, "result": outcome.result,
                                                        "notes": notes}})
        products = render.sizing_products(outcome.result or {})
        if products:
            yield Event("card", {"type": "products", "data": {"items": products}})
        yield from self._say(ctx, text)
        yield from self._remember_sizing(ctx, outcome.result or {})

    def _find(self, ctx: TurnContext, rules: RuleIntent) -> Iterator[Event]:
        state = ctx.state
        said = product_filters(ctx.message, ctx.parsed)
        follow_up = state.intent == FIND and state.last_products and not ("category" in said and said.get(
            "category") != state.last_products.get("category"))
        # "e o de 8k híbrido?", "só da jinko": what the last search had, narrowed by what is said now.
        args = {**(state.last_products if follow_up else {}), **said}
        if follow_up and ("min_power_w" in said or "max_power_w" in said):
            for key in ("min_power_w", "max_power_w"):
                if key not in said:
                    args.pop(key, None)
        for key, value in rules.args.items():
            args.setdefault(key, value)
        for key, value in self._model_args(ctx, FIND).items():
            # Free text narrows the search (AND): only when nothing else was understood.
            if key != "query" or not args:
                args.setdefault(key, value)
        for key in ("product_id", "connection", "k"):
            args.pop(key, None)
        if args.get("category") not in ("battery", None):
            for key in ("capacity_kwh", "voltage_v"):  # battery specs: "inversor 220 V" is no filter
                args.pop(key, None)
        state.intent = FIND
        yield from self._run_tool(ctx, FIND, args)
        outcome = ctx.outcome
        if not outcome.ok:
            yield from self._say(ctx, render.templates(ctx.lang)["tool_error"].format(error=outcome.error))
            return
        state.last_products = {k: v for k, v in args.items() if k not in ("query", "limit")}
        items = (outcome.result or {}).get("items", [])
        yield Event("card", {"type": "products", "data": {"items": items, "total": outcome.result.get("total")}})
        yield from self._say(ctx, render.products_text(items, ctx.lang, args))

    def _get(self, ctx: TurnContext, rules: RuleIntent) -> Iterator[Event]:
        product_id = rules.args.get("product_id") or self._model_args(ctx, GET).get("product_id")
        if not product_id:
            yield from self._find(ctx, RuleIntent(FIND, False, {}))
            return
        yield from self._run_tool(ctx, GET, {"product_id": product_id})
        outcome = ctx.outcome
        if not outcome.ok:
            yield from self._say(ctx, render.templates(ctx.lang)["product_failed"].format(error=outcome.error))
            return
        yield Event("card", {"type": "product", "data": outcome.result})
        yield from self._say(ctx, render.products_text([outcome.result], ctx.lang))

    def _know(self, ctx: TurnContext, rules: RuleIntent) -> Iterator[Event]:
        t = render.templates(ctx.lang)
        query = rules.args.get("query") or ctx.message.strip()
        yield from self._run_tool(ctx, KNOW, {"query": query})
        outcome = ctx.outcome
        if not outcome.ok:
            if outcome.error_code in ("indisponivel",):
                ctx.degraded.append("knowledge: base de conhecimento fora do ar")
                yield from self._say(ctx, t["knowledge_down"])
            else:
                yield from self._say(ctx, t["tool_error"].format(error=outcome.error))
            return
        hits = (outcome.result or {}).get("hits", [])
        removed: set[int] = set()  # hits with a sentence that tried to instruct us (dropped: text is data)

        def keep(unit: Unit) -> bool:
            if render.is_instruction(unit.text):
                removed.add(unit.hit)
                return False
            return True

        embedder = getattr(self, "knowledge_embedder", None)
        answer = answer_question(ctx.message, hits, keep=keep,
                                 embed_query=embedder.embed_query if embedder else None,
                                 embed_documents=embedder.embed_documents if embedder else None)
        text, cites = render.knowledge_text(answer, hits, ctx.lang)
        for cite in cites:
            yield Event("citation", cite)
        yield Event("card", {"type": "citations", "data": {
            "items": cites, "answer": answer.kind, "passages_with_instructions_removed": len(removed)}})
        yield from self._say(ctx, text)


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
