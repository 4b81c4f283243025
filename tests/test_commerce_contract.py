"""One behavioural suite, run on both commerce backends.

``medusa`` runs against a small fake Medusa 2.x B2B server started here on 127.0.0.1: it
implements the documented request/response shapes (and Medusa's own, more lenient quote
checks), so this is a contract test of our client, not of Medusa.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from app.catalog.models import Category, Product
from app.catalog.store import SQLiteCatalogStore
from app.commerce import QuoteAction, QuoteStatus
from app.commerce.local import LocalCommerce
from app.commerce.medusa import MedusaCommerce
from app.core.errors import Conflict, InvalidInput, NotFound, Unavailable

PUBLISHABLE = "pk_test_helio"
SECRET = "sk_test_helio"
TOKEN = "customer-jwt"

PRODUCTS = [
    # (sku, title, price, in stock)
    ("mod-550", "Módulo 550 W", 650.0, True),
    ("inv-10k", "Inversor 10 kW trifásico", 9_800.0, True),
    ("inv-sem-estoque", "Inversor 5 kW", 4_200.0, False),
]


def catalog_products() -> list[Product]:
    return [Product(id=sku, category=Category.MODULE if sku.startswith("mod") else Category.INVERTER, name=title,
                    price_brl=price, in_stock=stock) for sku, title, price, stock in PRODUCTS]


# --------------------------------------------------------------------------- fake Medusa


class FakeMedusa:
    """In-memory state of the fake backend, plus knobs for fault injection."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.products = [{"id": f"prod_{sku}", "title": title, "variants": [{
            "id": f"variant_{sku}", "sku": sku, "title": "Padrão", "manage_inventory": True, "allow_backorder": False,
            "inventory_quantity": 40 if stock else 0, "calculated_price": {"calculated_amount": price,
                                                                         "currency_code": "brl"}}]}
            for sku, title, price, stock in PRODUCTS]
        self.companies: dict[str, dict] = {}
        self.employees: dict[str, dict] = {}
        self.carts: dict[str, dict] = {}
        self.approvals: dict[str, dict] = {}
        self.quotes: dict[str, dict] = {}
        self.fail_next_gets = 0
        self.requests: list[tuple[str, str]] = []

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids):04d}"


