"""Catalog turns: search products with the filters the message (and the last search) gives,
or show one product by its id."""

from __future__ import annotations

import re

from app.agent import extractors
from app.agent.handlers.base import Agent, Step
from app.agent.intent import FIND, GET, RuleIntent
from app.agent.parsing import product_filters
from app.agent.ports import ProductList
from app.agent.reply import Reply
from app.agent.turn import TurnContext
from app.core.text import fold, parse_number

_CAPACITY = re.compile(r"(\d+(?:[.,]\d+)?)\s*kwh\b(?!\s*(?:/|por|ao|a|per|each|every)\s*m)")
_ANY_BRAND = re.compile(r"\b(qualquer marca|outra marca|outras marcas|tanto faz a marca|any (brand|make)|"
                        r"other brands?)\b")


def _maker_of_sized(ctx: TurnContext, said: dict) -> Reply | None:
    """The maker of the sized design's inverter or modules, from the last sizing (no search)."""
    makers = (ctx.state.last_sizing or {}).get("makers")
    if not makers or getattr(ctx.decision, "source", None) != "sized_part":
        return None  # decided in app.agent.decide: right after a sizing, no filter said
    part = extractors.asks_maker_of(ctx.message)
    if part is None:
        return None
    maker = makers.get(part)
    if not maker:
        return Reply().say("sizing_maker_unknown")
    return Reply().say(f"sizing_maker_{part}", maker=maker)


def find(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    state = ctx.state
    said = product_filters(ctx.message, ctx.parsed)
    answered = _maker_of_sized(ctx, said)
    if answered is not None:
        return answered
    follow_up = state.intent == FIND and state.last_products and not ("category" in said and said.get(
        "category") != state.last_products.get("category"))
    if follow_up and state.last_products.get("category") == "battery" and "capacity_kwh" not in said:
        # "e de 48v com 5 kwh?", "what about 10 kWh?": after a battery search a bare kWh is its capacity
        capacity = _CAPACITY.search(fold(ctx.message))
        if capacity:
            said["capacity_kwh"] = parse_number(capacity.group(1), "en" if ctx.lang == "en" else "pt")
            said.pop("min_power_w", None)
            said.pop("max_power_w", None)
    # "e o de 8k híbrido?", "só da jinko": what the last search had, narrowed by what is said now.
    args = {**(state.last_products if follow_up else {}), **said}
    if follow_up and ("min_power_w" in said or "max_power_w" in said):
        for key in ("min_power_w", "max_power_w"):
            if key not in said:
                args.pop(key, None)
    for key, value in (rules.args if rules else {}).items():
        args.setdefault(key, value)
    for key, value in agent.model_args(ctx, FIND).items():
        # Free text narrows the search (AND): only when nothing else was understood.
        if key != "query" or not args:
            args.setdefault(key, value)
    for key in ("product_id", "connection", "k"):
        args.pop(key, None)
    if _ANY_BRAND.search(fold(ctx.message)) and "manufacturer" not in said:  # "qualquer marca": the maker goes
        args.pop("manufacturer", None)
    if args.get("category") not in ("battery", None):
        for key in ("capacity_kwh", "voltage_v"):  # battery specs: "inversor 220 V" is no filter
            args.pop(key, None)
    state.intent = FIND
    yield from agent.run_tool(ctx, FIND, args)
    outcome = ctx.outcome
    if not outcome.ok:
        return Reply().say("tool_error", error=outcome.error)
    state.last_products = {k: v for k, v in args.items() if k not in ("query", "limit")}
    found: ProductList = outcome.result
    return (Reply().card("products", {"items": outcome.data["items"], "total": found.total})
            .say("products", items=found.items, filters=args))


def get(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    product_id = (rules.args if rules else {}).get("product_id") or agent.model_args(ctx, GET).get("product_id")
    if not product_id:
        return (yield from find(agent, ctx, RuleIntent(FIND, False, {})))
    yield from agent.run_tool(ctx, GET, {"product_id": product_id})
    outcome = ctx.outcome
    if not outcome.ok:
        return Reply().say("product_failed", error=outcome.error)
    return Reply().card("product", outcome.data).say("products", items=[outcome.result])
