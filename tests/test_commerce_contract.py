"""One behavioural suite, run on both commerce backends.

``medusa`` runs against a fake Medusa 2.8 + B2B starter server started here on 127.0.0.1
(``tests/fixtures/medusa/starter_fake.py``): it enforces the starter's contracts at the pinned
commit (strict bodies and queries, roles, real response keys, Medusa's own more lenient quote
checks), so this is a contract test of our client, not of Medusa. The mismatches issue #16
found are tested one by one in ``test_commerce_medusa_contract.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.catalog.models import Category, Product
from app.catalog.store import SQLiteCatalogStore
from app.commerce import QuoteAction, QuoteStatus
from app.commerce.local import LocalCommerce
from app.commerce.medusa import MedusaCommerce
from app.core.errors import Conflict, InvalidInput, NotFound, Unavailable

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


def _load_fake():
    # tests/ is not a package: load the fake by path (it lives with the other Medusa fixtures)
    path = Path(__file__).parent / "fixtures" / "medusa" / "starter_fake.py"
    spec = importlib.util.spec_from_file_location("helio_medusa_starter_fake", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


starter = _load_fake()


@pytest.fixture
def fake_medusa() -> Iterator[tuple[str, object]]:
    """The B2B starter's real contracts at the pinned commit (see fixtures/medusa/starter_fake.py)."""
    with starter.StarterFake(PRODUCTS) as fake:
        yield fake.url, fake.state


def make_medusa(url: str, **kw) -> MedusaCommerce:
    return MedusaCommerce(url, publishable_key=starter.PUBLISHABLE, admin_api_key=starter.SECRET,
                          customer_email=starter.CUSTOMER[0], customer_password=starter.CUSTOMER[1],
                          admin_email=starter.ADMIN_USER[0], admin_password=starter.ADMIN_USER[1],
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


def test_companies_are_found_by_a_part_of_the_name(commerce):
    a = commerce.create_company("Solar Triângulo Ltda", "compras@solartri.com.br")
    b = commerce.create_company("Solar Triângulo Norte Ltda", "norte@solartri.com.br")
    commerce.create_company("Sertão Solar", "sertao@solar.com.br")
    assert [c.id for c in commerce.find_companies("solar triangulo norte")] == [b.id]  # accents and case folded
    assert {c.id for c in commerce.find_companies("Solar Triângulo")} == {a.id, b.id}
    assert commerce.find_companies("Inexistente") == [] and commerce.find_companies("so") == []


def test_local_companies_are_found_by_cnpj(tmp_path):
    commerce = LocalCommerce(tmp_path / "c.sqlite3", None)
    company = commerce.create_company("Solar Bahia Ltda", tax_id="12.345.678/0001-90")
    assert [c.id for c in commerce.find_companies("12.345.678/0001-90")] == [company.id]
    assert commerce.find_companies("12345678000191") == []


def test_a_local_file_from_before_cnpjs_gets_the_column(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE companies (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT, "
                     "requires_admin_approval INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)")
        conn.execute("INSERT INTO companies VALUES ('comp_old1', 'Solar Antiga', NULL, 0, '2026-01-01')")
    commerce = LocalCommerce(path, None)
    assert [c.id for c in commerce.find_companies("solar antiga")] == ["comp_old1"]
    assert commerce.create_company("Nova Solar", tax_id="11222333000181").tax_id == "11222333000181"


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
    # Medusa B2B creates approvals only for a company whose approval settings require them
    company = commerce.create_company("Solar Aprovação Ltda", "compras@aprova.com.br", requires_admin_approval=True)
    cart = _cart_with(commerce, company.id)
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
    calls = [(m, p) for m, p, _ in state.requests]
    assert ("POST", f"/store/carts/{quote.cart_id}/line-items/bulk") in calls
    assert ("POST", f"/admin/quotes/{quote.id}/send") in calls
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
    sends = sum(1 for m, p, _ in state.requests if (m, p) == ("POST", f"/admin/quotes/{quote.id}/send"))
    with pytest.raises(Conflict):
        backend.transition_quote(quote.id, QuoteAction.SEND)   # the fake (like Medusa) would have accepted it
    assert sum(1 for m, p, _ in state.requests if (m, p) == ("POST", f"/admin/quotes/{quote.id}/send")) == sends


def test_medusa_retries_idempotent_calls_only(fake_medusa):
    url, state = fake_medusa
    backend = make_medusa(url, retries=2)
    state.fail[("GET", "/store/products")] = 2
    assert backend.get_variant_by_sku("mod-550").price_brl == 650.0       # 2 × 503, then 200
    state.fail[("GET", "/store/products")] = 3
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
