"""`helio ingest catalog` rebuilds the store from the export and keeps the datasheet specs."""

from __future__ import annotations

import json

import pytest

from typer.testing import CliRunner

from app.catalog.store import SQLiteCatalogStore
from cli.root import build_cli
from app.core.settings import get_settings


@pytest.mark.slow  # the real export and every datasheet, through the CLI
def test_rebuilding_the_catalog_keeps_specs_from_datasheets(tmp_path, monkeypatch):
    monkeypatch.setenv("CATALOG__DB_PATH", str(tmp_path / "catalog.sqlite3"))
    monkeypatch.setenv("CATALOG__REPORT_DIR", str(tmp_path / "reports"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(build_cli(), ["ingest", "catalog"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "produtos gerados" in result.output and "Fichas técnicas reaplicadas" in result.output
    store = SQLiteCatalogStore(tmp_path / "catalog.sqlite3")
    from_sheets = {p.id: f for p in store.iter_products() for f, src in p.spec_sources.items()
                   if src.startswith("datasheet:")}
    assert from_sheets, "datasheet specs must survive a catalog rebuild"
    assert (tmp_path / "reports" / "catalog_report.json").exists()
    # the data-quality report and its one summary line
    quality = json.loads((tmp_path / "reports" / "catalog-quality.json").read_text("utf-8"))
    line = next(ln for ln in result.output.splitlines() if ln.startswith("Qualidade do catálogo:"))
    assert f"{quality['findings']} achados" in line and f"{quality['corrected']} corrigidos" in line
    assert f"{quality['held_back']} retidos" in line and "catalog-quality.json" in line
