"""Integration: ingest the real catalog export into a temporary SQLite store and size from it.

The export has no module or inverter with the electrical specs string sizing needs, so the
designs come from the distributors' kits: priced from the catalog, simulated at the site,
flagged ``not_verifiable`` with the missing specs named.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.catalog.models import Category, Phase
from app.core.settings import CatalogSettings, RedisSettings, Settings
from app.main import create_app
from app.sizing.engine import size_system
from app.sizing.models import ConsumptionInput, RoofInput, SiteInput, SizingRequest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory, real_catalog):
    from app.catalog import store as store_mod

    return store_mod.SQLiteCatalogStore(real_catalog.copy(tmp_path_factory.mktemp("catalog")))


def uberlandia(**kw) -> SizingRequest:
    base = dict(site=SiteInput(municipality="Uberlândia", uf="MG"), consumption=ConsumptionInput(monthly_kwh=650),
                connection="three_phase")
    base.update(kw)
    return SizingRequest(**base)


@pytest.fixture(scope="module")
def uberlandia_result(store):
    return size_system(uberlandia(), store)


def test_uberlandia_650_three_phase_sizes_a_catalog_kit(store, uberlandia_result):
    r = uberlandia_result
    best = r.best
    assert best.kind == "kit" and best.kit is not None
    kit = store.get(best.kit.product_id)
    assert kit.category is Category.KIT and kit.in_stock
    # price straight from the catalog, and the quote line carries it
    assert best.kit.unit_price_brl == kit.price_brl
    assert [(x.product_id, x.quantity, x.unit_price_brl) for x in best.lines] == [
        (kit.id, best.kit.quantity, kit.price_brl)]
    assert best.economics.equipment_brl == pytest.approx(best.kit.quantity * kit.price_brl)
    assert best.economics.capex_brl > best.economics.equipment_brl  # + installation
    # DC power is the kit's bill of materials; energy meets the target without gross oversizing
    assert best.dc_kwp == pytest.approx(best.kit.quantity * kit.power_w / 1000)
    target = r.consumption.target_annual_kwh
    assert 0.97 * target <= best.energy.annual_kwh <= 1.35 * target
    assert 1300 < best.energy.specific_yield_kwh_per_kwp < 1750
    assert best.dc_ac_ratio <= 1.30
    # structure matches the default ceramic roof
    assert best.kit.roof_type in ("ceramic", None)


def test_kit_designs_say_the_strings_could_not_be_verified_and_why(uberlandia_result):
    r = uberlandia_result
    for d in [r.best, *r.alternatives]:
        assert d.string_check == "not_verifiable" and d.strings is None
        assert "Voc" in d.string_check_reason and "β_Voc" in d.string_check_reason
        assert "MPPT" in d.string_check_reason and "distribuidor FOTUS" in d.string_check_reason
        assert any(d.label in w for w in r.warnings)
    assert any("kits do catálogo" in w for w in r.warnings)


def test_alternatives_are_different_kits_with_catalog_prices(store, uberlandia_result):
    r = uberlandia_result
    designs = [r.best, *r.alternatives]
    assert 2 <= len(designs) <= 3
    assert len({d.kit.product_id for d in designs}) == len(designs)
    for d in designs:
        assert d.kit.unit_price_brl == store.get(d.kit.product_id).price_brl
    # the first alternative uses another inverter brand when the catalog has one
    assert r.alternatives[0].inverter.manufacturer != r.best.inverter.manufacturer


def test_skipped_products_name_the_missing_specs(uberlandia_result):
    r = uberlandia_result
    assert r.usable_modules == 0 and r.usable_inverters == 0 and r.usable_kits > 0
    reasons = {(s.category, s.reason) for s in r.skipped_products}
    assert any(cat == "module" and "voc_v" in why for cat, why in reasons)
    assert any(cat == "inverter" and "mppt_min_v" in why for cat, why in reasons)
    assert any(cat == "kit" and "off-grid" in why for cat, why in reasons)


def test_single_phase_250_gets_a_single_phase_kit(store):
    r = size_system(uberlandia(consumption=ConsumptionInput(monthly_kwh=250), connection="single_phase"), store)
    kit = store.get(r.best.kit.product_id)
    assert kit.phase is Phase.SINGLE
    assert all("MONOF" in c.description.upper() or c.power_w is None
               for c in kit.components if c.category is Category.INVERTER and "FIXA" not in c.description.upper())
    assert r.best.energy.annual_kwh >= 0.97 * r.consumption.target_annual_kwh  # (250 − 30) × 12
    assert r.best.dc_kwp < 3.0


def test_metal_roof_gets_a_metal_roof_kit(store):
    r = size_system(uberlandia(roof=RoofInput(type="metal")), store)
    assert all(d.kit.roof_type in ("metal", None) for d in [r.best, *r.alternatives])


def test_roof_area_with_unknown_module_size_is_estimated_and_respected(store):
    # Issue #15: the area always constrains; without module dimensions it is derived from P/η, said so.
    r = size_system(uberlandia(roof=RoofInput(area_m2=40.0)), store)
    for d in [r.best, *r.alternatives]:
        assert d.area_check == "estimated" and d.roof_area_used_m2 <= 40.0
        assert any("área estimada" in n and "P/(η·1000 W/m²)" in n for n in d.notes)


# ---------------------------------------------------------------- API: sizing_id, cache


@pytest.fixture(scope="module")
def client(store):
    settings = Settings(_env_file=None, catalog=CatalogSettings(db_path=store.path, report_dir=store.path.parent),
                        redis=RedisSettings(url=None))
    with TestClient(create_app(settings)) as c:
        yield c


BODY = {"site": {"municipality": "Uberlândia", "uf": "MG"}, "consumption": {"monthly_kwh": 650},
        "connection": "three_phase"}


def test_post_returns_sizing_id_and_get_by_id_returns_it(client):
    first = client.post("/v1/sizing", json=BODY)
    assert first.status_code == 200, first.text
    body = first.json()
    sid = body["sizing_id"]
    assert sid and len(sid) == 24
    got = client.get(f"/v1/sizing/{sid}")
    assert got.status_code == 200
    assert got.json() == body


def test_second_identical_post_is_a_cache_hit(client):
    a = client.post("/v1/sizing", json=BODY)
    b = client.post("/v1/sizing", json=BODY)
    assert b.headers["X-Cache"] == "hit"
    assert a.json()["sizing_id"] == b.json()["sizing_id"]
    assert a.json()["best"] == b.json()["best"]


def test_unknown_sizing_id_is_404_with_hint(client):
    r = client.get("/v1/sizing/" + "0" * 24)
    assert r.status_code == 404
    assert "expirado" in r.json()["error"]["message"] and r.json()["error"]["hint"]
    assert client.get("/v1/sizing/nao-e-um-id").status_code == 404


def test_a_price_change_in_the_catalog_gives_a_new_sizing(client, store):
    before = client.post("/v1/sizing", json=BODY).json()
    kit = store.get(before["best"]["kit"]["product_id"])
    original = kit.price_brl
    try:
        store.upsert([kit.model_copy(update={"price_brl": round(original * 1.1, 2)})])
        after = client.post("/v1/sizing", json=BODY)
        assert after.headers["X-Cache"] == "miss"
        assert after.json()["sizing_id"] != before["sizing_id"]
    finally:
        store.upsert([kit.model_copy(update={"price_brl": original})])
    assert client.post("/v1/sizing", json=BODY).json()["sizing_id"] == before["sizing_id"]


@pytest.mark.redis
def test_sizing_is_shared_by_replicas_through_real_redis(store, redis_url):
    """Two API processes on one Redis: a sizing made on one is served, cached, by the other,
    and kept for the configured 30 days."""
    import redis as redis_lib

    def replica():
        return TestClient(create_app(Settings(
            _env_file=None, catalog=CatalogSettings(db_path=store.path, report_dir=store.path.parent),
            redis=RedisSettings(url=redis_url))))

    with replica() as a, replica() as b:
        first = a.post("/v1/sizing", json=BODY)
        sid = first.json()["sizing_id"]
        assert b.get(f"/v1/sizing/{sid}").json() == first.json()
        again = b.post("/v1/sizing", json=BODY)
        assert again.headers["X-Cache"] == "hit" and again.json()["sizing_id"] == sid
    ttl = redis_lib.Redis.from_url(redis_url).ttl(f"helio:sizing:{sid}")
    assert 29 * 86400 < ttl <= 30 * 86400
