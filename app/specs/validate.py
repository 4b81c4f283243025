"""Reading and checking spec rows (CSV files, API rows): every problem named by line and field.

Checks (Portuguese messages): required columns; numbers where numbers go (decimal point or
comma); plausible ranges; Voc > Vmp, Isc > Imp, β_Voc < 0, Pmax ≈ Vmp × Imp (±3 %);
MPPT mín < máx ≤ tensão CC máxima; corrente de curto ≥ corrente de operação. A file with any
error is rejected whole: nothing is half-imported.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from typing import Any

from app.catalog.rules import rule
from app.core.text import format_plain, parse_decimal
from app.specs.models import CATEGORIES, CSV_COLUMNS, INVERTER_FIELDS, MODULE_FIELDS, SOURCE_KINDS, SpecRow, SpecSource

# field → (min, max, unit) of a plausible value
RANGES: dict[str, tuple[float, float, str]] = {
    "pmax_w": (20, 1000, "W"),
    "voc_v": (5, 120, "V"),
    "vmp_v": (4, 110, "V"),
    "isc_a": (0.5, 30, "A"),
    "imp_a": (0.5, 30, "A"),
    "beta_voc_pct_per_c": (-0.6, -0.1, "%/°C"),
    "alpha_isc_pct_per_c": (0.0, 0.15, "%/°C"),
    "gamma_pmax_pct_per_c": (-0.6, -0.15, "%/°C"),
    "length_mm": (500, 3000, "mm"),
    "width_mm": (300, 1500, "mm"),
    "cells": (30, 240, ""),
    "ac_power_w": (100, 400000, "W"),
    "max_dc_voltage_v": (20, 1600, "V"),
    "startup_v": (5, 1200, "V"),
    "mppt_min_v": (5, 1500, "V"),
    "mppt_max_v": (10, 1600, "V"),
    "mppt_count": (1, 40, ""),
    "inputs_per_mppt": (1, 10, ""),
    "max_input_current_per_mppt_a": (1, 100, "A"),
    "max_isc_per_mppt_a": (1, 150, "A"),
}
INT_FIELDS = {"cells", "mppt_count", "inputs_per_mppt"}


def _range(name: str) -> tuple[float, float, str]:
    """Plausible range of a spec field; inverter efficiency uses the catalog's declared rule, so
    the registry and the catalog hold one range (and the engine uses every value it accepts)."""
    if name == "efficiency_pct":
        r = rule("inverter_efficiency")
        return r.min, r.max, r.unit
    return RANGES[name]
MICRO_MAX_DC_V = 120.0  # module-level electronics: an input above this is a string inverter's
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
PHASES = {"single_phase": "single_phase", "two_phase": "two_phase", "three_phase": "three_phase",
          "monofasico": "single_phase", "bifasico": "two_phase", "trifasico": "three_phase"}


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"linha {self.line}, campo '{self.field}': {self.message}"


def _number(raw: str) -> float:
    v = parse_decimal(raw.replace(" ", ""))
    if not math.isfinite(v):
        raise ValueError
    return v


def row_from_dict(data: dict[str, Any], line: int) -> tuple[SpecRow | None, list[RowError]]:
    """One row from column → text (or number) values; ``(None, errors)`` when invalid."""
    errors: list[RowError] = []

    def err(field: str, message: str) -> None:
        errors.append(RowError(line, field, message))

    def text(name: str) -> str:
        v = data.get(name)
        return "" if v is None else str(v).strip()

    category = text("category")
    if category not in CATEGORIES:
        err("category", f"'{category}' não é uma categoria; use {', '.join(CATEGORIES)}")
        return None, errors
    for name in ("manufacturer", "model", "source_title", "source_date", "source_kind"):
        if not text(name):
            err(name, "obrigatório")
    kind = text("source_kind")
    if kind and kind not in SOURCE_KINDS:
        err("source_kind", f"'{kind}' não é aceito; use {', '.join(SOURCE_KINDS)}")
    if text("source_date") and not _DATE.match(text("source_date")):
        err("source_date", "use AAAA-MM ou AAAA-MM-DD")

    own = MODULE_FIELDS if category == "module" else INVERTER_FIELDS
    other = INVERTER_FIELDS if category == "module" else MODULE_FIELDS
    values: dict[str, Any] = {}
    for name in other:
        if text(name):
            err(name, f"não se aplica à categoria {category}")
    for name in own:
        raw = text(name)
        if not raw:
            continue
        if name == "phase":
            phase = PHASES.get(raw.lower())
            if phase is None:
                err(name, f"'{raw}' inválido; use single_phase, two_phase ou three_phase")
            else:
                values[name] = phase
            continue
        try:
            v = _number(raw)
        except ValueError:
            err(name, f"'{raw}' não é um número")
            continue
        lo, hi, unit = _range(name)
        if name == "beta_voc_pct_per_c" and v >= 0:
            err(name, f"β_Voc = {format_plain(v)} %/°C: deve ser negativo (a tensão cai com a temperatura)")
            continue
        if not lo <= v <= hi:
            err(name, f"{format_plain(v)} {unit} fora da faixa plausível {format_plain(lo)}–{format_plain(hi)} "
                      f"{unit}".replace("  ", " "))
            continue
        if name in INT_FIELDS:
            if not float(v).is_integer():
                err(name, f"{format_plain(v)} deve ser um número inteiro")
                continue
            v = int(v)
        values[name] = v

    g = values.get
    if category == "module":
        if g("pmax_w") is None:
            err("pmax_w", "obrigatório (potência STC do modelo)")
        if g("voc_v") is not None and g("vmp_v") is not None and not g("voc_v") > g("vmp_v"):
            err("vmp_v", f"Vmp {format_plain(g('vmp_v'))} V deve ser menor que Voc {format_plain(g('voc_v'))} V")
        if g("isc_a") is not None and g("imp_a") is not None and not g("isc_a") > g("imp_a"):
            err("imp_a", f"Imp {format_plain(g('imp_a'))} A deve ser menor que Isc {format_plain(g('isc_a'))} A")
        if all(g(k) is not None for k in ("pmax_w", "vmp_v", "imp_a")):
            product = g("vmp_v") * g("imp_a")
            if abs(product - g("pmax_w")) > 0.03 * g("pmax_w"):
                err("pmax_w", f"Vmp × Imp = {product:.0f} W não bate com Pmax {format_plain(g('pmax_w'))} W (tolerância 3 %)")
        if g("length_mm") is not None and g("width_mm") is not None and g("width_mm") > g("length_mm"):
            err("width_mm", "largura maior que o comprimento: colunas trocadas?")
    else:
        if g("ac_power_w") is None:
            err("ac_power_w", "obrigatório (potência CA nominal)")
        vmax, lo, hi = g("max_dc_voltage_v"), g("mppt_min_v"), g("mppt_max_v")
        if lo is not None and hi is not None and not lo < hi:
            err("mppt_min_v", f"MPPT mínimo {format_plain(lo)} V deve ser menor que o máximo {format_plain(hi)} V")
        if vmax is not None and hi is not None and hi > vmax:
            err("mppt_max_v", f"MPPT máximo {format_plain(hi)} V acima da tensão CC máxima {format_plain(vmax)} V")
        if vmax is not None and g("startup_v") is not None and g("startup_v") > vmax:
            err("startup_v", f"tensão de partida {format_plain(g('startup_v'))} V acima da máxima {format_plain(vmax)} V")
        imax, isc = g("max_input_current_per_mppt_a"), g("max_isc_per_mppt_a")
        if imax is not None and isc is not None and isc < imax:
            err("max_isc_per_mppt_a", f"corrente de curto {format_plain(isc)} A menor que a de operação {format_plain(imax)} A")
        if category == "microinverter" and vmax is not None and vmax > MICRO_MAX_DC_V:
            err("max_dc_voltage_v", f"{format_plain(vmax)} V é tensão de inversor string, não de microinversor "
                                    f"(máx. {format_plain(MICRO_MAX_DC_V)} V)")
    if errors:
        return None, errors
    source = SpecSource(title=text("source_title"), url=text("source_url") or None, date=text("source_date"),
                        kind=kind)  # type: ignore[arg-type]
    row = SpecRow(category=category, manufacturer=text("manufacturer"), model=text("model"),  # type: ignore[arg-type]
                  match=text("match"), source=source, notes=text("notes"), **values)
    return row, []


def parse_csv(content: str) -> tuple[list[SpecRow], list[RowError]]:
    """Rows of a CSV text (header line 1; data from line 2). Unknown columns are errors."""
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    header = reader.fieldnames or []
    errors: list[RowError] = []
    if not header:
        return [], [RowError(1, "cabeçalho", "arquivo vazio ou sem cabeçalho")]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    for h in unknown:
        errors.append(RowError(1, h, "coluna desconhecida; colunas aceitas: " + ", ".join(CSV_COLUMNS)))
    if "category" not in header:
        errors.append(RowError(1, "category", "coluna obrigatória ausente"))
    if errors:
        return [], errors
    rows: list[SpecRow] = []
    seen: dict[tuple, int] = {}
    for i, data in enumerate(reader, start=2):
        if not any((v or "").strip() for v in data.values() if isinstance(v, str)):
            continue
        row, errs = row_from_dict(data, i)
        errors.extend(errs)
        if row is not None:
            if row.key in seen:
                errors.append(RowError(i, "model", f"repete o modelo da linha {seen[row.key]}"))
                continue
            seen[row.key] = i
            rows.append(row)
    return rows, errors


def to_csv(rows: list[SpecRow]) -> str:
    """Rows back to CSV in the registry's column order (empty cells for missing values)."""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows:
        d = r.model_dump(exclude={"source"})
        d.update(source_title=r.source.title, source_url=r.source.url or "", source_date=r.source.date,
                 source_kind=r.source.kind)
        w.writerow({k: ("" if d.get(k) is None else (f"{d[k]:g}" if isinstance(d[k], float) else d[k]))
                    for k in CSV_COLUMNS})
    return out.getvalue()
