"""``create_draft_quote`` for the assistant: a plain function with the two guards that matter.

Only a sales-rep (or admin) session may create a quote, whatever the conversation says, and
only after the user confirmed the summary: without ``confirmed=True`` it returns the summary
to show and creates nothing. Errors come back as short messages (:class:`QuoteRefused`),
never as exceptions.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from app.core.errors import HelioError
from app.quotes.models import (
    BestFinancing, BuyerIn, CreateQuoteRequest, CustomerIn, DraftQuoteCreated, DraftQuotePreview, FinancingIn,
    QuoteItemIn, QuoteRefused, QuoteSummary, QuoteSummaryItem,
)
from app.quotes.service import QuoteService

ALLOWED_ROLES = ("sales_rep", "admin")


def create_draft_quote_for_chat(
    service: QuoteService,
    role: str,
    confirmed: bool,
    company_id: str | None = None,
    sizing_id: str | None = None,
    items: list[dict[str, Any]] | None = None,
    employee_id: str | None = None,
    end_customer_name: str | None = None,
    term_months: int = 60,
    down_payment_brl: float = 0.0,
    idempotency_key: str | None = None,
    created_by: dict[str, str | None] | None = None,
    customer: CustomerIn | dict[str, Any] | None = None,
) -> QuoteRefused | DraftQuotePreview | DraftQuoteCreated:
    """Create a draft quote in the commerce backend from a sizing (``sizing_id``) or explicit
    ``items`` ([{"sku", "quantity"}]) for the buying ``company_id`` or, without a company, for
    a person (``customer``: name and CPF, e-mail or phone). First call with
    ``confirmed=False``: returns the summary (items, totals in R$, approval needed) to show
    the user. Call again with ``confirmed=True`` only after the user explicitly agrees.
    Sales-rep sessions only; otherwise (or for a domain or input problem) :class:`QuoteRefused`."""
    if role not in ALLOWED_ROLES:
        return QuoteRefused(error="Só um representante de vendas pode criar orçamentos. "
                                  "Posso dimensionar o sistema e simular o financiamento.")
    try:
        buyer = {"company_id": company_id, "employee_id": employee_id, "end_customer_name": end_customer_name,
                 "customer": customer.model_dump(exclude_none=True) if isinstance(customer, CustomerIn) else customer}
        request = CreateQuoteRequest(
            sizing_id=sizing_id, items=[QuoteItemIn(**i) for i in items] if items else None,
            buyer=BuyerIn.model_validate({k: v for k, v in buyer.items() if v is not None}),
            financing=FinancingIn(term_months=term_months, down_payment_brl=down_payment_brl),
        )
        if not confirmed:
            preview = service.preview(request)
            return DraftQuotePreview(summary=QuoteSummary(
                items=[QuoteSummaryItem(sku=l.sku, title=l.title, quantity=l.quantity,
                                        unit_price_brl=l.unit_price_brl, total_brl=l.total_brl) for l in preview.items],
                equipment_total_brl=preview.equipment_total_brl,
                installation_brl=preview.installation_brl,
                system_total_brl=preview.system_total_brl,
                approval_required=preview.approval.required,
                approval_reasons=preview.approval.reasons,
                warnings=preview.warnings,
                customer=preview.customer,
                validity_days=service.validity_days,
            ))
        quote, created = service.create(request, idempotency_key, created_by)
    except HelioError as exc:
        return QuoteRefused(error=exc.message, hint=exc.hint)
    except ValidationError as exc:  # e.g. a company and a person at once, or a person with no contact
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "buyer"
        return QuoteRefused(
            error=f"Argumento inválido '{where}': {first.get('msg', '').removeprefix('Value error, ')}.",
            hint="Informe company_id (empresa) ou customer (pessoa física: nome e CPF, e-mail ou telefone).")
    best = quote.financing.options[0] if quote.financing and quote.financing.options else None
    return DraftQuoteCreated(
        created=created, quote_id=quote.id, status=quote.status.value,
        status_label=quote.status_label, equipment_total_brl=quote.equipment_total_brl,
        system_total_brl=quote.system_total_brl, valid_until=quote.valid_until.isoformat(),
        approval_required=quote.approval.required, approval_reasons=quote.approval.reasons,
        proposal_url=f"/v1/quotes/{quote.id}/proposal.pdf",
        customer=quote.customer,
        best_financing=None if best is None else BestFinancing(
            lender=best.lender, first_payment_brl=best.first_payment_brl, n_installments=best.n_installments,
            cet_annual_pct=best.cet_annual_pct),
        warnings=quote.warnings,
    )
