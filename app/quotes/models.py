"""Draft quotes as Hélio sees them: the commerce quote plus the sizing, financing and terms."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from app.commerce.models import LineItem, QuoteStatus
from app.financing.simulate import FinancingComparison


class QuoteItemIn(BaseModel):
    sku: str = Field(min_length=1, max_length=200, description="SKU (no backend local: o id do produto no catálogo)")
    quantity: int = Field(ge=1, le=100_000)


_ONE_OF = "informe company_id (empresa) ou customer (pessoa física), um dos dois"


# The patterns below are read by two regex dialects that disagree on ``\s`` and ``\d``: the OpenAPI
# document's (ECMA-262: U+FEFF is a space, U+0085 is not, \d is ASCII) and the validator's (pydantic's
# Rust regex: Unicode White_Space, with U+0085 and without U+FEFF; \d is any Unicode digit). Written
# with both spaces named and [0-9] for digits, the document and the validator accept the same strings.
_SPACE = r"\s\x85\ufeff"


class CustomerIn(BaseModel):
    """A person (pessoa física) who buys without a company: the name and at least one of CPF,
    e-mail or phone. Created in the commerce backend with the quote, or reused when one with
    this CPF (else e-mail) is already on file."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["cpf"]}, {"required": ["email"]},
                                                           {"required": ["phone"]}]})

    name: str = Field(min_length=2, max_length=200, pattern=rf"[^{_SPACE}]", description="nome completo")
    # typed ``str`` with no default in the schema: absent means not given (null is not a value here)
    cpf: str = Field(None, pattern=r"^[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]{2}$",  # type: ignore[assignment]
                     description="CPF, com ou sem pontuação; os dígitos verificadores são conferidos")
    email: str = Field(None, max_length=200,  # type: ignore[assignment]
                       pattern=rf"^[^@{_SPACE}]+@[^@{_SPACE}]+\.[^@{_SPACE}]+$")
    phone: str = Field(None, max_length=20, pattern=r"^\+?[0-9 ().-]{8,20}$",  # type: ignore[assignment]
                       description="telefone com DDD")

    @model_validator(mode="after")
    def _one_contact(self) -> CustomerIn:
        if not (self.cpf or self.email or self.phone):
            raise ValueError("informe ao menos um de cpf, email ou phone")
        return self


