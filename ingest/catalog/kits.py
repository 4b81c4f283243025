"""Kits: bill of materials, DC power and identity from the kits export.

FOTUS rows carry the scraped product page in ``name``/``description`` (markdown with a
``|Produto|Quantidade|`` table) plus ``panels``/``inverters`` arrays written by a later
enrichment step. The two disagree in places (the arrays reuse another kit's panel), and
FOTUS reuses one upstream id for different kits. The page table is first-hand, so it is
the bill of materials when present; the arrays are the fallback. Identity is the content
(components + roof), never the upstream id.
"""

from __future__ import annotations

import hashlib
import re

from app.catalog.models import Category, KitComponent, Offer, Product, QualityNote, StructureSpecs
from app.catalog.rules import rule
from ingest.catalog.classify import roof_type
from ingest.catalog.listings import Listing, note_cut_name
from ingest.catalog.prices import resolve_row_price
from ingest.catalog.source import RawRow, distributor_of
from ingest.catalog.specs import parse_peak_power_w, parse_phase, parse_power_w
from app.core.text import fold, format_number
from ingest.catalog.text import brand_in_text, canonical_brand, clean_text, derive_name, is_truncated

_TABLE_ROW_RE = re.compile(r"^\|(?P<desc>.+)\|(?P<qty>\d+)\|\s*$")


def component_category(desc: str) -> Category:
    """Category of one bill-of-materials line (FOTUS panel lines never say "módulo")."""
    f = fold(desc)
    if re.search(r"inversor", f):
        return Category.INVERTER
    if re.search(r"bateria", f):
        return Category.BATTERY
    if re.search(r"^cabo", f):
        return Category.CABLE
    if re.search(r"kit telhado|trilho|estrutura|suporte|kit laje|kit solo", f):
        return Category.STRUCTURE
    if re.search(r"\d{3}\s*w\b", f) and re.search(r"n-?type|bifacial|tier|mono|% ef|cells|painel|modulo|\bbf\b", f):
        return Category.MODULE
    if re.search(r"string ?box", f):
        return Category.STRING_BOX
    return Category.ACCESSORY


def _component(desc: str, qty: int) -> KitComponent:
    desc = clean_text(desc.replace("\\|", "|"))
    cat = component_category(desc)
    brand = brand_in_text(desc)
    if brand is None and cat is Category.MODULE:
        brand = canonical_brand(desc.split("|")[0].strip())
    power = parse_power_w(desc) if cat in (Category.MODULE, Category.INVERTER) else None
    return KitComponent(category=cat, description=desc, manufacturer=brand, quantity=qty, power_w=power)


def parse_bom_table(markdown: str) -> list[KitComponent]:
    """Components of the ``|Produto|Quantidade|`` table of a FOTUS product page."""
    out = []
    for line in markdown.splitlines():
        m = _TABLE_ROW_RE.match(line.strip())
        if m and not m.group("desc").startswith("---") and fold(m.group("desc")) != "produto":
            out.append(_component(m.group("desc"), int(m.group("qty"))))
    return out


def bom_from_arrays(row: dict) -> list[KitComponent]:
    """Fallback bill of materials from the enriched ``panels``/``inverters``/… arrays."""
    out = []
    for key in ("panels", "inverters", "batteries", "structures", "accessories"):
        for item in row.get(key) or []:
            if not isinstance(item, dict) or not item.get("description"):
                continue
            c = _component(str(item["description"]), int(item.get("quantity") or 1))
            if key == "panels":
                c.category, c.power_w = Category.MODULE, c.power_w or item.get("power_w")
            elif key == "inverters" and item.get("power_kw"):
                c.category, c.power_w = Category.INVERTER, c.power_w or float(item["power_kw"]) * 1000
            c.manufacturer = c.manufacturer or canonical_brand(item.get("brand"))
            out.append(c)
    return out


def dc_power_w(components: list[KitComponent]) -> float | None:
    """Total module power of a kit [Wp]; ``None`` when a module line has no power."""
    modules = [c for c in components if c.category is Category.MODULE]
    if not modules or any(c.power_w is None for c in modules):
        return None
    return sum(c.power_w * c.quantity for c in modules)  # type: ignore[operator]


def bom_sum_text(components: list[KitComponent]) -> str:
    """"10 × 570 W = 5700 W": the module lines of a bill of materials, summed."""
    modules = [c for c in components if c.category is Category.MODULE and c.power_w]
    terms = " + ".join(f"{c.quantity} × {c.power_w:g} W" for c in modules)
    return f"{terms} = {sum(c.quantity * c.power_w for c in modules):g} W"  # type: ignore[operator]


def _fmt_kwp(w: float) -> str:
    return format_number(w / 1000, decimals=2)


