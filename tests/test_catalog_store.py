"""SQLiteCatalogStore: filters, accent-insensitive free text, paging and atomic replace."""

from __future__ import annotations

import json

import pytest

from app.catalog.models import (
    Category,
    InverterSpecs,
    InverterType,
    Offer,
    Phase,
    Product,
    ProductQuery,
    RoofType,
    StructureSpecs,
)
from app.catalog.store import SQLiteCatalogStore


def inverter(pid, power_w, phase, price, in_stock=True, name=None, itype=InverterType.GRID_TIE, brand="Growatt"):
    return Product(
        id=pid, category=Category.INVERTER, name=name or f"Inversor {brand} {power_w:g}W", manufacturer=brand,
        power_w=power_w, phase=phase, price_brl=price, in_stock=in_stock,
        inverter=InverterSpecs(inverter_type=itype, phase=phase, ac_power_w=power_w),
        offers=[Offer(distributor="ODEX", source_id=pid, price_brl=price, available=in_stock)],
    )


@pytest.fixture
def store(tmp_path):
    s = SQLiteCatalogStore(tmp_path / "c.sqlite3")
    s.replace_all([
        inverter("inv-3k", 3000, Phase.SINGLE, 1499.0, name="Inversor Grid-Tie Growatt MIN 3000TL-X Monofásico"),
        inverter("inv-10k", 10000, Phase.THREE, 4499.0, name="Inversor Grid-Tie Growatt MOD 10KTL3-XH Trifásico"),
        inverter("inv-15k", 15000, Phase.THREE, 5999.0, in_stock=False, brand="SAJ",
                 name="Inversor Grid-Tie SAJ R5-15K-T2 Trifásico"),
        inverter("inv-hyb", 5000, Phase.SINGLE, 4299.0, itype=InverterType.HYBRID, brand="Deye",
                 name="Inversor Híbrido Deye SUN-5K-SG05LP1-EU Monofásico"),
        Product(id="est-fibro", category=Category.STRUCTURE, name="Estrutura Pratyc Fibrocimento Grande PRF-60",
                manufacturer="Pratyc", price_brl=107.0, in_stock=True,
                structure=StructureSpecs(roof_type=RoofType.FIBER_CEMENT)),
    ])
    return s


def ids(page):
    return [p.id for p in page.items]


def test_get_and_count(store):
    assert store.get("inv-10k").inverter.ac_power_w == 10000
    assert store.get("nope") is None
    assert store.count() == 5
    assert store.count(Category.INVERTER) == 4


def test_filters(store):
    assert ids(store.search(ProductQuery(category=Category.INVERTER, min_power_w=5000, max_power_w=12000))) == [
        "inv-hyb", "inv-10k"]
    assert set(ids(store.search(ProductQuery(phase=Phase.THREE)))) == {"inv-10k", "inv-15k"}
    assert ids(store.search(ProductQuery(max_price_brl=1500, category=Category.INVERTER))) == ["inv-3k"]
    assert "inv-15k" not in ids(store.search(ProductQuery(in_stock=True)))
    assert ids(store.search(ProductQuery(subtype="hybrid"))) == ["inv-hyb"]
    assert ids(store.search(ProductQuery(subtype="fiber_cement"))) == ["est-fibro"]
    assert set(ids(store.search(ProductQuery(manufacturer="growatt")))) == {"inv-3k", "inv-10k"}


def test_battery_capacity_and_voltage_filters(store):
    from app.catalog.models import BatterySpecs

    store.upsert([
        Product(id="bat-5", category=Category.BATTERY, name="Bateria LFP 5,12 kWh 51,2 V", price_brl=6700.0,
                in_stock=True, battery=BatterySpecs(capacity_kwh=5.12, nominal_voltage_v=51.2)),
        Product(id="bat-10", category=Category.BATTERY, name="Bateria LFP 10 kWh HV", price_brl=14000.0,
                in_stock=True, battery=BatterySpecs(capacity_kwh=10.0, nominal_voltage_v=204.8)),
    ])
    assert ids(store.search(ProductQuery(min_capacity_kwh=4.5, max_capacity_kwh=5.5))) == ["bat-5"]
    assert ids(store.search(ProductQuery(min_voltage_v=43.2, max_voltage_v=52.8))) == ["bat-5"]
    assert ids(store.search(ProductQuery(min_capacity_kwh=8))) == ["bat-10"]  # products without specs never match


def test_free_text_ignores_accents_and_case(store):
    assert set(ids(store.search(ProductQuery(q="trifasico")))) == {"inv-10k", "inv-15k"}
    assert ids(store.search(ProductQuery(q="hibrido deye"))) == ["inv-hyb"]
    assert ids(store.search(ProductQuery(q="FIBROCIMENTO"))) == ["est-fibro"]
    assert ids(store.search(ProductQuery(q="fibrocimento", category=Category.INVERTER))) == []


