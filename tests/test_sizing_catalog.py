"""Integration: ingest the real catalog export into a temporary SQLite store and size from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import InvalidInput
from app.sizing.engine import size_system
from app.sizing.models import ConsumptionInput, SiteInput, SizingRequest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "upstream-catalog"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    pipeline = pytest.importorskip("ingest.catalog.pipeline")
    store_mod = pytest.importorskip("app.catalog.store")
    source = SOURCE if SOURCE.is_dir() else ROOT / "data" / "catalog"
    if not source.is_dir():
        pytest.skip("no catalog export available")
    tmp = tmp_path_factory.mktemp("catalog")
    s = store_mod.SQLiteCatalogStore(tmp / "catalog.sqlite3")
    pipeline.run_catalog_ingest(source, s, tmp / "reports")
    return s


def test_uberlandia_650_three_phase_from_real_stock(store):
    req = SizingRequest(site=SiteInput(municipality="Uberlândia", uf="MG"),
                        consumption=ConsumptionInput(monthly_kwh=650), connection="three_phase")
    try:
        r = size_system(req, store)
    except InvalidInput as exc:
        # The export carries few electrical specs: the engine must say which products it
        # skipped and why, never invent the missing values.
        assert "Nenhum" in exc.message and "ignorados" in (exc.hint or "")
        assert exc.details.get("skipped")
        return
    assert r.best.energy.annual_kwh > 0
    assert r.best.strings.voc_cold_string_v <= r.best.strings.max_dc_voltage_v
    assert r.best.module.unit_price_brl > 0
