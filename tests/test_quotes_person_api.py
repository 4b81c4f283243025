"""``POST /v1/quotes`` for a person (pessoa física) on the whole app (create_app and its lifespan:
the integration tier): company XOR customer, a bad CPF is a 422 naming the field, the proposal
PDF names her, the OpenAPI document says so. The units behind it are in test_quotes_person.py."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from app.auth.keys import make_key_store
from app.commerce.local import LocalCommerce
from app.core.settings import Settings
from app.main import create_app
from test_quotes_person import MARIA, STOCK

pytestmark = pytest.mark.slow  # the whole app (create_app and its lifespan)


@pytest.fixture
def api(tmp_path):
    settings = Settings(_env_file=None, env="test", catalog={"db_path": tmp_path / "catalog.sqlite3"},
                        commerce={"db_path": tmp_path / "commerce.sqlite3",
                                  "quotes_db_path": tmp_path / "quotes.sqlite3"},
                        auth={"db_path": tmp_path / "auth.sqlite3", "pepper": "test-pepper"},
                        redis={"url": None})
    app = create_app(settings)
    with TestClient(app) as client:
        app.state.catalog.replace_all(STOCK)
        app.state.commerce = LocalCommerce(settings.commerce.db_path, app.state.catalog)
        rep = {"X-API-Key": make_key_store(settings).create("sales_rep", "Ana").key}
        yield client, rep


ITEMS = [{"sku": "mod-550", "quantity": 10}, {"sku": "inv-5k", "quantity": 1}]


def test_post_quotes_for_a_person_and_its_proposal_names_her(api):
    client, rep = api
    r = client.post("/v1/quotes", json={"items": ITEMS, "buyer": {"customer": MARIA}, "financing": None},
                    headers=rep)
    assert r.status_code == 201, r.text
    q = r.json()
    assert q["company_id"] is None and q["customer"]["name"] == "Maria Souza"
    assert q["customer"]["cpf_masked"] == "***.982.247-**" and "529.982.247-25" not in r.text
    pdf = client.get(f"/v1/quotes/{q['id']}/proposal.pdf", headers=rep)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Maria Souza" in text and "***.982.247-**" in text and "pessoa física" in text
    assert "529.982.247-25" not in text


@pytest.mark.parametrize("buyer, field", [
    ({}, "buyer"),
    ({"company_id": "comp_1", "customer": MARIA}, "buyer"),
    ({"customer": {"name": "Maria Souza"}}, "buyer.customer"),
    ({"customer": {"name": "Maria Souza", "cpf": "529.982.247"}}, "buyer.customer.cpf"),
])
def test_post_quotes_takes_a_company_or_a_person_never_both_nor_neither(api, buyer, field):
    client, rep = api
    r = client.post("/v1/quotes", json={"items": ITEMS, "buyer": buyer}, headers=rep)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "requisicao_invalida" and error["hint"]
    assert error["fields"][0]["field"] == field


def test_a_cpf_with_wrong_check_digits_is_a_422_naming_the_field(api):
    client, rep = api
    r = client.post("/v1/quotes", json={"items": ITEMS, "buyer": {"customer": {"name": "Maria Souza",
                                                                               "cpf": "529.982.247-24"}}},
                    headers=rep)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "entrada_invalida" and "buyer.customer.cpf" in error["message"] and error["hint"]
    assert error["fields"] == [{"field": "buyer.customer.cpf", "message": "CPF inválido"}]
    assert client.app.state.commerce.find_customer("Maria Souza", "52998224724") is None


def test_the_openapi_document_describes_company_or_customer(api):
    client, _ = api
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["BuyerIn"]["oneOf"] == [{"required": ["company_id"]}, {"required": ["customer"]}]
    assert {"name", "cpf", "email", "phone"} <= set(schemas["CustomerIn"]["properties"])
