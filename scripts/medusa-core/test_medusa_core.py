"""Hélio's Medusa client against a real Medusa 2.8.4 core server (``make test-medusa``).

The server is started by ``scripts/medusa-core/medusa-core.sh start`` (PostgreSQL 15 and Redis
from Debian; ``install`` must have run once) unless ``MEDUSA_CORE_ENV`` names the env file of a
running one. Everything is seeded here through Medusa's admin API: a BRL region with a 10 %
tax, a stock location, publishable and secret keys, products with SKU, price and stock, and
the service customer whose JWT the client renews. What is core Medusa is checked: product
lookup by SKU with prices and inventory, carts with bulk line items and the totals Medusa
computes. (Quotes, companies and approvals are the B2B starter's modules: see
``tests/test_commerce_medusa_contract.py`` and ``tests/fixtures/medusa/``.)

Not collected by the default ``pytest`` run (it lives outside ``tests/``): it needs the npm
install, which is the only step that downloads.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from app.commerce.medusa import MedusaCommerce
from app.commerce.medusa_http import CommerceRejected, EmailPassAuth, jwt_expiry

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPT = HERE / "medusa-core.sh"
CUSTOMER = ("servico@helio.test", "senha-servico-core")
PRODUCTS = [  # sku, title, price [BRL], stock
    ("mod-550", "Módulo 550 W", 650.0, 40),
    ("inv-10k", "Inversor 10 kW trifásico", 9_800.0, 3),
    ("inv-5k-esgotado", "Inversor 5 kW", 4_200.0, 0),
]
TAX_RATE_PCT = 10.0


def _env_file() -> Path:
    return Path(os.environ.get("MEDUSA_CORE_ENV") or ROOT / "var" / "medusa-core" / "run" / "env")


@pytest.fixture(scope="session")
def core() -> dict[str, str]:
    started = not os.environ.get("MEDUSA_CORE_ENV")
    t0 = time.monotonic()
    if started:
        subprocess.run(["bash", str(SCRIPT), "start"], check=True, timeout=600)
    env = dict(line.split("=", 1) for line in _env_file().read_text().split())
    env["start_s"] = f"{time.monotonic() - t0:.0f}"
    seeded = _env_file().with_name("seed.json")  # a server is seeded once (regions are unique per country)
    if not seeded.exists():
        seeded.write_text(json.dumps(_seed(env)))
    try:
        yield env | json.loads(seeded.read_text())
    finally:
        if started:
            subprocess.run(["bash", str(SCRIPT), "stop"], check=False, timeout=120)


def _ok(response: httpx.Response) -> dict:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    return response.json()


def _seed(env: dict[str, str]) -> dict[str, str]:
    """Seed the fresh server through its admin API; returns keys and ids for the client."""
    url = env["MEDUSA_URL"]
    token = _ok(httpx.post(f"{url}/auth/user/emailpass", json={"email": env["MEDUSA_ADMIN_EMAIL"],
                                                                "password": env["MEDUSA_ADMIN_PASSWORD"]}))["token"]
    a = httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=60)
    store = _ok(a.get("/admin/stores"))["stores"][0]
    _ok(a.post(f"/admin/stores/{store['id']}", json={"supported_currencies": [{"currency_code": "brl",
                                                                                "is_default": True}]}))
    channel = store["default_sales_channel_id"]
    region = _ok(a.post("/admin/regions", json={"name": "Brasil", "currency_code": "brl", "countries": ["br"]}))["region"]
    _ok(a.post("/admin/tax-regions", json={"country_code": "br", "provider_id": "tp_system",
                                           "default_tax_rate": {"rate": TAX_RATE_PCT, "name": "ICMS (teste)",
                                                                "code": "ICMS"}}))
    location = _ok(a.post("/admin/stock-locations", json={"name": "CD Uberlândia"}))["stock_location"]
    _ok(a.post(f"/admin/stock-locations/{location['id']}/sales-channels", json={"add": [channel]}))
    publishable = _ok(a.post("/admin/api-keys", json={"title": "helio-loja", "type": "publishable"}))["api_key"]
    _ok(a.post(f"/admin/api-keys/{publishable['id']}/sales-channels", json={"add": [channel]}))
    secret = _ok(a.post("/admin/api-keys", json={"title": "helio-admin", "type": "secret"}))["api_key"]
    for sku, title, price, stock in PRODUCTS:
        _ok(a.post("/admin/products", json={
            "title": title, "status": "published", "sales_channels": [{"id": channel}],
            "options": [{"title": "Modelo", "values": ["Padrão"]}],
            "variants": [{"title": "Padrão", "sku": sku, "manage_inventory": True, "options": {"Modelo": "Padrão"},
                          "prices": [{"currency_code": "brl", "amount": price}]}]}))
        item = _ok(a.get("/admin/inventory-items", params={"sku": sku}))["inventory_items"][0]
        _ok(a.post(f"/admin/inventory-items/{item['id']}/location-levels",
                   json={"location_id": location["id"], "stocked_quantity": stock}))
    store_h = {"x-publishable-api-key": publishable["token"]}
    register = _ok(httpx.post(f"{url}/auth/customer/emailpass/register",
                              json={"email": CUSTOMER[0], "password": CUSTOMER[1]}))["token"]
    _ok(httpx.post(f"{url}/store/customers", json={"email": CUSTOMER[0], "first_name": "Hélio", "last_name": "Serviço"},
                   headers={**store_h, "authorization": f"Bearer {register}"}))
    return {"publishable_key": publishable["token"], "secret_key": secret["token"], "region_id": region["id"]}


@pytest.fixture
def medusa(core) -> MedusaCommerce:
    client = MedusaCommerce(core["MEDUSA_URL"], publishable_key=core["publishable_key"],
                            admin_api_key=core["secret_key"], customer_email=CUSTOMER[0],
                            customer_password=CUSTOMER[1], region_id=core["region_id"], timeout_s=30)
    yield client
    client.close()


def test_product_lookup_by_sku_has_medusas_price_and_stock(medusa):
    module = medusa.get_variant_by_sku("mod-550")
    assert module is not None and module.sku == "mod-550" and module.price_brl == 650.0
    assert module.inventory_quantity == 40 and module.available
    sold_out = medusa.get_variant_by_sku("inv-5k-esgotado")
    assert sold_out.price_brl == 4_200.0 and sold_out.inventory_quantity == 0 and sold_out.available is False
    assert medusa.get_variant_by_sku("nao-existe") is None


def test_bulk_line_items_carry_the_totals_medusa_computes(medusa, core):
    module, inverter = medusa.get_variant_by_sku("mod-550"), medusa.get_variant_by_sku("inv-10k")
    cart = medusa.create_cart(metadata={"helio_sizing_id": "sz_core"})
    cart = medusa.add_line_items(cart.id, [(module.id, 16), (inverter.id, 1)])
    assert [(i.sku or i.variant_id, i.quantity) for i in cart.items] == [(module.id, 16), (inverter.id, 1)] or \
        sorted(i.quantity for i in cart.items) == [1, 16]
    list_total = 16 * 650.0 + 9_800.0
    # Medusa's own figure, read raw from its default cart route
    raw = _ok(httpx.get(f"{core['MEDUSA_URL']}/store/carts/{cart.id}",
                        headers={"x-publishable-api-key": core["publishable_key"]}))["cart"]
    assert cart.total_brl == pytest.approx(float(raw["total"]))
    assert cart.total_brl == pytest.approx(list_total * (1 + TAX_RATE_PCT / 100))  # Σ price × qty would miss tax
    assert medusa.get_cart(cart.id).metadata["helio_sizing_id"] == "sz_core"
    medusa.discard_cart(cart.id)
    emptied = medusa.get_cart(cart.id)
    assert emptied.items == [] and emptied.total_brl == 0 and emptied.metadata["helio_discarded"] == "1"


def test_the_real_core_is_as_strict_as_the_fake_says(medusa, core):
    cart = medusa.create_cart()
    with pytest.raises(CommerceRejected, match="Unrecognized fields: 'company'"):
        medusa.http.call("POST", f"/store/carts/{cart.id}/line-items/bulk",
                         json={"line_items": [], "company": "x"})
    r = httpx.post(f"{core['MEDUSA_URL']}/store/carts", json={"bogus": 1},
                   headers={"x-publishable-api-key": core["publishable_key"]})
    assert r.status_code == 400 and "bogus" in r.json()["message"]        # core CreateCart is .strict()
    assert httpx.get(f"{core['MEDUSA_URL']}/store/products").status_code == 400  # publishable key required


def test_the_service_customer_jwt_is_refreshed_and_renewed(core):
    now = [time.time()]
    auth = EmailPassAuth("customer", *CUSTOMER, clock=lambda: now[0])
    medusa = MedusaCommerce(core["MEDUSA_URL"], publishable_key=core["publishable_key"],
                            region_id=core["region_id"], customer_auth=auth, timeout_s=30)
    cart = medusa.create_cart()
    assert cart.customer_id and auth.logins == 1
    now[0] = jwt_expiry(auth._token) - 60                      # a minute before expiry: refreshed by Medusa
    assert medusa.get_cart(cart.id).customer_id == cart.customer_id and auth.refreshes == 1
    now[0] = time.time()
    auth._token = auth._token[:-3] + "abc"                     # a token Medusa no longer accepts:
    me = medusa.http.call("GET", "/store/customers/me")       # a route that requires it: 401 → log in again
    assert me["customer"]["id"] == cart.customer_id and auth.logins == 2
    auth._token = auth._token[:-3] + "abc"
    # POST /store/carts authenticates optionally: it answers with a guest cart, which the client hands over
    assert medusa.create_cart().customer_id == cart.customer_id and auth.logins == 3
