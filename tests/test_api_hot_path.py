"""The API's hot paths (issue #10): a cached sizing and a product page already answered are
sent from the event loop, with no worker thread and no parameter re-validation, and every
guard still holds (a changed catalog, an auth dependency, a cache outside the process).
The whole app on the real catalog: the integration tier. The memos these paths use are unit-tested
in test_api_memos.py."""

from __future__ import annotations

import json

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

from app.api.compression import GzipMemo, body_etag
from app.api.routes import products, sizing
from app.catalog.store import SQLiteCatalogStore
from app.core.cache import MemoryCache
from app.core.settings import CatalogSettings, Settings
from app.main import create_app
from app.sizing.models import SizingRequest
from app.sizing.service import cache_key, lookup_json, size_json, summary_key

pytestmark = pytest.mark.slow  # create_app and its lifespan on the real catalog

BODY = {"site": {"municipality": "Uberlândia", "uf": "MG"}, "consumption": {"monthly_kwh": 650},
        "connection": "three_phase"}
PAGE = "/v1/products?category=inverter&limit=5"


@pytest.fixture
def client(real_catalog, tmp_path):
    db = real_catalog.copy(tmp_path / "cat")
    with TestClient(create_app(Settings(_env_file=None, catalog=CatalogSettings(
            db_path=db, report_dir=tmp_path / "reports")))) as c:
        yield c


@pytest.fixture
def endpoint_runs(monkeypatch):
    """How many times the listing's endpoint body ran (its range check is its first step)."""
    calls = []
    real = products._check_range
    monkeypatch.setattr(products, "_check_range", lambda *a: (calls.append(a[0]), real(*a)))
    return lambda: calls.count("power_w")  # the first range it checks


@pytest.fixture
def thread_hops(monkeypatch):
    calls = []
    real = sizing.run_in_threadpool

    async def counted(fn, *args, **kwargs):
        calls.append(getattr(fn, "__name__", type(fn).__name__))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(sizing, "run_in_threadpool", counted)
    return calls


def _stored_summary(client, text: str) -> str:
    """Store ``text`` as the summary of BODY's sizing on this app's catalog; its sizing id."""
    state = client.app.state
    sid = lookup_json(SizingRequest.model_validate(BODY), state.catalog, state.cache).sizing_id
    state.cache.set_raw(cache_key(sid), text, 60)
    state.cache.set_raw(summary_key(sid), text, 60)
    return sid


def test_a_cached_sizing_is_sent_as_stored_without_a_worker_thread(client, thread_hops):
    stored = json.dumps({"sizing_id": "x", "marca": "guardado"})
    _stored_summary(client, stored)
    r = client.post("/v1/sizing", json=BODY)
    assert r.status_code == 200 and r.headers["X-Cache"] == "hit"
    assert r.content == stored.encode()  # the stored bytes, not re-validated into a model
    assert r.headers["ETag"] == body_etag(stored.encode())
    assert thread_hops == []


def test_a_repeated_sizing_skips_fastapis_pass_and_bad_bodies_still_get_their_422(client, monkeypatch):
    runs = []
    real = sizing.remember
    monkeypatch.setattr(sizing, "remember", lambda request, detail: (runs.append(detail), real(request, detail)))
    stored = json.dumps({"sizing_id": "y"})
    _stored_summary(client, stored)
    answers = [client.post("/v1/sizing", json=BODY) for _ in range(3)]
    assert [r.content for r in answers] == [stored.encode()] * 3
    assert all(r.headers["X-Cache"] == "hit" and r.headers["x-request-id"] for r in answers)
    assert runs == ["summary"]  # the endpoint ran once; then the route answered by itself
    for _ in range(2):
        bad = client.post("/v1/sizing", json={**BODY, "consumption": {"monthly_kwh": "muito"}})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "requisicao_invalida"
    assert runs == ["summary", "summary", "summary"]  # each bad body went the validated way


def test_a_miss_counts_one_lookup_and_goes_to_a_thread(client, thread_hops, monkeypatch):
    looked: list[str] = []
    real_get = MemoryCache.get_raw
    monkeypatch.setattr(MemoryCache, "get_raw", lambda self, key: (looked.append(key), real_get(self, key))[1])
    computed = []
    monkeypatch.setattr("app.sizing.service.size_system",
                        lambda request, catalog: computed.append(1) or (_ for _ in ()).throw(RuntimeError("sem motor")))
    with pytest.raises(RuntimeError, match="sem motor"):
        client.post("/v1/sizing", json=BODY)
    assert thread_hops == ["size_json"] and computed == [1]
    summaries = [k for k in looked if k.startswith("sizing-summary:")]
    assert len(summaries) == 1  # the route's lookup is not repeated in the thread


