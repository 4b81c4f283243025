"""Lean sizing responses on the real catalog: a summary by default, the full result on
request, stored bytes served as they are, ETag/304 and gzip."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.core.cache import MemoryCache
from app.core.settings import CatalogSettings, RedisSettings, Settings
from app.main import create_app
from app.sizing import service
from app.sizing.models import SizingResult

BODY = {"site": {"municipality": "Uberlândia", "uf": "MG"}, "consumption": {"monthly_kwh": 650},
        "connection": "three_phase"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(tmp_path_factory, real_catalog):
    from app.catalog.store import SQLiteCatalogStore

    tmp = tmp_path_factory.mktemp("catalog")
    store = SQLiteCatalogStore(real_catalog.copy(tmp))
    settings = Settings(_env_file=None, catalog=CatalogSettings(db_path=store.path, report_dir=tmp),
                        redis=RedisSettings(url=None))
    with TestClient(create_app(settings)) as c:
        yield c


def test_summary_by_default_carries_what_a_ui_shows_at_a_fraction_of_the_bytes(client):
    summary = client.post("/v1/sizing", json=BODY)
    assert summary.status_code == 200, summary.text
    full = client.post("/v1/sizing?detail=full", json=BODY)
    assert full.status_code == 200 and full.headers["X-Cache"] == "hit"
    s, f = summary.json(), full.json()
    assert s["detail"] == "summary" and "detail" not in f
    assert s["sizing_id"] == f["sizing_id"]
    # the best design in full, the economics table included
    assert s["best"] == f["best"] and len(s["best"]["economics"]["years"]) == 25
    assert s["assumptions"] == f["assumptions"] and s["warnings"] == f["warnings"]
    assert s["consumption"] == f["consumption"] and s["site"] == f["site"]
    # alternatives: one headline each, with the full result's figures
    assert [a["label"] for a in s["alternatives"]] == [a["label"] for a in f["alternatives"]]
    assert s["alternatives"], "the real catalog gives alternatives"
    for head, alt in zip(s["alternatives"], f["alternatives"], strict=True):
        assert head["dc_kwp"] == alt["dc_kwp"] and head["annual_kwh"] == alt["energy"]["annual_kwh"]
        assert head["capex_brl"] == alt["economics"]["capex_brl"]
        assert head["simple_payback_years"] == alt["economics"]["simple_payback_years"]
        assert "lines" not in head and "years" not in head
    assert s["skipped_products_count"] == len(f["skipped_products"]) > 0
    assert len(summary.content) * 3 < len(full.content)
    SizingResult.model_validate(f)  # the full shape is still the engine's result


def test_a_cache_hit_sends_the_stored_bytes_and_the_same_etag(client):
    first = client.post("/v1/sizing", json=BODY)
    again = client.post("/v1/sizing", json=BODY)
    assert again.headers["X-Cache"] == "hit"
    assert again.content == first.content and again.headers["ETag"] == first.headers["ETag"]
    sid = first.json()["sizing_id"]
    got = client.get(f"/v1/sizing/{sid}")
    assert got.content == first.content and got.headers["ETag"] == first.headers["ETag"]
    full = client.get(f"/v1/sizing/{sid}", params={"detail": "full"})
    assert full.json()["sizing_id"] == sid and full.headers["ETag"] != got.headers["ETag"]


def test_get_with_a_matching_etag_is_304_without_a_body(client):
    sid = client.post("/v1/sizing", json=BODY).json()["sizing_id"]
    got = client.get(f"/v1/sizing/{sid}")
    etag = got.headers["ETag"]
    same = client.get(f"/v1/sizing/{sid}", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["ETag"] == etag
    listed = client.get(f"/v1/sizing/{sid}", headers={"If-None-Match": f'W/"other", {etag}'})
    assert listed.status_code == 304
    stale = client.get(f"/v1/sizing/{sid}", headers={"If-None-Match": 'W/"not-this-one"'})
    assert stale.status_code == 200 and stale.content == got.content
    # the summary's tag does not validate the full result
    full = client.get(f"/v1/sizing/{sid}", params={"detail": "full"}, headers={"If-None-Match": etag})
    assert full.status_code == 200 and "skipped_products" in full.json()


def test_large_responses_go_gzipped_small_ones_do_not(client):
    full = client.post("/v1/sizing?detail=full", json=BODY, headers={"Accept-Encoding": "gzip"})
    assert full.headers["Content-Encoding"] == "gzip"
    assert int(full.headers["Content-Length"]) * 4 < len(full.content)  # httpx decoded it
    again = client.post("/v1/sizing?detail=full", json=BODY, headers={"Accept-Encoding": "gzip"})
    assert again.headers["Content-Length"] == full.headers["Content-Length"] and again.content == full.content
    assert "Accept-Encoding" in full.headers["Vary"]
    plain = client.post("/v1/sizing?detail=full", json=BODY, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.content == full.content
    health = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in health.headers


def test_unknown_detail_is_a_422_naming_the_parameter(client):
    r = client.post("/v1/sizing?detail=tudo", json=BODY)
    assert r.status_code == 422 and "detail" in r.text


def test_openapi_documents_both_shapes(client):
    doc = client.get("/openapi.json").json()
    for path, method in (("/v1/sizing", "post"), ("/v1/sizing/{sizing_id}", "get")):
        op = doc["paths"][path][method]
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        refs = {s["$ref"].rsplit("/", 1)[-1] for s in schema["anyOf"]}
        assert refs == {"SizingSummary", "SizingResult"}
        assert any(p["name"] == "detail" for p in op["parameters"])
    assert "304" in doc["paths"]["/v1/sizing/{sizing_id}"]["get"]["responses"]


def test_a_result_stored_before_summaries_gets_its_summary_rebuilt(client):
    full = client.post("/v1/sizing?detail=full", json=BODY).json()
    cache = MemoryCache()
    sid = full["sizing_id"]
    cache.set_json(service.cache_key(sid), full, 3600)  # only the full result, as older versions stored it
    out = service.load_stored_json(sid, cache, "summary", ttl_s=3600)
    assert out.hit and b'"detail":"summary"' in out.body
    assert cache.get_raw(service.summary_key(sid)) == out.body.decode()
    assert service.load_stored(sid, cache).best.label == full["best"]["label"]


def test_gzip_is_what_the_client_accepts():
    from app.api.compression import accepts_gzip

    assert accepts_gzip("gzip, deflate, br") and accepts_gzip("br;q=1.0, gzip;q=0.8") and accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0") and not accepts_gzip("br") and not accepts_gzip(None)


def test_product_pages_go_gzipped_and_say_the_same(client):
    url = "/v1/products?category=inverter&limit=20"
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert packed.status_code == plain.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert packed.json() == plain.json() and len(plain.json()["items"]) == 20
    assert packed.headers["ETag"] == plain.headers["ETag"]
