"""One distributor listing (all export rows sharing an upstream id) → a typed product draft.

The export holds most listings twice (a "consolidated" portal scrape and a "unified"
copy with a normalised manufacturer, a model field and power in kW). The portal scrape
is the witness for price and availability; either copy may carry the better text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.catalog.models import (
    BatterySpecs,
    Category,
    InverterSpecs,
    InverterType,
    ModuleSpecs,
    Offer,
    Product,
    QualityNote,
    StructureSpecs,
)
from ingest.catalog.classify import FILE_CATEGORY, classify, inverter_type, roof_type
from ingest.catalog.prices import cents_suspect, parse_brl_price, resolve_row_price
from ingest.catalog.source import RawRow, distributor_of
from ingest.catalog.specs import (
    parse_battery_kwh,
    parse_mppt_count,
    parse_modules_supported,
    parse_module_efficiency_pct,
    parse_module_technology,
    parse_phase,
    parse_power_w,
    parse_voltages_v,
    plausible_efficiency_pct,
)
from app.core.text import fold
from ingest.catalog.text import (
    alnum_key, brand_in_text, canonical_brand, clean_text, derive_name, extract_model, is_truncated, is_url, rejoin_split,
)

# Fields the sizing engine needs, with the reason given when no trusted source has them.
MODULE_SIZING_FIELDS = ("voc_v", "isc_a", "vmp_v", "imp_a", "temp_coeff_voc_pct_per_c", "length_mm", "width_mm")
INVERTER_SIZING_FIELDS = (
    "max_dc_voltage_v", "mppt_min_v", "mppt_max_v", "max_input_current_per_mppt_a", "mppt_count", "phase",
    "ac_power_w",
)
_NO_SOURCE = "não informado no export do distribuidor nem encontrado no banco CEC"
_PHASES_UPSTREAM = {"monofasico": "mono", "bifasico": "bi", "trifasico": "tri"}


@dataclass
class Listing:
    """A cleaned listing: product draft (id not yet assigned) + its offer + identity key."""

    refs: list[str]
    source_id: str
    filed_as: Category
    category_reason: str
    product: Product
    offer: Offer
    key: str
    warnings: list[str] = field(default_factory=list)


def shifted_name(row: dict) -> str | None:
    """The product name when the export shifted columns and put it in ``price``.

    Solfácil module rows read name=<image URL or brand>, price="MODULO FOTOVOLTAICO
    585W - HANERSUN - …", description=<model code>. A ``price`` that does not parse as a
    price and holds words is that shifted name.
    """
    text = clean_text(row.get("price") if isinstance(row.get("price"), str) else None)
    if text and parse_brl_price(text) is None and len(re.findall(r"[A-Za-zÀ-ÿ]{3,}", text)) >= 2:
        return text
    return None


def _primary(rows: list[RawRow]) -> RawRow:
    """The portal scrape ("consolidated") when present: its price/availability are first-hand."""
    for r in rows:
        if (r.data.get("metadata") or {}).get("source") == "consolidated":
            return r
    return rows[0]


def _best_description(rows: list[RawRow], name: str) -> str | None:
    texts = [clean_text(r.data.get("description")) for r in rows]
    good = [t for t, r in zip(texts, rows) if t and not is_url(t) and not is_truncated(r.data.get("description"))]
    pool = good or [t for t in texts if t and not is_url(t)]
    if not pool:
        return None
    best = max(pool, key=len)
    return None if best == name else best


def _price(rows: list[RawRow], primary: RawRow, warnings: list[str]) -> float | None:
    prices = []
    for r in rows:
        value, note = resolve_row_price(r.data)
        if note:
            warnings.append(f"{r.ref}: {note}")
        if value is not None:
            prices.append((r is primary, value))
    if not prices:
        return None
    values = [v for _, v in prices]
    if any(cents_suspect(a, b) for a in values for b in values):
        # One copy turned cents into reais ("911.78" became "R$ 91.178,00").
        warnings.append(f"{primary.ref}: preços {sorted(set(values))} diferem por 100×; usado o menor")
        return min(values)
    return next((v for is_p, v in prices if is_p), values[0])


def _upstream_specs(rows: list[RawRow]) -> dict:
    merged: dict = {}
    for r in rows:
        ts = r.data.get("technical_specs")
        if isinstance(ts, dict):
            for k, v in ts.items():
                merged.setdefault(k, v)
    return merged


def _module(name: str, text: str, ts: dict, p: Product) -> None:
    specs = ModuleSpecs(pmax_w=p.power_w)
    if p.power_w:
        p.spec_sources["pmax_w"] = "name"
    eff = parse_module_efficiency_pct(text)
    if eff is not None:
        specs.efficiency_pct, p.spec_sources["efficiency_pct"] = eff, "name"
    else:
        eff, why = plausible_efficiency_pct(ts.get("efficiency"), kind="module", power_w=p.power_w)
        if eff is not None:
            specs.efficiency_pct, p.spec_sources["efficiency_pct"] = eff, "upstream.technical_specs"
        elif why:
            _copied(p, "module_efficiency", "module.efficiency_pct", ts.get("efficiency"), why)
    tech, bifacial = parse_module_technology(text)
    if tech is None and isinstance(ts.get("technology"), str):
        tech, _ = parse_module_technology(ts["technology"])
    if tech:
        specs.technology, p.spec_sources["technology"] = tech, "name"
    if bifacial:
        specs.bifacial, p.spec_sources["bifacial"] = True, "name"
    p.module = specs


def _inverter(name: str, text: str, ts: dict, rows: list[RawRow], p: Product) -> None:
    upstream_type = next((r.data.get("type") for r in rows if r.data.get("type")), None) or ts.get("type")
    itype, why = inverter_type(name + " " + (p.description or ""), str(upstream_type or ""))
    specs = InverterSpecs(inverter_type=itype, ac_power_w=p.power_w)
    p.spec_sources["inverter_type"] = f"name ({why})"
    if p.power_w:
        p.spec_sources["ac_power_w"] = "name"
    phase = parse_phase(text)
    if phase:
        p.spec_sources["phase"] = "name"
    elif isinstance(ts.get("phases"), str) and fold(ts["phases"]) in _PHASES_UPSTREAM:
        phase = parse_phase(ts["phases"])
        p.spec_sources["phase"] = "upstream.technical_specs"
    specs.phase = p.phase = phase
    _, ac_v = parse_voltages_v(text)
    if ac_v:
        specs.ac_voltage_v, p.spec_sources["ac_voltage_v"] = ac_v, "name"
    mppt = parse_mppt_count(text)
    if mppt:
        specs.mppt_count, p.spec_sources["mppt_count"] = mppt, "name"
    elif itype is not InverterType.MICRO and isinstance(ts.get("mppt_trackers"), int) and 0 < ts["mppt_trackers"] <= 12:
        specs.mppt_count, p.spec_sources["mppt_count"] = ts["mppt_trackers"], "upstream.technical_specs"
    eff, why = plausible_efficiency_pct(
        ts.get("efficiency"), kind="inverter", power_w=p.power_w, power_kw=(p.power_w or 0) / 1000 or None
    )
    if eff is not None:
        specs.efficiency_pct, p.spec_sources["efficiency_pct"] = eff, "upstream.technical_specs"
    elif why:
        _copied(p, "inverter_efficiency", "inverter.efficiency_pct", ts.get("efficiency"), why)
    if p.power_w is None:
        # No power in the text: the export's own field is the claim, as it states it; the
        # power_stated rule judges it (and reads its unit from the model code) at ingestion.
        claim = next(((v, k) for k in ("power_w", "power_kw") if isinstance(v := ts.get(k), int | float)
                      and not isinstance(v, bool) and v > 0), None)
        if claim:
            value = float(claim[0]) * (1000.0 if claim[1] == "power_kw" else 1.0)
            p.power_w = specs.ac_power_w = value
            p.spec_sources["ac_power_w"] = f"upstream.technical_specs.{claim[1]}"
    p.inverter = specs


def _battery(text: str, ts: dict, p: Product) -> None:
    specs = BatterySpecs()
    kwh = parse_battery_kwh(text)
    if kwh is not None:
        specs.capacity_kwh, p.spec_sources["capacity_kwh"] = kwh, "name"
    elif isinstance(ts.get("capacity_kwh"), int | float):
        specs.capacity_kwh, p.spec_sources["capacity_kwh"] = float(ts["capacity_kwh"]), "upstream.technical_specs"
    dc_v, _ = parse_voltages_v(text)
    if dc_v:
        specs.nominal_voltage_v, p.spec_sources["nominal_voltage_v"] = dc_v, "name"
    elif isinstance(ts.get("voltage_v"), int | float) and 12 <= ts["voltage_v"] <= 1000 and ts.get("capacity_kwh"):
        specs.nominal_voltage_v, p.spec_sources["nominal_voltage_v"] = float(ts["voltage_v"]), "upstream.technical_specs"
    f = fold(text)
    if "lifepo4" in f or "lfp" in f:
        specs.chemistry, p.spec_sources["chemistry"] = "LiFePO4", "name"
    if isinstance(ts.get("cycles_at_80pct"), int):
        specs.cycles, p.spec_sources["cycles"] = ts["cycles_at_80pct"], "upstream.technical_specs"
    if isinstance(ts.get("dod_pct"), int | float) and 0 < ts["dod_pct"] <= 100:
        specs.depth_of_discharge_pct = float(ts["dod_pct"])
        p.spec_sources["depth_of_discharge_pct"] = "upstream.technical_specs"
    p.battery = specs
    p.power_w = None  # a battery's size is its energy; "power" in the export was kWh×1000


def _structure(text: str, p: Product) -> None:
    specs = StructureSpecs(roof_type=roof_type(text), modules_supported=parse_modules_supported(text))
    if specs.roof_type:
        p.spec_sources["roof_type"] = "name"
    if specs.modules_supported:
        p.spec_sources["modules_supported"] = "name"
    p.structure = specs
    p.power_w = None  # numbers in structure names are model codes (RF-55), not watts


def _copied(p: Product, rule: str, field: str, found: object, why: str) -> None:
    """An upstream value that only copies another field: held back, noted for the quality report."""
    p.missing_specs[field.split(".")[-1]] = f"valor do export rejeitado: {why}"
    p.quality.append(QualityNote(rule=rule, field=field, action="held_back",
                                 found=found if isinstance(found, int | float | str) else None, reason=why))


def mark_missing(p: Product) -> None:
    """Record why each spec string sizing needs is absent (call after CEC enrichment)."""
    if p.module is not None:
        for f in MODULE_SIZING_FIELDS:
            if getattr(p.module, f) is None:
                p.missing_specs.setdefault(f, _NO_SOURCE)
    if p.inverter is not None:
        for f in INVERTER_SIZING_FIELDS:
            if getattr(p.inverter, f) is None:
                p.missing_specs.setdefault(f, _NO_SOURCE)


def note_cut_name(p: Product, row: RawRow) -> None:
    """A name the export cut at its first comma, with no source holding the rest."""
    p.quality.append(QualityNote(
        rule="complete_name", field="name", action="held_back", found=p.name,
        reason="nome cortado pelo export na primeira vírgula (aspas sem par); nenhuma fonte tem o resto",
        evidence=f"{row.ref} description={row.data.get('description')!r}"))


def build_listing(rows: list[RawRow]) -> Listing | str:
    """Clean the rows of one upstream listing into a :class:`Listing`, or a drop reason."""
    primary = _primary(rows)
    shifted = shifted_name(primary.data)
    rejoined = next(((t, r) for r in rows if (t := rejoin_split(r.data.get("name"), r.data.get("description")))), None)
    if shifted:
        name, name_src = shifted, "price"
    elif rejoined:
        name, name_src = rejoined[0], "rejoined"
    else:
        name, name_src = derive_name(primary.data.get("name"), primary.data.get("description"))
    for r in rows:
        if name is None:
            name, name_src = derive_name(r.data.get("name"), r.data.get("description"))
    if not name:
        return "sem nome utilizável (nome e descrição são URLs de imagem)"
    filed_as = FILE_CATEGORY.get(primary.file, Category.ACCESSORY)
    category, why = classify(name, primary.file)
    warnings: list[str] = []
    description = None if rejoined else _best_description(rows, name)
    text = f"{name} {description or ''}"
    brand = None
    for r in rows:
        brand = brand or canonical_brand(r.data.get("manufacturer"))
    brand = brand or brand_in_text(text)
    # The export's own ``model`` is often a cut-off name ("String Box Clamper 1"): only a
    # value with a digit that is not a prefix of the name is believed.
    upstream_model = next((str(r.data["model"]) for r in rows if re.search(r"\d", str(r.data.get("model") or ""))
                           and not fold(name).startswith(fold(str(r.data["model"])))), None)
    model = extract_model(name, brand) or upstream_model
    if shifted and description and not model:
        model = description
    ts = _upstream_specs(rows)
    p = Product(
        id="", category=category, name=name, manufacturer=brand, model=model, description=description,
        power_w=parse_power_w(text), provenance=[r.ref for r in rows],
    )
    if name_src == "description":
        p.spec_sources["name"] = "description (o campo name era uma URL de imagem)"
    elif name_src == "price":
        p.spec_sources["name"] = "price (colunas deslocadas: o nome estava no campo de preço)"
        warnings.append(f"{primary.ref}: nome estava no campo price; preço desconhecido")
    elif rejoined:
        half = clean_text(rejoined[1].data.get("name"))
        p.spec_sources["name"] = "name + description (o export partiu o nome na vírgula)"
        p.quality.append(QualityNote(
            rule="complete_name", field="name", action="corrected", found=half, value=name,
            reason="nome cortado pelo export na primeira vírgula", source=f"{rejoined[1].ref} name + description",
            evidence=f"name={rejoined[1].data.get('name')!r}, description={rejoined[1].data.get('description')!r}"))
    if category is Category.MODULE:
        _module(name, text, ts, p)
    elif category is Category.INVERTER:
        _inverter(name, text, ts, rows, p)
    elif category is Category.BATTERY:
        _battery(text, ts, p)
    elif category is Category.STRUCTURE:
        _structure(text, p)
    elif category is Category.EV_CHARGER:
        p.phase = parse_phase(text)
    offer = Offer(
        distributor=distributor_of(primary.data), source_id=str(primary.data.get("id")),
        price_brl=_price(rows, primary, warnings), available=bool(primary.data.get("availability")),
    )
    truncated = name_src == "description" and is_truncated(primary.data.get("description"))
    if truncated:
        note_cut_name(p, primary)
    # A name cut by the CSV split ("Kit Energia Solar Off Grid - 1") cannot identify a
    # product across listings, so such listings never merge with others.
    ident = f"src:{offer.distributor}:{offer.source_id}" if truncated else alnum_key(name)
    power = f"{p.power_w:g}" if p.power_w else ""
    key = f"{category.value}|{alnum_key(brand or '')}|{ident}|{power}"
    return Listing([r.ref for r in rows], offer.source_id, filed_as, why, p, offer, key, warnings)