def test_a_stored_sizing_by_id_comes_from_the_loop_and_a_304_still_works(client, thread_hops):
    stored = json.dumps({"sizing_id": "z"})
    sid = _stored_summary(client, stored)
    got = client.get(f"/v1/sizing/{sid}")
    assert got.status_code == 200 and got.content == stored.encode()
    same = client.get(f"/v1/sizing/{sid}", headers={"If-None-Match": got.headers["ETag"]})
    assert same.status_code == 304 and same.content == b""
    assert thread_hops == []
    gone = client.get(f"/v1/sizing/{'0' * 24}")
    assert gone.status_code == 404 and gone.json()["error"]["code"]
    assert thread_hops == ["partial"]  # only the miss looked further (an entry of an older version)


def test_size_json_with_a_lookup_does_not_look_again(real_catalog):
    cache = MemoryCache()
    catalog = SQLiteCatalogStore(real_catalog.db)
    request = SizingRequest.model_validate(BODY)
    lookup = lookup_json(request, catalog, cache)
    cache.set_raw(summary_key(lookup.sizing_id), '{"a": 1}', 60)  # stored after that lookup
    again = lookup_json(request, catalog, cache)
    assert again.found is not None and again.found.body == b'{"a": 1}' and again.found.hit
    assert size_json(request, catalog, cache, 60, "summary", again) is again.found



def test_a_product_page_answered_before_skips_the_parameter_pass(client, endpoint_runs):
    first = client.get(PAGE)
    again = [client.get(PAGE) for _ in range(3)]
    assert endpoint_runs() == 1
    for r in again:
        assert r.status_code == 200 and r.content == first.content
        assert r.headers["ETag"] == first.headers["ETag"] and r.headers["Vary"] == "Accept-Encoding"
    zipped = client.get(PAGE, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.content == first.content
    assert client.get(PAGE + "&offset=5").json()["offset"] == 5  # another query string: its own page
    assert endpoint_runs() == 2


def test_a_changed_catalog_is_searched_again(client, endpoint_runs):
    every = "/v1/products?category=inverter&limit=200"
    first = client.get(every).json()
    assert client.get(every).json() == first and endpoint_runs() == 1
    catalog = client.app.state.catalog
    product = catalog.get(first["items"][0]["id"])
    new_price = (product.price_brl or 0) + 1234.5
    catalog.upsert([product.model_copy(update={"price_brl": new_price})])
    changed = {p["id"]: p for p in client.get(every).json()["items"]}
    assert endpoint_runs() == 2
    assert changed[product.id]["price_brl"] == pytest.approx(new_price)


def test_invalid_query_strings_are_refused_every_time(client, endpoint_runs):
    for _ in range(3):
        r = client.get("/v1/products?limit=500")
        assert r.status_code == 422 and r.json()["error"]["code"] == "requisicao_invalida"
    for _ in range(2):
        r = client.get("/v1/products?min_power_w=10&max_power_w=1")
        assert r.status_code == 422 and "Faixa inválida" in r.json()["error"]["message"]
    assert endpoint_runs() == 2


def _bare_app(real_catalog, router: APIRouter, **include) -> FastAPI:
    app = FastAPI()
    app.include_router(router, **include)
    app.state.catalog = SQLiteCatalogStore(real_catalog.db)
    app.state.settings = Settings(_env_file=None)
    app.state.gzip_memo = GzipMemo()
    return app


def test_a_router_included_behind_an_auth_dependency_never_takes_the_shortcut(real_catalog, endpoint_runs):
    checked = []

    async def needs_key(request: Request) -> None:
        checked.append(1)
        if request.headers.get("x-api-key") != "k":
            raise HTTPException(status_code=401)

    with TestClient(_bare_app(real_catalog, products.router, dependencies=[Depends(needs_key)])) as c:
        assert c.get(PAGE, headers={"x-api-key": "k"}).status_code == 200
        assert c.get(PAGE, headers={"x-api-key": "k"}).status_code == 200
        assert c.get(PAGE).status_code == 401
    assert len(checked) == 3 and endpoint_runs() == 2


def test_a_listing_route_with_a_dependency_of_its_own_keeps_it(real_catalog, endpoint_runs):
    seen = []

    async def audit() -> None:
        seen.append(1)

    router = APIRouter()
    router.add_api_route("/v1/products", products.list_products, methods=["GET"], dependencies=[Depends(audit)],
                         route_class_override=products._KeptPage)
    with TestClient(_bare_app(real_catalog, router)) as c:
        assert [c.get(PAGE).status_code for _ in range(3)] == [200, 200, 200]
    assert len(seen) == 3 and endpoint_runs() == 3



def test_shortcut_answers_are_still_counted_and_carry_request_ids(client):
    from prometheus_client.parser import text_string_to_metric_families

    def count() -> float:
        for family in text_string_to_metric_families(client.get("/metrics").text):
            for s in family.samples:
                if s.name == "helio_http_requests_total" and s.labels == {
                        "method": "GET", "route": "/v1/products", "status": "200"}:
                    return s.value
        return 0.0

    before = count()
    answers = [client.get(PAGE, headers={"X-Request-ID": f"pedido-{i}"}) for i in range(4)]
    assert [r.headers["x-request-id"] for r in answers] == [f"pedido-{i}" for i in range(4)]
    assert count() - before == 4
