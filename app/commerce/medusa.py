"""Medusa 2.x backend with the B2B starter's modules (companies, employees, approvals, quotes).

Routes and shapes as the starter (``medusajs/b2b-starter-medusa`` at 77396af, Medusa 2.8.4)
implements them; ``tests/fixtures/medusa/starter_fake.py`` names the source file of each:

- ``GET /store/products?variants[sku]=<sku>&region_id=…&fields=…`` → ``{products}`` (core; ``q``
  does not search SKUs)
- ``POST /store/carts`` → ``{cart}`` (core; ``metadata.company_id`` links the company);
  ``POST /store/carts/{id}/line-items/bulk {line_items}`` → ``{cart}`` *without totals unless
  requested*: every cart read asks for them in ``fields``, so the totals are Medusa's own
  (taxes, discounts, shipping), not Σ price × quantity
- ``GET /store/carts/{id}?fields=*approvals,*approval_status`` → the cart's approvals
- ``POST /admin/companies {name, email, currency_code}`` → ``{companies: [...]}``;
  ``POST /admin/companies/{id}/approval-settings {id, requires_admin_approval,
  requires_sales_manager_approval}`` (``id`` = the settings record's) → ``{approvalSettings: [record]}``
- ``POST /admin/companies/{id}/employees`` → ``{employee}``
- people who buy without a company (core customer module, ``@medusajs/medusa`` 2.8.4
  ``api/admin/customers``): ``GET /admin/customers?q=…&email=…&fields=…`` → ``{customers, count,
  offset, limit}`` (``q`` searches names, e-mail and phone, not metadata: the CPF, kept in
  ``metadata.cpf``, is matched here); ``POST /admin/customers {email?, first_name?, last_name?,
  phone?, metadata?}`` → ``{customer}``. E-mail is unique per ``has_account`` (an admin-made
  customer has none). The quote's cart carries ``metadata.helio_customer_id`` (the store
  calls act for the service customer, so that is how the person is linked).
- ``POST /store/carts/{id}/approvals`` (no body) → ``{approvals: [...]}``; only when the
  company's approval settings require one ("No enabled approval types found" otherwise)
- ``POST /admin/approvals/{id} {status}`` → ``{approval}`` (admin *user* JWT, not the secret key)
- ``POST /store/quotes {cart_id}``, ``GET /store/quotes/{id}``, ``POST …/accept|reject`` (body
  ``{}``), ``POST /store|admin/quotes/{id}/messages {text}`` → ``{quote}``;
  ``GET /store/quotes/{id}/preview`` → ``{quote: {…, order_preview}}``: the merchant's
  changed prices live there until the customer accepts.

Authentication and error mapping live in :mod:`app.commerce.medusa_http`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from app.commerce.medusa_http import (
    CommerceUnavailable, Credentials, EmailPassAuth, MedusaHTTP, StaticToken, expect,
)
from app.commerce.models import (
    Approval, ApprovalStatus, Cart, Company, Customer, Employee, LineItem, Quote, QuoteMessage, QuoteStatus, Variant,
)
from app.commerce.states import QuoteAction, next_status
from app.core.text import fold_words
from app.core.errors import Conflict, HelioError, InvalidInput, NotFound

log = logging.getLogger("helio.commerce.medusa")

_ACTION_ROUTES = {
    QuoteAction.SEND: ("admin", "/admin/quotes/{id}/send"),
    QuoteAction.MERCHANT_REJECT: ("admin", "/admin/quotes/{id}/reject"),
    QuoteAction.ACCEPT: ("store", "/store/quotes/{id}/accept"),
    QuoteAction.REJECT: ("store", "/store/quotes/{id}/reject"),
}
# Medusa computes totals only when a total field is asked for ("+" keeps the route's defaults).
CART_FIELDS = ("+total,+subtotal,+tax_total,+discount_total,+shipping_total,+item_total,+metadata,+customer_id,"
               "*items,+items.total,+items.subtotal")
PRODUCT_FIELDS = "*variants,*variants.calculated_price,+variants.inventory_quantity"
_OPEN = (QuoteStatus.PENDING_MERCHANT, QuoteStatus.PENDING_CUSTOMER)


def _money(value: Any) -> float:
    # Medusa may serialise big numbers as strings or {value: "…"}
    if isinstance(value, dict):
        value = value.get("value") or value.get("numeric")
    return round(float(value or 0), 2)


def _malformed(where: str, exc: Exception) -> CommerceUnavailable:
    return CommerceUnavailable(f"Resposta inesperada do Medusa em {where} ({type(exc).__name__}: {exc}).",
                               hint="A versão do backend pode não ser a esperada (B2B starter, Medusa 2.8).")


class MedusaCommerce:
    """:class:`~app.commerce.base.CommerceBackend` over a Medusa 2.x B2B backend at ``url``.

    Store calls act for a *service customer*: give ``customer_email``/``customer_password``
    (renewed JWT) or, legacy, a fixed ``customer_token``.
    """

    name = "medusa"

    def __init__(self, url: str, publishable_key: str | None = None, admin_api_key: str | None = None,
                 customer_token: str | None = None, region_id: str | None = None, timeout_s: float = 10.0,
                 retries: int = 2, transport: httpx.BaseTransport | None = None, backoff_s: float = 0.2,
                 customer_email: str | None = None, customer_password: str | None = None,
                 admin_email: str | None = None, admin_password: str | None = None,
                 customer_auth: Credentials | None = None) -> None:
        self.region_id = region_id
        if customer_auth is None and customer_email and customer_password:
            customer_auth = EmailPassAuth("customer", customer_email, customer_password)
        elif customer_auth is None and customer_token:
            customer_auth = StaticToken(customer_token)
        admin_user = EmailPassAuth("user", admin_email, admin_password) if admin_email and admin_password else None
        self.http = MedusaHTTP(url, publishable_key=publishable_key, admin_api_key=admin_api_key,
                               customer=customer_auth, admin_user=admin_user, timeout_s=timeout_s, retries=retries,
                               transport=transport, backoff_s=backoff_s)

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, scope: str = "store", key: str | None = None, **kw: Any) -> Any:
        data = self.http.call(method, path, scope, **kw)
        return expect(data, key, f"{method} {path}") if key else data

    def _read(self, where: str, parse, data: Any) -> Any:  # noqa: ANN001 - a parser of one record
        """``parse(data)``, with a wrong-shaped record turned into ``commerce_unavailable``."""
        try:
            return parse(data)
        except HelioError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise _malformed(where, exc) from exc

    # -- parsing ----------------------------------------------------------------------

    @staticmethod
    def _line(item: dict[str, Any]) -> LineItem:
        quantity = int(item.get("quantity") or 0)
        unit = _money(item.get("unit_price"))
        total = item.get("total", item.get("subtotal"))
        return LineItem(id=item["id"], variant_id=item.get("variant_id") or "", sku=item.get("variant_sku") or "",
                        title=item.get("product_title") or item.get("title") or "", quantity=quantity,
                        unit_price_brl=unit, total_brl=_money(total) if total is not None else round(unit * quantity, 2))

    def _cart(self, data: dict[str, Any]) -> Cart:
        if data.get("total") is None:  # never guess: a total Medusa did not compute is no total
            raise KeyError("total")
        company = data.get("company") or {}
        return Cart(id=data["id"], company_id=(data.get("metadata") or {}).get("company_id") or company.get("id"),
                    customer_id=data.get("customer_id"), items=[self._line(i) for i in data.get("items") or []],
                    total_brl=_money(data["total"]),
                    metadata={k: str(v) for k, v in (data.get("metadata") or {}).items()})

    def _quote(self, data: dict[str, Any], preview: dict[str, Any] | None = None) -> Quote:
        order = data.get("draft_order") or {}
        items = [self._line(i) for i in order.get("items") or []]
        total = order.get("total")
        messages = [QuoteMessage(id=m["id"], text=m.get("text", ""),
                                 author="merchant" if m.get("admin_id") else "customer",
                                 created_at=str(m.get("created_at") or "")) for m in data.get("messages") or []]
        employee = (data.get("customer") or {}).get("employee") or {}
        offer_items = offer_total = None
        if preview is not None:
            offer_items = [self._line(i) for i in preview.get("items") or []]
            offer_total = _money(preview["total"])
        return Quote(id=data["id"], status=QuoteStatus(data["status"]),
                     cart_id=data.get("cart_id") or (data.get("cart") or {}).get("id") or "",
                     customer_id=data.get("customer_id") or (data.get("customer") or {}).get("id"),
                     company_id=employee.get("company_id") or (employee.get("company") or {}).get("id"),
                     items=items, total_brl=_money(total) if total is not None else round(
                         sum(i.total_brl for i in items), 2), messages=messages,
                     created_at=str(data.get("created_at")) if data.get("created_at") else None,
                     offer_items=offer_items, offer_total_brl=offer_total)

    # -- catalog ----------------------------------------------------------------------

    def get_variant_by_sku(self, sku: str) -> Variant | None:
        # ``q`` searches titles, not SKUs (measured on 2.8.4 core): filter on the variant's SKU
        params = {"variants[sku]": sku, "fields": PRODUCT_FIELDS, "limit": 20}
        if self.region_id:
            params["region_id"] = self.region_id
        products = self._call("GET", "/store/products", key="products", params=params)
        return self._read("GET /store/products", lambda ps: self._find_variant(ps, sku), products)

    @staticmethod
    def _find_variant(products: list[dict[str, Any]], sku: str) -> Variant | None:
        for product in products:
            for v in product.get("variants") or []:
                if v.get("sku") == sku:
                    price = (v.get("calculated_price") or {}).get("calculated_amount")
                    qty = v.get("inventory_quantity")
                    available = bool(v.get("allow_backorder")) or not v.get("manage_inventory", True) or (qty or 0) > 0
                    return Variant(id=v["id"], sku=sku, product_id=product["id"],
                                   title=f"{product.get('title', '')} {v.get('title') or ''}".strip(),
                                   price_brl=_money(price) if price is not None else None, available=available,
                                   inventory_quantity=qty)
        return None

    # -- companies, employees ------------------------------------------------------------

    @staticmethod
    def _company(data: dict[str, Any]) -> Company:
        settings = data.get("approval_settings") or {}
        cnpj = re.sub(r"\D", "", str((data.get("metadata") or {}).get("cnpj") or "")) or None
        return Company(id=data["id"], name=data.get("name", ""), email=data.get("email"), tax_id=cnpj,
                       currency_code=data.get("currency_code") or "brl",
                       requires_admin_approval=bool(settings.get("requires_admin_approval")),
                       requires_sales_manager_approval=bool(settings.get("requires_sales_manager_approval")),
                       approval_settings_id=settings.get("id"))

    @staticmethod
    def _employee(data: dict[str, Any]) -> Employee:
        limit = data.get("spending_limit")
        return Employee(id=data["id"], company_id=data.get("company_id") or (data.get("company") or {}).get("id"),
                        customer_id=data.get("customer_id") or (data.get("customer") or {}).get("id") or "",
                        spending_limit_brl=_money(limit) if limit not in (None, 0, "0") else None,
                        is_admin=bool(data.get("is_admin")))

    def create_company(self, name: str, email: str | None = None, requires_admin_approval: bool = False) -> Company:
        if not email:
            raise InvalidInput("O Medusa B2B exige o e-mail da empresa.", hint="Informe email ao cadastrar a empresa.")
        companies = self._call("POST", "/admin/companies", "admin", key="companies",
                               json={"name": name, "email": email, "currency_code": "brl"})
        company = self._read("POST /admin/companies", lambda cs: self._company(cs[0]), companies)
        if requires_admin_approval:
            try:
                company = self._set_approval_settings(company, admin=True)
            except HelioError:  # no half-made company: a retry would otherwise duplicate it
                self._delete_company(company.id)
                raise
        return company

    def find_companies(self, text: str, limit: int = 5) -> list[Company]:
        """``GET /admin/companies`` (the starter lists every company; ``q`` narrows it where the
        route supports it), filtered here by folded name or CNPJ (``metadata.cnpj``)."""
        data = self._call("GET", "/admin/companies", "admin", key="companies", params={"q": text, "limit": 200})
        companies = [self._read("GET /admin/companies", self._company, c) for c in data or []]
        digits = re.sub(r"\D", "", text)
        wanted = fold_words(text)
        found = [c for c in companies if (len(digits) == 14 and c.tax_id == digits)
                 or (wanted and len(wanted) >= 3 and wanted in fold_words(c.name))]
        return found[:limit]

    # -- people (pessoa física) ------------------------------------------------------------

    _CUSTOMER_FIELDS = "id,email,first_name,last_name,phone,metadata,has_account"

    @staticmethod
    def _customer(data: dict[str, Any]) -> Customer:
        name = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
        cpf = re.sub(r"\D", "", str((data.get("metadata") or {}).get("cpf") or "")) or None
        return Customer(id=data["id"], name=name or data.get("email") or data["id"], cpf=cpf, email=data.get("email"),
                        phone=data.get("phone"))

    def _list_customers(self, **params: Any) -> list[Customer]:
        data = self._call("GET", "/admin/customers", "admin", key="customers",
                          params={**params, "fields": self._CUSTOMER_FIELDS, "limit": 200})
        return [self._read("GET /admin/customers", self._customer, c) for c in data or []]

    def find_customer(self, name: str, cpf: str | None = None, email: str | None = None) -> Customer | None:
        cpf = re.sub(r"\D", "", cpf or "") or None
        email = email.strip().lower() if email else None
        if cpf:
            # ``q`` is one ILIKE per field ("Maria Souza" matches neither first nor last name): the surname
            surname = (name.split() or [""])[-1]
            found = next((c for c in self._list_customers(q=surname) if c.cpf == cpf), None)
            if found is not None:
                return found
        if email:
            return next((c for c in self._list_customers(email=email) if (c.email or "").lower() == email), None)
        return None

    def create_customer(self, name: str, cpf: str | None = None, email: str | None = None,
                        phone: str | None = None) -> Customer:
        first, _, last = name.strip().partition(" ")
        body: dict[str, Any] = {"first_name": first, **({"last_name": last.strip()} if last.strip() else {})}
        if email:
            body["email"] = email.strip().lower()
        if phone:
            body["phone"] = phone
        cpf = re.sub(r"\D", "", cpf or "") or None
        if cpf:
            body["metadata"] = {"cpf": cpf}
        data = self._call("POST", "/admin/customers", "admin", key="customer", json=body)
        return self._read("POST /admin/customers", self._customer, data)

    def _delete_company(self, company_id: str) -> None:
        try:
            self._call("DELETE", f"/admin/companies/{company_id}", "admin")
        except HelioError as exc:
            log.error("empresa %s criada sem as configurações de aprovação e não removida: %s", company_id, exc.message)

    def _admin_company(self, company_id: str) -> Company:
        path = f"/admin/companies/{company_id}"
        data = self._call("GET", path, "admin", key="company", params={"fields": "*approval_settings"})
        return self._read(f"GET {path}", self._company, data)

    def _set_approval_settings(self, company: Company, admin: bool) -> Company:
        settings_id = company.approval_settings_id or self._admin_company(company.id).approval_settings_id
        if not settings_id:
            raise CommerceUnavailable(f"A empresa {company.id} não tem configurações de aprovação no Medusa.",
                                      hint="O workflow create-companies do starter cria uma por empresa.")
        path = f"/admin/companies/{company.id}/approval-settings"
        body = {"id": settings_id, "requires_admin_approval": admin,
                "requires_sales_manager_approval": company.requires_sales_manager_approval}
        # the route answers query.graph's data as is: {approvalSettings: [record]}
        saved = self._read(f"POST {path}", lambda s: s[0] if isinstance(s, list) else s,
                           self._call("POST", path, "admin", key="approvalSettings", json=body))
        return company.model_copy(update={"approval_settings_id": settings_id,
                                          "requires_admin_approval": bool(saved["requires_admin_approval"])})

    def get_company(self, company_id: str) -> Company:
        path = f"/store/companies/{company_id}"
        return self._read(f"GET {path}", self._company, self._call("GET", path, key="company"))

    def create_employee(self, company_id: str, customer_id: str, spending_limit_brl: float | None = None,
                        is_admin: bool = False) -> Employee:
        path = f"/admin/companies/{company_id}/employees"
        body: dict[str, Any] = {"customer_id": customer_id, "is_admin": is_admin}
        if spending_limit_brl is not None:
            body["spending_limit"] = spending_limit_brl
        return self._read(f"POST {path}", self._employee, self._call("POST", path, "admin", key="employee", json=body))

    def get_employee(self, company_id: str, employee_id: str) -> Employee:
        path = f"/store/companies/{company_id}/employees/{employee_id}"
        employee = self._read(f"GET {path}", self._employee, self._call("GET", path, key="employee"))
        if employee.company_id != company_id:  # the starter's route does not check the company
            raise NotFound(f"Funcionário '{employee_id}' não encontrado na empresa '{company_id}'.",
                           hint="Confira employee_id e company_id.")
        return employee

    # -- carts, approvals ----------------------------------------------------------------

    def create_cart(self, company_id: str | None = None, customer_id: str | None = None,
                    metadata: dict[str, str] | None = None) -> Cart:
        body: dict[str, Any] = {"metadata": {**(metadata or {}), **({"company_id": company_id} if company_id else {})}}
        if self.region_id:
            body["region_id"] = self.region_id
        data = self._call("POST", "/store/carts", key="cart", json=body, params={"fields": CART_FIELDS})
        cart = self._read("POST /store/carts", self._cart, data)
        credentials = self.http.customer
        if cart.customer_id is None and getattr(credentials, "renewable", False):
            # POST /store/carts authenticates optionally: a token Medusa no longer accepts yields a guest
            # cart, not a 401 (measured on 2.8.4 core). Log in again and hand the cart to the customer.
            credentials.invalidate()
            path = f"/store/carts/{cart.id}/customer"
            cart = self._read(f"POST {path}", self._cart,
                              self._call("POST", path, key="cart", params={"fields": CART_FIELDS}))
        return cart

    def add_line_items(self, cart_id: str, items: list[tuple[str, int]]) -> Cart:
        path = f"/store/carts/{cart_id}/line-items/bulk"
        body = {"line_items": [{"variant_id": v, "quantity": q} for v, q in items]}
        data = self._call("POST", path, key="cart", json=body, params={"fields": CART_FIELDS})
        return self._read(f"POST {path}", self._cart, data)

    def get_cart(self, cart_id: str) -> Cart:
        path = f"/store/carts/{cart_id}"
        data = self._call("GET", path, key="cart", params={"fields": CART_FIELDS})
        return self._read(f"GET {path}", self._cart, data)

    def discard_cart(self, cart_id: str) -> None:
        """Empty a cart whose quote was never created (Medusa has no cart deletion) and tag it."""
        cart = self.get_cart(cart_id)
        for item in cart.items:
            self._call("DELETE", f"/store/carts/{cart_id}/line-items/{item.id}")
        try:
            self._call("POST", f"/store/carts/{cart_id}", json={"metadata": {**cart.metadata, "helio_discarded": "1"}})
        except HelioError as exc:  # e.g. a pending approval blocks cart updates: the cart is empty anyway
            log.info("carrinho %s esvaziado; marcação não aplicada: %s", cart_id, exc.message)

    @staticmethod
    def _approval(data: dict[str, Any]) -> Approval:
        return Approval(id=data["id"], cart_id=data["cart_id"], type=data.get("type") or "admin",
                        status=ApprovalStatus(data.get("status") or "pending"), handled_by=data.get("handled_by"))

    def request_approval(self, cart_id: str, type: str = "admin") -> Approval:
        # The starter creates one approval per type the company's settings enable; it takes no body.
        path = f"/store/carts/{cart_id}/approvals"
        approvals = self._call("POST", path, key="approvals")
        return self._read(f"POST {path}", lambda a: self._approval(a[0]), approvals)

    def list_approvals(self, cart_id: str) -> list[Approval]:
        path = f"/store/carts/{cart_id}"
        cart = self._call("GET", path, key="cart", params={"fields": "*approvals,*approval_status"})
        return self._read(f"GET {path}", lambda c: [self._approval(a) for a in c.get("approvals") or []], cart)

    def decide_approval(self, approval_id: str, approve: bool, handled_by: str | None = None) -> Approval:
        # The starter's update-approval workflow re-decides a decided approval: refuse that here.
        listing = self._call("GET", "/admin/approvals", "admin_user", key="carts_with_approvals",
                             params={"status": "pending", "limit": 1000})
        pending = self._read("GET /admin/approvals", lambda carts: {
            a["id"] for c in carts for a in c.get("approvals") or [] if a.get("status") == "pending"}, listing)
        if approval_id not in pending:
            raise Conflict("A aprovação já foi decidida (ou não existe).", hint="Consulte o orçamento.")
        path = f"/admin/approvals/{approval_id}"
        data = self._call("POST", path, "admin_user", key="approval",
                          json={"status": "approved" if approve else "rejected"}, quote_action=True)
        return self._read(f"POST {path}", self._approval, data)

    # -- quotes ----------------------------------------------------------------------------

    def create_quote(self, cart_id: str) -> Quote:
        data = self._call("POST", "/store/quotes", key="quote", json={"cart_id": cart_id})
        return self._read("POST /store/quotes", self._quote, data)

    def _status(self, quote_id: str) -> QuoteStatus:
        path = f"/store/quotes/{quote_id}"
        return self._read(f"GET {path}", lambda q: QuoteStatus(q["status"]), self._call("GET", path, key="quote"))

    def get_quote(self, quote_id: str) -> Quote:
        path = f"/store/quotes/{quote_id}"
        data = self._call("GET", path, key="quote")
        preview = None
        if data.get("status") in _OPEN:  # the merchant's offer: the draft order with its pending changes
            where = f"GET {path}/preview"
            preview = expect(self._call("GET", f"{path}/preview", key="quote"), "order_preview", where)
        return self._read(f"GET {path}", lambda q: self._quote(q, preview), data)

    def transition_quote(self, quote_id: str, action: QuoteAction) -> Quote:
        # Medusa checks less than our table (e.g. it would re-send an accepted quote): check first.
        next_status(action, self._status(quote_id))
        scope, route = _ACTION_ROUTES[QuoteAction(action)]
        path = route.format(id=quote_id)
        data = self._call("POST", path, scope, key="quote", json={}, quote_action=True)
        return self._read(f"POST {path}", self._quote, data)

    def add_quote_message(self, quote_id: str, text: str, author: str = "merchant") -> Quote:
        scope, path = ("admin", f"/admin/quotes/{quote_id}/messages") if author == "merchant" else \
            ("store", f"/store/quotes/{quote_id}/messages")
        return self._read(f"POST {path}", self._quote, self._call("POST", path, scope, key="quote",
                                                                  json={"text": text}))
