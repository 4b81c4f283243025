"""Admins register buying companies and their buyers (API and CLI) so reps can quote for them."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.auth.keys import make_key_store
from app.core.settings import Settings, get_settings
from app.main import create_app

pytestmark = pytest.mark.slow  # the whole app (create_app and its lifespan): integration tier


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "CATALOG__DB_PATH": str(tmp_path / "catalog.sqlite3"),
        "COMMERCE__DB_PATH": str(tmp_path / "commerce.sqlite3"),
        "COMMERCE__QUOTES_DB_PATH": str(tmp_path / "quotes.sqlite3"),
        "AUTH__DB_PATH": str(tmp_path / "auth.sqlite3"),
        "AUTH__PEPPER": "test-pepper",
        "ENV": "test",
    }


@pytest.fixture
def env(tmp_path, monkeypatch):
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    settings = Settings(_env_file=None)
    keys = make_key_store(settings)
    with TestClient(create_app(settings)) as client:
        yield client, {"X-API-Key": keys.create("admin").key}, {"X-API-Key": keys.create("sales_rep").key}
    get_settings.cache_clear()


def test_admin_registers_a_company_and_a_buyer_with_a_limit(env):
    client, admin, _ = env
    company = client.post("/v1/companies", json={"name": "Solar Triângulo Ltda"}, headers=admin)
    assert company.status_code == 201, company.text
    cid = company.json()["id"]
    assert client.get(f"/v1/companies/{cid}", headers=admin).json()["name"] == "Solar Triângulo Ltda"
    buyer = client.post(f"/v1/companies/{cid}/employees", json={"customer_id": "cus_ana", "spending_limit_brl": 5000},
                        headers=admin)
    assert buyer.status_code == 201 and buyer.json()["spending_limit_brl"] == 5000
    assert client.app.state.commerce.get_employee(cid, buyer.json()["id"]).customer_id == "cus_ana"


def test_only_admins_register_companies(env):
    client, _, rep = env
    assert client.post("/v1/companies", json={"name": "X Ltda"}).status_code == 401
    assert client.post("/v1/companies", json={"name": "X Ltda"}, headers=rep).status_code == 403


def test_unknown_company_and_bad_limit_are_clear_errors(env):
    client, admin, _ = env
    missing = client.post("/v1/companies/comp_nao_existe/employees", json={"customer_id": "c"}, headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["hint"]
    cid = client.post("/v1/companies", json={"name": "Solar Sul"}, headers=admin).json()["id"]
    bad = client.post(f"/v1/companies/{cid}/employees", json={"customer_id": "c", "spending_limit_brl": -1},
                      headers=admin)
    assert bad.status_code == 422 and "spending_limit_brl" in bad.json()["error"]["message"]


def test_cli_registers_what_the_api_then_serves(tmp_path, monkeypatch):
    from cli.root import build_cli

    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(build_cli(), ["companies", "create", "Energia Cerrado Ltda"])
        assert created.exit_code == 0, created.output
        cid = created.output.split("id ")[-1].split()[0]
        added = runner.invoke(build_cli(), ["companies", "add-buyer", cid, "cus_joao", "--spending-limit-brl", "8000"])
        assert added.exit_code == 0, added.output
        assert "limite R$ 8.000,00" in added.output
        settings = Settings(_env_file=None)
        admin = {"X-API-Key": make_key_store(settings).create("admin").key}
        with TestClient(create_app(settings)) as client:
            assert client.get(f"/v1/companies/{cid}", headers=admin).json()["name"] == "Energia Cerrado Ltda"
    finally:
        get_settings.cache_clear()
