"""The service skeleton as a client sees it: health, readiness, products, error shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import CatalogSettings, RedisSettings, Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # the whole app (create_app and its lifespan) on the real catalog: integration tier


@pytest.fixture(scope="session")
def ingested_catalog(real_catalog) -> Path:
    """The real upstream export cleaned into SQLite (conftest's session-wide ingest)."""
    return real_catalog.db


def _settings(db: Path, redis_url: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        catalog=CatalogSettings(db_path=db, report_dir=db.parent / "reports"),
        redis=RedisSettings(url=redis_url),
    )


@pytest.fixture(scope="module")  # every test here only reads: one app for the module
def client(ingested_catalog):
    with TestClient(create_app(_settings(ingested_catalog))) as c:
        yield c


@pytest.fixture
def empty_client(tmp_path):
    with TestClient(create_app(_settings(tmp_path / "empty.sqlite3"))) as c:
        yield c


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_every_dependency_with_a_reason(client):
    body = client.get("/readyz").json()
    assert set(body["dependencies"]) == {"catalog", "vector_store", "llm", "redis", "commerce"}
    for dep in body["dependencies"].values():
        assert dep["status"] in {"ok", "degraded", "down"}
        assert dep["detail"]
    assert body["dependencies"]["catalog"]["status"] == "ok"
    assert "produtos" in body["dependencies"]["catalog"]["detail"]


def test_readyz_says_how_to_fix_an_empty_catalog(empty_client):
    catalog = empty_client.get("/readyz").json()["dependencies"]["catalog"]
    assert catalog["status"] == "degraded"
    assert "helio ingest catalog" in catalog["detail"]


@pytest.mark.redis
def test_readyz_with_real_redis(ingested_catalog, redis_url):
    with TestClient(create_app(_settings(ingested_catalog, redis_url))) as c:
        assert c.get("/readyz").json()["dependencies"]["redis"] == {"status": "ok", "detail": "redis respondendo"}


def test_readyz_when_redis_is_down_degrades_instead_of_failing(ingested_catalog):
    with TestClient(create_app(_settings(ingested_catalog, "redis://127.0.0.1:1/0"))) as c:
        response = c.get("/readyz")
    assert response.status_code == 200
    redis_dep = response.json()["dependencies"]["redis"]
    assert redis_dep["status"] == "degraded" and "memória" in redis_dep["detail"]


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/products" in paths and "/v1/products/{product_id}" in paths


def test_products_filter_by_category(client):
    body = client.get("/v1/products", params={"category": "inverter", "limit": 50}).json()
    assert body["total"] > 20
    assert body["items"] and all(p["category"] == "inverter" for p in body["items"])


def test_products_combined_filters(client):
    params = {"category": "inverter", "phase": "three_phase", "min_power_w": 5000, "max_power_w": 15000, "in_stock": True}
    items = client.get("/v1/products", params=params | {"limit": 200}).json()["items"]
    assert items
    for p in items:
        assert p["phase"] == "three_phase" and 5000 <= p["power_w"] <= 15000 and p["in_stock"]


def test_products_filter_batteries_by_capacity_price_and_stock(client):
    params = {"category": "battery", "min_capacity_kwh": 4.5, "max_capacity_kwh": 5.5, "max_price_brl": 7000,
              "in_stock": True}
    items = client.get("/v1/products", params=params).json()["items"]
    assert items
    for p in items:
        detail = client.get(f"/v1/products/{p['id']}").json()
        assert 4.5 <= detail["battery"]["capacity_kwh"] <= 5.5 and p["price_brl"] <= 7000 and p["in_stock"]
    bad = client.get("/v1/products", params={"min_capacity_kwh": 10, "max_capacity_kwh": 5})
    assert bad.status_code == 422 and "capacity_kwh" in bad.json()["error"]["message"]


def test_products_pagination_is_stable(client):
    first = client.get("/v1/products", params={"category": "module", "limit": 5, "offset": 0}).json()
    second = client.get("/v1/products", params={"category": "module", "limit": 5, "offset": 5}).json()
    assert first["total"] == second["total"]
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}


def test_product_by_id_round_trips(client):
    some = client.get("/v1/products", params={"category": "inverter", "limit": 1}).json()["items"][0]
    assert client.get(f"/v1/products/{some['id']}").json()["id"] == some["id"]


def test_unknown_product_is_404_with_hint(client):
    response = client.get("/v1/products/nao-existe-123")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "nao_encontrado" and "nao-existe-123" in error["message"]
    assert "/v1/products?q=" in error["hint"]


def test_min_greater_than_max_is_422(client):
    response = client.get("/v1/products", params={"min_power_w": 5000, "max_power_w": 1000})
    assert response.status_code == 422
    error = response.json()["error"]
    assert "power_w" in error["message"] and error["hint"]


def test_validation_error_is_portuguese_and_names_the_field(client):
    response = client.get("/v1/products", params={"min_power_w": "muito"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "requisicao_invalida"
    assert "min_power_w" in error["message"] and "número" in error["message"]
    assert error["fields"][0]["field"] == "min_power_w"


def test_bad_enum_lists_allowed_values(client):
    error = client.get("/v1/products", params={"category": "painel"}).json()["error"]
    assert "category" in error["message"] and "inverter" in error["message"]


def test_unknown_route_is_json_404(client):
    response = client.get("/v1/nada")
    assert response.status_code == 404 and response.json()["error"]["code"] == "nao_encontrado"
