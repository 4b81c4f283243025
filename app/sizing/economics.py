"""Lei 14.300 billing and the 25-year cash flow (finance maths by numpy-financial).

Billing model per month (DESIGN.md, "Usual savings model"):
- self-consumed = min(simultaneity × generation, consumption): no Fio B, never billed;
- injected = generation − self-consumed, added to a credit bank whose entries expire after
  60 months (art. 13), oldest used first;
- compensated = min(credits available, consumption left − availability cost): the
  availability cost (30/50/100 kWh, REN 1.000 art. 291) is always billed;
- bill = billed energy × (TE+TUSD) + compensated × Fio B × share(calendar year), prices
  with taxes (ICMS, PIS/COFINS "por dentro", :mod:`app.sizing.tariffs`) as on the bill;
- savings = bill without PV − bill with PV.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy_financial as npf

from app.catalog.models import Phase
from app.core.errors import InvalidInput
from app.sizing.models import YearOut
from app.sizing.tariffs import Tariff, site_tariff

AVAILABILITY_KWH = {Phase.SINGLE: 30.0, Phase.TWO: 50.0, Phase.THREE: 100.0}
FIO_B_SHARE_BY_YEAR = {2023: 0.15, 2024: 0.30, 2025: 0.45, 2026: 0.60, 2027: 0.75, 2028: 0.90}
GRANDFATHERED_UNTIL_YEAR = 2045  # art. 26: access requested before 7 Jan 2023
CREDIT_LIFETIME_MONTHS = 60


def availability_kwh(connection: Phase) -> float:
    """Minimum billed energy per month [kWh] for a connection type (REN ANEEL 1.000/2021)."""
    return AVAILABILITY_KWH[Phase(connection)]


def fio_b_share(year: int, *, share_2029_on: float = 1.0, grandfathered: bool = False) -> float:
    """Share of TUSD Fio B charged on compensated energy in ``year`` (Lei 14.300, art. 27)."""
    if grandfathered and year <= GRANDFATHERED_UNTIL_YEAR:
        return 0.0
    if year < 2023:
        return 0.0
    if year >= 2029:
        return share_2029_on
    return FIO_B_SHARE_BY_YEAR[year]


def default_tariff(uf: str) -> Tariff:
    """Residential tariff of the largest distribution company of ``uf`` (ANEEL data).

    Kept for callers that only know the state; :func:`app.sizing.tariffs.site_tariff` also
    uses the municipality and a named distributor.
    """
    from app.sizing.sites import Site

    return site_tariff(Site(0.0, 0.0, "", uf.upper(), 0, "America/Sao_Paulo", -3.0))


@dataclass(frozen=True)
class MonthBill:
    consumption_kwh: float
    generation_kwh: float
    self_consumed_kwh: float
    injected_kwh: float
    compensated_kwh: float
    billed_kwh: float
    credits_balance_kwh: float
    credits_expired_kwh: float
    bill_without_pv_brl: float
    bill_with_pv_brl: float


def bill_month(consumption_kwh: float, generation_kwh: float, credits: deque, *, month_index: int,
               availability: float, energy_brl_per_kwh: float, fio_b_brl_per_kwh: float, fio_b_share_now: float,
               simultaneity: float) -> MonthBill:
    """One month's bill with and without PV. ``credits`` is a deque of [month_created, kWh]
    (mutated: expired entries dropped, new injection appended, used credits removed)."""
    expired = 0.0
    while credits and month_index - credits[0][0] >= CREDIT_LIFETIME_MONTHS:
        expired += credits.popleft()[1]
    self_used = min(simultaneity * generation_kwh, consumption_kwh)
    injected = generation_kwh - self_used
    credits.append([month_index, injected])
    remaining = consumption_kwh - self_used
    compensable = max(remaining - availability, 0.0)
    compensated = 0.0
    while credits and compensated < compensable - 1e-12:
        take = min(credits[0][1], compensable - compensated)
        compensated += take
        credits[0][1] -= take
        if credits[0][1] <= 1e-12:
            credits.popleft()
    billed = max(remaining - compensated, availability)
    bill_with = billed * energy_brl_per_kwh + compensated * fio_b_brl_per_kwh * fio_b_share_now
    bill_without = max(consumption_kwh, availability) * energy_brl_per_kwh
    return MonthBill(consumption_kwh, generation_kwh, self_used, injected, compensated, billed,
                     sum(c[1] for c in credits), expired, bill_without, bill_with)


@dataclass(frozen=True)
class EconomicsInputs:
    monthly_consumption_kwh: np.ndarray  # 12 values
    monthly_generation_kwh: np.ndarray  # 12 values, first year
    connection: Phase
    capex_brl: float
    inverter_replacement_brl: float
    energy_brl_per_kwh: float
    fio_b_brl_per_kwh: float
    connection_year: int
    tariff_escalation_pct: float = 5.0
    degradation_pct_per_year: float = 0.5
    om_pct_of_capex_per_year: float = 0.5
    om_escalation_pct: float = 4.0
    inverter_replacement_year: int = 12
    discount_rate_pct: float = 10.0
    simultaneity: float = 0.30
    fio_b_share_2029_on: float = 1.0
    grandfathered: bool = False
    years: int = 25


@dataclass(frozen=True)
class EconomicsResult:
    years: list[YearOut]
    cash_flows_brl: np.ndarray  # index 0 = −capex
    npv_brl: float
    irr_pct: float | None
    simple_payback_years: float | None
    discounted_payback_years: float | None
    first_year_savings_brl: float
    credits_balance_end_kwh: float


def _payback_years(cash_flows: np.ndarray) -> float | None:
    cumulative = np.cumsum(cash_flows)
    positive = np.flatnonzero(cumulative >= 0)
    positive = positive[positive > 0]
    if positive.size == 0:
        return None
    y = int(positive[0])
    before = cumulative[y - 1]
    return round(y - 1 + (-before / cash_flows[y] if cash_flows[y] > 0 else 0.0), 2)


def project_cash_flow(inp: EconomicsInputs) -> EconomicsResult:
    """Year-by-year bills under Lei 14.300 and the project's cash flow, NPV, IRR, paybacks."""
    if inp.capex_brl <= 0:
        raise InvalidInput("Investimento deve ser positivo.", hint="Confira os preços dos equipamentos.")
    availability = availability_kwh(inp.connection)
    credits: deque = deque()
    rows: list[YearOut] = []
    flows = [-inp.capex_brl]
    cumulative = -inp.capex_brl
    for y in range(1, inp.years + 1):
        cal_year = inp.connection_year + y - 1
        share = fio_b_share(cal_year, share_2029_on=inp.fio_b_share_2029_on, grandfathered=inp.grandfathered)
        escal = (1 + inp.tariff_escalation_pct / 100) ** (y - 1)
        degr = (1 - inp.degradation_pct_per_year / 100) ** (y - 1)
        tot = dict(gen=0.0, comp=0.0, selfc=0.0, exp=0.0, without=0.0, with_=0.0)
        for m in range(12):
            b = bill_month(float(inp.monthly_consumption_kwh[m]), float(inp.monthly_generation_kwh[m]) * degr, credits,
                           month_index=(y - 1) * 12 + m, availability=availability,
                           energy_brl_per_kwh=inp.energy_brl_per_kwh * escal,
                           fio_b_brl_per_kwh=inp.fio_b_brl_per_kwh * escal, fio_b_share_now=share,
                           simultaneity=inp.simultaneity)
            tot["gen"] += b.generation_kwh
            tot["comp"] += b.compensated_kwh
            tot["selfc"] += b.self_consumed_kwh
            tot["exp"] += b.credits_expired_kwh
            tot["without"] += b.bill_without_pv_brl
            tot["with_"] += b.bill_with_pv_brl
        savings = tot["without"] - tot["with_"]
        om = inp.capex_brl * inp.om_pct_of_capex_per_year / 100 * (1 + inp.om_escalation_pct / 100) ** (y - 1)
        repl = inp.inverter_replacement_brl if y == inp.inverter_replacement_year else 0.0
        net = savings - om - repl
        cumulative += net
        flows.append(net)
        rows.append(YearOut(
            year=y, calendar_year=cal_year, generation_kwh=round(tot["gen"], 1),
            compensated_kwh=round(tot["comp"], 1), self_consumed_kwh=round(tot["selfc"], 1),
            credits_expired_kwh=round(tot["exp"], 1), fio_b_share=share,
            bill_without_pv_brl=round(tot["without"], 2), bill_with_pv_brl=round(tot["with_"], 2),
            savings_brl=round(savings, 2), om_brl=round(om, 2), replacement_brl=round(repl, 2),
            net_cash_flow_brl=round(net, 2), cumulative_brl=round(cumulative, 2)))
    cash = np.array(flows)
    rate = inp.discount_rate_pct / 100
    irr = npf.irr(cash)
    discounted = cash / (1 + rate) ** np.arange(cash.size)
    return EconomicsResult(
        years=rows, cash_flows_brl=cash, npv_brl=round(float(npf.npv(rate, cash)), 2),
        irr_pct=None if irr is None or not np.isfinite(irr) else round(float(irr) * 100, 2),
        simple_payback_years=_payback_years(cash), discounted_payback_years=_payback_years(discounted),
        first_year_savings_brl=rows[0].savings_brl, credits_balance_end_kwh=round(sum(c[1] for c in credits), 1),
    )


def monthly_payment_brl(principal_brl: float, monthly_rate_pct: float, months: int) -> float:
    """Price-table (PMT) instalment [R$/month] for an effective monthly rate [% a.m.]."""
    return float(-npf.pmt(monthly_rate_pct / 100, months, principal_brl))
