"""The sales turns of the assistant: financing simulations and draft quotes.

Mixed into :class:`app.agent.assistant.Assistant` (they use its output helpers). Access is
decided by ``ctx.role``, which the API takes from the authenticated key: a widget or
anonymous session gets a polite refusal for any quote request, whatever the message says,
and the quote tool is neither offered to the model nor run for it. A quote is created only
after the user answers "sim" to the summary, with an idempotency key derived from the
conversation, the sizing and the quote's arguments, so a repeated "sim" replays the first
quote instead of creating another.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from app.agent.intent import FINANCE, QUOTE, RuleIntent
from app.agent import render
from app.agent.parsing import (
    choose_option, parse_client, parse_company, parse_end_customer, parse_financing, yes_or_no,
)
from app.agent.tools import role_may_use
from app.agent.turn import Event, TurnContext
from app.core.errors import HelioError

if TYPE_CHECKING:
    from app.agent.assistant import Assistant

    _Base = Assistant
else:
    _Base = object

CONFIRMATION = "quote_confirmation"


def quote_idempotency_key(conversation_id: str, sizing_id: str, arguments: dict[str, Any]) -> str:
    """Same conversation + sizing + quote arguments → same key → at most one quote."""
    payload = json.dumps([conversation_id, sizing_id, arguments], sort_keys=True, ensure_ascii=False)
    return "chat-" + hashlib.sha256(payload.encode()).hexdigest()[:40]


def sizing_capex_brl(result: dict[str, Any]) -> float | None:
    """The estimated investment [R$] of an engine result's best design, if it has one."""
    best = result.get("best") if isinstance(result, dict) else None
    capex = ((best or {}).get("economics") or {}).get("capex_brl") if isinstance(best, dict) else None
    return float(capex) if isinstance(capex, (int, float)) else None