class BuyerIn(BaseModel):
    """Who buys: a company (``company_id``) or a person without a company (``customer``), one of the two."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["company_id"]},
                                                           {"required": ["customer"]}]})

    company_id: str = Field(None, min_length=1,  # type: ignore[assignment]
                            description="empresa compradora (integrador) no backend de comércio; ou customer")
    customer: CustomerIn = Field(None, description="pessoa física sem empresa; ou company_id")  # type: ignore[assignment]
    employee_id: str | None = Field(None, description="funcionário comprador: o limite de gastos dele é verificado")
    end_customer_name: str | None = Field(None, max_length=200, description="cliente final, para a proposta")

    @model_validator(mode="after")
    def _company_or_person(self) -> BuyerIn:
        if (self.company_id is None) == (self.customer is None):
            raise ValueError(_ONE_OF)
        return self


class FinancingIn(BaseModel):
    amount_brl: float | None = Field(None, gt=0, description="valor a financiar; vazio = valor do sistema")
    down_payment_brl: float = Field(0.0, ge=0)
    term_months: int = Field(60, ge=1, le=480)
    grace_months: int = Field(0, ge=0, le=24)
    system: Literal["price", "sac"] = "price"
    customer_type: Literal["pf", "pj"] = "pf"
    line_ids: list[str] | None = None
    rate_overrides_pct: dict[str, float] = Field(default_factory=dict)


class CreateQuoteRequest(BaseModel):
    sizing_id: str | None = Field(None, description="id devolvido por POST /v1/sizing")
    design: str = Field("best", description="'best' ou o rótulo de uma alternativa do dimensionamento")
    items: list[QuoteItemIn] | None = Field(None, description="itens explícitos (substituem os do dimensionamento)")
    buyer: BuyerIn
    financing: FinancingIn | None = Field(default_factory=FinancingIn, description="null = sem simulação")
    allow_unavailable: bool = Field(False, description="orçar mesmo com itens sem estoque")
    note: str | None = Field(None, max_length=2000, description="mensagem ao cliente no orçamento")


class QuoteLine(BaseModel):
    sku: str
    title: str
    quantity: int
    unit_price_brl: float
    total_brl: float
    available: bool
    sizing_unit_price_brl: float | None = Field(None, description="preço usado no dimensionamento, quando difere")


class ApprovalInfo(BaseModel):
    required: bool
    reasons: list[str] = []
    approval_id: str | None = None
    status: str | None = None
    spending_limit_brl: float | None = None
    spending_limit_exceeded_brl: float | None = Field(
        None, description="quanto o total passa do limite de gastos do comprador (sem pedido de aprovação quando a "
                          "empresa não exige: o Medusa B2B recusa finalizar o pedido acima do limite)")


class MerchantOffer(BaseModel):
    """The merchant's current offer (Medusa: the quote's draft order with its pending changes)."""

    items: list[LineItem]
    total_brl: float
    changed: bool = Field(description="difere do total do carrinho orçado")


class DraftQuote(BaseModel):
    id: str
    status: QuoteStatus
    status_label: str
    backend: str
    cart_id: str
    company_id: str | None = Field(None, description="empresa compradora; vazio quando o orçamento é para uma pessoa")
    company_name: str | None = None
    customer: QuoteCustomer | None = Field(None, description="pessoa física compradora, quando não há empresa")
    employee_id: str | None = None
    end_customer_name: str | None = None
    items: list[QuoteLine]
    equipment_total_brl: float
    installation_brl: float | None = Field(None, description="instalação estimada pelo dimensionamento (não faturada)")
    system_total_brl: float = Field(description="equipamentos + instalação estimada")
    currency: str = "BRL"
    valid_until: date
    created_at: str
    approval: ApprovalInfo
    sizing_id: str | None = None
    design_label: str | None = None
    sizing: dict[str, Any] | None = Field(None, description="instantâneo do SizingResult usado")
    financing: FinancingComparison | None = None
    warnings: list[str] = []
    note: str | None = None
    merchant_offer: MerchantOffer | None = Field(None, description="proposta atual da YSH, quando o backend a expõe")
    created_by: dict[str, str | None] | None = Field(
        None, description="quem criou: pessoa do provedor de identidade (sub, name, email) ou chave de API (key_id)")


class QuoteCustomer(BaseModel):
    """The person a quote is for (pessoa física), as quotes show it: the CPF masked."""

    id: str | None = Field(None, description="cliente no backend de comércio (na prévia: o já cadastrado, se houver)")
    name: str
    cpf_masked: str | None = Field(None, description="CPF mascarado (***.982.247-**)")
    email: str | None = None
    phone: str | None = None
    existing: bool = Field(False, description="já estava cadastrado (reaproveitado, nada novo criado)")


class QuotePreview(BaseModel):
    """What a quote would contain, before anything is created (shown for confirmation)."""

    items: list[QuoteLine]
    equipment_total_brl: float
    installation_brl: float | None
    system_total_brl: float
    approval: ApprovalInfo
    warnings: list[str]
    sizing_id: str | None
    design_label: str | None
    customer: QuoteCustomer | None = None


# -- what the assistant's create_draft_quote returns ----------------------------------------------

def _without_absent(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``data`` without those ``keys`` whose value is None (the chat's JSON leaves them out)."""
    return {k: v for k, v in data.items() if not (k in keys and v is None)}


class QuoteSummaryItem(BaseModel):
    sku: str
    title: str
    quantity: int
    unit_price_brl: float
    total_brl: float


class QuoteSummary(BaseModel):
    """What a draft quote would contain, as the chat shows it before asking for a yes."""

    items: list[QuoteSummaryItem]
    equipment_total_brl: float
    installation_brl: float | None
    system_total_brl: float
    approval_required: bool
    approval_reasons: list[str]
    warnings: list[str]
    customer: QuoteCustomer | None = Field(None, description="a person's quote: who (absent from the JSON otherwise)")
    validity_days: int | None = Field(None, description="days the quote stays valid once created")

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_absent(handler(self), "customer", "validity_days")


class BestFinancing(BaseModel):
    lender: str
    first_payment_brl: float
    n_installments: int
    cet_annual_pct: float


class DraftQuoteResult(BaseModel):
    """``create_draft_quote``'s result: :class:`DraftQuotePreview` (nothing created yet) or
    :class:`DraftQuoteCreated`."""

    ok: Literal[True] = True
    created: bool


class DraftQuotePreview(DraftQuoteResult):
    created: Literal[False] = False
    needs_confirmation: Literal[True] = True
    message: str = "Mostre este resumo e peça confirmação explícita antes de criar o orçamento."
    summary: QuoteSummary


class DraftQuoteCreated(DraftQuoteResult):
    """The quote created (``created``) or found again for the same idempotency key."""

    quote_id: str
    status: str
    status_label: str
    equipment_total_brl: float
    system_total_brl: float
    valid_until: str = Field(description="ISO date")
    approval_required: bool
    approval_reasons: list[str]
    proposal_url: str
    customer: QuoteCustomer | None = Field(None, description="a person's quote: who (absent from the JSON otherwise)")
    best_financing: BestFinancing | None = None
    warnings: list[str]

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_absent(handler(self), "customer")


class QuoteRefused(BaseModel):
    """Why ``create_draft_quote_for_chat`` created nothing (a role, domain or input problem)."""

    ok: Literal[False] = False
    error: str
    hint: str | None = None
