"""The quote state machine, identical on every backend.

``pending_merchant`` → (send) → ``pending_customer`` → (accept | reject) → ``accepted`` |
``customer_rejected``; the merchant may reject while the quote is still open. The terminal
states accept nothing. Medusa itself only refuses rejecting an accepted quote and accepting
outside ``pending_customer``; Hélio checks the whole table before calling either backend.
"""

from __future__ import annotations

from enum import StrEnum

from app.core.errors import Conflict
from app.commerce.models import QuoteStatus

S = QuoteStatus


class QuoteAction(StrEnum):
    SEND = "send"                        # merchant sends the (reviewed) quote to the customer
    ACCEPT = "accept"                    # customer accepts → order
    REJECT = "reject"                    # customer rejects
    MERCHANT_REJECT = "merchant_reject"  # merchant withdraws / refuses


TRANSITIONS: dict[tuple[QuoteAction, QuoteStatus], QuoteStatus] = {
    (QuoteAction.SEND, S.PENDING_MERCHANT): S.PENDING_CUSTOMER,
    (QuoteAction.ACCEPT, S.PENDING_CUSTOMER): S.ACCEPTED,
    (QuoteAction.REJECT, S.PENDING_CUSTOMER): S.CUSTOMER_REJECTED,
    (QuoteAction.MERCHANT_REJECT, S.PENDING_MERCHANT): S.MERCHANT_REJECTED,
    (QuoteAction.MERCHANT_REJECT, S.PENDING_CUSTOMER): S.MERCHANT_REJECTED,
}

STATUS_LABEL = {
    S.PENDING_MERCHANT: "aguardando a YSH (rascunho)",
    S.PENDING_CUSTOMER: "enviado ao cliente",
    S.ACCEPTED: "aceito",
    S.CUSTOMER_REJECTED: "recusado pelo cliente",
    S.MERCHANT_REJECTED: "recusado pela YSH",
}


ACTION_LABEL = {
    QuoteAction.SEND: "enviar ao cliente",
    QuoteAction.ACCEPT: "aceitar",
    QuoteAction.REJECT: "recusar (cliente)",
    QuoteAction.MERCHANT_REJECT: "recusar (YSH)",
}


def next_status(action: QuoteAction, current: QuoteStatus) -> QuoteStatus:
    """The status after ``action``, or :class:`Conflict` (409) when it is not allowed now."""
    try:
        return TRANSITIONS[(QuoteAction(action), QuoteStatus(current))]
    except KeyError:
        allowed = sorted({a.value for (a, s) in TRANSITIONS if s == current})
        closed = "" if allowed else " (orçamento encerrado)"
        raise Conflict(
            f"Não é possível {ACTION_LABEL[QuoteAction(action)]} um orçamento "
            f"{STATUS_LABEL[QuoteStatus(current)]}{closed}.",
            hint=("Ações possíveis agora: " + ", ".join(allowed)) if allowed else "O orçamento já está encerrado.",
            status=current.value,
        ) from None