def _handler(state: FakeMedusa):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

        def _send(self, status: int, body: dict) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _error(self, status: int, type_: str, message: str) -> None:
            self._send(status, {"type": type_, "message": message})

        def _auth_ok(self, path: str) -> bool:
            if path.startswith("/admin/"):
                expected = "Basic " + base64.b64encode(f"{SECRET}:".encode()).decode()
                return self.headers.get("authorization") == expected
            if self.headers.get("x-publishable-api-key") != PUBLISHABLE:
                return False
            # products are public; the B2B routes need the logged-in customer
            return path.startswith("/store/products") or self.headers.get("authorization") == f"Bearer {TOKEN}"

        def do_GET(self):
            self._route("GET")

        def do_POST(self):
            self._route("POST")

        def _route(self, method: str) -> None:
            url = urlparse(self.path)
            path, query = url.path, parse_qs(url.query)
            state.requests.append((method, path))
            if not self._auth_ok(path):
                return self._error(401, "unauthorized", "Unauthorized")
            if method == "GET" and state.fail_next_gets > 0:
                state.fail_next_gets -= 1
                return self._error(503, "unknown_error", "temporarily unavailable")
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            for pattern, meth, fn in ROUTES:
                m = re.fullmatch(pattern, path)
                if m and meth == method:
                    try:
                        return fn(self, body, query, *m.groups())
                    except KeyError:
                        return self._error(404, "not_found", f"{path} was not found")
            self._error(404, "not_found", "route not found")

        # -- products
        def products(self, body, query):
            q = (query.get("q") or [""])[0]
            found = [p for p in state.products if any(q in v["sku"] for v in p["variants"]) or q in p["title"]]
            self._send(200, {"products": found, "count": len(found), "offset": 0, "limit": 20})

        # -- companies / employees
        def create_company(self, body):
            cid = state.new_id("comp")
            state.companies[cid] = {"id": cid, "name": body["name"], "email": body.get("email"),
                                    "currency_code": body.get("currency_code", "brl"),
                                    "approval_settings": {"requires_admin_approval": False,
                                                          "requires_sales_manager_approval": False}}
            self._send(200, {"company": state.companies[cid]})

        def approval_settings(self, body, cid):
            state.companies[cid]["approval_settings"].update(body)
            self._send(200, {"company": state.companies[cid]})

        def get_company(self, cid):
            self._send(200, {"company": state.companies[cid]})

        def create_employee(self, body, cid):
            state.companies[cid]
            eid = state.new_id("emp")
            state.employees[eid] = {"id": eid, "company_id": cid, "customer_id": body["customer_id"],
                                    "spending_limit": body.get("spending_limit", 0), "is_admin": body.get("is_admin")}
            self._send(200, {"employee": state.employees[eid]})

        def get_employee(self, cid, eid):
            employee = state.employees[eid]
            if employee["company_id"] != cid:
                raise KeyError(eid)
            self._send(200, {"employee": employee})

        # -- carts
        def _cart_out(self, cart):
            total = sum(i["unit_price"] * i["quantity"] for i in cart["items"])
            return {**cart, "total": total, "items": [{**i, "total": i["unit_price"] * i["quantity"]}
                                                       for i in cart["items"]]}

        def create_cart(self, body):
            cart_id = state.new_id("cart")
            state.carts[cart_id] = {"id": cart_id, "customer_id": "cus_0001", "region_id": body.get("region_id"),
                                    "metadata": body.get("metadata") or {}, "items": [],
                                    "company_id": (body.get("metadata") or {}).get("company_id")}
            self._send(200, {"cart": self._cart_out(state.carts[cart_id])})

        def bulk(self, body, cart_id):
            cart = state.carts[cart_id]
            variants = {v["id"]: (p, v) for p in state.products for v in p["variants"]}
            for li in body["line_items"]:
                if li["variant_id"] not in variants:
                    return self._error(400, "invalid_data", f"Variant {li['variant_id']} not found")
                product, variant = variants[li["variant_id"]]
                cart["items"].append({"id": state.new_id("item"), "variant_id": variant["id"],
                                      "variant_sku": variant["sku"], "title": product["title"],
                                      "quantity": li["quantity"],
                                      "unit_price": variant["calculated_price"]["calculated_amount"]})
            self._send(200, {"cart": self._cart_out(cart)})

        def get_cart(self, cart_id):
            self._send(200, {"cart": self._cart_out(state.carts[cart_id])})

        # -- approvals
        def create_approval(self, body, cart_id):
            state.carts[cart_id]
            aid = state.new_id("appr")
            state.approvals[aid] = {"id": aid, "cart_id": cart_id, "type": body.get("type", "admin"),
                                    "status": "pending", "handled_by": None}
            self._send(200, {"approvals": [state.approvals[aid]]})

        def list_approvals(self, query):
            cart_id = (query.get("cart_id") or [None])[0]
            self._send(200, {"approvals": [a for a in state.approvals.values() if a["cart_id"] == cart_id]})

        def decide_approval(self, body, aid):
            approval = state.approvals[aid]
            if approval["status"] != "pending":
                return self._error(400, "invalid_data", "Approval already handled")
            approval["status"] = body["status"]
            self._send(200, {"approval": approval})

        # -- quotes (Medusa's own checks: accept only pending_customer; no reject once accepted)
        def _quote_out(self, quote):
            cart = self._cart_out(state.carts[quote["cart_id"]])
            return {**quote, "draft_order": {"items": cart["items"], "total": cart["total"]},
                    "cart": {"id": cart["id"], "company": {"id": cart.get("company_id")}}}

        def create_quote(self, body):
            qid = state.new_id("quo")
            state.quotes[qid] = {"id": qid, "status": "pending_merchant", "cart_id": body["cart_id"],
                                 "customer_id": "cus_0001", "messages": [], "created_at": "2026-01-01T00:00:00Z"}
            self._send(200, {"quote": self._quote_out(state.quotes[qid])})

        def get_quote(self, qid):
            self._send(200, {"quote": self._quote_out(state.quotes[qid])})

        def _set(self, qid, status):
            state.quotes[qid]["status"] = status
            self._send(200, {"quote": self._quote_out(state.quotes[qid])})

        def accept(self, body, qid):
            if state.quotes[qid]["status"] != "pending_customer":
                return self._error(400, "invalid_data", "Cannot accept quote when quote status is "
                                   + state.quotes[qid]["status"])
            self._set(qid, "accepted")

        def reject(self, body, qid, who):
            if state.quotes[qid]["status"] == "accepted":
                return self._error(400, "invalid_data", "Quote is already accepted by customer")
            self._set(qid, who)

        def message(self, body, qid, admin):
            state.quotes[qid]["messages"].append({"id": state.new_id("qmsg"), "text": body["text"],
                                                  "admin_id": "user_1" if admin else None,
                                                  "customer_id": None if admin else "cus_0001",
                                                  "created_at": "2026-01-01T00:00:00Z"})
            self._send(200, {"quote": self._quote_out(state.quotes[qid])})

    H = Handler
    ROUTES = [
        (r"/store/products", "GET", lambda h, b, q: H.products(h, b, q)),
        (r"/admin/companies", "POST", lambda h, b, q: H.create_company(h, b)),
        (r"/admin/companies/([^/]+)/approval-settings", "POST", lambda h, b, q, c: H.approval_settings(h, b, c)),
        (r"/store/companies/([^/]+)", "GET", lambda h, b, q, c: H.get_company(h, c)),
        (r"/store/companies/([^/]+)/employees", "POST", lambda h, b, q, c: H.create_employee(h, b, c)),
        (r"/store/companies/([^/]+)/employees/([^/]+)", "GET", lambda h, b, q, c, e: H.get_employee(h, c, e)),
        (r"/store/carts", "POST", lambda h, b, q: H.create_cart(h, b)),
        (r"/store/carts/([^/]+)", "GET", lambda h, b, q, c: H.get_cart(h, c)),
        (r"/store/carts/([^/]+)/line-items/bulk", "POST", lambda h, b, q, c: H.bulk(h, b, c)),
        (r"/store/carts/([^/]+)/approvals", "POST", lambda h, b, q, c: H.create_approval(h, b, c)),
        (r"/store/approvals", "GET", lambda h, b, q: H.list_approvals(h, q)),
        (r"/store/approvals/([^/]+)", "POST", lambda h, b, q, a: H.decide_approval(h, b, a)),
        (r"/store/quotes", "POST", lambda h, b, q: H.create_quote(h, b)),
        (r"/store/quotes/([^/]+)", "GET", lambda h, b, q, i: H.get_quote(h, i)),
        (r"/store/quotes/([^/]+)/accept", "POST", lambda h, b, q, i: H.accept(h, b, i)),
        (r"/store/quotes/([^/]+)/reject", "POST", lambda h, b, q, i: H.reject(h, b, i, "customer_rejected")),
        (r"/admin/quotes/([^/]+)/reject", "POST", lambda h, b, q, i: H.reject(h, b, i, "merchant_rejected")),
        (r"/admin/quotes/([^/]+)/send", "POST", lambda h, b, q, i: H._set(h, i, "pending_customer")),
        (r"/store/quotes/([^/]+)/messages", "POST", lambda h, b, q, i: H.message(h, b, i, False)),
        (r"/admin/quotes/([^/]+)/messages", "POST", lambda h, b, q, i: H.message(h, b, i, True)),
    ]
    return Handler


