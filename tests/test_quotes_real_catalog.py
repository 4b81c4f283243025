"""A sales rep's path on the real catalog: size through the API, then quote that sizing.

The real export has no products with string-sizing specs, so the design is a catalog kit;
the quote must carry that kit at its catalog price and the proposal the sizing's figures.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from app.auth.keys import make_key_store
from app.core.settings import Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalog_db(real_catalog) -> Path:
    return real_catalog.db  # conftest's session-wide ingest of the real export


@pytest.fixture
def env(tmp_path, catalog_db):
    settings = Settings(
        _env_file=None,
        env="test",
        catalog={"db_path": catalog_db},
        commerce={"db_path": tmp_path / "commerce.sqlite3", "quotes_db_path": tmp_path / "quotes.sqlite3"},
        auth={"db_path": tmp_path / "auth.sqlite3", "pepper": "test-pepper"},
    )
    with TestClient(create_app(settings)) as client:
        keys = make_key_store(settings)
        rep = {"Authorization": f"Bearer {keys.create('sales_rep', 'Ana').key}"}
        commerce = client.app.state.commerce
        company = commerce.create_company("Solar Triângulo Ltda", "compras@solartri.com.br")
        buyer = commerce.create_employee(company.id, "cus_1").id
        yield client, rep, company.id, buyer


@pytest.mark.slow
def test_sizing_then_quote_on_the_real_catalog(env):
    client, rep, company_id, buyer = env
    request = {"site": {"municipality": "Uberlandia", "uf": "mg"}, "consumption": {"monthly_kwh": 650},
               "connection": "three_phase"}
    sized = client.post("/v1/sizing", json=request)
    assert sized.status_code == 200, sized.text
    sizing = sized.json()
    best = sizing["best"]
    assert best["lines"], "the design must list catalog items to quote"

    response = client.post(
        "/v1/quotes",
        json={"sizing_id": sizing["sizing_id"], "buyer": {"company_id": company_id, "employee_id": buyer,
                                                          "end_customer_name": "Maria Souza"}},
        headers=rep | {"Idempotency-Key": "uberlandia-650-1"},
    )
    assert response.status_code == 201, response.text
    quote = response.json()
    quoted = {i["sku"]: i for i in quote["items"]}
    for line in best["lines"]:
        assert quoted[line["product_id"]]["quantity"] == line["quantity"]
        assert quoted[line["product_id"]]["unit_price_brl"] == pytest.approx(line["unit_price_brl"])
    assert quote["equipment_total_brl"] == pytest.approx(sum(l["total_brl"] for l in best["lines"]))

    pdf = client.get(f"/v1/quotes/{quote['id']}/proposal.pdf", headers=rep)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    annual = f"{round(best['energy']['annual_kwh']):,}".replace(",", ".")
    assert annual in text, f"annual kWh {annual} missing from the proposal"
    # the kit's electrical check (verified with its limits, failing, or not checkable) is visible to the customer
    shown = {"verified": "verificada", "fails": "REPROVADA", "not_verifiable": "não verificável"}[best["string_check"]]
    assert shown in text, f"the design's electrical check ({best['string_check']}) must be visible in the proposal"
