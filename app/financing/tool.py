"""``simulate_financing`` for the assistant: a plain typed function returning a compact dict.

The LangChain adapter (in ``app.agent``) wraps :func:`simulate_financing_for_chat`; every
number the assistant may quote is in the returned dict, already rounded for display.
"""

from __future__ import annotations

from typing import Any, Literal

from app.financing.rules import CreditLineBook
from app.financing.simulate import FinancingRequest, simulate_financing


def simulate_financing_for_chat(
    book: CreditLineBook,
    amount_brl: float,
    term_months: int = 60,
    down_payment_brl: float = 0.0,
    grace_months: int = 0,
    system: Literal["price", "sac"] = "price",
    customer_type: Literal["pf", "pj"] = "pf",
    line_ids: list[str] | None = None,
    rate_overrides_pct: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Compare solar credit lines for a purchase of ``amount_brl`` [R$] paid in ``term_months``
    monthly installments (Price or SAC), after an optional ``down_payment_brl`` [R$] and
    ``grace_months`` without payments (interest capitalised). ``customer_type``: "pf"
    (person) or "pj" (company). Returns the eligible lines ranked by CET (total effective
    cost, % a.m. and % a.a.) with installment, total paid and IOF, the ineligible lines with
    the reason, and caveats to tell the customer (rates are illustrative)."""
    result = simulate_financing(
        FinancingRequest(amount_brl=amount_brl, term_months=term_months, down_payment_brl=down_payment_brl,
                         grace_months=grace_months, system=system, customer_type=customer_type, line_ids=line_ids,
                         rate_overrides_pct=rate_overrides_pct or {}, include_schedule=False),
        book,
    )
    return {
        "amount_brl": result.amount_brl,
        "down_payment_brl": result.down_payment_brl,
        "financed_brl": result.net_financed_brl,
        "term_months": result.term_months,
        "grace_months": result.grace_months,
        "system": result.system,
        "customer_type": result.customer_type,
        "ranked_by": result.ranked_by,
        "options": [
            {
                "rank": o.rank, "line_id": o.line_id, "lender": o.lender, "line": o.line_name,
                "rate_monthly_pct": o.rate_monthly_pct, "rate_annual_pct": o.rate_annual_pct,
                "first_payment_brl": o.first_payment_brl, "last_payment_brl": o.last_payment_brl,
                "n_installments": o.n_installments, "iof_brl": o.iof_brl, "contracted_brl": o.contracted_brl,
                "capitalized_interest_brl": o.capitalized_interest_brl, "total_paid_brl": o.total_paid_brl,
                "total_interest_brl": o.total_interest_brl, "cet_monthly_pct": round(o.cet_monthly_pct, 2),
                "cet_annual_pct": o.cet_annual_pct, "caveats": o.notes,
            }
            for o in result.options
        ],
        "ineligible": [{"line_id": l.line_id, "lender": l.lender, "reasons": l.reasons} for l in result.ineligible],
        "notes": result.notes,
    }