@pytest.fixture
def fake_medusa() -> Iterator[tuple[str, FakeMedusa]]:
    state = FakeMedusa()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def make_medusa(url: str, **kw) -> MedusaCommerce:
    return MedusaCommerce(url, publishable_key=PUBLISHABLE, admin_api_key=SECRET, customer_token=TOKEN,
                          region_id="reg_br", timeout_s=5, backoff_s=0.01, **kw)


@pytest.fixture(params=["local", "medusa"])
def commerce(request, tmp_path: Path):
    if request.param == "local":
        catalog = SQLiteCatalogStore(tmp_path / "catalog.sqlite3")
        catalog.replace_all(catalog_products())
        yield LocalCommerce(tmp_path / "commerce.sqlite3", catalog)
    else:
        url, _ = request.getfixturevalue("fake_medusa")
        backend = make_medusa(url)
        yield backend
        backend.close()


# --------------------------------------------------------------------------- shared behaviour


def _cart_with(commerce, company_id=None):
    cart = commerce.create_cart(company_id=company_id, metadata={"helio_sizing_id": "sz_1"})
    module = commerce.get_variant_by_sku("mod-550")
    inverter = commerce.get_variant_by_sku("inv-10k")
    return commerce.add_line_items(cart.id, [(module.id, 16), (inverter.id, 1)])


def test_variant_by_sku_has_price_and_availability(commerce):
    v = commerce.get_variant_by_sku("mod-550")
    assert v.sku == "mod-550" and v.price_brl == 650.0 and v.available
    assert commerce.get_variant_by_sku("inv-sem-estoque").available is False
    assert commerce.get_variant_by_sku("nao-existe") is None


def test_company_and_employee_with_spending_limit(commerce):
    company = commerce.create_company("Solar Uberlândia Ltda", "compras@solarudi.com.br")
    employee = commerce.create_employee(company.id, "cus_0001", spending_limit_brl=15_000)
    again = commerce.get_employee(company.id, employee.id)
    assert again.spending_limit_brl == 15_000 and again.company_id == company.id
    assert commerce.get_company(company.id).name == "Solar Uberlândia Ltda"
    with pytest.raises(NotFound):
        commerce.get_employee(company.id, "emp_nope")


def test_bulk_line_items_and_totals(commerce):
    cart = _cart_with(commerce)
    assert [(i.sku, i.quantity) for i in cart.items] == [("mod-550", 16), ("inv-10k", 1)]
    assert cart.total_brl == 16 * 650.0 + 9_800.0
    assert commerce.get_cart(cart.id).metadata["helio_sizing_id"] == "sz_1"


