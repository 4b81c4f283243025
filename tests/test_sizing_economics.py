"""Lei 14.300 billing and finance maths against hand calculations."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from app.catalog.models import Phase
from app.sizing import economics


@pytest.mark.parametrize("connection, kwh", [(Phase.SINGLE, 30), (Phase.TWO, 50), (Phase.THREE, 100)])
def test_availability_cost_per_connection(connection, kwh):
    assert economics.availability_kwh(connection) == kwh


@pytest.mark.parametrize("year, share", [(2022, 0.0), (2023, 0.15), (2024, 0.30), (2025, 0.45), (2026, 0.60),
                                         (2027, 0.75), (2028, 0.90), (2029, 1.0), (2040, 1.0)])
def test_fio_b_share_by_year(year, share):
    assert economics.fio_b_share(year) == pytest.approx(share)


def test_fio_b_2029_scenario_and_grandfathering():
    assert economics.fio_b_share(2030, share_2029_on=0.8) == pytest.approx(0.8)
    assert economics.fio_b_share(2030, grandfathered=True) == 0.0
    assert economics.fio_b_share(2046, grandfathered=True) == 1.0


def _month(consumption, generation, credits=None, **kw):
    args = dict(month_index=0, availability=100.0, energy_brl_per_kwh=1.0, fio_b_brl_per_kwh=0.2,
                fio_b_share_now=0.5, simultaneity=0.0)
    args.update(kw)
    return economics.bill_month(consumption, generation, credits if credits is not None else deque(), **args)


def test_minimum_billing_rule():
    # 650 kWh consumed, 800 kWh injected, three-phase: compensate down to 100 kWh, never below.
    b = _month(650, 800)
    assert b.compensated_kwh == pytest.approx(550)
    assert b.billed_kwh == pytest.approx(100)
    # bill = 100 kWh × 1.00 + 550 kWh × 0.20 × 50 % = 155.00
    assert b.bill_with_pv_brl == pytest.approx(155.0)
    assert b.bill_without_pv_brl == pytest.approx(650.0)
    assert b.credits_balance_kwh == pytest.approx(250)


def test_consumption_below_availability_pays_availability():
    b = _month(20, 0, availability=30.0)
    assert b.billed_kwh == 30 and b.bill_without_pv_brl == pytest.approx(30.0)


def test_simultaneity_has_no_fio_b():
    # 30 % of 500 kWh self-consumed (150): remaining 350, compensable 250, injected 350.
    b = _month(500, 500, simultaneity=0.3)
    assert b.self_consumed_kwh == pytest.approx(150)
    assert b.compensated_kwh == pytest.approx(250)
    assert b.bill_with_pv_brl == pytest.approx(100 * 1.0 + 250 * 0.2 * 0.5)


def test_credits_expire_after_60_months():
    credits = deque([[0, 1000.0]])
    b = _month(100, 0, credits, month_index=59)
    assert b.credits_expired_kwh == 0
    b = _month(100, 0, credits, month_index=60)
    assert b.credits_expired_kwh == pytest.approx(1000)


def test_pmt_against_hand_calculation():
    # R$ 30.000 at 1,5 % a.m. over 60 months: PMT = P·i/(1 − (1+i)^−n) = 761.80
    i, n, p = 0.015, 60, 30000.0
    hand = p * i / (1 - (1 + i) ** -n)
    assert economics.monthly_payment_brl(p, 1.5, n) == pytest.approx(hand, rel=1e-9)
    assert hand == pytest.approx(761.80, abs=0.01)


def test_irr_npv_payback_against_hand_calculation():
    inp = economics.EconomicsInputs(
        monthly_consumption_kwh=np.full(12, 600.0), monthly_generation_kwh=np.full(12, 500.0),
        connection=Phase.THREE, capex_brl=20000.0, inverter_replacement_brl=0.0, energy_brl_per_kwh=1.0,
        fio_b_brl_per_kwh=0.0, connection_year=2026, tariff_escalation_pct=0.0, degradation_pct_per_year=0.0,
        om_pct_of_capex_per_year=0.0, simultaneity=0.0, years=25, discount_rate_pct=10.0)
    r = economics.project_cash_flow(inp)
    # savings: 500 kWh compensated/month × R$ 1 × 12 = R$ 6.000/yr, constant
    assert r.first_year_savings_brl == pytest.approx(6000.0)
    annuity = (1 - 1.1**-25) / 0.1
    assert r.npv_brl == pytest.approx(-20000 + 6000 * annuity, abs=0.01)
    assert r.simple_payback_years == pytest.approx(20000 / 6000, abs=0.01)
    # IRR solves 20000 = 6000 · a(25, r): r ≈ 29.95 %
    irr = r.irr_pct / 100
    assert 6000 * (1 - (1 + irr) ** -25) / irr == pytest.approx(20000, rel=1e-3)  # irr_pct is rounded to 0.01


def test_default_tariff_from_aneel_data_and_national_fallback():
    # ANEEL residential tariffs of every distributor (data/tariffs/aneel_residencial.json)
    mg = economics.default_tariff("MG")
    assert mg.distributor == "Cemig-D" and mg.energy_brl_per_kwh == pytest.approx(0.31728 + 0.5413)
    am = economics.default_tariff("AM")
    assert am.distributor == "Amazonas Energia" and am.energy_brl_per_kwh == pytest.approx(0.34918 + 0.49386)
    ap = economics.default_tariff("AP")  # CEA is not in the compilation
    assert ap.distributor == "mediana nacional"
