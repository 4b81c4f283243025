"""Each mismatch issue #16 found between our Medusa client and the B2B starter, one test each.

The fake (``tests/fixtures/medusa/starter_fake.py``) enforces the starter's contracts at the
pinned commit 77396af: strict bodies and queries, the company_admin role, real response keys.
Every test here failed against the client on main before the fix (recorded in
``tests/fixtures/medusa/README.md``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.auth.keys import make_key_store
from app.commerce.medusa import MedusaCommerce
from app.commerce.medusa_http import EmailPassAuth
from app.core.errors import Conflict, InvalidInput
from app.core.settings import Settings
from app.main import create_app
from app.quotes.models import BuyerIn, CreateQuoteRequest, QuoteItemIn
from app.quotes.service import QuoteService
from app.quotes.store import QuoteRecordStore

_spec = importlib.util.spec_from_file_location(
    "helio_medusa_starter_fake", Path(__file__).parent / "fixtures" / "medusa" / "starter_fake.py")
starter = sys.modules.get(_spec.name) or importlib.util.module_from_spec(_spec)
if _spec.name not in sys.modules:
    sys.modules[_spec.name] = starter
    _spec.loader.exec_module(starter)

PRODUCTS = [("mod-550", "Módulo 550 W", 650.0, True), ("inv-10k", "Inversor 10 kW trifásico", 9_800.0, True)]
ITEMS = [QuoteItemIn(sku="mod-550", quantity=16), QuoteItemIn(sku="inv-10k", quantity=1)]
LIST_TOTAL = 16 * 650.0 + 9_800.0  # 20 200


@pytest.fixture
def fake():
    with starter.StarterFake(PRODUCTS) as f:
        yield f


def client(url: str, **kw) -> MedusaCommerce:
    args = dict(publishable_key=starter.PUBLISHABLE, admin_api_key=starter.SECRET,
                customer_email=starter.CUSTOMER[0], customer_password=starter.CUSTOMER[1],
                admin_email=starter.ADMIN_USER[0], admin_password=starter.ADMIN_USER[1],
                region_id="reg_br", timeout_s=5, backoff_s=0.01)
    args.update(kw)
    return MedusaCommerce(url, **args)


def service(commerce, tmp_path: Path) -> QuoteService:
    return QuoteService(commerce, QuoteRecordStore(tmp_path / "quotes.sqlite3"), lambda: None, lambda _: None)


def request(company_id: str, employee_id: str | None = None, **kw) -> CreateQuoteRequest:
    return CreateQuoteRequest(items=ITEMS, buyer=BuyerIn(company_id=company_id, employee_id=employee_id),
                              financing=None, **kw)


def calls(state, method: str, pattern: str) -> list[dict]:
    return [r for m, p, r in state.requests if m == method and p.startswith(pattern)]


# ------------------------------------------------------------------ the fake itself enforces the contracts


def test_the_fake_refuses_what_the_real_starter_refuses(fake):
    h = httpx.Client(base_url=fake.url, headers={"x-publishable-api-key": starter.PUBLISHABLE})
    token = h.post("/auth/customer/emailpass", json={"email": starter.CUSTOMER[0],
                                                     "password": starter.CUSTOMER[1]}).json()["token"]
    bearer = {"authorization": f"Bearer {token}"}
    assert h.get("/store/approvals", params={"cart_id": "c"}, headers=bearer).status_code == 403  # not company_admin
    fake.state.customers["cus_servico"]["role"] = "company_admin"
    r = h.get("/store/approvals", params={"cart_id": "c"}, headers=bearer)
    assert r.status_code == 400 and "Unrecognized fields: 'cart_id'" in r.json()["message"]
    basic = {"authorization": httpx.BasicAuth(starter.SECRET, "")._auth_header}
    r = h.post("/admin/companies", json={"name": "X", "currency_code": "brl"}, headers=basic)
    assert r.status_code == 400                                      # email is required
    assert h.post("/admin/approvals/appr_1", json={"status": "approved"}, headers=basic).status_code == 401
    assert httpx.get(f"{fake.url}/store/products").status_code == 400  # no publishable key


# ------------------------------------------------------------------ one test per mismatch of the issue


def test_reading_a_quote_that_needed_approval_reads_approvals_through_the_cart(fake, tmp_path):
    medusa = client(fake.url)
    company = medusa.create_company("Solar Aprovação Ltda", "compras@aprova.com.br", requires_admin_approval=True)
    quotes = service(medusa, tmp_path)
    quote, _ = quotes.create(request(company.id))
    assert quote.approval.required and quote.approval.status == "pending"
    assert quotes.get(quote.id).approval.status == "pending"           # main: GET /store/approvals?cart_id → 4xx
    reads = calls(fake.state, "GET", f"/store/carts/{quote.cart_id}")
    assert reads and "*approvals" in reads[-1]["query"]["fields"][0]
    assert not calls(fake.state, "GET", "/store/approvals")
    decided = quotes.decide_approval(quote.id, approve=True)
    assert decided.approval.status == "approved"
    with pytest.raises(Conflict):                                      # Medusa itself would re-decide it
        medusa.decide_approval(quote.approval.approval_id, approve=False)


def test_company_creation_reads_the_companies_list_and_needs_an_email(fake):
    medusa = client(fake.url)
    company = medusa.create_company("Solar Triângulo Ltda", "compras@solartri.com.br")
    assert company.id in fake.state.companies and company.name == "Solar Triângulo Ltda"
    assert len(fake.state.companies) == 1
    with pytest.raises(InvalidInput, match="e-mail"):
        medusa.create_company("Sem Email Ltda")                        # main sent email: null → 400
    assert len(fake.state.companies) == 1


def test_admin_approval_settings_carry_the_record_id_and_both_flags(fake):
    medusa = client(fake.url)
    company = medusa.create_company("Solar Aprovação Ltda", "compras@aprova.com.br", requires_admin_approval=True)
    assert medusa.get_company(company.id).requires_admin_approval is True
    body = calls(fake.state, "POST", f"/admin/companies/{company.id}/approval-settings")[-1]["body"]
    assert body == {"id": company.approval_settings_id, "requires_admin_approval": True,
                    "requires_sales_manager_approval": False}


def test_the_client_accepts_the_store_settings_route_answering_201_without_a_body(fake):
    medusa = client(fake.url)
    company = medusa.create_company("Solar Loja Ltda", "compras@loja.com.br")   # no employees yet: route open
    assert medusa.http.call("POST", f"/store/companies/{company.id}/approval-settings",
                            json={"requires_admin_approval": True}) == {}
    assert medusa.get_company(company.id).requires_admin_approval is True


def test_over_the_spending_limit_without_a_company_rule_the_quote_carries_the_excess(fake, tmp_path):
    medusa = client(fake.url)
    company = medusa.create_company("Solar Limite Ltda", "compras@limite.com.br")
    buyer = medusa.create_employee(company.id, "cus_servico", spending_limit_brl=5_000)
    quote, created = service(medusa, tmp_path).create(request(company.id, buyer.id))
    assert created and quote.status == "pending_merchant"
    assert quote.approval.required is False and quote.approval.approval_id is None
    assert quote.approval.spending_limit_exceeded_brl == LIST_TOTAL - 5_000
    assert any("limite de gastos" in w and "R$ 15.200,00" in w for w in quote.warnings)
    assert not calls(fake.state, "POST", f"/store/carts/{quote.cart_id}/approvals")   # main: 400 after the cart


def test_totals_are_the_ones_medusa_computes(fake, tmp_path):
    fake.state.tax_rate = 0.1          # Medusa adds the region's taxes; Σ price × quantity would miss them
    medusa = client(fake.url)
    company = medusa.create_company("Solar Impostos Ltda", "compras@impostos.com.br")
    quote, _ = service(medusa, tmp_path).create(request(company.id))
    assert quote.equipment_total_brl == pytest.approx(LIST_TOTAL * 1.1)
    bulk = calls(fake.state, "POST", f"/store/carts/{quote.cart_id}/line-items/bulk")[-1]
    assert "+total" in bulk["query"]["fields"][0].split(",")


def test_the_merchants_offer_comes_from_the_quote_preview(fake, tmp_path):
    medusa = client(fake.url)
    company = medusa.create_company("Solar Oferta Ltda", "compras@oferta.com.br")
    quotes = service(medusa, tmp_path)
    quote, _ = quotes.create(request(company.id))
    fake.state.offers[quote.id] = {"variant_mod-550": 600.0}          # the merchant lowers the module price
    offer = quotes.get(quote.id).merchant_offer
    assert offer is not None and offer.changed and offer.total_brl == 16 * 600.0 + 9_800.0
    assert quotes.get(quote.id).equipment_total_brl == LIST_TOTAL      # the cart as quoted is unchanged


def test_the_customer_token_renews_instead_of_expiring(fake):
    # the client judges expiry by its clock: give it the fake's, so days pass in a test
    auth = EmailPassAuth("customer", *starter.CUSTOMER, clock=lambda: fake.state.now)
    medusa = client(fake.url, customer_auth=auth)
    company = medusa.create_company("Solar Token Ltda", "compras@token.com.br")
    assert medusa.get_company(company.id).id == company.id and fake.state.logins == 1
    fake.state.now += 23.95 * 3600                                     # within the renewal margin: refresh
    assert medusa.get_company(company.id).id == company.id and fake.state.refreshes == 1
    fake.state.now += 3 * 24 * 3600                                    # long expired: log in again
    assert medusa.get_company(company.id).id == company.id and fake.state.logins == 2
    fake.state.customers["cus_servico"]["role"] = None
    auth._token = fake.state.jwt("customer", "cus_servico")[:-2] + "xx"  # revoked → 401 → login
    assert medusa.get_company(company.id).id == company.id and fake.state.logins == 3


def test_a_failure_after_the_cart_was_created_leaves_no_cart_behind(fake, tmp_path):
    medusa = client(fake.url, retries=0)
    company = medusa.create_company("Solar Falha Ltda", "compras@falha.com.br")
    fake.state.fail[("POST", "/store/quotes")] = 1
    quotes = service(medusa, tmp_path)
    with pytest.raises(Exception) as err:
        quotes.create(request(company.id), idempotency_key="retry-1")
    assert getattr(err.value, "code", None) == "commerce_unavailable"
    [cart] = fake.state.carts.values()
    assert cart["items"] == [] and cart["metadata"]["helio_discarded"] == "1"
    quote, created = quotes.create(request(company.id), idempotency_key="retry-1")  # the retry succeeds once
    assert created and len(fake.state.quotes) == 1
    assert quotes.create(request(company.id), idempotency_key="retry-1")[0].id == quote.id


@pytest.mark.slow  # the whole app (create_app and its lifespan): integration tier
def test_unexpected_answers_are_commerce_errors_never_a_500(fake, tmp_path):
    medusa = client(fake.url)
    company = medusa.create_company("Solar Forma Ltda", "compras@forma.com.br")
    settings = Settings(env="test", catalog={"db_path": tmp_path / "catalog.sqlite3"},
                        commerce={"backend": "medusa", "url": fake.url, "publishable_key": starter.PUBLISHABLE,
                                  "admin_api_key": starter.SECRET, "customer_email": starter.CUSTOMER[0],
                                  "customer_password": starter.CUSTOMER[1], "region_id": "reg_br",
                                  "quotes_db_path": tmp_path / "quotes.sqlite3"},
                        auth={"db_path": tmp_path / "auth.sqlite3", "pepper": "test-pepper"})
    rep = {"Authorization": f"Bearer {make_key_store(settings).create('sales_rep', 'Ana').key}"}
    body = {"items": [{"sku": "mod-550", "quantity": 2}], "buyer": {"company_id": company.id}, "financing": None}
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        fake.state.break_shape = {r"/store/quotes"}                   # answers 200 without {quote}
        r = api.post("/v1/quotes", json=body, headers=rep)
        assert r.status_code == 503 and r.json()["error"]["code"] == "commerce_unavailable"
        assert "/store/quotes" in r.json()["error"]["message"]
        fake.state.break_shape = set()
        r = api.post("/v1/quotes", json=body, headers=rep)
        assert r.status_code == 201, r.text
        fake.state.carts.clear()
        r = api.get(f"/v1/quotes/{r.json()['id']}", headers=rep)      # its cart vanished: a 4xx/5xx, never 500
        assert r.status_code in (404, 503) and r.json()["error"]["code"]
    assert all(not c["items"] for c in fake.state.carts.values())


def test_a_company_whose_approval_settings_fail_is_not_left_half_made(fake):
    medusa = client(fake.url)
    fake.state.fail[("POST", r"/admin/companies/[^/]+/approval-settings")] = 1
    with pytest.raises(Exception) as err:
        medusa.create_company("Solar Meia Ltda", "compras@meia.com.br", requires_admin_approval=True)
    assert getattr(err.value, "code", None) == "commerce_unavailable"
    assert fake.state.companies == {}                                  # removed: a retry will not duplicate it
    assert medusa.create_company("Solar Meia Ltda", "compras@meia.com.br", requires_admin_approval=True)
    assert len(fake.state.companies) == 1


def test_deciding_an_approval_needs_an_admin_user_not_the_secret_key(fake, tmp_path):
    medusa = client(fake.url, admin_email=None, admin_password=None)
    company = medusa.create_company("Solar Chave Ltda", "compras@chave.com.br", requires_admin_approval=True)
    quotes = service(medusa, tmp_path)
    quote, _ = quotes.create(request(company.id))
    with pytest.raises(Exception) as err:
        quotes.decide_approval(quote.id, approve=True)
    assert getattr(err.value, "code", None) == "commerce_unavailable" and "ADMIN_EMAIL" in err.value.hint
