"""The datasheet corpus is generated from data (data/knowledge/datasheets/sources.yaml) by
scripts/build_datasheets.py: the committed files are what the facts produce, every fact's
evidence is in the export, and CEC values come from the catalog ingest's matcher."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASHEETS = ROOT / "data" / "knowledge" / "datasheets"


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_datasheets", ROOT / "scripts" / "build_datasheets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_every_committed_datasheet_is_declared_in_the_sources(build):
    products = build.load_products()
    files = {p.name for p in DATASHEETS.iterdir() if p.suffix in (".pdf", ".md") and p.name != "PROVENANCE.md"}
    assert {p.filename for p in products} == files
    assert len(products) == 54


def test_evidence_missing_from_the_export_stops_the_build(build):
    products = build.load_products()
    texts = build.load_row_texts(ROOT / "data" / "catalog")
    assert build.check_evidence(products, texts) == []
    p = products[0]
    wrong = replace(p, facts=[replace(p.facts[0], evidence="Painel Solar Inventado 999W")] + p.facts[1:])
    errors = build.check_evidence([wrong, *products[1:]], texts)
    assert errors == [f"{p.slug}: evidence 'Painel Solar Inventado 999W' for {p.facts[0].label!r} not found"]


@pytest.mark.slow  # reads the CEC tables (~1–3 s)
def test_cec_values_come_from_the_catalog_ingests_matcher(build):
    from ingest.catalog.cec import cec_tables

    modules, inverters = cec_tables()
    fact = build.F(build.EL, "Potência máxima (Pmax, STC)", "400 W", "x")
    module = build.Product("cs3w-400p", "module", "Canadian Solar", "CS3W-400P", "Módulo CS3W-400P", [], [fact],
                           cec_model="CS3W-400P")
    sheet = build.build_sheet(module, modules, inverters, "test")
    assert sheet.cec_entry == "Canadian Solar Inc. CS3W-400P"
    rows = {label: (value, src) for _, rows in sheet.sections for label, value, src in rows}
    assert rows["Tensão de circuito aberto (Voc)"][1] == "CEC" and rows["Tensão de circuito aberto (Voc)"][0].endswith(" V")
    assert "," in rows["Tensão de circuito aberto (Voc)"][0]  # Brazilian decimal comma
    # same code, power 10 % off: not the same product, nothing taken from the CEC
    other = replace(module, facts=[replace(fact, value="440 W")])
    assert build.cec_match(other, modules, inverters) == (None, "nenhuma entrada com o mesmo fabricante e código de modelo")
    assert build.cec_match(replace(module, cec_model=""), modules, inverters)[0] is None


@pytest.mark.slow
def test_check_mode_reproduces_the_committed_files_and_catches_a_hand_edit(build, tmp_path, capsys):
    assert build.main(["--check"]) == 0
    edited = tmp_path / "datasheets"
    shutil.copytree(DATASHEETS, edited)
    md = next(edited.glob("*.md"))
    md.write_text(md.read_text(encoding="utf-8").replace("|", "¦", 1), encoding="utf-8")
    (edited / "sobrando.pdf").write_bytes(b"%PDF-1.4")
    assert build.main(["--check", "--out", str(edited)]) == 1
    err = capsys.readouterr().err
    assert f"difere: {md.name}" in err and "não gerado pelas fontes: sobrando.pdf" in err
