"""Sizing turns: gather the slots over the conversation, ask for what is missing, size.

What the user gave is merged into the conversation's slots (a correction replaces); a number
nobody could mean is asked again, never used; an option the engine cannot honour
(distributor, budget) is dropped once and said, not allowed to sink the sizing.
"""

from __future__ import annotations

from typing import Any

from app.agent import extractors, render
from app.agent.handlers.base import Agent, Step
from app.agent.handlers.products import find
from app.agent.intent import FIND, QUOTE, SIZE, RuleIntent
from app.agent.reply import Note, Reply, SizingNotes
from app.agent.slots import SIZE_KEYS, SLOT_GROUPS
from app.agent.tools import role_may_use
from app.agent.state import Slots
from app.agent.turn import TurnContext
from app.sizing.models import SizingResult


def _fails_on(error: str | None, key: str) -> bool:
    """Whether a sizing error is about the option ``key`` (the engine names it)."""
    text = (error or "").lower()
    return {"distributor": "distribuidora", "budget_brl": "orçamento"}[key] in text


_NUMERIC_OPTIONS = {"roof_area_m2", "shading_pct", "tilt_deg", "azimuth_deg", "budget_brl", "target_offset_pct",
                    "tariff_brl_per_kwh"}


def _replaced_quantity(ctx: TurnContext, slots: Slots) -> dict[str, float]:
    """A follow-up's bare number as the quantity it replaces: "e se fosse 600?" after 450 kWh is
    600 kWh, "na verdade é 980" after a R$ 890 bill is R$ 980, "e 7,5?" after 8 kWp is 7,5 kWp.
    A word next to it decides ("o consumo é 480"); else the one quantity the conversation holds."""
    value = extractors.bare_quantity(ctx.message, "en" if ctx.parsed.language == "en" else "pt")
    if value is None:
        return {}
    kind = extractors.quantity_kind(ctx.message)
    if kind is None:
        held = {"system_kwp": slots.system_kwp if not slots.has_consumption() else None,
                "bill_brl": slots.bill_brl, "monthly_kwh": slots.monthly_kwh}
        if slots.monthly_kwh_list:
            held["monthly_kwh"] = sum(slots.monthly_kwh_list) / len(slots.monthly_kwh_list)
        kind = next((k for k, v in held.items() if v), None)
        if kind is not None and not held[kind] / 10 <= value <= held[kind] * 10:
            return {}  # "só tem 30 mil" after 820 kWh is not a new consumption: read nothing
    plausible = {"monthly_kwh": value >= 10, "bill_brl": value >= 10, "system_kwp": value <= 5000}
    return {kind: value} if kind and plausible[kind] else {}


def sizing_capex_brl(result: SizingResult) -> float | None:
    """The estimated investment [R$] of an engine result's best design."""
    return float(result.best.economics.capex_brl)


def size(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    state, parsed = ctx.state, ctx.parsed
    if parsed.battery_kwh and not (parsed.monthly_kwh or parsed.monthly_kwh_list or parsed.bill_brl):
        # "baterias de 5 kWh": a capacity to look up in the catalog, not a consumption to size.
        return (yield from find(agent, ctx, RuleIntent(FIND, False, {})))
    new: dict[str, Any] = {**parsed.slots(), **parsed.options()}
    for key, value in agent.model_args(ctx, SIZE).items():
        if key in SIZE_KEYS and key not in new and not (key == "uf" and "municipality" in new):
            new[key] = value
    if not {"monthly_kwh", "monthly_kwh_list", "bill_brl", "system_kwp"} & set(new) and not parsed.doubts:
        again = extractors.consumption_follow_up(ctx.message, state.slots.monthly_kwh)
        if again:
            new["monthly_kwh"] = again
        elif not _NUMERIC_OPTIONS & set(new):
            new.update(_replaced_quantity(ctx, state.slots))
    if parsed.ambiguous_ufs and "uf" not in new:
        if state.slots.uf in parsed.ambiguous_ufs and agent.places:
            # "muda pra Lajeado" in a conversation about Estrela/RS: the namesake in that UF.
            found = agent.places.lookup(parsed.municipality or "", state.slots.uf)
            if found:
                new.update(municipality=found.name, uf=found.uf, ibge_code=found.ibge_code)
        if "uf" not in new:
            state.uf_options = list(parsed.ambiguous_ufs)
    if "uf" in new and "municipality" not in new and state.slots.municipality and agent.places:
        found = agent.places.lookup(state.slots.municipality, new["uf"])
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
    reply = Reply()
    if missing:
        again = any(m in state.asked for m in missing)
        if shown:
            reply.say("understood", slots={k: getattr(state.slots, k) for k in shown})
        for doubt in parsed.doubts:
            reply.say("doubt", raw=doubt.raw, limit=doubt.limit)
        reply.say("ask", missing=missing, again=again, municipality=state.slots.municipality,
                  options=tuple(state.uf_options))
        state.awaiting = missing
        state.asked = sorted(set(state.asked) | set(missing))
        return reply
    args = {k: v for k, v in state.slots.model_dump().items() if v is not None}
    notes: list[Note] = []
    if args.get("distributor"):
        args["distributor"] = extractors.distributor_for_uf(args["distributor"], args.get("uf"))
    if args.get("system_kwp") and not args.get("connection"):
        args["connection"] = "three_phase"  # generation barely depends on it; said in the answer
        notes.append(Note("assumed_connection"))
    yield from agent.run_tool(ctx, SIZE, args)
    outcome = ctx.outcome
    for key, note in (("distributor", "distributor_unknown"), ("budget_brl", "budget_unmet")):
        # An option the engine cannot honour is dropped once and said, not allowed to sink the sizing.
        if not outcome.ok and args.get(key) is not None and _fails_on(outcome.error, key):
            notes.append(Note(note, (key, args[key])))
            args = {k: v for k, v in args.items() if k != key}
            yield from agent.run_tool(ctx, SIZE, args)
            outcome = ctx.outcome
    state.awaiting = []
    if not outcome.ok:
        return reply.say("sizing_failed", error=outcome.error)
    if had_result and shown:
        reply.say("updated", slots={k: getattr(state.slots, k) for k in shown})
    result: SizingResult = outcome.result
    facts = render.sizing_facts(result, ctx.lang)
    about = SizingNotes(args, result, parsed.battery_kwh, tuple(notes))
    state.last_sizing = {"arguments": args, "facts": facts, "makers": render.sizing_makers(result)}
    reply.card("sizing", {"inputs": args, "facts": facts, "result": outcome.data, "notes": about})
    products = render.sizing_products(result)
    if products:
        reply.card("products", {"items": products})
    reply.say("sizing", args=args, result=result, facts=facts, notes=about)
    return reply.then(remember_sizing(ctx, result))


def remember_sizing(ctx: TurnContext, result: SizingResult) -> Reply:
    """Keep what quotes and financing need from a successful sizing, and say what comes next."""
    state = ctx.state
    state.sizing_id = result.sizing_id
    state.sizing_capex_brl = sizing_capex_brl(result)
    state.pending_quote = state.last_quote = state.financing = None
    reply = Reply()
    if state.sizing_capex_brl is not None:
        reply.say("sizing_next_sales" if role_may_use(ctx.role, QUOTE) and state.sizing_id else "sizing_next")
    return reply
