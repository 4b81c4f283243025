"""The proposal PDF speaks to the end customer: Portuguese, and never an internal file name
or an API parameter, whatever the credit-line rules' notes say."""

from __future__ import annotations

import re

from app.core.settings import Settings
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
