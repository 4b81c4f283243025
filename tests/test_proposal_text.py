"""The proposal PDF speaks to the end customer: Portuguese, and never an internal file name
or an API parameter, whatever the credit-line rules' notes say."""

from __future__ import annotations

import re

import pytest

from app.core.settings import Settings
from app.core.text import format_brl, format_number
from app.financing.rules import cached_book
from app.financing.simulate import FinancingRequest, simulate_financing
from app.proposal.render import customer_text

INTERNAL = re.compile(r"\.(md|ya?ml|py|json|csv)\b|\w+_\w+\[")


def test_internal_references_are_removed():
    text = ("taxa não informada pela fonte (DESIGN.md); não simular sem uma taxa informada pelo usuário ou pelo "
            "banco — informe rate_overrides_pct['bnb_fne_sol'] para simular")
    assert customer_text(text) == ("taxa não informada pela fonte; não simular sem uma taxa informada pelo usuário "
                                   "ou pelo banco")
    assert customer_text("carência de até 6 meses (edital FNE 2026)") == "carência de até 6 meses (edital FNE 2026)"


def test_every_note_of_the_shipped_rules_is_customer_facing():
    settings = Settings(_env_file=None)
    book = cached_book(settings.financing.credit_lines_path, settings.financing.iof_rates_path)
    result = simulate_financing(FinancingRequest(amount_brl=30_000, term_months=60), book)
    texts = list(result.notes) + [r for line in result.ineligible for r in line.reasons] + \
        [n for o in result.options for n in o.notes]
    assert any(INTERNAL.search(t) for t in texts), "the rules should still carry internal notes for the API"
    for text in texts:
        assert not INTERNAL.search(customer_text(text)), customer_text(text)


ENGLISH_OR_INTERNAL = re.compile(r"synthetic|calibrated|stations|weather file|clear sky|ceramic|\bdata/|"
                                 r"\.(md|ya?ml|py|json|csv)\b|\w+\.\w+_\w+|\w+_\w+\[", re.IGNORECASE)


@pytest.mark.slow
def test_premises_are_portuguese_and_carry_the_results_figures(tmp_path, real_catalog):
    from app.catalog.store import SQLiteCatalogStore
    from app.proposal.premises import customer_premises
    from app.sizing.engine import size_system
    from app.sizing.models import ConsumptionInput, SiteInput, SizingRequest

    store = SQLiteCatalogStore(real_catalog.copy(tmp_path))
    r = size_system(SizingRequest(site=SiteInput(municipality="Uberlândia", uf="MG"),
                                  consumption=ConsumptionInput(monthly_kwh=650), connection="three_phase"), store)
    assert any(ENGLISH_OR_INTERNAL.search(a) for a in r.assumptions), "the engine's lines are for integrators"
    premises = customer_premises(r)
    for text in premises:
        assert not ENGLISH_OR_INTERNAL.search(customer_text(text)), text
    joined = " ".join(premises)
    assert format_number(r.resource.annual_ghi_kwh_m2) + " kWh/m²" in joined
    assert format_brl(r.best.economics.energy_brl_per_kwh) + "/kWh" in joined
    assert "voltados para o norte" in joined and "Lei 14.300" in joined