def kit_name(components: list[KitComponent], roof: str | None, fallback: str) -> str:
    """Readable kit name from its BOM: "Kit 1,14 kWp – 2× SOLAR N PLUS 570W … + 1× …"."""
    dc = dc_power_w(components)
    main = [c for c in components if c.category in (Category.MODULE, Category.INVERTER, Category.BATTERY)]
    if dc is None or not main:
        return fallback
    parts = " + ".join(f"{c.quantity}× {_short(c)}" for c in main)
    return f"Kit {_fmt_kwp(dc)} kWp – {parts}" + (f" – {roof}" if roof else "")


def _short(c: KitComponent) -> str:
    """Module as "<brand> <W>W"; other lines up to their first parenthesis, plus a model code."""
    if c.category is Category.MODULE:
        return f"{c.manufacturer or c.description.split('|')[0].strip()} {c.power_w:g}W"
    return re.sub(r"\s+", " ", c.description.split("(")[0]).strip() + (
        f" ({m.group(1)})" if (m := re.search(r"\(([A-Z0-9][A-Z0-9.-]{3,})\)", c.description)) else "")


def build_kit_listing(row: RawRow) -> Listing | str:
    """One kit row → :class:`Listing` (id not yet assigned), or a drop reason."""
    d = row.data
    # The page markdown is in ``name`` and again in ``description``: parse one copy only.
    components = parse_bom_table(str(d.get("name") or "")) or parse_bom_table(str(d.get("description") or ""))
    bom_src = "página do distribuidor (tabela Produto/Quantidade)"
    if not components:
        components, bom_src = bom_from_arrays(d), "export (listas panels/inverters)"
    warnings: list[str] = []
    name, name_src = derive_name(d.get("name"), d.get("description"))
    if not name and not components:
        return "kit sem nome utilizável e sem lista de materiais"
    roof_text = str(d.get("estrutura") or "")
    roof = roof_type(roof_text) or roof_type(name or "")
    dc = dc_power_w(components) if components else None
    if dc is None and name:
        dc = parse_peak_power_w(name)
    declared = d.get("total_power_w")
    kwp_note = None
    if dc and isinstance(declared, int | float) and declared and abs(declared - dc) > 1:
        warnings.append(f"{row.ref}: potência declarada {declared:g} W difere da lista de materiais {dc:g} W")
        if components and abs(declared - dc) > rule("kit_kwp").tolerance_pct / 100 * dc:
            kwp_note = QualityNote(
                rule="kit_kwp", field="power_w", action="corrected", found=float(declared), value=dc,
                reason=f"total_power_w={declared:g} W do export difere da soma dos módulos em mais de "
                       f"{rule('kit_kwp').tolerance_pct:g} %", source="lista de materiais (soma dos módulos)",
                evidence=bom_sum_text(components))
    first_line = clean_text((name or "").split("\n")[0].split("###")[0])
    name = kit_name(components, roof_text or None, first_line) if components else first_line
    inverters = [c for c in components if c.category is Category.INVERTER]
    phase = next((ph for c in inverters if (ph := parse_phase(c.description))), None)
    price, note = resolve_row_price(d)
    if note:
        warnings.append(f"{row.ref}: {note}")
    dc_center = clean_text(str(d.get("centro_distribuicao") or "")) or None
    if dc_center and fold(dc_center) == "desconhecido":
        dc_center = None
    p = Product(
        id="", category=Category.KIT, name=name, manufacturer=canonical_brand(d.get("manufacturer")),
        description=None, power_w=dc, phase=phase, components=components,
        structure=StructureSpecs(roof_type=roof) if roof else None, provenance=[row.ref],
    )
    if components:
        p.spec_sources["components"] = bom_src
        p.spec_sources["power_w"] = "soma dos módulos da lista de materiais"
    else:
        p.missing_specs["components"] = "kit sem lista de materiais no export"
        if dc:
            p.spec_sources["power_w"] = "name (Wp)"
    if name_src == "description":
        p.spec_sources["name"] = "description (o campo name era uma URL de imagem)"
    if kwp_note:
        p.quality.append(kwp_note)
    if not components and is_truncated(d.get("description")) and name_src == "description":
        note_cut_name(p, row)
    offer = Offer(distributor=distributor_of(d), source_id=str(d.get("id")), price_brl=price,
                  available=bool(d.get("availability")), distribution_center=dc_center)
    if components:
        content = "|".join(f"{c.category.value}:{fold(c.description)}:{c.quantity}" for c in components)
        ident = hashlib.sha1(f"{content}|{roof}".encode()).hexdigest()[:12]
    elif is_truncated(d.get("description")) or not name:
        ident = f"src:{offer.distributor}:{offer.source_id}"
    else:
        ident = fold(name)
    return Listing([row.ref], offer.source_id, Category.KIT, "arquivo de kits", p, offer, f"kit|{ident}", warnings)
