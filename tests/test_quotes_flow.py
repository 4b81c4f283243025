"""Draft quotes end to end over the API (local commerce backend, real SizingResult from
``app.sizing.engine.size_system`` on products built from pvlib's CEC database)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pvlib
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from app.api.routes import financing as financing_routes
from app.auth.keys import make_key_store
from app.catalog.models import Category, InverterSpecs, InverterType, ModuleSpecs, Phase, Product
from app.commerce.local import LocalCommerce
from app.core.settings import Settings
from app.core.text import format_brl, format_number
from app.main import create_app
from app.quotes.tool import create_draft_quote_for_chat
from app.sizing.engine import size_system
from app.sizing.models import ConsumptionInput, SiteInput, SizingRequest

MODULE = "Canadian_Solar_Inc__CS3W_400P"
INVERTER = "Fronius_International_GmbH__Fronius_Symo_10_0_3_480__480V_"
SIZING_ID = "sz_uberlandia_650"
# The quote routes over the whole app, from a real engine sizing (pvlib year): integration tier.
pytestmark = pytest.mark.slow


@cache
def stock() -> tuple[Product, ...]:
    mods, invs = pvlib.pvsystem.retrieve_sam("CECMod"), pvlib.pvsystem.retrieve_sam("cecinverter")
    # NaN fields (e.g. Length) are dropped: the catalog stores JSON, where NaN becomes null
    m = {k: (v.item() if hasattr(v, "item") else v) for k, v in mods[MODULE].items() if v == v}
    i = {k: (v.item() if hasattr(v, "item") else v) for k, v in invs[INVERTER].items() if v == v}
    return (
        Product(id=MODULE, category=Category.MODULE, name="Canadian Solar CS3W-400P", manufacturer="Canadian Solar",
                power_w=float(m["STC"]), price_brl=700.0, in_stock=True, module=ModuleSpecs(pmax_w=float(m["STC"]),
                                                                                            cec=m)),
        Product(id=INVERTER, category=Category.INVERTER, name="Fronius Symo 10.0-3", manufacturer="Fronius",
                power_w=float(i["Paco"]), phase=Phase.THREE, price_brl=14_000.0, in_stock=True,
                inverter=InverterSpecs(inverter_type=InverterType.GRID_TIE, phase=Phase.THREE, cec=i)),
        Product(id="string-box-sem-estoque", category=Category.STRING_BOX, name="String box 2E/2S", price_brl=900.0,
                in_stock=False),
    )


@cache
def sizing_result():
    request = SizingRequest(site=SiteInput(municipality="Uberlândia", uf="MG"),
                            consumption=ConsumptionInput(monthly_kwh=650), connection=Phase.THREE)
    return size_system(request, stock())


@pytest.fixture
def env(tmp_path: Path):
    settings = Settings(env="test", catalog={"db_path": tmp_path / "catalog.sqlite3"},
                        commerce={"db_path": tmp_path / "commerce.sqlite3",
                                  "quotes_db_path": tmp_path / "quotes.sqlite3"},
                        auth={"db_path": tmp_path / "auth.sqlite3", "pepper": "test-pepper"})
    app = create_app(settings)
    with TestClient(app) as client:
        app.state.catalog.replace_all(stock())
        app.state.commerce = LocalCommerce(settings.commerce.db_path, app.state.catalog)
        app.state.cache.set_json(f"sizing:{SIZING_ID}", sizing_result().model_dump(mode="json"))
        keys = make_key_store(settings)
        ns = type("Env", (), {})()
        ns.client, ns.app, ns.settings, ns.commerce = client, app, settings, app.state.commerce
        ns.rep = {"Authorization": f"Bearer {keys.create('sales_rep', 'Ana').key}"}
        ns.admin = {"X-API-Key": keys.create("admin").key}
        ns.widget = {"Authorization": f"Bearer {keys.create('widget', origins=['https://loja.ysh.com.br']).key}",
                     "Origin": "https://loja.ysh.com.br"}
        company = ns.commerce.create_company("Solar Triângulo Ltda", "compras@solartri.com.br")
        ns.company_id = company.id
        ns.buyer_free = ns.commerce.create_employee(company.id, "cus_free").id
        ns.buyer_limited = ns.commerce.create_employee(company.id, "cus_limited", spending_limit_brl=5_000).id
        yield ns


def body(ns, **kw):
    b = {"sizing_id": SIZING_ID, "buyer": {"company_id": ns.company_id, "employee_id": ns.buyer_free,
                                           "end_customer_name": "Maria Souza"}}
    b.update(kw)
    return b


def test_roles_guard_quotes_and_financing(env):
    c = env.client
    r = c.post("/v1/quotes", json=body(env))
    assert r.status_code == 401 and r.json()["error"]["code"] == "nao_autenticado"
    assert "helio keys create --role sales_rep" in r.json()["error"]["hint"]
    assert c.post("/v1/quotes", json=body(env), headers={"X-API-Key": "hl_sr_forged"}).status_code == 401
    r = c.post("/v1/quotes", json=body(env), headers=env.widget)          # a widget can never create a quote
    assert r.status_code == 403 and r.json()["error"]["code"] == "acesso_negado"
    assert c.post("/v1/financing/simulate", json={"amount_brl": 30000}, headers=env.widget).status_code == 403
    assert c.post("/v1/financing/simulate", json={"amount_brl": 30000}).status_code == 401
    assert c.post("/v1/financing/simulate", json={"amount_brl": 30000}, headers=env.rep).status_code == 200
    assert c.post("/v1/quotes", json=body(env), headers=env.admin).status_code == 201   # admin ⊇ sales_rep


def test_create_from_sizing_links_items_totals_validity_and_financing(env):
    sizing = sizing_result()
    r = env.client.post("/v1/quotes", json=body(env, financing={"term_months": 60}), headers=env.rep)
    assert r.status_code == 201, r.text
    q = r.json()
    assert q["status"] == "pending_merchant" and q["backend"] == "local" and q["sizing_id"] == SIZING_ID
    items = {i["sku"]: i for i in q["items"]}
    assert items[MODULE]["quantity"] == sizing.best.module.quantity
    assert items[INVERTER]["quantity"] == sizing.best.inverter.quantity
    assert q["equipment_total_brl"] == round(sizing.best.module.quantity * 700 + sizing.best.inverter.quantity * 14_000, 2)
    assert q["installation_brl"] == round(sizing.best.economics.installation_brl, 2)
    assert q["valid_until"] == (datetime.now(UTC).date() + timedelta(days=15)).isoformat()
    f = q["financing"]
    assert f["amount_brl"] == q["system_total_brl"] and f["options"][0]["rank"] == 1
    assert {l["line_id"] for l in f["ineligible"]} == {"bnb-fne-sol"}
    assert q["approval"]["required"] is False
    got = env.client.get(f"/v1/quotes/{q['id']}", headers=env.rep).json()
    assert got["id"] == q["id"] and got["sizing"]["best"]["dc_kwp"] == sizing.best.dc_kwp


def test_unknown_sizing_missing_sku_and_stock(env):
    r = env.client.post("/v1/quotes", json=body(env, sizing_id="nope"), headers=env.rep)
    assert r.status_code == 404 and "POST /v1/sizing" in r.json()["error"]["hint"]
    r = env.client.post("/v1/quotes", json=body(env, sizing_id=None, items=[{"sku": "xyz", "quantity": 1}]),
                        headers=env.rep)
    assert r.status_code == 422 and "xyz" in r.json()["error"]["message"]
    items = [{"sku": "string-box-sem-estoque", "quantity": 1}]
    r = env.client.post("/v1/quotes", json=body(env, items=items), headers=env.rep)
    assert r.status_code == 409 and "Sem estoque" in r.json()["error"]["message"]
    r = env.client.post("/v1/quotes", json=body(env, items=items, allow_unavailable=True), headers=env.rep)
    assert r.status_code == 201 and any("sem estoque" in w for w in r.json()["warnings"])


def test_state_machine_over_the_api(env):
    c = env.client
    qid = c.post("/v1/quotes", json=body(env), headers=env.rep).json()["id"]
    r = c.post(f"/v1/quotes/{qid}/accept", headers=env.rep)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflito"
    assert r.json()["error"]["status"] == "pending_merchant"
    assert c.post(f"/v1/quotes/{qid}/send", headers=env.rep).json()["status"] == "pending_customer"
    assert c.post(f"/v1/quotes/{qid}/send", headers=env.rep).status_code == 409
    r = c.post(f"/v1/quotes/{qid}/transitions", json={"action": "accept"}, headers=env.rep)
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert c.post(f"/v1/quotes/{qid}/reject", headers=env.rep).status_code == 409
    assert c.post(f"/v1/quotes/{qid}/merchant-reject", headers=env.rep).status_code == 409
    assert c.post(f"/v1/quotes/{qid}/transitions", json={"action": "fly"}, headers=env.rep).status_code == 422
    assert c.get("/v1/quotes/quo_nope", headers=env.rep).status_code == 404


def test_over_spending_limit_needs_approval_before_acceptance(env):
    c = env.client
    b = body(env, buyer={"company_id": env.company_id, "employee_id": env.buyer_limited})
    q = c.post("/v1/quotes", json=b, headers=env.rep).json()
    assert q["approval"]["required"] is True and q["approval"]["status"] == "pending"
    assert "acima do limite de gastos do comprador (R$ 5.000,00)" in q["approval"]["reasons"][0]
    assert q["status"] == "pending_merchant"                 # created anyway, as Medusa B2B does
    c.post(f"/v1/quotes/{q['id']}/send", headers=env.rep)
    r = c.post(f"/v1/quotes/{q['id']}/accept", headers=env.rep)
    assert r.status_code == 409 and "aguarda aprovação" in r.json()["error"]["message"]
    assert c.post(f"/v1/quotes/{q['id']}/approval", json={"approve": True}, headers=env.rep).status_code == 403
    r = c.post(f"/v1/quotes/{q['id']}/approval", json={"approve": True}, headers=env.admin)
    assert r.json()["approval"]["status"] == "approved"
    assert c.post(f"/v1/quotes/{q['id']}/accept", headers=env.rep).json()["status"] == "accepted"


def _quote_count(env) -> int:
    import sqlite3

    with sqlite3.connect(env.settings.commerce.db_path) as conn:
        return conn.execute("SELECT count(*) FROM quotes").fetchone()[0]


def test_idempotent_retry_creates_one_quote(env):
    c = env.client
    h = {**env.rep, "Idempotency-Key": "retry-123"}
    first = c.post("/v1/quotes", json=body(env), headers=h)
    second = c.post("/v1/quotes", json=body(env), headers=h)
    assert first.status_code == 201 and second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == second.json()["id"] and _quote_count(env) == 1
    other = c.post("/v1/quotes", json=body(env, note="outro"), headers=h)
    assert other.status_code == 409 and "outro conteúdo" in other.json()["error"]["message"]


def test_concurrent_requests_with_the_same_key_create_one_quote(env):
    h = {**env.rep, "Idempotency-Key": "concurrent-1"}
    # slow the commerce backend down so both requests are in flight together
    original = env.commerce.create_quote
    barrier = threading.Event()

    def slow_create(cart_id):
        barrier.wait(2)
        return original(cart_id)

    env.commerce.create_quote = slow_create
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(env.client.post, "/v1/quotes", json=body(env), headers=h) for _ in range(4)]
        threading.Timer(0.5, barrier.set).start()
        responses = [f.result() for f in futures]
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1 and _quote_count(env) == 1


def test_proposal_pdf_has_the_engine_figures(env, tmp_path: Path):
    sizing = sizing_result()
    q = env.client.post("/v1/quotes", json=body(env, financing={"term_months": 60}), headers=env.rep).json()
    r = env.client.get(f"/v1/quotes/{q['id']}/proposal.pdf", headers=env.rep)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    flat = " ".join(text.split())
    best, eco = sizing.best, sizing.best.economics
    for figure in (f"{format_number(best.dc_kwp, decimals=2)} kWp", f"{format_number(best.energy.annual_kwh, decimals=0)} kWh/ano",
                   f"{format_number(eco.simple_payback_years, decimals=1)} anos", format_brl(eco.first_year_savings_brl),
                   format_brl(q["equipment_total_brl"]), format_brl(q["financing"]["options"][0]["first_payment_brl"]),
                   "Uberlândia/MG", "Maria Souza", q["id"], "Geração mensal estimada"):
        assert figure in flat, figure
    assert env.client.get(f"/v1/quotes/{q['id']}/proposal.pdf", headers=env.widget).status_code == 403
    pdf = Path(os.environ.get("HELIO_PROPOSAL_OUT") or tmp_path / "proposta.pdf")  # keep a copy to look at
    pdf.write_bytes(r.content)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                       check=True)
        assert any(tmp_path.glob("p*.png"))


def test_financing_endpoint_from_a_sizing_id(env):
    r = env.client.post("/v1/financing/simulate", json={"sizing_id": SIZING_ID, "term_months": 72,
                                                         "include_schedule": True}, headers=env.rep)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["amount_brl"] == round(sizing_result().best.economics.capex_brl, 2)
    assert all(len(o["schedule"]) == 72 for o in out["options"])
    assert env.client.post("/v1/financing/simulate", json={"term_months": 72}, headers=env.rep).status_code == 422
    lines = env.client.get("/v1/financing/lines", headers=env.rep).json()
    assert {l["id"] for l in lines} >= {"bv-solar", "bnb-fne-sol"}


def test_chat_tool_needs_a_sales_rep_and_a_confirmation(env):
    from app.quotes.service import QuoteService
    from app.quotes.store import QuoteRecordStore

    service = QuoteService(env.commerce, QuoteRecordStore(env.settings.commerce.quotes_db_path),
                           lambda: financing_routes.credit_book(env.settings),
                           lambda sid: sizing_result() if sid == SIZING_ID else None)
    args = dict(company_id=env.company_id, sizing_id=SIZING_ID, employee_id=env.buyer_free)
    refused = create_draft_quote_for_chat(service, role="widget", confirmed=True, **args)
    assert refused.ok is False and "representante de vendas" in refused.error
    preview = create_draft_quote_for_chat(service, role="sales_rep", confirmed=False, **args)
    assert preview.needs_confirmation and preview.created is False and _quote_count(env) == 0
    assert preview.summary.equipment_total_brl > 0
    done = create_draft_quote_for_chat(service, role="sales_rep", confirmed=True, idempotency_key="chat-1", **args)
    assert done.created and done.quote_id and _quote_count(env) == 1
    again = create_draft_quote_for_chat(service, role="sales_rep", confirmed=True, idempotency_key="chat-1", **args)
    assert again.quote_id == done.quote_id and again.created is False
    bad = create_draft_quote_for_chat(service, role="sales_rep", confirmed=True, company_id="nope", sizing_id=SIZING_ID)
    assert bad.ok is False and "nope" in bad.error


@pytest.mark.redis
def test_sizing_link_reads_the_cache_key_from_real_redis(redis_url):
    from app.core.cache import make_cache
    from app.quotes.sizing_link import cache_sizing_lookup, load_sizing, sizing_key

    cache = make_cache(redis_url)
    cache.set_json(sizing_key("sz_redis"), sizing_result().model_dump(mode="json"), 60)
    loaded = load_sizing(cache_sizing_lookup(cache), "sz_redis")
    assert loaded.best.dc_kwp == sizing_result().best.dc_kwp
    assert loaded.best.economics.years[-1].cumulative_brl == sizing_result().best.economics.years[-1].cumulative_brl
