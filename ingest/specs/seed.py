"""Build ``data/specs/*.csv`` (the shipped spec registry) and its PROVENANCE.md.

Re-runnable: ``python -m ingest.specs.seed --compilation ../shared/data/datasheet-specs``.
Sources, in order (a later one replaces an earlier row of the same model):

1. the compilation of datasheet values in ``datasheet-specs/{modules,inverters}.csv``: every
   row is checked by the registry's rules (Voc > Vmp, Isc > Imp, β_Voc < 0, Pmax ≈ Vmp·Imp,
   MPPT window inside the DC limit…) plus one for this file (nominal ≤ max apparent power
   ≤ 1.25 × nominal); rejected rows are listed with the reason, never fixed by hand;
2. pvlib's CEC tables, for catalog modules/inverters they hold (same conservative rules as
   the catalog ingest: brand in the CEC name, same model code, power within 2 %/5 %);
3. ``data/specs/curated.csv``: rows engineers typed from the cited documents.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections import Counter
from pathlib import Path

from app.core.text import parse_decimal
from app.specs.match import alnum
from app.specs.models import SpecRow
from app.specs.registry import SEED_FILES, SpecRegistry
from app.specs.validate import RowError, parse_csv, row_from_dict, to_csv

ROOT = Path(__file__).resolve().parents[2]
COMPILATION_DATE = "2026-12"
COMPILATION_TITLE = "{brand} {model}: folha de dados do fabricante, valores da compilação 'datasheet-specs' (YSH)"


def _num(v: str) -> float | None:
    try:
        return parse_decimal(v)
    except (AttributeError, ValueError):
        return None


def compilation_rows(folder: Path) -> tuple[list[SpecRow], list[str]]:
    rows: list[SpecRow] = []
    rejected: list[str] = []
    src = {"source_url": "", "source_date": COMPILATION_DATE, "source_kind": "compilation"}
    with (folder / "modules.csv").open(encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh), start=2):
            data = {"category": "module", "manufacturer": r["Fabricante"].title(), "model": r["Modelo"],
                    "pmax_w": r["Potência Nominal (Wp)"], "voc_v": r["Voc (V)"], "vmp_v": r["Vpmax (V)"],
                    "isc_a": r["Isc (A)"], "imp_a": r["Ipmax (A)"],
                    "gamma_pmax_pct_per_c": r["Coef. Temp. Potência Nominal (%/°C)"],
                    "beta_voc_pct_per_c": r["Coef. Temp. Tensão de Circuito Aberto (%/°C)"],
                    "alpha_isc_pct_per_c": r["Coef. Temp. Corrente de Curto-Circuito (%/°C)"],
                    "length_mm": r["Comprimento (mm)"], "width_mm": r["Largura (mm)"],
                    "source_title": COMPILATION_TITLE.format(brand=r["Fabricante"].title(), model=r["Modelo"]), **src}
            row, errors = row_from_dict(data, i)
            _keep(row, errors, rows, rejected, f"modules.csv linha {i} ({r['Modelo']})")
    with (folder / "inverters.csv").open(encoding="utf-8") as fh:
        lines = fh.read().splitlines()[1:]  # line 1 groups the columns; line 2 is the header
    for i, r in enumerate(csv.DictReader(lines), start=3):
        nominal, max_va = _num(r["Potência Nominal (W)"]), _num(r["Potência máxima (VA)"])
        if nominal and max_va and not (0.99 * nominal <= max_va <= 1.25 * nominal):
            rejected.append(f"inverters.csv linha {i} ({r['Modelo']}): potência nominal {nominal:g} W incoerente com "
                            f"a máxima {max_va:g} VA")
            continue
        phase = "single_phase" if r["Monofásico / Bifásico"] == "Sim" else (
            "three_phase" if "Sim" in (r["Trifásico 3 fios"], r["Trifásico 4 fios"]) else "")
        data = {"category": "string_inverter", "manufacturer": r["Fabricante"].title(), "model": r["Modelo"],
                "ac_power_w": r["Potência Nominal (W)"], "phase": phase,
                "max_dc_voltage_v": r["Tensão máxima de partida do MPPT (Vcc)"],
                "startup_v": r["Tensão mínima de partida do MPPT (Vcc)"],
                "mppt_min_v": r["Tensão mínima de operação do MPPT (Vcc)"],
                "mppt_max_v": r["Tensão máxima de operação do MPPT (Vcc)"],
                "mppt_count": r["Quantidade de MPPT"], "inputs_per_mppt": r["Entradas por MPPT"],
                "max_input_current_per_mppt_a": r["Corrente máxima de operação do MPPT (Acc)"],
                "max_isc_per_mppt_a": r["Corrente de Curto circuito do MPPT (Acc)"],
                "source_title": COMPILATION_TITLE.format(brand=r["Fabricante"].title(), model=r["Modelo"]), **src}
        row, errors = row_from_dict(data, i)
        _keep(row, errors, rows, rejected, f"inverters.csv linha {i} ({r['Modelo']})")
    return rows, rejected


def _keep(row: SpecRow | None, errors: list[RowError], rows: list[SpecRow], rejected: list[str], where: str) -> None:
    if row is not None:
        rows.append(row)
    else:
        rejected.append(f"{where}: " + "; ".join(f"{e.field}: {e.message}" for e in errors))


def cec_rows(products) -> list[SpecRow]:
    """Rows for catalog modules/inverters the CEC tables hold (usually none: see cec.py)."""
    from ingest.catalog.cec import cec_tables, find_cec_inverter, find_cec_module

    modules, inverters = cec_tables()
    out = []
    for p in products:
        if p.module is not None and (e := find_cec_module(p, modules)):
            f = e.params
            data = {"category": "module", "manufacturer": p.manufacturer, "model": p.model, "pmax_w": f.get("STC"),
                    "voc_v": f.get("V_oc_ref"), "vmp_v": f.get("V_mp_ref"), "isc_a": f.get("I_sc_ref"),
                    "imp_a": f.get("I_mp_ref"), "gamma_pmax_pct_per_c": f.get("gamma_r"),
                    "beta_voc_pct_per_c": 100 * f["beta_oc"] / f["V_oc_ref"] if f.get("beta_oc") else None}
        elif p.inverter is not None and (e := find_cec_inverter(p, inverters)):
            f = e.params
            data = {"category": "string_inverter", "manufacturer": p.manufacturer, "model": p.model,
                    "ac_power_w": f.get("Paco"), "max_dc_voltage_v": f.get("Vdcmax"), "mppt_min_v": f.get("Mppt_low"),
                    "mppt_max_v": f.get("Mppt_high")}
        else:
            continue
        data.update(source_title=f"CEC: {e.name}", source_url="", source_date="2019-03-05", source_kind="cec")
        row, _ = row_from_dict({k: ("" if v is None else str(v)) for k, v in data.items()}, 0)
        if row is not None:
            out.append(row)
    return out


def catalog_products(catalog_dir: Path):
    from app.catalog.store import SQLiteCatalogStore
    from ingest.catalog.pipeline import run_catalog_ingest

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteCatalogStore(Path(tmp) / "catalog.sqlite3")
        run_catalog_ingest(catalog_dir, store, Path(tmp) / "reports")
        return list(store.iter_products())


def coverage(registry: SpecRegistry, products) -> tuple[Counter, list[str]]:
    """How many in-stock catalog products / kit lines each row matches."""
    from app.catalog.models import Category

    hits: Counter = Counter()
    unmatched: Counter = Counter()
    for p in products:
        if not p.in_stock:
            continue
        texts = []
        if p.category is Category.KIT:
            texts = [(["module"], c.description + " " + (c.manufacturer or ""), c.power_w) for c in p.components
                     if c.category is Category.MODULE]
            texts += [(["microinverter", "string_inverter"], c.description + " " + (c.manufacturer or ""), None)
                      for c in p.components if c.category is Category.INVERTER and c.power_w]
        elif p.category in (Category.MODULE, Category.INVERTER):
            cats = ["module"] if p.category is Category.MODULE else ["string_inverter", "microinverter"]
            texts = [(cats, " ".join(x for x in (p.manufacturer, p.name, p.model) if x), p.power_w)]
        for cats, text, power in texts:
            found = registry.lookup(cats, text, power)
            if found.row:
                hits[found.row.label()] += 1
            else:
                unmatched[text.strip()[:70]] += 1
    return hits, [f"{n} × {t}" for t, n in unmatched.most_common(15)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compilation", type=Path, default=ROOT.parent / "shared" / "data" / "datasheet-specs")
    ap.add_argument("--catalog", type=Path, default=ROOT / "data" / "catalog")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "specs")
    args = ap.parse_args()

    rows, rejected = compilation_rows(args.compilation)
    products = catalog_products(args.catalog)
    cec = cec_rows(products)
    curated, errors = parse_csv((args.out / "curated.csv").read_text(encoding="utf-8"))
    if errors:
        raise SystemExit("curated.csv: " + "; ".join(map(str, errors)))
    by_key = {}
    for r in [*rows, *cec, *curated]:
        by_key[r.key] = r
    final = sorted(by_key.values(), key=lambda r: (r.category, alnum(r.manufacturer), alnum(r.model)))
    for category, name in SEED_FILES.items():
        (args.out / name).write_text(to_csv([r for r in final if r.category == category]), encoding="utf-8")
    registry = SpecRegistry(final)
    hits, unmatched = coverage(registry, products)
    counts = Counter(r.category for r in final)
    kinds = Counter(r.source.kind for r in final)
    lines = [
        "# Registro de specs elétricas: proveniência", "",
        "Gerado por `python -m ingest.specs.seed` (re-executável). Cada linha dos CSV traz a fonte dos seus",
        "valores (`source_title`, `source_url`, `source_date`, `source_kind`). Importações de engenheiros",
        "(`helio specs import`, `POST /v1/admin/specs`) ficam em `var/specs.sqlite3` e substituem a linha",
        "do mesmo fabricante + modelo.", "",
        "## Fontes", "",
        f"1. Compilação `datasheet-specs` (shared/data, {COMPILATION_DATE}): {len(rows)} linhas aceitas, "
        f"{len(rejected)} rejeitadas pelas regras (abaixo). Os valores são de folhas de dados dos fabricantes",
        "   segundo a compilação; foram conferidos por regras de consistência, não contra os PDFs.",
        f"2. Banco CEC do pvlib (2019-03-05): {len(cec)} modelos do catálogo encontrados (o banco vai até ≈510 W e",
        "   não traz as versões brasileiras dos inversores: ver ingest/catalog/cec.py).",
        f"3. `curated.csv`: {len(curated)} linhas digitadas de documentos citados em cada linha (fontes secundárias",
        "   marcadas `secondary`: conferir com a folha do fabricante).", "",
        f"Total: {dict(counts)}; por tipo de fonte: {dict(kinds)}.", "",
        "## Linhas rejeitadas da compilação", "", *(f"- {x}" for x in rejected), "",
        "## Correspondência com o catálogo (produtos e linhas de kits em estoque)", "",
        *(f"- {label}: {n}" for label, n in hits.most_common()), "",
        "Sem specs no registro (mais frequentes):", "", *(f"- {x}" for x in unmatched), "",
    ]
    (args.out / "PROVENANCE.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(final)} linhas; {len(rejected)} rejeitadas; correspondências: {sum(hits.values())}")


if __name__ == "__main__":
    main()
