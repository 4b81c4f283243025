"""A model-led turn: a LangChain tool-calling loop over Ollama or an OpenAI-compatible server.

Chosen when ``LLM__BACKEND`` is ``ollama`` or ``openai`` (see :func:`app.agent.factory.
build_assistant`); the embedded default keeps the template assistant. Per turn:

1. the model gets the system prompt (``prompts/loop.md``), what earlier turns established,
   the transcript cut to a token budget, the message, and the tools this session's role may
   use (a widget session's model never sees ``create_draft_quote``);
2. it calls tools, possibly several in one turn (size, then simulate financing), each
   result going back to it as data (passages inside per-turn nonce markers), or asks a
   clarifying question;
3. it writes the answer. Its tokens stream to the client as they come, except a number,
   which is held until it is complete and found in this turn's tool results or the user's
   words (:mod:`app.agent.grounding`).

When a number is not grounded, the model fails or misbehaves (malformed tool calls twice,
no answer within ``max_steps``), the turn is answered by the template assistant for the
same message: a ``reset`` event first tells the client to drop the partial text and cards,
and ``done`` says why (``grounding_fallback`` or ``degraded``). A "sim"/"não" answering a
quote summary always goes through the template confirmation flow: the model can only
prepare a quote (``confirmed`` is forced to false), never create one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.agent.intent import FINANCE, FIND, GET, KNOW, QUOTE, SIZE
from app.agent import render
from app.agent.assistant import Assistant
from app.agent.context import bounded_history, new_nonce, passages_block, state_note, tool_content
from app.agent.grounding import Grounding, settled_length
from app.agent.handlers.quote import CONFIRMATION
from app.agent.handlers.sizing import sizing_capex_brl
from app.agent.slots import SIZE_KEYS
from app.agent.tools import ToolOutcome, role_may_use
from app.agent.turn import Event, TurnContext
from app.core.metrics import record_turn

log = logging.getLogger("helio.agent.loop")

TEXT = {
    "pt-BR": {"malformed": "Chamada de ferramenta malformada (JSON inválido) para '{name}'. Chame de novo com "
                           "argumentos JSON válidos.",
              "no_sizing": "Ainda não há dimensionamento nesta conversa: dimensione o sistema antes de orçar.",
              "preview": "Resumo preparado. O orçamento só é criado depois que o usuário responder \"sim\"."},
    "en": {"malformed": "Malformed tool call (invalid JSON) for '{name}'. Call it again with valid JSON arguments.",
           "no_sizing": "No sizing in this conversation yet: size the system before quoting.",
           "preview": "Summary ready. The quote is created only after the user answers \"sim\" (yes)."},
}


def model_calls(message: Any, malformed: str) -> list[tuple[str, str, dict[str, Any], str | None]]:
    """``(id, name, arguments, error)`` for each tool call of a (streamed) model message.

    LangChain parses streamed arguments leniently (a truncated ``{"monthly_kwh": 650, "city": ``
    becomes ``{"monthly_kwh": 650}``); a call whose raw arguments are not valid JSON is
    reported back to the model as malformed instead of run with a guess."""
    raw = {c.get("id"): c.get("args") for c in getattr(message, "tool_call_chunks", None) or []}
    out: list[tuple[str, str, dict[str, Any], str | None]] = []
    for c in message.tool_calls:
        cid, args, error = c.get("id") or uuid.uuid4().hex[:12], dict(c.get("args") or {}), None
        text = raw.get(c.get("id"))
        if isinstance(text, str) and text.strip():
            try:
                json.loads(text)
            except ValueError:
                args, error = {}, malformed.format(name=c["name"])
        out.append((cid, c["name"], args, error))
    out += [(c.get("id") or uuid.uuid4().hex[:12], c.get("name") or "?", {}, malformed.format(name=c.get("name")))
            for c in getattr(message, "invalid_tool_calls", None) or []]
    return out


class TextGuard:
    """Releases streamed text as soon as every number in it is complete and grounded."""

    def __init__(self, grounding: Grounding) -> None:
        self.grounding = grounding
        self.text = ""
        self.sent = 0
        self.bad: list[str] = []

    def _check(self, end: int) -> bool:
        for token in self.grounding.ungrounded(self.text[:end]):
            self.bad.append(token)
        return not self.bad

    def feed(self, piece: str, *, final: bool = False) -> str | None:
        """The newly releasable text, or ``None`` once an ungrounded number shows up."""
        self.text += piece
        end = len(self.text) if final else settled_length(self.text)
        if end <= self.sent:
            return ""
        if not self._check(end):
            return None
        out, self.sent = self.text[self.sent:end], end
        return out


@dataclass
class LoopResult:
    fallback: str | None = None
    """``None`` = answered; ``grounding`` / ``degraded`` = answer with the template instead"""
    reasons: list[str] = field(default_factory=list)
    ungrounded: list[str] = field(default_factory=list)
    emitted: bool = False
    model_error: bool = False
    """the server failed (down, timeout, protocol error), as opposed to a bad answer"""


class ModelLedAssistant(Assistant):
    """The assistant with a capable model leading (see the module docstring)."""

    chat_model: Callable[[], Any]
    prompt: str
    max_steps: int
    history_tokens: int

    @classmethod
    def leading(cls, assistant: Assistant, *, chat_model: Callable[[], Any], prompt: str, max_steps: int = 5,
                history_tokens: int = 1500) -> ModelLedAssistant:
        """The built template ``assistant`` (all its parts, whatever they are) with the model leading."""
        led = cls.__new__(cls)
        led.__dict__.update(assistant.__dict__)
        led.consult_model = False  # the template path (fallback, confirmations) decides by rules
        led.chat_model, led.prompt = chat_model, prompt
        led.max_steps, led.history_tokens = max_steps, history_tokens
        # Circuit breaker, as the router's: a dead or hung server costs a couple of turns, not every turn.
        led._failures, led._down_until, led._lock = 0, 0.0, threading.Lock()
        return led

    def remember_history(self, conversation_id: str, history: list[tuple[str, str]]) -> None:
        """The earlier turns a stateless client (OpenAI-style) sent, as the model's transcript."""
        state = self.store.load(conversation_id)
        for role, content in history:
            if role in ("user", "assistant") and content:
                state.add(role, content)  # type: ignore[arg-type]
        self.store.save(state)

    def _model_failed(self, failed: bool) -> None:
        with self._lock:
            self._failures = self._failures + 1 if failed else 0
            if self._failures >= self.router.trip_after:
                self._down_until = time.monotonic() + self.router.cooldown_s

    def _turn(self, conversation_id: str, message: str, language: str | None, *, role: str,
              company_id: str | None, employee_id: str | None, owner: str | None,
              creator: dict[str, str | None] | None) -> Iterator[Event]:
        started = time.monotonic()
        ctx = self._open_turn(conversation_id, message, language, role=role, company_id=company_id,
                              employee_id=employee_id, owner=owner, creator=creator)
        state, lang = ctx.state, ctx.lang
        info: dict[str, Any] = {"backend": getattr(self.llm, "name", None), "model": getattr(self.llm, "model", None),
                                "speaker": "model", "steps": 0, "ttft_s": None, "model_first_token_s": None,
                                "completion_tokens": 0, "skipped": None}

        def template(result: LoopResult | None, skipped: str | None = None) -> Iterator[Event]:
            info.update(speaker="template", skipped=skipped)
            yield from self._template(conversation_id, message, language, result, info, role=role,
                                      company_id=company_id, employee_id=employee_id, owner=owner, creator=creator)

        if self._confirmation(ctx) is not None:  # "sim"/"não" to a quote summary: the template flow decides
            yield from template(None, "confirmation")
            return
        if time.monotonic() < self._down_until:
            yield from template(LoopResult("degraded", ["llm: modelo em pausa após falha recente"]), "breaker")
            return
        result = yield from self._model_steps(ctx, info, started)
        self._model_failed(result.model_error)
        if result.fallback is not None:
            if result.emitted:
                yield Event("reset", {"reason": result.fallback, "ungrounded": result.ungrounded})
            yield from template(result)
            return
        answer = "".join(ctx.text)
        if not ctx.tool_calls and "?" in answer and (state.intent == SIZE or ctx.parsed.slots()):
            state.slots.merge(ctx.parsed.slots())
            state.intent = SIZE
            state.awaiting = state.slots.missing_for_sizing()
        state.language = lang
        state.add("user", message)
        state.add("assistant", answer)
        self.store.save(state)
        intent = ctx.outcome.name if ctx.outcome is not None else "none"
        record_turn(intent, False)
        yield Event("done", {
            "conversation_id": state.id, "language": lang, "intent": intent, "degraded": False,
            "degraded_reasons": [], "awaiting": state.awaiting, "grounding_fallback": False, "llm": info,
            "elapsed_s": round(time.monotonic() - started, 4),
        })

    # -- the template answer, when the model cannot be used for this turn -------------------------
    def _template(self, conversation_id: str, message: str, language: str | None, result: LoopResult | None,
                  info: dict[str, Any], **kwargs: Any) -> Iterator[Event]:
        reasons = result.reasons if result else []
        for event in Assistant._turn(self, conversation_id, message, language, **kwargs):
            if event.type == "done":
                data = dict(event.data)
                if reasons:
                    yield Event("token", {"text": "\n\n" + render.templates(data["language"])["degraded_note"]})
                data["degraded_reasons"] = list(data.get("degraded_reasons") or []) + reasons
                data["degraded"] = bool(data["degraded_reasons"])
                data["grounding_fallback"] = bool(result and result.fallback == "grounding")
                if result and result.ungrounded:
                    data["ungrounded_numbers"] = result.ungrounded
                data["llm"] = {**data.get("llm", {}), **info}
                event = Event("done", data)
            yield event

    # -- the loop ---------------------------------------------------------------------------------
    def _messages(self, ctx: TurnContext) -> list[Any]:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        messages: list[Any] = [SystemMessage(self.prompt)]
        note = state_note(ctx.state)
        if note:
            messages.append(SystemMessage(note))
        for role, content in bounded_history(ctx.state, self.history_tokens):
            messages.append(HumanMessage(content) if role == "user" else AIMessage(content))
        messages.append(HumanMessage(ctx.message))
        return messages

    def _grounding(self, ctx: TurnContext) -> Grounding:
        # The user's words (this message and the earlier ones); this turn's tool results are
        # added as they come. Figures of earlier turns are not sources: repeating one takes
        # calling the tool again (the eval suite's "numbers grounded" checks the same way).
        return Grounding([], [ctx.message] + [t.content for t in ctx.state.transcript if t.role == "user"])

    def _model_steps(self, ctx: TurnContext, info: dict[str, Any], started: float) -> Iterator[Event]:
        from langchain_core.messages import AIMessage, ToolMessage

        specs = self.runner.specs_for(ctx.role)
        try:
            model = self.chat_model()
            model = model.bind_tools(specs) if specs else model
        except Exception as exc:  # noqa: BLE001 - a misconfigured client degrades the turn
            return LoopResult("degraded", [f"llm: {type(exc).__name__}: {exc}"])
        messages = self._messages(ctx)
        grounding = self._grounding(ctx)
        guard = TextGuard(grounding)
        nonce = new_nonce()
        result = LoopResult()
        failed_steps = 0
        for _ in range(self.max_steps):
            info["steps"] += 1
            full = None
            try:
                for chunk in model.stream(messages):
                    full = chunk if full is None else full + chunk
                    piece = chunk.content if isinstance(chunk.content, str) else ""
                    if not piece:
                        continue
                    if info["model_first_token_s"] is None:
                        info["model_first_token_s"] = round(time.monotonic() - started, 4)
                    released = guard.feed(piece)
                    if released is None:
                        return self._ungrounded(result, guard)
                    if released:
                        yield from self._emit(ctx, released, info, started, result)
            except Exception as exc:  # noqa: BLE001 - server down, timeout, a protocol error: degrade
                log.warning("Modelo falhou no passo %s: %s", info["steps"], exc)
                result.fallback, result.reasons = "degraded", [f"llm: {type(exc).__name__}: {str(exc)[:200]}"]
                result.model_error = True
                return result
            released = guard.feed("", final=True)
            if released is None:
                return self._ungrounded(result, guard)
            if released:
                yield from self._emit(ctx, released, info, started, result)
            if full is None:
                result.fallback, result.reasons = "degraded", ["llm: resposta vazia do modelo"]
                return result
            meta = getattr(full, "usage_metadata", None) or {}
            info["completion_tokens"] += int(meta.get("output_tokens", 0) or 0)
            calls = model_calls(full, TEXT.get(ctx.lang, TEXT["pt-BR"])["malformed"])
            if not calls:
                if not guard.text.strip():
                    result.fallback, result.reasons = "degraded", ["llm: resposta vazia do modelo"]
                return result
            text = full.content if isinstance(full.content, str) else ""
            messages.append(AIMessage(content=text, tool_calls=[
                {"id": cid, "name": name, "args": args, "type": "tool_call"} for cid, name, args, _ in calls]))
            ok_any = False
            for cid, name, args, malformed in calls:
                outcome = yield from self._tool(ctx, name, args, malformed)
                if outcome.error_code == "acesso_negado":
                    # A tool this session may not use: refuse in so many words, whatever the model meant.
                    yield from self._emit(ctx, ("\n\n" if guard.text else "")
                                          + render.templates(ctx.lang)["quote"]["refused"], info, started, result)
                    return result
                ok_any = ok_any or outcome.ok
                if outcome.ok:
                    grounding.add([outcome.data, outcome.arguments])
                    content = yield from self._after_tool(ctx, outcome, nonce)
                else:
                    content = tool_content(outcome, ctx.lang)
                messages.append(ToolMessage(content=content, tool_call_id=cid))
            failed_steps = 0 if ok_any else failed_steps + 1
            if failed_steps >= 2:
                result.fallback, result.reasons = "degraded", ["llm: chamadas de ferramenta inválidas"]
                return result
            if guard.text.strip() and not guard.text.endswith("\n"):
                yield from self._emit(ctx, guard.feed("\n\n", final=True) or "", info, started, result)
        result.fallback, result.reasons = "degraded", [f"llm: sem resposta em {self.max_steps} passos"]
        return result

    @staticmethod
    def _ungrounded(result: LoopResult, guard: TextGuard) -> LoopResult:
        result.fallback, result.ungrounded = "grounding", list(dict.fromkeys(guard.bad))
        result.reasons = []
        log.info("Resposta do modelo com números sem fonte %s: resposta por template", result.ungrounded)
        return result

    def _emit(self, ctx: TurnContext, text: str, info: dict[str, Any], started: float,
              result: LoopResult) -> Iterator[Event]:
        if info["ttft_s"] is None:
            info["ttft_s"] = round(time.monotonic() - started, 4)
        result.emitted = True
        ctx.text.append(text)
        yield Event("token", {"text": text})

    def _tool(self, ctx: TurnContext, name: str, args: dict[str, Any],
              malformed: str | None) -> Iterator[Event]:
        """Run one model call through the runner (role gating, validation); returns the outcome."""
        if malformed is not None:
            yield Event("tool_call", {"name": name, "arguments": args})
            outcome = ToolOutcome(name, args, False, error=malformed, error_code="chamada_malformada")
            yield Event("tool_result", {"name": name, "ok": False, "error": malformed, "error_code": outcome.error_code})
            return outcome
        context = None
        if name == QUOTE and role_may_use(ctx.role, name) and not ctx.state.sizing_id:
            error = TEXT.get(ctx.lang, TEXT["pt-BR"])["no_sizing"]
            yield Event("tool_call", {"name": name, "arguments": args})
            yield Event("tool_result", {"name": name, "ok": False, "error": error, "error_code": "precisa_dimensionamento"})
            return ToolOutcome(name, args, False, error=error, error_code="precisa_dimensionamento")
        if name == QUOTE:
            args = {**{k: v for k, v in args.items() if k != "confirmed"}, "confirmed": False}
            context = {"sizing_id": ctx.state.sizing_id}
        outcome: ToolOutcome | None = None
        for item in self._call(ctx, name, args, context):
            if isinstance(item, ToolOutcome):
                outcome = item
            else:
                yield item
        assert outcome is not None
        if outcome.ok:
            ctx.outcome = outcome
        return outcome

    def _after_tool(self, ctx: TurnContext, outcome: ToolOutcome, nonce: str) -> Iterator[Event]:
        """Cards for the UI, what the conversation remembers, and what the model reads back."""
        state, result, args = ctx.state, outcome.data or {}, outcome.arguments
        name = outcome.name
        if name == SIZE:
            sized = outcome.result
            _, facts = render.sizing_text(args, sized, ctx.lang)
            state.last_sizing = {"arguments": args, "facts": facts, "makers": render.sizing_makers(sized)}
            state.slots.merge({k: v for k, v in args.items() if k in SIZE_KEYS})
            state.intent, state.awaiting = SIZE, []
            state.sizing_id = sized.sizing_id
            state.sizing_capex_brl = sizing_capex_brl(sized)
            state.pending_quote = state.last_quote = state.financing = None
            yield Event("card", {"type": "sizing", "data": {"inputs": args, "facts": facts, "result": result}})
            products = render.sizing_products(sized)
            if products:
                yield Event("card", {"type": "products", "data": {"items": products}})
        elif name == FIND:
            yield Event("card", {"type": "products", "data": {"items": result.get("items", []),
                                                              "total": result.get("total")}})
        elif name == GET:
            yield Event("card", {"type": "product", "data": result})
        elif name == FINANCE:
            from_sizing = state.sizing_capex_brl is not None and abs(
                float(args.get("amount_brl") or 0) - state.sizing_capex_brl) < 0.5
            state.intent, state.financing = FINANCE, {"arguments": args, "from_sizing": from_sizing}
            yield Event("card", {"type": "financing", "data": {
                **result, "source": "sizing" if from_sizing else "message",
                "sizing_id": state.sizing_id if from_sizing else None}})
        elif name == KNOW:
            content, cites = passages_block(outcome.result.hits, nonce)
            for cite in cites:
                yield Event("citation", cite)
            if cites:
                yield Event("card", {"type": "citations", "data": {"items": cites}})
            return content
        elif name == QUOTE:
            summary = outcome.result.summary
            company = args.get("company_id")
            yield Event("card", {"type": "quote_preview", "data": {**result["summary"], "company_id": company,
                                                                   "sizing_id": state.sizing_id}})
            if company:
                state.buyer["company_id"] = company
            quote_args = {k: v for k, v in args.items() if k != "confirmed"}
            state.intent = QUOTE
            state.pending_quote = {"arguments": quote_args, "sizing_id": state.sizing_id,
                                   "system_total_brl": summary.system_total_brl}
            state.awaiting = [CONFIRMATION]
            return tool_content(outcome, ctx.lang, note=TEXT.get(ctx.lang, TEXT["pt-BR"])["preview"])
        return tool_content(outcome, ctx.lang)