class SalesTurns(_Base):
    """Financing and quote handlers (see the module docstring)."""

    # -- after a sizing --------------------------------------------------------------------
    def _remember_sizing(self, ctx: TurnContext, result: dict[str, Any]) -> Iterator[Event]:
        """Keep what quotes and financing need from a successful sizing, and say what comes next."""
        state = ctx.state
        state.sizing_id = result.get("sizing_id") if isinstance(result.get("sizing_id"), str) else None
        state.sizing_capex_brl = sizing_capex_brl(result)
        state.pending_quote = state.last_quote = state.financing = None
        if state.sizing_capex_brl is not None:
            t = render.templates(ctx.lang)
            key = "sizing_next_sales" if role_may_use(ctx.role, QUOTE) and state.sizing_id else "sizing_next"
            yield from self._say(ctx, "\n" + t[key])

    # -- financing ---------------------------------------------------------------------------
    def _finance(self, ctx: TurnContext, rules: RuleIntent | None) -> Iterator[Event]:
        state = ctx.state
        f = render.templates(ctx.lang)["financing"]
        args: dict[str, Any] = dict(rules.args) if rules and rules.intent == FINANCE else parse_financing(
            ctx.message, "en" if ctx.lang == "en" else "pt").arguments()
        for key, value in self._model_args(ctx, FINANCE).items():
            if key in ("amount_brl", "term_months", "down_payment_brl", "grace_months", "system", "customer_type"):
                args.setdefault(key, value)
        previous = state.financing if state.intent == FINANCE else None
        from_sizing = False
        if "amount_brl" not in args:
            if previous:  # "e em 48x?": the same amount, another term
                args = {**previous["arguments"], **args}
                from_sizing = previous.get("from_sizing", False)
            elif state.sizing_capex_brl:
                args["amount_brl"], from_sizing = state.sizing_capex_brl, True
        state.intent = FINANCE
        if "amount_brl" not in args:
            state.awaiting = ["financing_amount"]
            yield from self._say(ctx, f["ask"])
            return
        state.awaiting = []
        yield from self._run_tool(ctx, FINANCE, args)
        outcome = ctx.outcome
        if not outcome.ok:
            yield from self._say(ctx, f["failed"].format(error=outcome.error))
            return
        state.financing = {"arguments": outcome.arguments, "from_sizing": from_sizing}
        yield Event("card", {"type": "financing", "data": {
            **outcome.result, "source": "sizing" if from_sizing else "message",
            "sizing_id": state.sizing_id if from_sizing else None}})
        yield from self._say(ctx, render.financing_text(outcome.result, ctx.lang, from_sizing))

    # -- quotes -------------------------------------------------------------------------------
    def _quote(self, ctx: TurnContext, rules: RuleIntent | None) -> Iterator[Event]:
        state = ctx.state
        q = render.templates(ctx.lang)["quote"]
        awaiting_company = state.intent == QUOTE and "quote_company" in state.awaiting
        state.intent = QUOTE
        state.pending_quote = None
        state.awaiting = []
        if not role_may_use(ctx.role, QUOTE):
            yield from self._say(ctx, q["refused"])
            return
        if not state.sizing_id:
            yield from self._say(ctx, q["needs_sizing"])
            return
        company, question = self._quote_company(ctx, awaiting_company)
        if question is not None:
            state.awaiting = ["quote_company"]
            yield from self._say(ctx, question)
            return
        state.buyer["company_id"] = company
        ask = parse_financing(ctx.message, "en" if ctx.lang == "en" else "pt")
        args = {"company_id": company, "employee_id": state.buyer.get("employee_id"),
                "end_customer_name": parse_end_customer(ctx.message) or state.buyer.get("end_customer_name"),
                "term_months": ask.term_months, "down_payment_brl": ask.down_payment_brl}
        args = {k: v for k, v in args.items() if v is not None}
        if args.get("end_customer_name"):
            state.buyer["end_customer_name"] = args["end_customer_name"]
        yield from self._run_tool(ctx, QUOTE, {**args, "confirmed": False}, context={"sizing_id": state.sizing_id})
        outcome = ctx.outcome
        if not outcome.ok:
            yield from self._say(ctx, q["failed"].format(error=outcome.error))
            return
        summary = outcome.result["summary"]
        yield Event("card", {"type": "quote_preview", "data": {**summary, "company_id": company,
                                                               "sizing_id": state.sizing_id}})
        state.pending_quote = {"arguments": args, "sizing_id": state.sizing_id,
                               "system_total_brl": summary["system_total_brl"]}
        state.awaiting = [CONFIRMATION]
        yield from self._say(ctx, render.quote_preview_text(summary, company, ctx.lang))

    def _quote_company(self, ctx: TurnContext, awaiting: bool) -> tuple[str | None, str | None]:
        """(the buying company's id, or the question to ask instead).

        Reps name clients as people do: an id on file ("comp_…", written in the message), a
        CNPJ or a company name, looked up in the commerce backend (several matches → which
        one?). An id is never made up from the words of the message: a model's ``company_id``
        counts only when it is written, as such, in the message."""
        state, q = ctx.state, render.templates(ctx.lang)["quote"]
        if state.company_options and awaiting:
            pick = choose_option(ctx.message, [o["name"] for o in state.company_options])
            if pick is not None:
                chosen = state.company_options[pick]
                state.company_options = []
                return chosen["id"], None
        explicit = parse_company(ctx.message, bare=awaiting)
        proposed = self._model_args(ctx, QUOTE).get("company_id")
        if explicit is None and isinstance(proposed, str) and re.search(
                rf"(?<![\w-]){re.escape(proposed)}(?![\w-])", ctx.message) and re.search(r"[\d_]", proposed):
            explicit = proposed
        if explicit:
            return explicit, None
        client = parse_client(ctx.message, bare=awaiting)
        if client is None:
            if state.buyer.get("company_id"):
                return state.buyer["company_id"], None
            return None, q["ask_company"]
        backend = self._commerce()
        if backend is None:
            return None, q["ask_company"]
        try:
            found = backend.find_companies(client)
        except HelioError as exc:
            return None, q["failed"].format(error=exc.message)
        if len(found) == 1:
            state.company_options = []
            return found[0].id, None
        if not found:
            return None, q["company_not_found"].format(name=client)
        state.company_options = [{"id": c.id, "name": c.name} for c in found]
        options = "; ".join(f"{i + 1}. {c.name}" + (f" (CNPJ {render.fmt_cnpj(c.tax_id)})" if c.tax_id else "")
                            for i, c in enumerate(found))
        return None, q["company_which"].format(name=client, options=options)

    def _commerce(self):
        """The commerce backend the quote tool uses (for looking up companies), or ``None``."""
        quotes = getattr(getattr(self.runner, "deps", None), "quotes", None)
        if quotes is None:
            return None
        try:
            return quotes().commerce
        except HelioError:
            return None

    def _confirmation(self, ctx: TurnContext) -> bool | None:
        """The user's yes/no when it answers a quote summary (or repeats the yes after the
        quote was created), else ``None`` and the turn is read as a new request."""
        state = ctx.state
        if state.pending_quote is None:
            return None
        answer = yes_or_no(ctx.message)
        waiting = state.awaiting == [CONFIRMATION]
        replay = state.intent == QUOTE and state.last_quote is not None and answer is True
        if answer is not None and (waiting or replay):
            return answer
        if waiting:  # something else: the summary is dropped, a new "gerar orçamento" shows it again
            state.pending_quote, state.awaiting = None, []
        return None

    def _confirm_quote(self, ctx: TurnContext, yes: bool) -> Iterator[Event]:
        state = ctx.state
        q = render.templates(ctx.lang)["quote"]
        pending = state.pending_quote
        if not role_may_use(ctx.role, QUOTE):
            # A widget holding a rep's conversation id can neither finish nor cancel the rep's quote.
            yield from self._say(ctx, q["refused"])
            return
        state.awaiting = []
        if not yes:
            state.pending_quote = None
            yield from self._say(ctx, q["cancelled"])
            return
        key = quote_idempotency_key(state.id, pending["sizing_id"], pending["arguments"])
        yield from self._run_tool(ctx, QUOTE, {**pending["arguments"], "confirmed": True},
                                  context={"sizing_id": pending["sizing_id"], "idempotency_key": key,
                                           "created_by": ctx.creator})
        outcome = ctx.outcome
        if not outcome.ok:
            state.pending_quote = None
            yield from self._say(ctx, q["failed"].format(error=outcome.error))
            return
        result = outcome.result
        state.last_quote = {"quote_id": result["quote_id"], "idempotency_key": key}
        yield Event("card", {"type": "quote", "data": {**result, "sizing_id": pending["sizing_id"]}})
        yield from self._say(ctx, render.quote_done_text(result, ctx.lang))
