"""Catalog products → one searchable document each (name, category, specs, offers, stock).

The text is written in Portuguese with the usual English terms beside the domain words
(``trifásico (three-phase)``), because buyers ask in both and the default embedding model
is English-trained. Numbers keep their units so the sparse encoder's quantity tokens
(``10kw``, ``2mppt``) match queries such as "inversor trifásico 10 kW com 2 MPPT".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.catalog.models import Category, Phase, Product
from ingest.knowledge.documents import Block, SourceDoc, sha256_json
from app.core.text import format_brl, format_plain

CATEGORY_LABEL = {
    Category.MODULE: "Módulo fotovoltaico / painel solar (PV module, solar panel)",
    Category.INVERTER: "Inversor solar (inverter)",
    Category.BATTERY: "Bateria (battery, storage)",
    Category.STRUCTURE: "Estrutura de fixação (mounting structure)",
    Category.STRING_BOX: "String box (caixa de proteção CC)",
    Category.CABLE: "Cabo solar (cable)",
    Category.KIT: "Kit gerador fotovoltaico (solar kit)",
    Category.CHARGE_CONTROLLER: "Controlador de carga (charge controller)",
    Category.EV_CHARGER: "Carregador veicular (EV charger)",
    Category.ACCESSORY: "Acessório (accessory)",
}
PHASE_LABEL = {
    Phase.SINGLE: "monofásico (single-phase, 220 V)",
    Phase.TWO: "bifásico (two-phase)",
    Phase.THREE: "trifásico (three-phase, 380/220 V)",
}
SPEC_LABEL = {
    "pmax_w": ("Potência máxima (Pmax)", "W"), "voc_v": ("Tensão de circuito aberto (Voc)", "V"),
    "isc_a": ("Corrente de curto-circuito (Isc)", "A"), "vmp_v": ("Tensão de máxima potência (Vmp)", "V"),
    "imp_a": ("Corrente de máxima potência (Imp)", "A"),
    "temp_coeff_voc_pct_per_c": ("Coeficiente de temperatura Voc", "%/°C"),
    "temp_coeff_isc_pct_per_c": ("Coeficiente de temperatura Isc", "%/°C"),
    "temp_coeff_pmax_pct_per_c": ("Coeficiente de temperatura Pmax", "%/°C"),
    "efficiency_pct": ("Eficiência (efficiency)", "%"), "length_mm": ("Comprimento", "mm"),
    "width_mm": ("Largura", "mm"), "cells": ("Células (cells)", ""), "technology": ("Tecnologia", ""),
    "bifacial": ("Bifacial", ""), "inverter_type": ("Tipo de inversor", ""), "phase": ("Fase", ""),
    "ac_voltage_v": ("Tensão CA (AC voltage)", "V"), "ac_power_w": ("Potência nominal CA (AC power)", "W"),
    "max_dc_power_w": ("Potência CC máxima", "W"), "max_dc_voltage_v": ("Tensão CC máxima (max DC voltage)", "V"),
    "mppt_min_v": ("Tensão MPPT mínima", "V"), "mppt_max_v": ("Tensão MPPT máxima", "V"),
    "mppt_count": ("Número de MPPTs (MPPT trackers)", "MPPT"),
    "max_input_current_per_mppt_a": ("Corrente máxima por MPPT", "A"), "strings_per_mppt": ("Strings por MPPT", ""),
    "capacity_kwh": ("Capacidade (capacity)", "kWh"), "nominal_voltage_v": ("Tensão nominal", "V"),
    "chemistry": ("Química (chemistry)", ""), "cycles": ("Ciclos de vida (cycles)", ""),
    "depth_of_discharge_pct": ("Profundidade de descarga (DoD)", "%"), "roof_type": ("Tipo de telhado (roof)", ""),
    "modules_supported": ("Módulos suportados", ""),
}
INVERTER_TYPE_LABEL = {"grid_tie": "on-grid (grid-tie)", "hybrid": "híbrido (hybrid)", "off_grid": "off-grid",
                       "micro": "microinversor (microinverter)"}
_ROW_REF = re.compile(r"^[^#]+#\d+:(.+)$")


def upstream_ids(product: Product) -> list[str]:
    """Upstream row ids from provenance entries ``"<file>#<index>:<id>"`` (CEC refs ignored)."""
    out: list[str] = []
    for ref in product.provenance:
        m = _ROW_REF.match(ref)
        if m and m.group(1) not in ("?", "") and m.group(1) not in out:
            out.append(m.group(1))
    return out


def _fmt(value: object, unit: str) -> str:
    if isinstance(value, bool):
        return "sim" if value else "não"
    if isinstance(value, float):
        value = format_plain(value)
    text = str(getattr(value, "value", value))
    return f"{text} {unit}".strip()


def power_text(p: Product) -> str | None:
    if not p.power_w:
        return None
    kw = p.power_w / 1000
    if p.category is Category.MODULE:
        return f"{p.power_w:g} W ({p.power_w:g} Wp)"
    return f"{format_plain(kw)} kW ({p.power_w:g} W)" if kw < 1000 else f"{p.power_w:g} W"


def spec_rows(p: Product) -> list[str]:
    rows: list[str] = []
    for specs in (p.module, p.inverter, p.battery, p.structure):
        if specs is None:
            continue
        for name, value in specs.model_dump(exclude={"cec"}).items():
            if value is None:
                continue
            label, unit = SPEC_LABEL.get(name, (name, ""))
            if name == "phase":
                value = PHASE_LABEL.get(Phase(value), value)
            elif name == "inverter_type":
                value = INVERTER_TYPE_LABEL.get(str(value), value)
            rows.append(f"| {label} | {_fmt(value, unit)} |")
    return rows


def product_document(p: Product) -> SourceDoc:
    ids = upstream_ids(p)
    summary = [f"{p.name}.", f"Categoria: {CATEGORY_LABEL.get(p.category, p.category.value)}."]
    if p.manufacturer:
        summary.append(f"Fabricante (manufacturer): {p.manufacturer}.")
    if p.model:
        summary.append(f"Modelo: {p.model}.")
    if power := power_text(p):
        summary.append(f"Potência (power): {power}.")
    if p.phase:
        summary.append(f"Fase: {PHASE_LABEL.get(p.phase, p.phase.value)}.")
    if p.inverter and p.inverter.mppt_count:
        summary.append(f"{p.inverter.mppt_count} MPPT.")
    if p.price_brl is not None:
        summary.append(f"Preço a partir de {format_brl(p.price_brl)}.")
    summary.append("Em estoque (disponível)." if p.in_stock else "Sem estoque no momento (indisponível).")
    blocks = [Block(" ".join(summary))]
    rows = spec_rows(p)
    if rows:
        blocks.append(Block("| Especificação | Valor |\n|---|---|\n" + "\n".join(rows), kind="table"))
    if p.components:
        items = [f"- {c.quantity} × {c.description}" + (f" ({c.power_w:g} W)" if c.power_w else "") for c in p.components]
        blocks.append(Block("Composição do kit (bill of materials):\n" + "\n".join(items), kind="list"))
    if p.offers:
        offers = [
            f"- {o.distributor}: " + (format_brl(o.price_brl) if o.price_brl is not None else "preço sob consulta")
            + (", disponível" if o.available else ", indisponível")
            + (f", CD {o.distribution_center}" if o.distribution_center else "")
            for o in p.offers
        ]
        blocks.append(Block("Ofertas (price offers):\n" + "\n".join(offers), kind="list"))
    if p.description and p.description.strip() and p.description.strip() != p.name:
        blocks.append(Block(p.description.strip()))
    meta = {
        "category": p.category.value,
        "manufacturer": p.manufacturer,
        "model": p.model,
        "power_w": p.power_w,
        "product_ids": [p.id],
        "upstream_ids": ids,
    }
    return SourceDoc(
        source=f"catalog:{p.id}",
        doc_type="catalog",
        title=p.name,
        blocks=blocks,
        source_hash=sha256_json(p.model_dump(mode="json")),
        doc_keys=[f"catalog:{i}" for i in ids] or [f"catalog:{p.id}"],
        meta=meta,
    )


def catalog_documents(products: Iterable[Product]) -> list[SourceDoc]:
    return [product_document(p) for p in products]
