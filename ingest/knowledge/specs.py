"""Typed specs read from datasheet tables (``| label | value | … |`` rows, PDF or Markdown).

Each label is matched (accents folded, case ignored) against patterns for the fields of
:class:`~app.catalog.models.ModuleSpecs` / ``InverterSpecs`` / ``BatterySpecs``; values are
parsed with their unit (``10 kW`` → 10000 W, ``2278 × 1134 × 35 mm`` → length and width).
Rows whose value says the source does not inform it are ignored: never invent a spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.retrieval.text import fold, parse_number
from ingest.knowledge.documents import Block

_NUM = r"((?<![\w/])-?\d+(?:[.,]\d+)*|\d+(?:[.,]\d+)*)"
_MISSING = re.compile(r"nao inform|n/?a\b|^[-—–]+$|^$|sem dado|not (?:given|available)")


@dataclass(frozen=True)
class ExtractedSpec:
    group: str  # "module" | "inverter" | "battery"
    field: str
    value: Any
    label: str
    raw: str
    page: int | None


def _number(raw: str) -> float | None:
    m = re.search(_NUM, raw)
    return parse_number(m.group(1)) if m else None


def parse_power_w(raw: str) -> float | None:
    m = re.search(_NUM + r"\s*(kwp|kw|wp|w)\b", fold(raw))
    if not m:
        return None
    value = parse_number(m.group(1))
    if value is None:
        return None
    return value * 1000 if m.group(2).startswith("k") else value


def _unit(unit: str):
    def parse(raw: str) -> float | None:
        # "220-230 V" is a range: the first number is the nominal value
        m = re.search(_NUM + r"(?:\s*[-/–]\s*\d+(?:[.,]\d+)*)?\s*" + unit + r"\b", fold(raw))
        return parse_number(m.group(1)) if m else None

    return parse


def _int(raw: str) -> int | None:
    v = _number(raw)
    return int(v) if v is not None and float(v).is_integer() else None


def _pct(raw: str) -> float | None:
    m = re.search(_NUM + r"\s*%", raw)
    return parse_number(m.group(1)) if m else None


def _phase(raw: str) -> str | None:
    f = fold(raw)
    for key, value in (("trifas", "three_phase"), ("three", "three_phase"), ("bifas", "two_phase"),
                       ("monofas", "single_phase"), ("single", "single_phase")):
        if key in f:
            return value
    return None


def _inverter_type(raw: str) -> str | None:
    f = fold(raw)
    for key, value in (("hibrid", "hybrid"), ("hybrid", "hybrid"), ("micro", "micro"), ("off-grid", "off_grid"),
                       ("off grid", "off_grid"), ("grid-tie", "grid_tie"), ("on-grid", "grid_tie"), ("string", "grid_tie")):
        if key in f:
            return value
    return None


def _bool(raw: str) -> bool | None:
    f = fold(raw).strip()
    return True if f.startswith(("sim", "yes")) else False if f.startswith(("nao", "no")) else None


def _dims(raw: str) -> tuple[float, float] | None:
    m = re.search(_NUM + r"\s*[x×]\s*" + _NUM, raw)
    if not m:
        return None
    a, b = parse_number(m.group(1)), parse_number(m.group(2))
    return (a, b) if a and b else None


def _range_v(raw: str) -> tuple[float, float] | None:
    m = re.search(_NUM + r"\s*(?:v\s*)?(?:-|–|—|a|to|até)\s*" + _NUM + r"\s*v", fold(raw))
    if not m:
        return None
    lo, hi = parse_number(m.group(1)), parse_number(m.group(2))
    return (lo, hi) if lo is not None and hi is not None and lo < hi else None


# (group, label regex on folded text, field, parser). First match wins; order matters.
RULES: list[tuple[str, str, str, Any]] = [
    ("module", r"coef.*(voc|tensao)", "temp_coeff_voc_pct_per_c", _pct),
    ("module", r"coef.*(isc|corrente)", "temp_coeff_isc_pct_per_c", _pct),
    ("module", r"coef.*(pmax|pmp|potencia)", "temp_coeff_pmax_pct_per_c", _pct),
    ("module", r"potencia maxima|pmax|potencia nominal", "pmax_w", parse_power_w),
    ("module", r"circuito aberto|\bvoc\b", "voc_v", _unit("v")),
    ("module", r"curto.circuito|\bisc\b", "isc_a", _unit("a")),
    ("module", r"tensao de maxima potencia|\bvmp", "vmp_v", _unit("v")),
    ("module", r"corrente de maxima potencia|\bimp\b", "imp_a", _unit("a")),
    ("module", r"eficiencia", "efficiency_pct", _pct),
    ("module", r"dimens", "dims", _dims),
    ("module", r"celulas|cells", "cells", _int),
    ("module", r"tecnologia|technology", "technology", lambda r: re.split(r"\s*[(,;]", r.strip())[0] or None),
    ("module", r"bifacial", "bifacial", _bool),
    ("inverter", r"numero de mppt|mppts?\b.*(quant|numero)|^mppts?$", "mppt_count", _int),
    ("inverter", r"faixa.*mppt|mppt.*(faixa|range)", "mppt_range", _range_v),
    ("inverter", r"corrente.*por (mppt|entrada)", "max_input_current_per_mppt_a", _unit("a")),
    ("inverter", r"strings? por mppt", "strings_per_mppt", _int),
    ("inverter", r"tensao cc maxima|tensao maxima (cc|de entrada)|vdcmax", "max_dc_voltage_v", _unit("v")),
    ("inverter", r"potencia (cc|fv) maxima|potencia maxima (cc|fv|de entrada)", "max_dc_power_w", parse_power_w),
    ("inverter", r"potencia nominal ca|potencia (ca|de saida) nominal|paco", "ac_power_w", parse_power_w),
    ("inverter", r"^fases?$|fase de saida|conexao", "phase", _phase),
    ("inverter", r"tensao ca|tensao nominal ca|tensao de saida", "ac_voltage_v", _unit("v")),
    ("inverter", r"eficiencia", "efficiency_pct", _pct),
    ("inverter", r"^tipo$|tipo de inversor", "inverter_type", _inverter_type),
    ("battery", r"capacidade", "capacity_kwh", _unit("kwh")),
    ("battery", r"tensao nominal", "nominal_voltage_v", _unit("v")),
    ("battery", r"quimica|chemistry", "chemistry", lambda r: r.strip() or None),
    ("battery", r"ciclos|cycles", "cycles", _int),
    ("battery", r"profundidade de descarga|\bdod\b", "depth_of_discharge_pct", _pct),
]

GROUP_OF_CATEGORY = {"module": "module", "inverter": "inverter", "battery": "battery"}


def table_rows(block: Block) -> list[tuple[str, str]]:
    """``(label, value)`` of each ``| label | value | …`` row (header/separator rows dropped)."""
    rows = []
    for line in block.text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or set("".join(cells)) <= set("-: ") or fold(cells[0]) in ("parametro", "campo", "especificacao"):
            continue
        rows.append((cells[0], cells[1]))
    return rows


def extract_specs(blocks: list[Block], category: str | None) -> list[ExtractedSpec]:
    """Specs of the datasheet's product category found in its tables (first value wins)."""
    group = GROUP_OF_CATEGORY.get(category or "")
    if group is None:
        return []
    found: dict[str, ExtractedSpec] = {}
    for block in blocks:
        if block.kind != "table":
            continue
        for label, raw in table_rows(block):
            if _MISSING.search(fold(raw).strip()):
                continue
            flabel = fold(label).strip()
            for rule_group, pattern, field, parse in RULES:
                if rule_group != group or not re.search(pattern, flabel):
                    continue
                value = parse(raw)
                if value is None:
                    break
                pairs = {"dims": ("length_mm", "width_mm"), "mppt_range": ("mppt_min_v", "mppt_max_v")}
                if field in pairs:
                    for name, v in zip(pairs[field], (max(value), min(value)) if field == "dims" else value, strict=True):
                        found.setdefault(name, ExtractedSpec(group, name, v, label, raw, block.page))
                else:
                    found.setdefault(field, ExtractedSpec(group, field, value, label, raw, block.page))
                break
    return list(found.values())
