"""The whole ingest on the real export in data/catalog (conftest's ``real_catalog``, once per session)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.catalog.models import Category, ProductQuery
from app.catalog.store import SQLiteCatalogStore

from ingest.catalog.pipeline import run_catalog_ingest  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "catalog"
pytestmark = pytest.mark.slow  # the real export ingested (once per session): integration tier


@pytest.fixture(scope="module")
def ingested(real_catalog):
    """conftest's session-wide ingest of the real export: store, report, folder, progress stages."""
    return SQLiteCatalogStore(real_catalog.db), real_catalog.report, real_catalog.db.parent, list(real_catalog.stages)


def product_of(store, upstream_id: str):
    hits = [p for p in store.iter_products() if any(o.source_id == upstream_id for o in p.offers)]
    assert len(hits) == 1, f"{upstream_id} should be in exactly one product, got {[p.id for p in hits]}"
    return hits[0]


def test_every_row_is_accounted_for(ingested):
    store, report, _, stages = ingested
    rows_in = sum(len(json.loads(f.read_text("utf-8"))) for f in DATA.glob("*_unified.json"))
    assert report.rows_in == rows_in
    assert report.rows_in == report.products_out + report.merged + report.dropped
    assert store.count() == report.products_out
    assert sum(report.per_category.values()) == report.products_out
    assert {"lendo", "limpando", "gravando"} <= set(stages)


def test_same_product_listed_twice_becomes_one_with_two_offers(ingested):
    store, report, _, _ = ingested
    # Neosolar lists the Deye SUN2250 G4 micro-inverter under two ids (22916 and 22714),
    # and each id appears twice in inverters_unified.json.
    p = product_of(store, "neosolar_inverters_22916")
    assert {o.source_id for o in p.offers} == {"neosolar_inverters_22916", "neosolar_inverters_22714"}
    assert p.price_brl == 1220.0  # the only priced offer
    assert p.inverter.ac_power_w == 2250.0
    merged_into = {m.ref.split(":")[-1] for m in report.merged_rows if m.into == p.id}
    assert merged_into >= {"neosolar_inverters_22916", "neosolar_inverters_22714"}


def test_misfiled_string_box_is_recategorised(ingested):
    store, report, _, _ = ingested
    p = product_of(store, "odex_inverters_ODEX-STRINGBOX-CLAMPER-2E")
    assert p.category is Category.STRING_BOX
    assert p.inverter is None
    assert any(r.product_id == p.id and r.from_category == "inverter" and r.to_category == "string_box"
               for r in report.recategorised_rows)


def test_prices_as_shown_by_the_portals(ingested):
    store, _, _, _ = ingested
    assert product_of(store, "neosolar_inverters_22022").price_brl == 1194.0  # "R$ 1.194,00"
    assert product_of(store, "FORTLEV-NEP-PVG-3-20A-L").price_brl == 911.78  # not the cents 91178


def test_specs_from_names(ingested):
    store, _, _, _ = ingested
    saj = product_of(store, "odex_inverters_ODEX-INV-SAJ-10000W")
    assert saj.id == "inverter-saj-r5-10k-t2"
    assert (saj.phase.value, saj.inverter.mppt_count, saj.power_w) == ("three_phase", 2, 10000.0)
    assert saj.inverter.max_dc_voltage_v is None
    assert "max_dc_voltage_v" in saj.missing_specs


def test_structures_keep_their_roof_and_lose_fake_power(ingested):
    store, _, _, _ = ingested
    p = product_of(store, "odex_inverters_ODEX-ESTRUTURA-ROMAGNOLE-FIBROCIMENTO")
    assert p.category is Category.STRUCTURE
    assert p.structure.roof_type.value == "fiber_cement"
    assert p.power_w is None  # "RF-55" is a model code, not 55 kW
    page = store.search(ProductQuery(category=Category.STRUCTURE, q="fibrocimento", limit=100))
    assert p.id in {x.id for x in page.items}


def test_kit_power_is_the_sum_of_its_modules(ingested):
    store, _, _, _ = ingested
    kits = [p for p in store.iter_products(Category.KIT) if p.components]
    assert kits
    for kit in kits:
        modules = [c for c in kit.components if c.category is Category.MODULE]
        assert kit.power_w == sum(c.power_w * c.quantity for c in modules)
    # the ASTRONERGY 600W panels of FOTUS kits are the ODEX "Painel Solar Astronergy 600W"
    linked = {c.product_id for k in kits for c in k.components if c.product_id}
    assert "module-painel-solar-astronergy-600w" in linked


def test_report_files_are_written(ingested):
    _, report, tmp, _ = ingested
    on_disk = json.loads((tmp / "reports" / "catalog_report.json").read_text("utf-8"))
    assert on_disk["products_out"] == report.products_out
    assert "neosolar_posts_24170" in (tmp / "reports" / "catalog_report.md").read_text("utf-8")


@pytest.mark.slow  # a second real ingest (~1 s of CPU)
def test_rerun_is_idempotent(ingested, real_catalog, tmp_path):
    _, report, tmp, _ = ingested
    store = SQLiteCatalogStore(real_catalog.copy(tmp_path / "copy"))  # re-ingest over a private copy
    before = {p.id: p.model_dump_json() for p in store.iter_products()}
    again = run_catalog_ingest(DATA, store, tmp_path)
    after = {p.id: p.model_dump_json() for p in store.iter_products()}
    assert after == before
    assert again.model_dump() == report.model_dump()
    assert (tmp_path / "catalog_report.json").read_text("utf-8") == (
        tmp / "reports" / "catalog_report.json").read_text("utf-8")
