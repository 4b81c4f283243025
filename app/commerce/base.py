"""The commerce interface: one small protocol, two implementations (``local``, ``medusa``).

Chosen by ``COMMERCE__BACKEND`` in :func:`app.commerce.factory.make_commerce`. Every method
raises :mod:`app.core.errors` types: NotFound, InvalidInput, Conflict (illegal quote
transition, 409), Unavailable (backend down).
"""

from __future__ import annotations

from typing import Protocol

from app.commerce.models import Approval, Cart, Company, Customer, Employee, Quote, Variant
from app.commerce.states import QuoteAction


class CommerceBackend(Protocol):
    name: str

    # catalog
    def get_variant_by_sku(self, sku: str) -> Variant | None: ...

    # B2B accounts
    def create_company(self, name: str, email: str | None = None, requires_admin_approval: bool = False) -> Company: ...

    def get_company(self, company_id: str) -> Company: ...

    def find_companies(self, text: str, limit: int = 5) -> list[Company]:
        """Companies whose name contains ``text`` (accent/case-folded) or whose CNPJ (digits
        only) equals it: how a sales rep names a client ("Solar BH", "12.345.678/0001-90")."""
        ...

    # people (pessoa física) who buy without a company
    def find_customer(self, name: str, cpf: str | None = None, email: str | None = None) -> Customer | None:
        """The customer already on file with this CPF (digits), else with this e-mail, else
        ``None``. ``name`` narrows the search where the backend cannot filter on the CPF."""
        ...

    def create_customer(self, name: str, cpf: str | None = None, email: str | None = None,
                        phone: str | None = None) -> Customer: ...

    def create_employee(self, company_id: str, customer_id: str, spending_limit_brl: float | None = None,
                        is_admin: bool = False) -> Employee: ...

    def get_employee(self, company_id: str, employee_id: str) -> Employee: ...

    # carts
    def create_cart(self, company_id: str | None = None, customer_id: str | None = None,
                    metadata: dict[str, str] | None = None) -> Cart: ...

    def add_line_items(self, cart_id: str, items: list[tuple[str, int]]) -> Cart:
        """Add ``[(variant_id, quantity), …]`` in one call (Medusa B2B bulk endpoint)."""
        ...

    def get_cart(self, cart_id: str) -> Cart: ...

    def discard_cart(self, cart_id: str) -> None:
        """Undo a cart whose quote was never created (so a failed creation leaves nothing behind)."""
        ...

    # approvals
    def request_approval(self, cart_id: str, type: str = "admin") -> Approval: ...

    def list_approvals(self, cart_id: str) -> list[Approval]: ...

    def decide_approval(self, approval_id: str, approve: bool, handled_by: str | None = None) -> Approval: ...

    # quotes
    def create_quote(self, cart_id: str) -> Quote: ...

    def get_quote(self, quote_id: str) -> Quote: ...

    def transition_quote(self, quote_id: str, action: QuoteAction) -> Quote:
        """Apply ``action`` (send/accept/reject/merchant_reject); illegal now → Conflict."""
        ...

    def add_quote_message(self, quote_id: str, text: str, author: str = "merchant") -> Quote: ...

    def close(self) -> None: ...
