"""Catalog kits as design candidates: bill of materials → DC/AC power, phase, roof, status.

A kit (``Category.KIT``) is a system a distributor engineered: modules, inverter(s),
structure and cables for one price. The export gives each line's description, quantity
and power, not the modules' Voc/β or the inverters' MPPT window, so a kit's strings cannot
be checked here: every kit design carries ``string_check = "not_verifiable"`` and names
the specs the source lacks. Nothing missing is filled with a guess.

Energy: the DC model is PVWatts (linear in nameplate before clipping), so one normalised
profile per temperature coefficient serves every kit; with the inverter's PVWatts curve,
AC per watt of AC rating depends only on the DC/AC ratio (:func:`ac_per_w_ac`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from app.catalog.models import Category, InverterType, KitComponent, Phase, Product, RoofType
from app.core.text import fold, format_number, format_plain
from app.sizing.design import Skipped, phase_fits
from app.sizing.roof import StructureSwap
from app.sizing.simulation import inverter_pvwatts
from app.specs.models import SpecRow

PVWATTS_GAMMA_PCT_PER_C = -0.37  # PVWatts v8 "standard" module, used when the datasheet γ is not in the catalog
PVWATTS_INVERTER_EFFICIENCY = 0.96  # PVWatts nominal, used when the inverter efficiency is not in the catalog
MAX_KIT_MULTIPLE = 400  # N × the same kit when no single kit reaches the target (≤ 3 MW of 13,7 kWp kits)

_OFF_GRID_RE = re.compile(r"off.?grid|isolad|starlink")
_BATTERY_RE = re.compile(r"bateria|\bchumbo\b|\blitio\b|\d+\s*ah\b")
_INVERTER_ACCESSORY_RE = re.compile(r"fixa|suporte|estrutura|trilho")
_MICRO_RE = re.compile(r"micro.?inversor|mlpe")
_PHASE_RE = ((re.compile(r"trifasic"), Phase.THREE), (re.compile(r"bifasic"), Phase.TWO),
             (re.compile(r"monofasic"), Phase.SINGLE))

MODULE_STRING_SPECS = (("voc_v", "Voc"), ("vmp_v", "Vmp"), ("isc_a", "Isc"), ("temp_coeff_voc_pct_per_c", "β_Voc"))
INVERTER_STRING_SPECS = (("max_dc_voltage_v", "tensão CC máx."), ("mppt_min_v", "janela MPPT"),
                         ("max_input_current_per_mppt_a", "corrente máx. por MPPT"))


@dataclass(frozen=True)
class KitElectrical:
    """What the engine knows about one kit, all from its catalog record."""

    product: Product
    n_modules: int
    dc_w: float
    ac_w: float
    phase: Phase
    roof_type: RoofType | None
    micro: bool
    has_battery: bool
    modules: tuple[KitComponent, ...]
    inverters: tuple[KitComponent, ...]
    distributor: str | None
    gamma_pct_per_c: float | None
    module_area_m2: float | None
    module_spec: SpecRow | None = None  # registry rows matched to the main BOM lines
    inverter_spec: SpecRow | None = None
    module_why: str | None = None  # why no registry row matched
    inverter_why: str | None = None
    swap: StructureSwap | None = None  # the catalog structure replacing the kit's (other roof type)

    @property
    def dc_ac_ratio(self) -> float:
        return self.dc_w / self.ac_w

    @property
    def module_manufacturer(self) -> str | None:
        return self.modules[0].manufacturer

    @property
    def inverter_manufacturer(self) -> str | None:
        return self.inverters[0].manufacturer

    @property
    def signature(self) -> tuple:
        """Main bill of materials: kits differing only in structure brand share it."""
        return tuple((fold(c.manufacturer or ""), c.power_w, c.quantity) for c in (*self.modules, *self.inverters))


def _component_phase(lines: Iterable[KitComponent]) -> Phase | None:
    found = {ph for c in lines for rx, ph in _PHASE_RE if rx.search(fold(c.description))}
    return found.pop() if len(found) == 1 else None


def short_name(c: KitComponent) -> str:
    power = f" {format_plain(c.power_w / 1000)} kW" if c.category is Category.INVERTER and c.power_w else (
        f" {format_plain(c.power_w)} W" if c.power_w else "")
    model = re.search(r"\(([A-Z0-9][A-Z0-9.-]{3,})\)", c.description)
    return f"{c.manufacturer or c.description.split('|')[0].strip()}{power}" + (f" ({model.group(1)})" if model else "")


def _missing(specs: object | None, names: tuple[tuple[str, str], ...]) -> list[str]:
    return [label for attr, label in names if specs is None or getattr(specs, attr, None) is None]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " e " + items[-1]


def string_check_reason(kit: KitElectrical, linked: dict[str, Product]) -> str:
    """Why a kit's strings cannot be checked, naming the specs its source lacks (Portuguese)."""
    mod, inv, micro, distributor = kit.modules[0], kit.inverters[0], kit.micro, kit.distributor
    mod_p = linked.get(mod.product_id or "")
    inv_p = linked.get(inv.product_id or "")
    mod_missing = _missing(mod_p.module if mod_p else None, MODULE_STRING_SPECS)
    inv_specs = INVERTER_STRING_SPECS if not micro else (("mppt_min_v", "faixa MPPT"),
                                                         ("max_input_current_per_mppt_a", "corrente máx. de entrada"))
    inv_missing = _missing(inv_p.inverter if inv_p else None, inv_specs)
    what = "string sizing não verificado" if not micro else \
        "compatibilidade módulo–microinversor não verificada"
    parts = []
    if mod_missing:
        parts.append(f"{'/'.join(mod_missing)} do módulo {short_name(mod)}")
    if inv_missing:
        parts.append(f"{' e '.join(inv_missing)} do {'microinversor' if micro else 'inversor'} {short_name(inv)}")
    src = "sem cadastro com specs no catálogo" if not (mod_p or inv_p) else "na fonte"
    return (f"{what}: faltam {' e '.join(parts) or 'especificações elétricas'} ({src}); "
            f"kit montado pelo distribuidor {distributor or 'não informado'}")


