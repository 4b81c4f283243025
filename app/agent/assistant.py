"""One chat turn: read the message, decide the task, let its handler act, speak the reply.

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
The task's handler (:mod:`app.agent.handlers`) runs the tools and returns a typed
:class:`~app.agent.reply.Reply`; the speaker (:class:`~app.agent.speaker.TemplateSpeaker`)
words it. Tools compute; handlers decide; the speaker speaks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from app.agent import render
from app.agent.classifier import IntentModel
from app.agent.decide import arguments, decide
from app.agent.handlers import HANDLERS
from app.agent.handlers.base import Handler
from app.agent.handlers.quote import confirm_quote, confirmation
from app.agent.handlers.talk import off_topic
from app.agent.intent import FIND, GREET, OFF, QUOTE, SIZE, TOOLS, RuleIntent
from app.agent.limits import RateLimiter, check_message
from app.agent.parsing import detect_language, parse_message
from app.agent.places import PlaceIndex
from app.agent.reply import Reply, Say
from app.agent.router import Proposal, Router, verified_arguments
from app.agent.speaker import Speaker, TemplateSpeaker
from app.agent.state import ConversationState, ConversationStore
from app.agent.tools import ToolOutcome, ToolRunner
from app.agent.turn import Event, TurnContext
from app.core.errors import HelioError, NotFound
from app.core.metrics import record_turn
from app.core.telemetry import traced_steps

__all__ = ["Assistant", "Event", "TurnContext", "collect"]


class Assistant:
    """The turn: understand → decide → act (a handler of :mod:`app.agent.handlers`) → speak."""

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
        speaker: Speaker | None = None,
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
        self.speaker: Speaker = speaker or TemplateSpeaker()
        self.knowledge_embedder = None  # orders near-tie answer sentences (the factory sets the searcher's)

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
        parsed = parse_message(message, self.places, tuple(state.awaiting), state.slots.uf)
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
        answer = confirmation(ctx)
        if answer is not None:  # "sim"/"não" to a quote summary: nothing for the model to choose
            skip, chosen = "confirmation", QUOTE
            reply = yield from confirm_quote(self, ctx, answer)
        else:
            rules, skip, chosen = self._route(ctx)
            handler: Handler = HANDLERS.get(chosen, off_topic)
            reply = yield from handler(self, ctx, rules)
        if ctx.degraded and any(r.startswith("llm") for r in ctx.degraded):
            reply.say("degraded_note")
        yield from self.speak(ctx, reply)
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
            parsed = parse_message(text, self.places, tuple(state.awaiting), state.slots.uf)
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

    def model_args(self, ctx: TurnContext, tool: str) -> dict[str, Any]:
        """Arguments a consulted model proposed for ``tool``, verified against the message."""
        p = ctx.proposal
        if p is None or p.tool != tool:
            return {}
        return verified_arguments(p.arguments, ctx.message, self.places)

    def commerce(self) -> Any:
        """The commerce backend the quote tool uses (for looking up companies), or ``None``."""
        quotes = getattr(getattr(self.runner, "deps", None), "quotes", None)
        if quotes is None:
            return None
        try:
            return quotes().commerce
        except HelioError:
            return None

    def _confirmation(self, ctx: TurnContext) -> bool | None:
        """The user's yes/no to a quote summary (:func:`app.agent.handlers.quote.confirmation`)."""
        return confirmation(ctx)

    # -- speaking ----------------------------------------------------------------------
    def speak(self, ctx: TurnContext, reply: Reply) -> Iterator[Event]:
        """The reply as events: cards and citations as the speaker shows them, words as ``token`` s
        (one per template line)."""
        for part in reply.parts:
            if isinstance(part, Say):
                yield from self._say(ctx, self.speaker.text(part, ctx.lang))
            else:
                yield self.speaker.show(part, ctx.lang)

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

    def run_tool(self, ctx: TurnContext, name: str, args: dict[str, Any],
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
