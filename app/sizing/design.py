"""Equipment from stock: electrical specs, string-sizing checks, candidate layouts.

Checks (DESIGN.md, "String sizing"):
- Voc at the site's minimum temperature × modules in series ≤ inverter max DC voltage;
- Vmp at hot cell temperature (70 °C) × modules in series ≥ MPPT minimum voltage;
- string Isc × 1.25 × strings on one MPPT ≤ the MPPT's max input current.
Specs come from the typed product (``ModuleSpecs``/``InverterSpecs``) or, where a field is
missing, from its CEC parameter row; a product that still lacks a spec a check needs is
skipped with the reason, never completed with a guess.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from app.catalog.models import Category, InverterType, Phase, Product
from app.catalog.rules import plausible_inverter_efficiency_pct
from app.core.text import format_number

HOT_CELL_TEMP_C = 70.0
ISC_SAFETY_FACTOR = 1.25
STC_TEMP_C = 25.0
MAX_INVERTERS_PER_DESIGN = 4


@dataclass(frozen=True)
class ModuleElectrical:
    product: Product
    pmax_w: float
    voc_v: float
    isc_a: float
    vmp_v: float
    beta_voc_pct_per_c: float
    gamma_pmax_pct_per_c: float
    area_m2: float | None
    cec: dict | None


@dataclass(frozen=True)
class InverterElectrical:
    product: Product
    ac_power_w: float
    phase: Phase
    max_dc_voltage_v: float
    mppt_min_v: float
    mppt_max_v: float | None
    mppt_count: int
    max_current_per_mppt_a: float
    strings_per_mppt: int | None
    efficiency: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    product_id: str
    name: str
    category: str
    reason: str


def _n(v: float, decimals: int = 0) -> str:
    # datasheet style, as the kit check writes it: "1100 V", "13,8 A"
    return format_number(v, decimals=decimals, grouping=False)


def _num(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def module_electrical(p: Product) -> ModuleElectrical | Skipped:
    """Electrical specs of a module, or why it cannot be used."""
    m = p.module
    cec = dict(m.cec) if m and m.cec else {}
    pmax = (m.pmax_w if m else None) or p.power_w or _num(cec.get("STC"))
    voc = (m.voc_v if m else None) or _num(cec.get("V_oc_ref"))
    isc = (m.isc_a if m else None) or _num(cec.get("I_sc_ref"))
    vmp = (m.vmp_v if m else None) or _num(cec.get("V_mp_ref"))
    beta = m.temp_coeff_voc_pct_per_c if m else None
    if beta is None and _num(cec.get("beta_oc")) is not None and voc:
        beta = 100 * float(cec["beta_oc"]) / float(_num(cec.get("V_oc_ref")) or voc)
    gamma = (m.temp_coeff_pmax_pct_per_c if m else None) or _num(cec.get("gamma_r"))
    area = (m.area_m2 if m else None) or _num(cec.get("A_c"))
    missing = [name for name, v in (("pmax_w", pmax), ("voc_v", voc), ("isc_a", isc), ("vmp_v", vmp),
                                    ("temp_coeff_voc_pct_per_c", beta)) if v is None]
    if missing:
        return Skipped(p.id, p.name, p.category.value, "faltam specs: " + ", ".join(missing))
    return ModuleElectrical(p, float(pmax), float(voc), float(isc), float(vmp), float(beta),
                            float(gamma if gamma is not None else beta), area, cec or None)


def inverter_electrical(p: Product) -> InverterElectrical | Skipped:
    """Electrical specs of a string inverter, or why it cannot be used."""
    inv = p.inverter
    cec = dict(inv.cec) if inv and inv.cec else {}
    kind = inv.inverter_type if inv else None
    if kind in (InverterType.MICRO, InverterType.OFF_GRID):
        return Skipped(p.id, p.name, p.category.value,
                       f"tipo {kind.value}: o dimensionamento por strings não se aplica")
    notes: list[str] = []
    pac = (inv.ac_power_w if inv else None) or _num(cec.get("Paco")) or p.power_w
    phase = (inv.phase if inv else None) or p.phase
    vmax = (inv.max_dc_voltage_v if inv else None) or _num(cec.get("Vdcmax"))
    vmin = (inv.mppt_min_v if inv else None) or _num(cec.get("Mppt_low"))
    vmppt_max = (inv.mppt_max_v if inv else None) or _num(cec.get("Mppt_high"))
    n_mppt = inv.mppt_count if inv else None
    imax = inv.max_input_current_per_mppt_a if inv else None
    if imax is None and _num(cec.get("Idcmax")):
        # The CEC list gives only the total DC current: treat the inverter as one MPPT
        # limited to that current (conservative: the real per-MPPT sum is at least as high).
        imax, n_mppt = float(cec["Idcmax"]), 1
        notes.append("corrente: Idcmax total do CEC tratado como 1 MPPT (conservador)")
    elif imax is not None and n_mppt is None:
        n_mppt = 1
        notes.append("número de MPPTs não informado: considerado 1")
    eff = None
    if inv and plausible_inverter_efficiency_pct(inv.efficiency_pct):  # the catalog's declared range
        eff = inv.efficiency_pct / 100
    elif _num(cec.get("Paco")) and _num(cec.get("Pdco")):
        eff = float(cec["Paco"]) / float(cec["Pdco"])
    missing = [name for name, v in (("ac_power_w", pac), ("phase", phase), ("max_dc_voltage_v", vmax),
                                    ("mppt_min_v", vmin), ("max_input_current_per_mppt_a", imax)) if v is None]
    if missing:
        return Skipped(p.id, p.name, p.category.value, "faltam specs: " + ", ".join(missing))
    if eff is None:
        eff = 0.96
        notes.append("eficiência não informada: 96 % (curva PVWatts)")
    return InverterElectrical(p, float(pac), Phase(phase), float(vmax), float(vmin), vmppt_max, int(n_mppt or 1),
                              float(imax), inv.strings_per_mppt if inv else None, float(eff), tuple(notes))


def usable_products(products: Iterable[Product]) -> tuple[list[ModuleElectrical], list[InverterElectrical], list[Skipped]]:
    """Split the catalog into in-stock modules/inverters with complete specs, and the skipped."""
    modules: list[ModuleElectrical] = []
    inverters: list[InverterElectrical] = []
    skipped: list[Skipped] = []
    for p in products:
        if p.category not in (Category.MODULE, Category.INVERTER):
            continue
        if not p.in_stock:
            continue  # out of stock is not a spec problem: not listed as skipped
        if p.price_brl is None or p.price_brl <= 0:
            skipped.append(Skipped(p.id, p.name, p.category.value, "sem preço"))
            continue
        item = module_electrical(p) if p.category == Category.MODULE else inverter_electrical(p)
        if isinstance(item, Skipped):
            skipped.append(item)
        elif isinstance(item, ModuleElectrical):
            modules.append(item)
        else:
            inverters.append(item)
    return modules, inverters, skipped


# ---------------------------------------------------------------- string checks


def voc_at_temp_v(voc_stc_v: float, beta_voc_pct_per_c: float, temp_c: float) -> float:
    """Module open-circuit voltage at cell temperature ``temp_c`` [V]."""
    return voc_stc_v * (1 + beta_voc_pct_per_c / 100 * (temp_c - STC_TEMP_C))


def vmp_at_temp_v(vmp_stc_v: float, coeff_pct_per_c: float, temp_c: float) -> float:
    """Module maximum-power voltage at ``temp_c`` [V] (γ_Pmp as the Vmp coefficient: conservative)."""
    return vmp_stc_v * (1 + coeff_pct_per_c / 100 * (temp_c - STC_TEMP_C))


@dataclass(frozen=True)
class StringCheck:
    modules_in_series: int
    strings_per_mppt: int
    voc_cold_string_v: float
    max_dc_voltage_v: float
    vmp_hot_string_v: float
    mppt_min_v: float
    string_current_design_a: float
    max_current_per_mppt_a: float
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def check_string(module: ModuleElectrical, inverter: InverterElectrical, modules_in_series: int,
                 strings_per_mppt: int, min_temp_c: float, hot_cell_temp_c: float = HOT_CELL_TEMP_C) -> StringCheck:
    """The three string checks for one layout, with the failures in Portuguese."""
    voc_cold = modules_in_series * voc_at_temp_v(module.voc_v, module.beta_voc_pct_per_c, min_temp_c)
    vmp_hot = modules_in_series * vmp_at_temp_v(module.vmp_v, module.gamma_pmax_pct_per_c, hot_cell_temp_c)
    current = module.isc_a * ISC_SAFETY_FACTOR * strings_per_mppt
    failures = []
    if voc_cold > inverter.max_dc_voltage_v:
        failures.append(f"Voc a {_n(min_temp_c)} °C = {_n(voc_cold)} V > máx. CC do inversor "
                        f"{_n(inverter.max_dc_voltage_v)} V")
    if vmp_hot < inverter.mppt_min_v:
        failures.append(f"Vmp a {_n(hot_cell_temp_c)} °C = {_n(vmp_hot)} V < mín. MPPT {_n(inverter.mppt_min_v)} V")
    if current > inverter.max_current_per_mppt_a + 1e-9:
        failures.append(f"corrente {_n(current, 1)} A (Isc × {_n(ISC_SAFETY_FACTOR, 2)} × {strings_per_mppt}) > "
                        f"máx. por MPPT {_n(inverter.max_current_per_mppt_a, 1)} A")
    if inverter.strings_per_mppt is not None and strings_per_mppt > inverter.strings_per_mppt:
        failures.append(f"{strings_per_mppt} strings por MPPT > {inverter.strings_per_mppt} entradas")
    return StringCheck(modules_in_series, strings_per_mppt, round(voc_cold, 1), inverter.max_dc_voltage_v,
                       round(vmp_hot, 1), inverter.mppt_min_v, round(current, 2), inverter.max_current_per_mppt_a,
                       tuple(failures))


def series_range(module: ModuleElectrical, inverter: InverterElectrical, min_temp_c: float) -> tuple[int, int]:
    """(min, max) modules in series allowed by the two voltage checks; min > max means none."""
    voc_cold = voc_at_temp_v(module.voc_v, module.beta_voc_pct_per_c, min_temp_c)
    vmp_hot = vmp_at_temp_v(module.vmp_v, module.gamma_pmax_pct_per_c, HOT_CELL_TEMP_C)
    n_max = math.floor(inverter.max_dc_voltage_v / voc_cold)
    n_min = max(1, math.ceil(inverter.mppt_min_v / vmp_hot))
    return n_min, n_max


@dataclass(frozen=True)
class Layout:
    """How ``n_modules`` are wired: per inverter, strings of ``series`` spread over MPPTs."""

    inverter_count: int
    modules_in_series: int
    strings_total: int
    strings_per_mppt_max: int
    check: StringCheck

    @property
    def n_modules(self) -> int:
        return self.modules_in_series * self.strings_total


def best_layout(module: ModuleElectrical, inverter: InverterElectrical, n_target: int, n_cap: int | None,
                min_temp_c: float, max_dc_ac_ratio: float, min_dc_ac_ratio: float = 0.3,
                max_inverters: int = MAX_INVERTERS_PER_DESIGN) -> Layout | None:
    """Layout closest to ``n_target`` modules (a shortfall weighs more) that passes every check.

    ``n_cap`` is the roof's module limit. Returns None when no series length or inverter
    count (1…``max_inverters``; more than 4 only for systems that need them) works.
    """
    n_min, n_max = series_range(module, inverter, min_temp_c)
    if n_min > n_max:
        return None
    per_mppt_limit = max(1, int(inverter.max_current_per_mppt_a // (module.isc_a * ISC_SAFETY_FACTOR)))
    if inverter.strings_per_mppt is not None:
        per_mppt_limit = min(per_mppt_limit, inverter.strings_per_mppt)
    best: tuple[tuple, Layout] | None = None
    k_min = max(1, math.ceil(n_target * module.pmax_w / (inverter.ac_power_w * max_dc_ac_ratio)) - 1)
    for k in range(min(k_min, max_inverters), max_inverters + 1):
        max_strings = k * inverter.mppt_count * per_mppt_limit
        for s in range(n_min, n_max + 1):
            for strings in {max(1, math.floor(n_target / s)), max(1, math.ceil(n_target / s))}:
                if strings > max_strings or strings < k:
                    continue
                n = s * strings
                if n_cap is not None and n > n_cap:
                    continue
                ratio = n * module.pmax_w / (k * inverter.ac_power_w)
                if not (min_dc_ac_ratio <= ratio <= max_dc_ac_ratio):
                    continue
                per_mppt = math.ceil(strings / (k * inverter.mppt_count))
                check = check_string(module, inverter, s, per_mppt, min_temp_c)
                if not check.ok:
                    continue
                # closeness to the target (a shortfall weighs 1.5× an excess), then fewer inverters
                key = (1.5 * max(0, n_target - n) + max(0, n - n_target), k, -s)
                if best is None or key < best[0]:
                    best = (key, Layout(k, s, strings, per_mppt, check))
    return best[1] if best else None


def phase_fits(connection: Phase, inverter_phase: Phase) -> bool:
    """Whether an inverter's phase suits the consumer's connection.

    single-phase service → single-phase inverter; two-phase (220 V between phases) →
    single- or two-phase; three-phase → three-phase, or single-phase 220 V (the usual small
    residential case; distributors cap it, often around 10 kW, so it ranks after three-phase).
    """
    if connection == Phase.SINGLE:
        return inverter_phase == Phase.SINGLE
    if connection == Phase.TWO:
        return inverter_phase in (Phase.SINGLE, Phase.TWO)
    return inverter_phase in (Phase.THREE, Phase.SINGLE)