def test_pagination_reports_total(store):
    first = store.search(ProductQuery(category=Category.INVERTER, limit=2, offset=0))
    second = store.search(ProductQuery(category=Category.INVERTER, limit=2, offset=2))
    assert first.total == second.total == 4
    assert len(first.items) == len(second.items) == 2
    assert not set(ids(first)) & set(ids(second))


def test_failed_replace_keeps_the_old_catalog(store):
    def broken():
        yield inverter("new-1", 1000, Phase.SINGLE, 500.0)
        raise RuntimeError("ingest died half-way")

    with pytest.raises(RuntimeError):
        store.replace_all(broken())
    assert store.count() == 5
    assert store.get("new-1") is None
    assert ids(store.search(ProductQuery(q="trifasico", limit=1))) == ["inv-10k"]


def test_replace_all_replaces(store):
    assert store.replace_all([inverter("only", 2000, Phase.SINGLE, 900.0)]) == 1
    assert [p.id for p in store.iter_products()] == ["only"]
    assert store.search(ProductQuery(q="trifasico")).total == 0


def test_a_second_store_on_the_same_file_sees_the_data(store):
    other = SQLiteCatalogStore(store.path)
    assert other.count() == 5


# -- fingerprint (cache keys depend on it) ---------------------------------------------


def test_fingerprint_changes_with_one_price_and_comes_back_with_it(store):
    before = store.fingerprint()
    assert len(before) == 64 and before == store.fingerprint()
    p = store.get("inv-3k")
    store.upsert([p.model_copy(update={"price_brl": 1599.0})])
    changed = store.fingerprint()
    assert changed != before
    store.upsert([p])
    assert store.fingerprint() == before


def test_fingerprint_changes_with_stock_and_specs(store):
    before = store.fingerprint()
    p = store.get("inv-10k")
    store.upsert([p.model_copy(update={"in_stock": False})])
    out_of_stock = store.fingerprint()
    store.upsert([p.model_copy(update={"inverter": p.inverter.model_copy(update={"mppt_min_v": 160.0})})])
    assert len({before, out_of_stock, store.fingerprint()}) == 3


def test_replacing_with_the_same_products_keeps_the_fingerprint_in_any_order(store, tmp_path):
    before = store.fingerprint()
    products = list(store.iter_products())
    store.replace_all(reversed(products))
    assert store.fingerprint() == before
    other = SQLiteCatalogStore(tmp_path / "other.sqlite3")
    other.replace_all(products)
    assert other.fingerprint() == before


def test_a_failed_replace_keeps_the_old_fingerprint(store):
    before = store.fingerprint()

    def broken():
        yield store.get("inv-3k").model_copy(update={"price_brl": 1.0})
        raise RuntimeError("export truncado")

    with pytest.raises(RuntimeError):
        store.replace_all(broken())
    assert store.fingerprint() == before


def test_store_written_before_fingerprints_gets_one_on_first_read(store):
    expected = store.fingerprint()
    with store._connect() as conn:
        conn.execute("DELETE FROM meta")
    reopened = SQLiteCatalogStore(store.path)
    assert reopened.fingerprint() == expected


@pytest.mark.slow  # a real ingest of the whole export (~1 s of CPU)
def test_reingesting_the_same_export_keeps_the_fingerprint(tmp_path, real_catalog):
    from pathlib import Path

    from ingest.catalog.pipeline import run_catalog_ingest

    source = Path(__file__).resolve().parents[1] / "data" / "catalog"
    s = SQLiteCatalogStore(real_catalog.copy(tmp_path / "copy"))
    first = s.fingerprint()
    assert first == SQLiteCatalogStore(real_catalog.db).fingerprint()
    run_catalog_ingest(source, s, tmp_path / "r2")
    assert s.fingerprint() == first


def test_listing_sees_a_price_change_made_by_another_writer(store):
    """iter_products is memoised per fingerprint: a write through another store object on
    the same file (another worker, a re-ingest) must still show up in the next listing."""
    assert {p.id: p.price_brl for p in store.iter_products()}["inv-3k"] != 1599.0
    other = SQLiteCatalogStore(store.path)
    other.upsert([other.get("inv-3k").model_copy(update={"price_brl": 1599.0})])
    assert {p.id: p.price_brl for p in store.iter_products()}["inv-3k"] == 1599.0


def test_listing_json_follows_a_price_change_and_equals_the_parsed_page(store):
    query = ProductQuery(category=Category.INVERTER, limit=5)
    first = store.search_json(query)
    assert json.loads(first) == json.loads(store.search(query).model_dump_json())
    assert store.search_json(query) is first  # the same page again: kept, not rebuilt
    product = store.get("inv-3k")
    store.upsert([product.model_copy(update={"price_brl": product.price_brl + 1})])
    changed = json.loads(store.search_json(query))
    assert next(p for p in changed["items"] if p["id"] == "inv-3k")["price_brl"] == product.price_brl + 1
