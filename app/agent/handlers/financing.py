"""Financing turns: compare the credit lines for an amount the user gives, or for the last
sizing's investment ("e em 48x?" keeps the amount and changes the term)."""

from __future__ import annotations

from typing import Any

from app.agent.handlers.base import Agent, Step
from app.agent.intent import FINANCE, RuleIntent
from app.agent.parsing import parse_financing
from app.agent.reply import Reply
from app.agent.turn import TurnContext


def finance(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    state = ctx.state
    args: dict[str, Any] = dict(rules.args) if rules and rules.intent == FINANCE else parse_financing(
        ctx.message, "en" if ctx.lang == "en" else "pt").arguments()
    for key, value in agent.model_args(ctx, FINANCE).items():
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
        return Reply().say("financing.ask")
    state.awaiting = []
    yield from agent.run_tool(ctx, FINANCE, args)
    outcome = ctx.outcome
    if not outcome.ok:
        return Reply().say("financing.failed", error=outcome.error)
    state.financing = {"arguments": outcome.arguments, "from_sizing": from_sizing}
    return (Reply().card("financing", {**outcome.data, "source": "sizing" if from_sizing else "message",
                                       "sizing_id": state.sizing_id if from_sizing else None})
            .say("financing", result=outcome.result, from_sizing=from_sizing))
