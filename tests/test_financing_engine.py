"""Financing engine against hand-checked figures.

Expected values are the published worked example of
``data/knowledge/financing/como-comparar-financiamentos-solares.md`` (R$ 30.000, 1,17 % a.m.,
60 months) and explicit closed-form formulas written out here — never the code under test.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from app.core.errors import InvalidInput, NotFound
from app.core.settings import Settings
from app.financing import (
    FinancingRequest, annual_rate, build_schedule, cet_monthly, iof_on_schedule, load_credit_lines,
    simulate_financing,
)
from app.financing.tool import simulate_financing_for_chat

PV, I, N = 30_000.0, 0.0117, 60


@pytest.fixture(scope="module")
def book():
    s = Settings()
    return load_credit_lines(s.financing.credit_lines_path, s.financing.iof_rates_path)


def test_annual_rate_compounds_never_multiplies():
    # guide table: 1,17 % a.m. → 14,98 % a.a. (not 14,04 %); 1,40 % → 18,16 %
    assert annual_rate(0.0117) * 100 == pytest.approx(14.98, abs=0.005)
    assert annual_rate(0.0140) * 100 == pytest.approx(18.16, abs=0.005)
    assert annual_rate(0.0111) * 100 == pytest.approx(14.16, abs=0.005)


def test_price_matches_published_example():
    s = build_schedule(PV, I, N, "price")
    hand_pmt = PV * I / (1 - (1 + I) ** -N)
    assert s.first_payment_brl == pytest.approx(hand_pmt, abs=1e-9)
    assert round(s.first_payment_brl, 2) == 698.67          # published
    assert round(s.total_paid_brl, 2) == 41_920.19          # published
    assert round(s.total_interest_brl, 2) == 11_920.19
    first = s.installments[0]
    assert round(first.interest_brl, 2) == 351.00 and round(first.amortization_brl, 2) == 347.67
    assert s.installments[-1].balance_brl == pytest.approx(0, abs=1e-6)
    assert len({round(p.payment_brl, 6) for p in s.installments}) == 1


def test_sac_matches_published_example():
    s = build_schedule(PV, I, N, "sac")
    assert round(s.first_payment_brl, 2) == 851.00      # 500 + 351
    assert round(s.last_payment_brl, 2) == 505.85       # 500 + 500 × 0,0117
    assert round(s.total_paid_brl, 2) == 40_705.50
    # hand: total interest = i × PV/n × (n + n-1 + … + 1) = i × PV × (n + 1) / 2
    assert s.total_interest_brl == pytest.approx(I * PV * (N + 1) / 2, abs=1e-6)
    assert all(p.amortization_brl == pytest.approx(PV / N) for p in s.installments)


def test_grace_capitalises_interest():
    s = build_schedule(PV, I, N, "price", grace_months=4)
    assert round(PV + s.capitalized_interest_brl, 2) == 31_428.83    # 30.000 × 1,0117^4
    assert round(s.capitalized_interest_brl, 2) == 1_428.83
    assert round(s.first_payment_brl, 2) == 731.95
    assert round(s.total_paid_brl, 2) == 43_916.75
    assert [p.month for p in s.installments[:2]] == [5, 6]           # first payment after the grace


def test_iof_matches_published_example():
    s = build_schedule(PV, I, N, "price")
    # hand: fixed 0,38 % + Σ amortização_k × 0,0082 % × min(30k, 365)
    pmt = PV * I / (1 - (1 + I) ** -N)
    balance, daily = PV, 0.0
    for k in range(1, N + 1):
        amort = pmt - balance * I
        balance -= amort
        daily += amort * 0.000082 * min(30 * k, 365)
    assert round(daily, 2) == 837.37                                  # published
    iof = iof_on_schedule(s, fixed_pct=0.38, daily_pct=0.0082, max_days=365)
    assert iof == pytest.approx(PV * 0.0038 + daily, abs=1e-6)
    assert round(iof, 2) == 951.37


def test_cet_of_financed_iof_example():
    # published: contract F = 30.000 / (1 − 0,0317) ≈ 30.982,52, PMT ≈ 721,55, CET ≈ 1,29 % a.m. / 16,65 % a.a.
    pmt = 721.5518
    cet = cet_monthly(PV, [(k, pmt) for k in range(1, N + 1)])
    assert sum(pmt / (1 + cet) ** k for k in range(1, N + 1)) == pytest.approx(PV, abs=1e-6)
    assert round(cet * 100, 2) == 1.29
    assert round(annual_rate(cet) * 100, 2) == 16.65
    # a loan without costs has CET = nominal rate
    plain = PV * I / (1 - (1 + I) ** -N)
    assert cet_monthly(PV, [(k, plain) for k in range(1, N + 1)]) == pytest.approx(I, abs=1e-10)


def test_simulation_bv_with_financed_iof_matches_guide(book):
    r = simulate_financing(FinancingRequest(amount_brl=PV, term_months=N, line_ids=["bv-solar"]), book)
    (bv,) = r.options
    assert bv.contracted_brl == 30_982.52 and bv.iof_brl == 982.52
    assert bv.first_payment_brl == 721.55
    assert round(bv.cet_monthly_pct, 2) == 1.29 and bv.cet_annual_pct == 16.65
    assert bv.rate_annual_pct == 14.98
    assert bv.total_paid_brl == round(N * 721.5518211, 2)


def test_down_payment_reduces_financed_amount(book):
    r = simulate_financing(FinancingRequest(amount_brl=40_000, down_payment_brl=10_000, term_months=N,
                                            line_ids=["bv-solar"], include_iof=False), book)
    (bv,) = r.options
    assert bv.net_financed_brl == 30_000 and bv.first_payment_brl == 698.67
    assert bv.total_cost_brl == round(10_000 + 41_920.19, 2)
    assert bv.cet_monthly_pct == pytest.approx(1.17, abs=1e-4)   # no costs → CET = rate


def test_iof_paid_up_front_raises_cet_without_changing_installment(book):
    r = simulate_financing(FinancingRequest(amount_brl=PV, term_months=N, line_ids=["bv-solar"],
                                            iof_financed=False), book)
    (bv,) = r.options
    assert bv.first_payment_brl == 698.67 and bv.iof_brl == 951.37 and not bv.iof_financed
    assert bv.total_cost_brl == round(41_920.19 + 951.37, 2)
    assert bv.cet_monthly_pct > 1.17


def test_ranking_and_unknown_rules_are_said(book):
    r = simulate_financing(FinancingRequest(amount_brl=PV, term_months=N), book)
    ids = [o.line_id for o in r.options]
    # lower rate → lower CET at equal term and IOF
    assert ids == ["santander-solar-correntista", "bv-solar", "solfacil-solar", "santander-solar"]
    assert [o.rank for o in r.options] == [1, 2, 3, 4]
    assert [o.cet_monthly_pct for o in r.options] == sorted(o.cet_monthly_pct for o in r.options)
    bv = r.options[1]
    assert any("não informa se a linha atende pessoa física" in n for n in bv.notes)
    assert any("a partir de" in n for n in bv.notes)
    assert any("IOF" in n for n in bv.notes)
    (bnb,) = r.ineligible
    assert bnb.line_id == "bnb-fne-sol" and "taxa não informada" in bnb.reasons[0]


def test_eligibility_limits_from_data(book):
    # 100 months: above the 96-month max of BV/Santander/BNB, fine for Solfácil (120)
    r = simulate_financing(FinancingRequest(amount_brl=PV, term_months=100), book)
    assert [o.line_id for o in r.options] == ["solfacil-solar"]
    reasons = {l.line_id: " ".join(l.reasons) for l in r.ineligible}
    assert "acima do máximo de 96" in reasons["bv-solar"]

    # BV grace: 120 days → at most 4 months; 5 is refused, and the reason says why
    r = simulate_financing(FinancingRequest(amount_brl=PV, term_months=60, grace_months=5, line_ids=["bv-solar"]),
                           book)
    assert not r.options and "carência de 5 meses acima do máximo de 4 meses (120 dias)" in r.ineligible[0].reasons

    # BNB: grace is inside the 96 months; a rate must be given; the limit is R$ 100 mil contracted
    over = FinancingRequest(amount_brl=PV, term_months=96, grace_months=6, line_ids=["bnb-fne-sol"],
                            rate_overrides_pct={"bnb-fne-sol": 0.9})
    assert "102 meses" in simulate_financing(over, book).ineligible[0].reasons[0]
    ok = over.model_copy(update={"term_months": 90})
    (bnb,) = simulate_financing(ok, book).options
    assert bnb.n_installments == 90 and bnb.rate_source == "informada"
    # hand: capitalised balance × PMT factor over the remaining 90 months, IOF off
    no_iof = ok.model_copy(update={"include_iof": False})
    (bnb,) = simulate_financing(no_iof, book).options
    bal = PV * 1.009 ** 6
    assert bnb.first_payment_brl == round(bal * 0.009 / (1 - 1.009 ** -90), 2)
    big = ok.model_copy(update={"amount_brl": 99_000})   # + IOF > 100k
    assert "acima do limite de R$ 100.000,00" in simulate_financing(big, book).ineligible[0].reasons[0]


def test_account_holder_rate_needs_an_account_when_known(book):
    r = simulate_financing(FinancingRequest(amount_brl=PV, bank_accounts=["Itaú"], line_ids=[
        "santander-solar", "santander-solar-correntista"]), book)
    assert [o.line_id for o in r.options] == ["santander-solar"]
    assert r.ineligible[0].reasons == ["exige ser correntista Santander"]
    r = simulate_financing(FinancingRequest(amount_brl=PV, bank_accounts=["santander"],
                                            line_ids=["santander-solar-correntista"]), book)
    assert r.options[0].line_id == "santander-solar-correntista"


def test_pj_uses_pj_iof_rates(book):
    pf = simulate_financing(FinancingRequest(amount_brl=PV, line_ids=["bv-solar"], iof_financed=False), book)
    pj = simulate_financing(FinancingRequest(amount_brl=PV, line_ids=["bv-solar"], iof_financed=False,
                                             customer_type="pj"), book)
    rate_pj = book.iof.rates["pj"]
    assert pj.options[0].iof_brl == round(951.37 - 114.00 + PV * rate_pj.fixed_pct / 100, 2)
    assert pf.options[0].iof_brl == 951.37


def test_bad_inputs_are_explained(book):
    with pytest.raises(InvalidInput, match="entrada cobre"):
        simulate_financing(FinancingRequest(amount_brl=1000, down_payment_brl=1000), book)
    with pytest.raises(NotFound, match="não cadastrada"):
        simulate_financing(FinancingRequest(amount_brl=1000, line_ids=["nubank"]), book)


def test_rules_come_from_the_data_file(tmp_path: Path, book):
    edited = Path(Settings().financing.credit_lines_path).read_text().replace("rate_monthly_pct: 1.17",
                                                                             "rate_monthly_pct: 2.00")
    (tmp_path / "lines.yaml").write_text(edited)
    other = load_credit_lines(tmp_path / "lines.yaml", Settings().financing.iof_rates_path)
    (bv,) = simulate_financing(FinancingRequest(amount_brl=PV, line_ids=["bv-solar"], include_iof=False),
                               other).options
    assert bv.first_payment_brl == round(PV * 0.02 / (1 - 1.02 ** -60), 2)


def test_chat_tool_is_compact_and_complete(book):
    out = simulate_financing_for_chat(book, amount_brl=PV, term_months=N, line_ids=["bv-solar", "bnb-fne-sol"])
    (opt,) = out["options"]
    assert opt["first_payment_brl"] == 721.55 and opt["cet_annual_pct"] == 16.65
    assert "schedule" not in opt and out["ineligible"][0]["line_id"] == "bnb-fne-sol"
    assert math.isclose(opt["total_paid_brl"], 60 * 721.5518, abs_tol=0.01)
