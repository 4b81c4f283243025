"""Commerce records shared by every backend (local SQLite, Medusa 2.x B2B over HTTP).

Money in BRL major units (R$ 1.234,56 is ``1234.56``), as Medusa 2.x stores amounts.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class QuoteStatus(StrEnum):
    """The B2B quote module's states."""

    PENDING_MERCHANT = "pending_merchant"
    PENDING_CUSTOMER = "pending_customer"
    ACCEPTED = "accepted"
    CUSTOMER_REJECTED = "customer_rejected"
    MERCHANT_REJECTED = "merchant_rejected"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Variant(BaseModel):
    """A sellable variant, found by SKU (the local backend uses the catalog product id as SKU)."""

    id: str
    sku: str
    product_id: str
    title: str
    price_brl: float | None
    available: bool
    inventory_quantity: int | None = Field(None, description="None = the backend does not track stock")


class LineItem(BaseModel):
    id: str
    variant_id: str
    sku: str
    title: str
    quantity: int
    unit_price_brl: float
    total_brl: float


class Cart(BaseModel):
    id: str
    company_id: str | None = None
    customer_id: str | None = None
    items: list[LineItem] = []
    total_brl: float = 0.0
    metadata: dict[str, str] = {}


class Company(BaseModel):
    id: str
    name: str
    email: str | None = None
    tax_id: str | None = Field(None, description="CNPJ (só dígitos), quando cadastrado")
    currency_code: str = "brl"
    requires_admin_approval: bool = False
    requires_sales_manager_approval: bool = False
    approval_settings_id: str | None = Field(None, description="Medusa: id of the company's approval settings record")
    spending_limit_needs_approval: bool = Field(
        False, description="a buyer over their spending limit needs an approval (local backend's rule); Medusa B2B "
                           "checks the limit only when the order is placed, so there it is a warning")


class Customer(BaseModel):
    """A person who buys without a company (pessoa física): the commerce backend's customer."""

    id: str
    name: str
    cpf: str | None = Field(None, description="CPF (só dígitos)")
    email: str | None = None
    phone: str | None = Field(None, description="telefone com DDD (só dígitos)")


class Employee(BaseModel):
    id: str
    company_id: str
    customer_id: str
    spending_limit_brl: float | None = Field(None, description="None = no limit")
    is_admin: bool = False


class Approval(BaseModel):
    id: str
    cart_id: str
    type: str = "admin"
    status: ApprovalStatus = ApprovalStatus.PENDING
    handled_by: str | None = None


class QuoteMessage(BaseModel):
    id: str
    text: str
    author: str = Field(description="'merchant' or 'customer'")
    created_at: str


class Quote(BaseModel):
    id: str
    status: QuoteStatus
    cart_id: str
    customer_id: str | None = None
    company_id: str | None = None
    items: list[LineItem] = []
    total_brl: float = 0.0
    messages: list[QuoteMessage] = []
    created_at: str | None = None
    offer_items: list[LineItem] | None = Field(None, description="the merchant's offer (Medusa: the draft order "
                                                                  "with its pending changes) while the quote is open")
    offer_total_brl: float | None = None
