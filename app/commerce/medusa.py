"""Medusa 2.x backend with the B2B modules (companies, employees, approvals, quotes), over HTTP.

Routes and shapes as the Medusa B2B starter documents them:

- ``GET  /store/products?q=<sku>&region_id=…`` → ``{products: [{variants: [{id, sku, calculated_price}]}]}``
- ``POST /store/carts`` → ``{cart}``; ``POST /store/carts/{id}/line-items/bulk {line_items}`` → ``{cart}``
- ``POST /admin/companies`` / ``GET /store/companies/{id}`` → ``{company}``;
  ``POST|GET /store/companies/{id}/employees[/{employee_id}]`` → ``{employee}`` (``spending_limit``)
- ``POST /store/carts/{id}/approvals`` → ``{approvals}``; ``POST /store/approvals/{id} {status}`` → ``{approval}``
- ``POST /store/quotes {cart_id}``, ``GET /store/quotes/{id}``, ``POST /store/quotes/{id}/accept|reject``,
  ``POST /store/quotes/{id}/messages {text}`` → ``{quote}``; admin: ``POST /admin/quotes/{id}/send|reject``.

Store calls carry the publishable key and the B2B customer's token; admin calls the secret
API key (HTTP Basic, ``sk_…:``). Amounts are BRL major units. Idempotent calls (GET) are
retried on timeouts and 5xx; a POST is retried only when the connection never opened.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import httpx

from app.commerce.models import (
    Approval, ApprovalStatus, Cart, Company, Employee, LineItem, Quote, QuoteMessage, QuoteStatus, Variant,
)
from app.commerce.states import QuoteAction, next_status
from app.core.errors import Conflict, HelioError, InvalidInput, NotFound, Unavailable

log = logging.getLogger("helio.commerce.medusa")

_ACTION_ROUTES = {
    QuoteAction.SEND: ("admin", "/admin/quotes/{id}/send"),
    QuoteAction.MERCHANT_REJECT: ("admin", "/admin/quotes/{id}/reject"),
    QuoteAction.ACCEPT: ("store", "/store/quotes/{id}/accept"),
    QuoteAction.REJECT: ("store", "/store/quotes/{id}/reject"),
}
_HINT = "Confira COMMERCE__URL e se o backend Medusa está no ar."


def _money(value: Any) -> float:
    # Medusa may serialise big numbers as strings or {value: "…"}
    if isinstance(value, dict):
        value = value.get("value") or value.get("numeric")
    return round(float(value or 0), 2)


class MedusaCommerce:
    """:class:`~app.commerce.base.CommerceBackend` over a Medusa 2.x B2B backend at ``url``."""

    name = "medusa"

    def __init__(self, url: str, publishable_key: str | None = None, admin_api_key: str | None = None,
                 customer_token: str | None = None, region_id: str | None = None, timeout_s: float = 10.0,
                 retries: int = 2, transport: httpx.BaseTransport | None = None, backoff_s: float = 0.2) -> None:
        self.region_id = region_id
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self._store_headers = {"accept": "application/json"}
        if publishable_key:
            self._store_headers["x-publishable-api-key"] = publishable_key
        if customer_token:
            self._store_headers["authorization"] = f"Bearer {customer_token}"
        self._admin_headers = {"accept": "application/json"}
        if admin_api_key:
            token = base64.b64encode(f"{admin_api_key}:".encode()).decode()
            self._admin_headers["authorization"] = f"Basic {token}"
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=httpx.Timeout(timeout_s), transport=transport)

    def close(self) -> None:
        self._http.close()

    # -- HTTP -----------------------------------------------------------------------

    def _request(self, method: str, path: str, scope: str = "store", json: dict | None = None,
                 params: dict | None = None, quote_action: bool = False) -> dict[str, Any]:
        headers = self._store_headers if scope == "store" else self._admin_headers
        idempotent = method == "GET"
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, headers=headers, json=json, params=params)
            except httpx.ConnectError as exc:  # nothing was sent: safe to retry any method
                error: Exception = exc
            except httpx.TimeoutException as exc:
                if not idempotent:
                    raise Unavailable(f"O backend de comércio não respondeu a tempo ({method} {path}).",
                                      hint="A operação pode ter sido aplicada: consulte antes de repetir.") from exc
                error = exc
            except httpx.HTTPError as exc:
                raise Unavailable(f"Falha ao falar com o backend de comércio: {exc}.", hint=_HINT) from exc
            else:
                if response.status_code >= 500 and idempotent and attempt < self.retries:
                    error = Unavailable(f"Medusa respondeu {response.status_code}.", hint=_HINT)
                else:
                    return self._parse(response, method, path, quote_action)
            if attempt >= self.retries:
                if isinstance(error, HelioError):
                    raise error
                raise Unavailable(f"Backend de comércio inacessível ({type(error).__name__}).", hint=_HINT) from error
            attempt += 1
            log.warning("Medusa %s %s falhou (%s); tentativa %d", method, path, error, attempt + 1)
            time.sleep(self.backoff_s * 2 ** (attempt - 1))

    @staticmethod
    def _parse(response: httpx.Response, method: str, path: str, quote_action: bool) -> dict[str, Any]:
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                raise Unavailable(f"Resposta inválida do Medusa em {method} {path}.", hint=_HINT) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        message = str(body.get("message") or response.text[:200] or response.reason_phrase)
        kind = str(body.get("type") or body.get("code") or "").lower()
        status = response.status_code
        where = f"{method} {path}"
        if status == 404 or kind == "not_found":
            raise NotFound(f"Não encontrado no Medusa: {message}", hint="Confira o id informado.", upstream=where)
        if status == 409 or kind in ("conflict", "duplicate_error") or (
                quote_action and kind in ("not_allowed", "invalid_data")):
            raise Conflict(f"O Medusa recusou a operação: {message}", hint="Consulte o estado atual.", upstream=where)
        if status in (401, 403):
            raise Unavailable(f"O Medusa recusou as credenciais do Hélio ({status}).",
                              hint="Confira COMMERCE__PUBLISHABLE_KEY, COMMERCE__CUSTOMER_TOKEN e "
                                   "COMMERCE__ADMIN_API_KEY.", upstream=where)
        if status < 500:
            raise InvalidInput(f"O Medusa recusou os dados: {message}", hint="Corrija a requisição.", upstream=where)
        raise Unavailable(f"Medusa respondeu {status} em {where}.", hint=_HINT)

    # -- parsing ----------------------------------------------------------------------

    @staticmethod
    def _line(item: dict[str, Any]) -> LineItem:
        quantity = int(item.get("quantity") or 0)
        unit = _money(item.get("unit_price"))
        total = item.get("total", item.get("subtotal"))
        return LineItem(id=item["id"], variant_id=item.get("variant_id") or "", sku=item.get("variant_sku") or "",
                        title=item.get("title") or item.get("product_title") or "", quantity=quantity,
                        unit_price_brl=unit, total_brl=_money(total) if total is not None else round(unit * quantity, 2))

    def _cart(self, data: dict[str, Any]) -> Cart:
        items = [self._line(i) for i in data.get("items") or []]
        company = data.get("company") or {}
        return Cart(id=data["id"], company_id=data.get("company_id") or company.get("id"),
                    customer_id=data.get("customer_id"), items=items,
                    total_brl=_money(data["total"]) if data.get("total") is not None else
                    round(sum(i.total_brl for i in items), 2),
                    metadata={k: str(v) for k, v in (data.get("metadata") or {}).items()})

    def _quote(self, data: dict[str, Any]) -> Quote:
        order = data.get("draft_order") or {}
        cart = data.get("cart") or {}
        items = [self._line(i) for i in (order.get("items") or cart.get("items") or [])]
        total = order.get("total", cart.get("total"))
        messages = [QuoteMessage(id=m["id"], text=m.get("text", ""),
                                 author="merchant" if m.get("admin_id") else "customer",
                                 created_at=str(m.get("created_at") or "")) for m in data.get("messages") or []]
        return Quote(id=data["id"], status=QuoteStatus(data["status"]), cart_id=data.get("cart_id") or cart.get("id"),
                     customer_id=data.get("customer_id"), company_id=(cart.get("company") or {}).get("id"),
                     items=items, total_brl=_money(total) if total is not None else
                     round(sum(i.total_brl for i in items), 2), messages=messages,
                     created_at=str(data.get("created_at")) if data.get("created_at") else None)

    # -- catalog ----------------------------------------------------------------------

    def get_variant_by_sku(self, sku: str) -> Variant | None:
        params = {"q": sku, "fields": "*variants,*variants.calculated_price,+variants.inventory_quantity", "limit": 20}
        if self.region_id:
            params["region_id"] = self.region_id
        for product in self._request("GET", "/store/products", params=params).get("products") or []:
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
        return Company(id=data["id"], name=data.get("name", ""), email=data.get("email"),
                       currency_code=data.get("currency_code") or "brl",
                       requires_admin_approval=bool(settings.get("requires_admin_approval")))

    @staticmethod
    def _employee(data: dict[str, Any]) -> Employee:
        limit = data.get("spending_limit")
        return Employee(id=data["id"], company_id=data.get("company_id") or (data.get("company") or {}).get("id"),
                        customer_id=data.get("customer_id") or (data.get("customer") or {}).get("id") or "",
                        spending_limit_brl=_money(limit) if limit not in (None, 0, "0") else None,
                        is_admin=bool(data.get("is_admin")))

    def create_company(self, name: str, email: str | None = None, requires_admin_approval: bool = False) -> Company:
        data = self._request("POST", "/admin/companies", "admin",
                             json={"name": name, "email": email, "currency_code": "brl"})
        company = self._company(data["company"])
        if requires_admin_approval:
            self._request("POST", f"/admin/companies/{company.id}/approval-settings", "admin",
                          json={"requires_admin_approval": True})
            company = company.model_copy(update={"requires_admin_approval": True})
        return company

    def get_company(self, company_id: str) -> Company:
        return self._company(self._request("GET", f"/store/companies/{company_id}")["company"])

    def create_employee(self, company_id: str, customer_id: str, spending_limit_brl: float | None = None,
                        is_admin: bool = False) -> Employee:
        body = {"customer_id": customer_id, "spending_limit": spending_limit_brl or 0, "is_admin": is_admin}
        return self._employee(self._request("POST", f"/store/companies/{company_id}/employees", json=body)["employee"])

    def get_employee(self, company_id: str, employee_id: str) -> Employee:
        return self._employee(
            self._request("GET", f"/store/companies/{company_id}/employees/{employee_id}")["employee"])

    # -- carts, approvals ----------------------------------------------------------------

    def create_cart(self, company_id: str | None = None, customer_id: str | None = None,
                    metadata: dict[str, str] | None = None) -> Cart:
        body: dict[str, Any] = {"metadata": {**(metadata or {}), **({"company_id": company_id} if company_id else {})}}
        if self.region_id:
            body["region_id"] = self.region_id
        return self._cart(self._request("POST", "/store/carts", json=body)["cart"])

    def add_line_items(self, cart_id: str, items: list[tuple[str, int]]) -> Cart:
        body = {"line_items": [{"variant_id": v, "quantity": q} for v, q in items]}
        return self._cart(self._request("POST", f"/store/carts/{cart_id}/line-items/bulk", json=body)["cart"])

    def get_cart(self, cart_id: str) -> Cart:
        return self._cart(self._request("GET", f"/store/carts/{cart_id}")["cart"])

    @staticmethod
    def _approval(data: dict[str, Any]) -> Approval:
        return Approval(id=data["id"], cart_id=data["cart_id"], type=data.get("type") or "admin",
                        status=ApprovalStatus(data.get("status") or "pending"), handled_by=data.get("handled_by"))

    def request_approval(self, cart_id: str, type: str = "admin") -> Approval:
        data = self._request("POST", f"/store/carts/{cart_id}/approvals", json={"type": type})
        approvals = data.get("approvals") or [data.get("approval")]
        return self._approval(approvals[0])

    def list_approvals(self, cart_id: str) -> list[Approval]:
        data = self._request("GET", "/store/approvals", params={"cart_id": cart_id})
        return [self._approval(a) for a in data.get("approvals") or [] if a.get("cart_id") == cart_id]

    def decide_approval(self, approval_id: str, approve: bool, handled_by: str | None = None) -> Approval:
        status = "approved" if approve else "rejected"
        return self._approval(self._request("POST", f"/store/approvals/{approval_id}", json={"status": status},
                                            quote_action=True)["approval"])

    # -- quotes ----------------------------------------------------------------------------

    def create_quote(self, cart_id: str) -> Quote:
        return self._quote(self._request("POST", "/store/quotes", json={"cart_id": cart_id})["quote"])

    def get_quote(self, quote_id: str) -> Quote:
        return self._quote(self._request("GET", f"/store/quotes/{quote_id}")["quote"])

    def transition_quote(self, quote_id: str, action: QuoteAction) -> Quote:
        # Medusa checks less than our table (e.g. it would re-send an accepted quote): check first.
        next_status(action, self.get_quote(quote_id).status)
        scope, route = _ACTION_ROUTES[QuoteAction(action)]
        data = self._request("POST", route.format(id=quote_id), scope, json={}, quote_action=True)
        return self._quote(data["quote"])

    def add_quote_message(self, quote_id: str, text: str, author: str = "merchant") -> Quote:
        scope, path = ("admin", f"/admin/quotes/{quote_id}/messages") if author == "merchant" else \
            ("store", f"/store/quotes/{quote_id}/messages")
        return self._quote(self._request("POST", path, scope, json={"text": text})["quote"])