def test_quote_happy_path_and_illegal_transitions(commerce):
    quote = commerce.create_quote(_cart_with(commerce).id)
    assert quote.status == QuoteStatus.PENDING_MERCHANT and quote.total_brl == 20_200.0
    with pytest.raises(Conflict, match="aguardando a YSH"):
        commerce.transition_quote(quote.id, QuoteAction.ACCEPT)        # customer cannot accept a draft
    assert commerce.transition_quote(quote.id, QuoteAction.SEND).status == QuoteStatus.PENDING_CUSTOMER
    with pytest.raises(Conflict):
        commerce.transition_quote(quote.id, QuoteAction.SEND)          # already sent
    assert commerce.transition_quote(quote.id, QuoteAction.ACCEPT).status == QuoteStatus.ACCEPTED
    for action in QuoteAction:                                         # terminal: nothing moves it
        with pytest.raises(Conflict, match="encerrado"):
            commerce.transition_quote(quote.id, action)
    assert commerce.get_quote(quote.id).status == QuoteStatus.ACCEPTED


def test_rejections(commerce):
    q1 = commerce.create_quote(_cart_with(commerce).id)
    commerce.transition_quote(q1.id, QuoteAction.SEND)
    assert commerce.transition_quote(q1.id, QuoteAction.REJECT).status == QuoteStatus.CUSTOMER_REJECTED
    q2 = commerce.create_quote(_cart_with(commerce).id)
    with pytest.raises(Conflict):
        commerce.transition_quote(q2.id, QuoteAction.REJECT)           # customer has not received it
    assert commerce.transition_quote(q2.id, QuoteAction.MERCHANT_REJECT).status == QuoteStatus.MERCHANT_REJECTED
    with pytest.raises(NotFound):
        commerce.get_quote("quo_nope")


def test_approvals(commerce):
    cart = _cart_with(commerce)
    approval = commerce.request_approval(cart.id)
    assert approval.status == "pending" and [a.id for a in commerce.list_approvals(cart.id)] == [approval.id]
    assert commerce.decide_approval(approval.id, approve=True).status == "approved"
    with pytest.raises(Conflict):
        commerce.decide_approval(approval.id, approve=False)


def test_quote_messages(commerce):
    quote = commerce.create_quote(_cart_with(commerce).id)
    quote = commerce.add_quote_message(quote.id, "Frete incluso para Uberlândia.")
    assert [(m.text, m.author) for m in quote.messages] == [("Frete incluso para Uberlândia.", "merchant")]


# --------------------------------------------------------------------------- Medusa client only


def test_medusa_uses_documented_routes_and_auth(fake_medusa):
    url, state = fake_medusa
    backend = make_medusa(url)
    quote = backend.create_quote(_cart_with(backend).id)
    backend.transition_quote(quote.id, QuoteAction.SEND)
    assert ("POST", "/store/carts/cart_0001/line-items/bulk") in state.requests
    assert ("POST", f"/admin/quotes/{quote.id}/send") in state.requests
    # without credentials the fake answers 401: a configuration problem → 503 with a hint
    anonymous = MedusaCommerce(url, timeout_s=5)
    with pytest.raises(Unavailable, match="credenciais") as err:
        anonymous.get_quote(quote.id)
    assert "COMMERCE__" in err.value.hint


def test_medusa_checks_transitions_medusa_would_allow(fake_medusa):
    url, state = fake_medusa
    backend = make_medusa(url)
    quote = backend.create_quote(_cart_with(backend).id)
    backend.transition_quote(quote.id, QuoteAction.SEND)
    backend.transition_quote(quote.id, QuoteAction.ACCEPT)
    sends = sum(1 for r in state.requests if r == ("POST", f"/admin/quotes/{quote.id}/send"))
    with pytest.raises(Conflict):
        backend.transition_quote(quote.id, QuoteAction.SEND)   # the fake (like Medusa) would have accepted it
    assert sum(1 for r in state.requests if r == ("POST", f"/admin/quotes/{quote.id}/send")) == sends


def test_medusa_retries_idempotent_calls_only(fake_medusa):
    url, state = fake_medusa
    backend = make_medusa(url, retries=2)
    state.fail_next_gets = 2
    assert backend.get_variant_by_sku("mod-550").price_brl == 650.0       # 2 × 503, then 200
    state.fail_next_gets = 3
    with pytest.raises(Unavailable):
        backend.get_variant_by_sku("mod-550")


def test_medusa_maps_errors_and_timeouts(fake_medusa):
    url, _ = fake_medusa
    backend = make_medusa(url)
    cart = backend.create_cart()
    with pytest.raises(InvalidInput, match="recusou os dados"):
        backend.add_line_items(cart.id, [("variant_nope", 1)])
    dead = MedusaCommerce("http://127.0.0.1:9", timeout_s=0.5, retries=1, backoff_s=0.01)
    with pytest.raises(Unavailable, match="inacessível"):
        dead.get_quote("quo_1")