def kit_electrical(p: Product, linked: dict[str, Product], registry=None) -> KitElectrical | Skipped:
    """A kit's powers, phase and roof from its bill of materials, or why it cannot be used.

    ``linked``: catalog products by id, for BOM lines the ingest linked to a product (their
    temperature coefficient and dimensions are used when present). ``registry``: the spec
    registry (:class:`app.specs.registry.SpecRegistry`) its module and inverter lines are
    matched against, for the electrical check and the module's dimensions.
    """
    def skip(reason: str) -> Skipped:
        return Skipped(p.id, p.name, p.category.value, reason)

    text = fold(" ".join([p.name, p.description or "", *(c.description for c in p.components)]))
    if _OFF_GRID_RE.search(text):
        return skip("kit off-grid: não conecta à rede, não compensa energia (Lei 14.300)")
    if not p.components:
        return skip("kit sem lista de materiais no export")
    modules = tuple(c for c in p.components if c.category is Category.MODULE)
    inverters = tuple(c for c in p.components if c.category is Category.INVERTER
                      and not _INVERTER_ACCESSORY_RE.search(fold(c.description)))
    if not modules or any(c.power_w is None or c.power_w <= 0 for c in modules):
        return skip("faltam specs: potência dos módulos na lista de materiais")
    if not inverters:
        return skip("kit sem inversor na lista de materiais")
    # A BOM line without power takes the AC rating of the catalog inverter the ingest linked it to.
    inverters = tuple(c if c.power_w or not (q := linked.get(c.product_id or "")) else
                      c.model_copy(update={"power_w": (q.inverter and q.inverter.ac_power_w) or q.power_w})
                      for c in inverters)
    if any(c.power_w is None or c.power_w <= 0 for c in inverters):
        return skip("faltam specs: potência CA do inversor na lista de materiais")
    phase = p.phase or _component_phase(inverters)
    if phase is None:
        return skip("faltam specs: fase do inversor (monofásico/trifásico) não informada")
    micro = any(_MICRO_RE.search(fold(c.description)) for c in inverters) or any(
        (q := linked.get(c.product_id or "")) and q.inverter and q.inverter.inverter_type is InverterType.MICRO
        for c in inverters)
    battery = any(c.category is Category.BATTERY for c in p.components) or bool(_BATTERY_RE.search(fold(p.name)))
    first_mod = linked.get(modules[0].product_id or "")
    gamma = first_mod.module.temp_coeff_pmax_pct_per_c if first_mod and first_mod.module else None
    area = first_mod.module.area_m2 if first_mod and first_mod.module else None
    distributor = p.offers[0].distributor if p.offers else None
    mod_spec = inv_spec = None
    mod_why = inv_why = None
    if registry is not None:
        m = registry.lookup(["module"], f"{modules[0].description} {modules[0].manufacturer or ''}", modules[0].power_w)
        i = registry.lookup(["microinverter", "string_inverter"],
                            f"{inverters[0].description} {inverters[0].manufacturer or ''}")
        mod_spec, mod_why, inv_spec, inv_why = m.row, m.reason, i.row, i.reason
        if mod_spec is not None:
            gamma = mod_spec.gamma_pmax_pct_per_c if mod_spec.gamma_pmax_pct_per_c is not None else gamma
            area = mod_spec.area_m2 or area
        if len({c.description for c in modules}) > 1 or len({c.description for c in inverters}) > 1:
            mod_spec = inv_spec = None  # mixed bills of materials: one check cannot speak for all lines
            mod_why = inv_why = "lista de materiais com modelos diferentes"
    return KitElectrical(
        product=p, n_modules=sum(c.quantity for c in modules),
        dc_w=float(sum(c.power_w * c.quantity for c in modules)),  # type: ignore[operator]
        ac_w=float(sum(c.power_w * c.quantity for c in inverters)),  # type: ignore[operator]
        phase=phase, roof_type=p.structure.roof_type if p.structure else None, micro=micro, has_battery=battery,
        modules=modules, inverters=inverters, distributor=distributor,
        gamma_pct_per_c=gamma if len({c.product_id for c in modules}) == 1 or mod_spec else None,
        module_area_m2=area, module_spec=mod_spec, inverter_spec=inv_spec, module_why=mod_why, inverter_why=inv_why,
    )


