"""Turn a sizing (or explicit items) into a draft quote in the commerce backend.

Steps: items from the chosen design → price and availability from the backend → the
buyer's spending limit (over it, or a company that requires it → the quote is created
*needing approval*, as Medusa B2B does) → cart with bulk items → quote → financing
simulation on the system's value → record with validity date, sizing snapshot and terms.

The buyer is a company (``buyer.company_id``) or a person without one (``buyer.customer``,
pessoa física): the CPF's check digits are verified, the customer on file with that CPF
(else e-mail) is reused, and a new one is created only by :meth:`QuoteService.create`, after
every other check (a preview writes nothing). A person has no spending limit or approvals.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from app.commerce.base import CommerceBackend
from app.commerce.models import ApprovalStatus, Company, Customer, Employee, Variant
from app.commerce.people import mask_cpf, normalize_phone, valid_cpf, valid_email
from app.commerce.states import STATUS_LABEL, QuoteAction
from app.core.errors import Conflict, HelioError, InvalidInput
from app.core.text import fold_words, format_brl
from app.financing.rules import CreditLineBook
from app.financing.simulate import FinancingComparison, FinancingRequest, simulate_financing
from app.quotes.models import (
    ApprovalInfo, CreateQuoteRequest, CustomerIn, DraftQuote, MerchantOffer, QuoteCustomer, QuoteItemIn, QuoteLine,
    QuotePreview,
)
from app.quotes.sizing_link import SizingLookup, load_sizing, pick_design
from app.quotes.store import QuoteRecordStore
from app.sizing.models import SizingResult

log = logging.getLogger("helio.quotes")


def request_hash(request: CreateQuoteRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


class QuoteService:
    def __init__(self, commerce: CommerceBackend, records: QuoteRecordStore, book: Callable[[], CreditLineBook],
                 get_sizing: SizingLookup, validity_days: int = 15,
                 today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> None:
        self.commerce = commerce
        self.records = records
        self.book = book
        self.get_sizing = get_sizing
        self.validity_days = validity_days
        self.today = today

    # -- preview (nothing is created) ------------------------------------------------------

    def _items_and_sizing(self, req: CreateQuoteRequest) -> tuple[list[QuoteItemIn], SizingResult | None,
                                                                  str | None, dict[str, float]]:
        sizing = load_sizing(self.get_sizing, req.sizing_id) if req.sizing_id else None
        design = pick_design(sizing, req.design) if sizing else None
        sizing_prices: dict[str, float] = {}
        if req.items:
            items = req.items
        elif design is not None:
            # ``lines`` holds the priced catalog items of any design kind (components or a kit).
            items = [QuoteItemIn(sku=line.product_id, quantity=line.quantity) for line in design.lines]
            sizing_prices = {line.product_id: line.unit_price_brl for line in design.lines}
        else:
            raise InvalidInput("Orçamento sem itens.", hint="Informe sizing_id (de POST /v1/sizing) ou items.")
        merged: dict[str, int] = {}
        for item in items:
            merged[item.sku] = merged.get(item.sku, 0) + item.quantity
        return ([QuoteItemIn(sku=s, quantity=q) for s, q in merged.items()], sizing,
                design.label if design else None, sizing_prices)

    def _price(self, items: list[QuoteItemIn], sizing_prices: dict[str, float],
               allow_unavailable: bool) -> tuple[list[tuple[Variant, QuoteLine]], list[str]]:
        priced, missing, unpriced, unavailable, warnings = [], [], [], [], []
        for item in items:
            variant = self.commerce.get_variant_by_sku(item.sku)
            if variant is None:
                missing.append(item.sku)
                continue
            if variant.price_brl is None:
                unpriced.append(variant.title)
                continue
            if not variant.available:
                unavailable.append(variant.title)
            sizing_price = sizing_prices.get(item.sku)
            if sizing_price is not None and abs(sizing_price - variant.price_brl) >= 0.01:
                warnings.append(f"{variant.title}: preço atual {format_brl(variant.price_brl)} difere do usado no "
                                f"dimensionamento ({format_brl(sizing_price)})")
            priced.append((variant, QuoteLine(
                sku=variant.sku, title=variant.title, quantity=item.quantity, unit_price_brl=variant.price_brl,
                total_brl=round(variant.price_brl * item.quantity, 2), available=variant.available,
                sizing_unit_price_brl=sizing_price if sizing_price != variant.price_brl else None)))
        if missing:
            raise InvalidInput(f"SKU não encontrado no backend de comércio: {', '.join(missing)}.",
                               hint="Confira os SKUs (GET /v1/products) ou refaça o dimensionamento.")
        if unpriced:
            raise InvalidInput(f"Itens sem preço: {', '.join(unpriced)}.", hint="Escolha produtos com preço.")
        if unavailable:
            if not allow_unavailable:
                raise Conflict(f"Sem estoque: {', '.join(unavailable)}.",
                               hint="Troque os itens, ou envie allow_unavailable=true para orçar mesmo assim.",
                               unavailable=unavailable)
            warnings.append(f"sem estoque no momento: {', '.join(unavailable)}")
        return priced, warnings

    def _approval_needed(self, company: Company, employee: Employee | None, total: float) -> ApprovalInfo:
        """An approval is requested only when the company's rules ask for one; over the buyer's
        spending limit without such a rule the quote carries the excess for the rep to see."""
        reasons = []
        limit = employee.spending_limit_brl if employee else None
        excess = round(total - limit, 2) if limit is not None and total > limit else None
        if excess is not None and company.spending_limit_needs_approval:
            reasons.append(f"total de {format_brl(total)} acima do limite de gastos do comprador ({format_brl(limit)})")
        if company.requires_admin_approval:
            reasons.append("a empresa exige aprovação de um administrador em toda compra")
        if company.requires_sales_manager_approval:
            reasons.append("a empresa exige aprovação de um gerente de vendas em toda compra")
        return ApprovalInfo(required=bool(reasons), reasons=reasons, spending_limit_brl=limit,
                            spending_limit_exceeded_brl=excess)

    @staticmethod
    def _limit_warning(approval: ApprovalInfo, total: float) -> list[str]:
        if approval.spending_limit_exceeded_brl is None or approval.required:
            return []
        limit, excess = format_brl(approval.spending_limit_brl), format_brl(approval.spending_limit_exceeded_brl)
        return [f"total de {format_brl(total)} passa o limite de gastos do comprador ({limit}) em {excess}: "
                "o pedido só será finalizado com o limite ajustado"]

    # -- a person (pessoa física) as the buyer ---------------------------------------------

    @staticmethod
    def _checked_person(person: CustomerIn) -> tuple[str, str | None, str | None, str | None]:
        """(name, CPF digits, e-mail, phone digits) after the checks a schema cannot make."""
        field = "buyer.customer."
        if person.cpf and not valid_cpf(person.cpf):
            raise InvalidInput(f"CPF inválido em '{field}cpf': {person.cpf} (os dígitos verificadores não conferem).",
                               hint="Confira o CPF com o cliente, ou informe e-mail ou telefone no lugar dele.",
                               fields=[{"field": field + "cpf", "message": "CPF inválido"}])
        if person.email and not valid_email(person.email):
            raise InvalidInput(f"E-mail inválido em '{field}email': {person.email}.", hint="Confira o e-mail.",
                               fields=[{"field": field + "email", "message": "e-mail inválido"}])
        phone = normalize_phone(person.phone) if person.phone else None
        if person.phone and phone is None:
            raise InvalidInput(f"Telefone inválido em '{field}phone': {person.phone}.",
                               hint="Informe o telefone com DDD: (11) 98765-4321.",
                               fields=[{"field": field + "phone", "message": "telefone inválido"}])
        cpf = re.sub(r"\D", "", person.cpf) if person.cpf else None
        return " ".join(person.name.split()), cpf, person.email.strip().lower() if person.email else None, phone

    def _person(self, req: CreateQuoteRequest, create: bool) -> tuple[QuoteCustomer | None, list[str]]:
        """The buying person: the customer on file with this CPF (else e-mail), or — only when
        ``create`` — a new one. ``(None, [])`` when the buyer is a company."""
        if req.buyer.customer is None:
            return None, []
        if req.buyer.employee_id:
            raise InvalidInput("employee_id é de uma empresa e não se aplica a uma pessoa física (buyer.customer).",
                               hint="Envie só buyer.customer, sem employee_id.")
        name, cpf, email, phone = self._checked_person(req.buyer.customer)
        found = self.commerce.find_customer(name, cpf, email)
        if found is not None and cpf and found.cpf and found.cpf != cpf:
            raise Conflict(f"O e-mail {email} já está cadastrado para outra pessoa (CPF {mask_cpf(found.cpf)}).",
                           hint="Confira o e-mail, ou informe outro contato (telefone) para esta pessoa.")
        warnings = []
        if found is not None and fold_words(found.name) != fold_words(name):
            warnings.append(f"cliente já cadastrado como {found.name}: o orçamento usa esse cadastro")
        customer: Customer | None = found
        if found is None and create:
            customer = self.commerce.create_customer(name, cpf, email, phone)
        shown = customer or Customer(id="", name=name, cpf=cpf, email=email, phone=phone)
        return QuoteCustomer(id=shown.id or None, name=shown.name, cpf_masked=mask_cpf(shown.cpf or cpf),
                             email=shown.email or email, phone=shown.phone or phone,
                             existing=found is not None), warnings

    def preview(self, req: CreateQuoteRequest) -> QuotePreview:
        """Everything a quote would contain, checked against the backend, without creating it."""
        items, sizing, label, sizing_prices = self._items_and_sizing(req)
        priced, warnings = self._price(items, sizing_prices, req.allow_unavailable)
        person, person_warnings = self._person(req, create=False)
        company = self.commerce.get_company(req.buyer.company_id) if person is None else None
        employee = self.commerce.get_employee(company.id, req.buyer.employee_id) \
            if company is not None and req.buyer.employee_id else None
        lines = [line for _, line in priced]
        equipment = round(sum(l.total_brl for l in lines), 2)
        installation = self._installation(sizing, req.design)
        approval = self._approval_needed(company, employee, equipment) if company else ApprovalInfo(required=False)
        return QuotePreview(items=lines, equipment_total_brl=equipment, installation_brl=installation,
                            system_total_brl=round(equipment + (installation or 0.0), 2), approval=approval,
                            warnings=warnings + person_warnings + self._limit_warning(approval, equipment),
                            sizing_id=req.sizing_id, design_label=label, customer=person)

    @staticmethod
    def _installation(sizing: SizingResult | None, design: str) -> float | None:
        return round(pick_design(sizing, design).economics.installation_brl, 2) if sizing else None

    # -- create -------------------------------------------------------------------------------

    def create(self, req: CreateQuoteRequest, idempotency_key: str | None = None,
               created_by: dict[str, str | None] | None = None) -> tuple[DraftQuote, bool]:
        """Create the draft quote; ``(quote, created)`` — ``created`` is False on an idempotent replay.
        ``created_by``: who asked for it (recorded with the quote)."""
        if idempotency_key:
            existing = self.records.claim(idempotency_key, request_hash(req))
            if existing is not None:
                return self.get(existing), False
        try:
            quote = self._create(req, created_by)
        except BaseException:
            if idempotency_key:
                self.records.release(idempotency_key)
            raise
        if idempotency_key:
            self.records.complete(idempotency_key, quote.id)
        return quote, True

    def _create(self, req: CreateQuoteRequest, created_by: dict[str, str | None] | None = None) -> DraftQuote:
        items, sizing, label, sizing_prices = self._items_and_sizing(req)
        priced, warnings = self._price(items, sizing_prices, req.allow_unavailable)
        if req.buyer.customer is not None:  # a person: checked now, created only after every other check
            self._checked_person(req.buyer.customer)
        company = self.commerce.get_company(req.buyer.company_id) if req.buyer.customer is None else None
        employee = self.commerce.get_employee(company.id, req.buyer.employee_id) \
            if company is not None and req.buyer.employee_id else None
        # financing input errors surface before anything is created (re-run below on the backend's total)
        self._financing(req, round(sum(line.total_brl for _, line in priced)
                                   + (self._installation(sizing, req.design) or 0.0), 2))
        # a person's customer record is kept even if the cart fails below: a retry reuses it
        person, person_warnings = self._person(req, create=True)
        warnings = warnings + person_warnings
        valid_until = self.today() + timedelta(days=self.validity_days)
        metadata = {"helio_valid_until": valid_until.isoformat()}
        if req.sizing_id:
            metadata["helio_sizing_id"] = req.sizing_id
        if person is not None:
            metadata["helio_customer_id"] = person.id or ""
        cart = self.commerce.create_cart(
            company_id=company.id if company else None,
            customer_id=employee.customer_id if employee else (person.id if person else None), metadata=metadata)
        try:  # until the quote exists, a failure undoes the cart: nothing is left half-made
            cart = self.commerce.add_line_items(cart.id, [(v.id, line.quantity) for v, line in priced])
            approval = self._approval_needed(company, employee, cart.total_brl) if company \
                else ApprovalInfo(required=False)
            if approval.required:
                requested = self.commerce.request_approval(cart.id)
                approval = approval.model_copy(update={"approval_id": requested.id, "status": requested.status.value})
            quote = self.commerce.create_quote(cart.id)
        except BaseException:
            self._discard(cart.id)
            raise
        warnings = warnings + self._limit_warning(approval, cart.total_brl)
        if req.note:
            try:
                quote = self.commerce.add_quote_message(quote.id, req.note)
            except HelioError as exc:  # the quote exists: keep it, say the note did not go
                warnings.append(f"a nota não foi enviada ao backend de comércio ({exc.message})")
        lines = [line for _, line in priced]
        installation = self._installation(sizing, req.design)
        system_total = round(cart.total_brl + (installation or 0.0), 2)
        financing = self._financing(req, system_total)
        record = DraftQuote(
            id=quote.id, status=quote.status, status_label=STATUS_LABEL[quote.status], backend=self.commerce.name,
            cart_id=cart.id, company_id=company.id if company else None, company_name=company.name if company else None,
            customer=person,
            employee_id=employee.id if employee else None, end_customer_name=req.buyer.end_customer_name,
            items=lines, equipment_total_brl=cart.total_brl, installation_brl=installation,
            system_total_brl=system_total, valid_until=valid_until,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"), approval=approval, sizing_id=req.sizing_id,
            design_label=label, sizing=sizing.model_dump(mode="json") if sizing else None, financing=financing,
            warnings=warnings, note=req.note, created_by=created_by,
        )
        self.records.save(record)
        log.info("Orçamento %s criado (%s, %s, aprovação=%s)", record.id, self.commerce.name,
                 format_brl(record.equipment_total_brl), approval.required)
        return record

    def _financing(self, req: CreateQuoteRequest, system_total: float) -> FinancingComparison | None:
        if req.financing is None:
            return None
        f = req.financing
        return simulate_financing(FinancingRequest(
            amount_brl=f.amount_brl or system_total, down_payment_brl=f.down_payment_brl,
            term_months=f.term_months, grace_months=f.grace_months, system=f.system,
            customer_type=f.customer_type, line_ids=f.line_ids, rate_overrides_pct=f.rate_overrides_pct,
            include_schedule=False), self.book())

    def _discard(self, cart_id: str) -> None:
        try:
            self.commerce.discard_cart(cart_id)
        except Exception as exc:  # noqa: BLE001 - the original error matters more; say what is left behind
            log.error("Carrinho %s ficou sem orçamento e não foi desfeito: %s", cart_id, exc)

    # -- read and transitions ---------------------------------------------------------------

    def get(self, quote_id: str) -> DraftQuote:
        """The record with the live status (and approval status) from the backend."""
        record = self.records.get(quote_id)
        live = self.commerce.get_quote(quote_id)
        status = live.status
        approval = record.approval
        if approval.approval_id:
            current = next((a for a in self.commerce.list_approvals(record.cart_id) if a.id == approval.approval_id),
                           None)
            if current is not None:
                approval = approval.model_copy(update={"status": current.status.value})
        offer = record.merchant_offer
        if live.offer_total_brl is not None:
            offer = MerchantOffer(items=live.offer_items or [], total_brl=live.offer_total_brl,
                                  changed=abs(live.offer_total_brl - record.equipment_total_brl) >= 0.01)
        if status != record.status or approval != record.approval or offer != record.merchant_offer:
            record = record.model_copy(update={"status": status, "status_label": STATUS_LABEL[status],
                                               "approval": approval, "merchant_offer": offer})
            self.records.save(record)
        return record

    def transition(self, quote_id: str, action: QuoteAction) -> DraftQuote:
        record = self.get(quote_id)
        if action == QuoteAction.ACCEPT and record.approval.required:
            if record.approval.status == ApprovalStatus.PENDING:
                raise Conflict("O orçamento aguarda aprovação da empresa compradora (limite de gastos).",
                               hint="Um administrador aprova em POST /v1/quotes/{id}/approval.")
            if record.approval.status == ApprovalStatus.REJECTED:
                raise Conflict("A compra foi reprovada pela empresa compradora.", hint="Revise itens ou valores.")
        self.commerce.transition_quote(quote_id, action)
        return self.get(quote_id)

    def decide_approval(self, quote_id: str, approve: bool, handled_by: str | None = None) -> DraftQuote:
        record = self.get(quote_id)
        if not record.approval.approval_id:
            raise Conflict("Este orçamento não precisa de aprovação.", hint="Nada a aprovar.")
        self.commerce.decide_approval(record.approval.approval_id, approve, handled_by)
        return self.get(quote_id)
