"""The electrical-spec registry: shipped rows with sources, validation by line and field,
conservative matching, and imports through ``helio specs import`` and the admin route."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.auth.keys import make_key_store
from app.core.errors import InvalidInput
from app.core.settings import Settings, get_settings
from app.main import create_app
from app.specs.registry import SpecOverrides, SpecRegistry, load_seed
from app.specs.validate import CSV_COLUMNS, parse_csv

ROOT = Path(__file__).resolve().parents[1]
HEADER = ",".join(CSV_COLUMNS)


def line(**values) -> str:
    base = {"source_title": "Folha de dados teste", "source_date": "2025-05", "source_kind": "datasheet"}
    base.update(values)
    return ",".join(str(base.get(c, "")) for c in CSV_COLUMNS)


MODULE_OK = line(category="module", manufacturer="Exemplo", model="EX-550", pmax_w=550, voc_v=49.9, vmp_v=41.9,
                 isc_a=13.9, imp_a=13.13, beta_voc_pct_per_c=-0.27, length_mm=2278, width_mm=1134)


@pytest.fixture(scope="module")
def shipped() -> SpecRegistry:
    return SpecRegistry(load_seed(ROOT / "data" / "specs"))


def test_every_shipped_row_names_its_source_and_passes_the_sanity_rules(shipped):
    counts = shipped.counts()
    assert counts["module"] > 50 and counts["string_inverter"] > 50 and counts["microinverter"] >= 2
    for r in shipped.rows:
        assert r.source.title and r.source.date and r.source.kind
        if r.category == "module" and r.voc_v and r.vmp_v:
            assert r.voc_v > r.vmp_v and (r.isc_a is None or r.imp_a is None or r.isc_a > r.imp_a)
            assert r.beta_voc_pct_per_c is None or r.beta_voc_pct_per_c < 0
        if r.mppt_min_v and r.mppt_max_v:
            assert r.mppt_min_v < r.mppt_max_v <= (r.max_dc_voltage_v or 1e9)


def test_compilation_errors_are_rejected_not_shipped(shipped):
    # RSM144-6-330P in the compilation: Vmp 34.5 V × Imp 7.13 A = 246 W ≠ 330 W; SUN2000-10KTL: 1000 W vs 11000 VA
    models = {r.model for r in shipped.rows}
    assert "RSM144-6-330P" not in models and "SUN2000-10KTL" not in models
    provenance = (ROOT / "data" / "specs" / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "RSM144-6-330P" in provenance and "SUN2000-10KTL" in provenance


def test_kit_lines_of_the_catalog_match_their_models(shipped):
    deye = shipped.lookup(["microinverter", "string_inverter"],
                          "MICROINVERSOR DEYE 2.25KW (SUN-M225G4-EU-Q0-I) MONOFÁSICO 220V (4 MLPE)")
    assert deye.row and deye.row.max_dc_voltage_v == 60 and deye.row.mppt_count == 4
    snp = shipped.lookup(["module"], "SOLAR N PLUS | 600W N-TYPE BIFACIAL DG (21,9% EF.) | 78 CELLS", 600)
    assert snp.row and snp.row.voc_v == pytest.approx(55.85)
    # same brand, other power: not this row
    assert shipped.lookup(["module"], "SOLAR N PLUS | 570W N-TYPE BIFACIAL DG", 570).row is None


@pytest.mark.parametrize("text, model, mppts", [
    ("INVERSOR AUXSOL 3KW (SL) MONOFÁSICO 220V (1 MPPT) C/ AFCI", "ASN-3SL", 1),
    ("INVERSOR AUXSOL 5KW (SL-G2) MONOFÁSICO 220V (2 MPPT) C/ AFCI", "ASN-5SL-G2", 2),
    ("INVERSOR AUXSOL 6KW (SL-G2) MONOFÁSICO 220V (2MPPT) C/ AFCI", "ASN-6SL-G2", 2),
])
def test_auxsol_kit_lines_match_their_series_and_size(shipped, text, model, mppts):
    row = shipped.lookup(["string_inverter"], text).row
    assert row is not None and row.model == model and row.mppt_count == mppts
    assert row.max_dc_voltage_v == 550 and row.source.kind == "secondary"


def test_an_auxsol_of_another_size_or_series_is_not_matched(shipped):
    # the 10 kW SL has unequal MPPTs (32/16 A) that one per-MPPT value cannot hold: not in the registry
    assert shipped.lookup(["string_inverter"], "INVERSOR AUXSOL 10KW (SL) MONOFÁSICO 220V (2 MPPT) C/ AFCI").row is None
    assert shipped.lookup(["string_inverter"], "INVERSOR AUXSOL 5KW (SL) MONOFÁSICO 220V").row is None


def test_a_longer_model_code_is_another_model(shipped):
    assert shipped.lookup(["string_inverter"], "GOODWE GW10K-MS").row is not None
    assert shipped.lookup(["string_inverter"], "INVERSOR GOODWE GW10K-MS-G40 10KW").row is None


@pytest.mark.parametrize("bad, field, words", [
    (dict(vmp_v=52.0), "vmp_v", "menor que Voc"),
    (dict(imp_a=14.5), "imp_a", "menor que Isc"),
    (dict(beta_voc_pct_per_c=0.27), "beta_voc_pct_per_c", "negativo"),
    (dict(voc_v="abc"), "voc_v", "não é um número"),
    (dict(pmax_w=5000), "pmax_w", "fora da faixa"),
    (dict(source_date="ontem"), "source_date", "AAAA-MM"),
])
def test_invalid_values_are_named_by_line_and_field(bad, field, words):
    values = dict(category="module", manufacturer="Exemplo", model="EX-550", pmax_w=550, voc_v=49.9, vmp_v=41.9,
                  isc_a=13.9, imp_a=13.13, beta_voc_pct_per_c=-0.27)
    values.update(bad)
    rows, errors = parse_csv(HEADER + "\n" + MODULE_OK + "\n" + line(**values) + "\n")
    assert errors and errors[0].line == 3 and errors[0].field == field
    assert words in errors[0].message


def test_a_file_with_one_bad_line_imports_nothing(tmp_path):
    registry = SpecRegistry([], SpecOverrides(tmp_path / "specs.sqlite3"))
    bad = line(category="module", manufacturer="Outro", model="X-1", pmax_w=400, voc_v=30, vmp_v=40)
    with pytest.raises(InvalidInput) as exc:
        registry.import_csv(HEADER + "\n" + MODULE_OK + "\n" + bad + "\n")
    assert "linha 3, campo 'vmp_v'" in exc.value.message
    assert registry.rows == []
    before = registry.fingerprint()
    registry.import_csv(HEADER + "\n" + MODULE_OK + "\n")
    assert [r.model for r in registry.rows] == ["EX-550"] and registry.fingerprint() != before


def test_cli_import_and_its_errors(tmp_path, monkeypatch):
    from cli.root import build_cli

    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    good, bad = tmp_path / "ok.csv", tmp_path / "bad.csv"
    good.write_text(HEADER + "\n" + MODULE_OK + "\n", encoding="utf-8")
    bad.write_text(HEADER + "\n" + MODULE_OK.replace("-0.27", "0.27") + "\n", encoding="utf-8")
    runner = CliRunner()
    out = runner.invoke(build_cli(), ["specs", "import", str(bad)])
    assert out.exit_code == 2 and "linha 2, campo 'beta_voc_pct_per_c'" in out.output
    out = runner.invoke(build_cli(), ["specs", "import", str(good)])
    assert out.exit_code == 0, out.output
    assert "Exemplo EX-550" in out.output
    assert "Exemplo EX-550" in runner.invoke(build_cli(), ["specs", "list", "--category", "module"]).output
    get_settings.cache_clear()


@pytest.fixture
def api(tmp_path, monkeypatch):
    env = {"CATALOG__DB_PATH": tmp_path / "catalog.sqlite3", "COMMERCE__DB_PATH": tmp_path / "commerce.sqlite3",
           "COMMERCE__QUOTES_DB_PATH": tmp_path / "quotes.sqlite3", "AUTH__DB_PATH": tmp_path / "auth.sqlite3",
           "AUTH__PEPPER": "test-pepper", "ENV": "test", "VAR_DIR": tmp_path}
    for k, v in env.items():
        monkeypatch.setenv(k, str(v))
    get_settings.cache_clear()
    settings = Settings(_env_file=None)
    keys = make_key_store(settings)
    with TestClient(create_app(settings)) as client:
        yield client, {"X-API-Key": keys.create("admin").key}, {"X-API-Key": keys.create("sales_rep").key}
    get_settings.cache_clear()


@pytest.mark.slow  # the whole app (create_app and its lifespan): integration tier
def test_admin_route_imports_csv_and_json_and_refuses_others(api):
    client, admin, rep = api
    body = HEADER + "\n" + MODULE_OK + "\n"
    assert client.post("/v1/admin/specs", content=body, headers={**rep, "Content-Type": "text/csv"}).status_code == 403
    ok = client.post("/v1/admin/specs", content=body, headers={**admin, "Content-Type": "text/csv"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["imported"] == 1 and ok.json()["models"] == ["Exemplo EX-550"]
    listed = client.get("/v1/admin/specs?category=module", headers=admin).json()
    assert any(r["model"] == "EX-550" and r["source"]["title"] == "Folha de dados teste" for r in listed)
    bad = client.post("/v1/admin/specs", headers=admin, json={"rows": [
        {"category": "module", "manufacturer": "X", "model": "Y", "pmax_w": 400, "voc_v": 40, "vmp_v": 45,
         "source_title": "t", "source_date": "2025-01", "source_kind": "datasheet"}]})
    assert bad.status_code == 422
    err = bad.json()["error"]
    assert "linha 1, campo 'vmp_v'" in err["message"] and err["errors"][0]["field"] == "vmp_v"


@pytest.mark.parametrize("efficiency, ok", [(97.6, True), (100, False), (80, False)])
def test_inverter_efficiency_follows_the_catalog_rule(efficiency, ok):
    """One range for the registry and the catalog (90–99.5 %): the engine never silently drops
    a value the registry accepted."""
    inverter = line(category="string_inverter", manufacturer="Exemplo", model="EX-5K", ac_power_w=5000,
                    phase="single_phase", max_dc_voltage_v=600, mppt_min_v=80, mppt_max_v=550, mppt_count=2,
                    inputs_per_mppt=1, max_input_current_per_mppt_a=16, efficiency_pct=efficiency)
    rows, errors = parse_csv(HEADER + "\n" + inverter + "\n")
    if ok:
        assert not errors and rows[0].efficiency_pct == efficiency
    else:
        assert errors and errors[0].field == "efficiency_pct" and "90–99,5 %" in errors[0].message