@dataclass
class KitSelection:
    eligible: list[KitElectrical]
    skipped: list[Skipped]
    excluded: dict[str, int]  # reason → how many usable kits did not fit this request
    battery_only: bool = False  # only kits with batteries fitted (used, with a note)


def select_kits(products: Iterable[Product], connection: Phase, roof_type: RoofType, max_dc_ac_ratio: float,
                linked: dict[str, Product], registry=None, structure: StructureSwap | None = None,
                only_id: str | None = None, electrical=None) -> KitSelection:
    """In-stock, priced grid-tie kits that fit the connection, roof and DC/AC limit.

    Kits with batteries are used only when no grid-tie kit fits (the battery is paid for
    but its benefit is not modelled). Out-of-stock kits are left out silently, like other
    products; the rest that cannot be used are in ``skipped`` with the reason. When no kit
    is made for ``roof_type`` (slab, ground…), kits for other roofs come with ``structure``
    (the catalog's structure for this roof) swapped in. ``only_id``: just that kit.
    ``electrical``: :func:`kit_electrical` or a memo of it (:mod:`app.sizing.prepared`).
    """
    electrical = electrical or kit_electrical
    sel = KitSelection([], [], {})
    batteries: list[KitElectrical] = []
    other_roof: list[KitElectrical] = []

    def exclude(reason: str) -> None:
        sel.excluded[reason] = sel.excluded.get(reason, 0) + 1

    for p in products:
        if p.category is not Category.KIT or not p.in_stock or (only_id is not None and p.id != only_id):
            continue
        if p.price_brl is None or p.price_brl <= 0:
            sel.skipped.append(Skipped(p.id, p.name, p.category.value, "sem preço"))
            continue
        kit = electrical(p, linked, registry)
        if isinstance(kit, Skipped):
            sel.skipped.append(kit)
        elif not phase_fits(connection, kit.phase):
            exclude(f"inversor {kit.phase.value} não serve à ligação {connection.value}")
        elif kit.dc_ac_ratio > max_dc_ac_ratio + 1e-9:
            exclude(f"razão CC/CA acima de {format_number(max_dc_ac_ratio, decimals=2)}")
        elif kit.roof_type is not None and kit.roof_type != roof_type:
            other_roof.append(kit)
        elif kit.has_battery:
            batteries.append(kit)
        else:
            sel.eligible.append(kit)
    made_for_roof = any(k.roof_type == roof_type for k in sel.eligible)
    if other_roof and structure is not None and not made_for_roof:
        sel.eligible += [replace(k, swap=structure) for k in other_roof if not k.has_battery]
    elif other_roof:
        what = "estrutura para outro tipo de telhado" + (
            "" if made_for_roof else " (sem estrutura para este telhado com preço e capacidade no catálogo)")
        sel.excluded[what] = len(other_roof)
    if not sel.eligible and batteries:
        sel.eligible, sel.battery_only = batteries, True
    elif batteries:
        sel.excluded["kit com bateria (há kits on-grid que atendem)"] = len(batteries)
    return sel


def ac_per_w_ac(dc_per_w: np.ndarray, dc_ac_ratios: np.ndarray, keep: float,
                eta_nominal: float = PVWATTS_INVERTER_EFFICIENCY) -> np.ndarray:
    """Hourly AC output per watt of inverter AC rating [W/W], one row per DC/AC ratio.

    ``dc_per_w``: DC per watt of STC nameplate before losses [W/W] (8760,); ``keep``: 1 −
    system losses. PVWatts' inverter model is homogeneous in (P_dc, P_dc0), so a kit's AC
    output is its AC rating × this row at its DC/AC ratio, however big the kit is.
    """
    x = np.asarray(dc_ac_ratios, dtype=float)[:, None] * keep * np.clip(dc_per_w, 0.0, None)[None, :]
    return np.clip(inverter_pvwatts(x, 1.0, eta_nominal), 0.0, None)
