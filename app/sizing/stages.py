"""The stages of a sizing, each a function from the previous stages' outputs to its own.

``site`` (where, what is consumed, at which prices) → ``weather`` (the hourly year on the
roof faces) → ``target`` (the energy to reach) → ``stock`` (what can be built from the
catalog) → ``candidates`` (every layout and kit, simulated) → ``score`` (the ones shown).
:mod:`app.sizing.outcome` holds the last two (``economics``, ``results``) and
:mod:`app.sizing.engine` runs them in order. Every stage raises
:class:`~app.core.errors.InvalidInput` (422, with a hint) for what it cannot honour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from app.catalog.models import Category, Phase, Product, RoofType
from app.catalog.repository import CatalogRepository
from app.core.errors import InvalidInput
from app.core.telemetry import span
from app.core.text import format_brl, format_number
from app.sizing import models
from app.sizing.design import (
    MAX_INVERTERS_PER_DESIGN, InverterElectrical, ModuleElectrical, Skipped, best_layout, phase_fits, series_range,
    usable_products,
)
from app.sizing.economics import availability_kwh
from app.sizing.kitcheck import KitCheck, check_kit
from app.sizing.kits import (
    MAX_KIT_MULTIPLE, PVWATTS_GAMMA_PCT_PER_C, KitElectrical, KitSelection, ac_per_w_ac, select_kits, short_name,
    string_check_reason,
)
from app.sizing.prepared import prepared_stock
from app.sizing.resource import WeatherYear, synthesize_year_cached
from app.sizing.results import TARGET_TOLERANCE, Candidate, KitCandidate
from app.sizing.roof import Face, PVArray, RoofFit, StructureSwap, row_pitch_factor, shares, structure_for
from app.sizing.simulation import Losses, inverter_pvwatts, site_irradiance, solar_geometry
from app.sizing.sites import Site, resolve_site
from app.sizing.tariffs import Prices, resolve_prices
from app.specs.catalog import with_registry_specs

ENGINE_LOSSES = Losses(shading_pct=0.0)  # PVWatts defaults, roof assumed unshaded
KIT_UNVERIFIED_PENALTY = 1.15
CEC_KEYS = ("alpha_sc", "a_ref", "I_L_ref", "I_o_ref", "R_sh_ref", "R_s", "Adjust")
_CONSUMPTION_HINT = ('Informe {"monthly_kwh": 650}, doze valores mensais, ou {"bill_brl": 480, '
                     '"tariff_brl_per_kwh": 0.95}.')
FIXED_SIZE_TOLERANCE = 0.10  # fixed modes: a design within 10 % of the kWp asked for has that size


# --- site ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteInputs:
    """The request checked and resolved: where, how much is consumed, at which prices."""

    request: models.SizingRequest
    site: Site
    prices: Prices
    consumption_kwh: np.ndarray | None  # 12 months [kWh]; None until assumed (fixed size, none given)
    connection: Phase
    tilt_deg: float  # the plane asked for (or |latitude|); faces override it in ``weather``
    azimuth_deg: float
    consumption_assumed: bool = False  # "how much does 8 kWp generate here?": no consumption was given

    @property
    def mode(self) -> str:
        """``target`` (size to the consumption), ``fixed_size`` (a kWp) or ``fixed_kit`` (a kit)."""
        return "fixed_kit" if self.request.kit_id else ("fixed_size" if self.request.system_kwp else "target")


def monthly_consumption_kwh(c: models.ConsumptionInput, default_tariff_brl_per_kwh: float | None = None) -> np.ndarray:
    """Twelve monthly consumptions [kWh] from any of the accepted forms.

    A bill without a tariff is converted with ``default_tariff_brl_per_kwh`` (the site's
    distributor, with taxes) when given.
    """
    if c.monthly_kwh is not None:
        values = np.atleast_1d(np.asarray(c.monthly_kwh, dtype=float))
        if values.size == 1:
            values = np.repeat(values, 12)
        if values.size != 12:
            raise InvalidInput(f"Consumo mensal com {values.size} valores.", hint=_CONSUMPTION_HINT)
    elif c.bill_brl is not None:
        tariff = c.tariff_brl_per_kwh if c.tariff_brl_per_kwh is not None else default_tariff_brl_per_kwh
        if not tariff or tariff <= 0:
            raise InvalidInput("Conta em R$ sem tarifa válida.", hint=_CONSUMPTION_HINT)
        values = np.repeat(c.bill_brl / tariff, 12)
    else:
        raise InvalidInput("Consumo não informado.", hint=_CONSUMPTION_HINT)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InvalidInput("O consumo deve ser maior que zero em todos os meses.", hint=_CONSUMPTION_HINT)
    return values


def site_stage(request: models.SizingRequest) -> SiteInputs:
    """Resolve the site and its prices, read the consumption, check the preferences' ranges."""
    s = request.site
    site = resolve_site(municipality=s.municipality, uf=s.uf, ibge_code=s.ibge_code, latitude_deg=s.lat,
                        longitude_deg=s.lon)
    prices = resolve_prices(site, request.tariff)
    c_in = request.consumption
    # "How much does 8 kWp generate here?" has no consumption: assumed from the size itself (see
    # ``assumed_consumption``), after the weather stage.
    assume = request.system_kwp is not None and c_in.monthly_kwh is None and c_in.bill_brl is None
    consumption = None if assume else monthly_consumption_kwh(c_in, prices.bill_brl_per_kwh)
    connection = Phase(request.connection)
    prefs, roof, tar = request.preferences, request.roof, request.tariff
    if not 0.5 <= prefs.max_dc_ac_ratio <= 2.0:
        raise InvalidInput("Razão CC/CA máxima fora da faixa.", hint="Use entre 1,0 e 1,5 (padrão 1,30).")
    if not 10 <= prefs.target_offset_pct <= 200:
        raise InvalidInput("Meta de compensação fora da faixa.", hint="Use entre 10 % e 200 % (padrão 100 %).")
    if roof.area_m2 is not None and roof.area_m2 <= 0:
        raise InvalidInput("Área de telhado deve ser positiva.", hint="Informe a área útil em m², ou omita.")
    tilt = round(abs(site.latitude_deg)) if roof.tilt_deg is None else roof.tilt_deg
    if not 0 <= tilt <= 90:
        raise InvalidInput("Inclinação fora de 0–90°.", hint="Informe a inclinação do telhado em graus.")
    if not 0 <= tar.simultaneity <= 1:
        raise InvalidInput("Simultaneidade fora de 0–1.", hint="Residencial típico: 0,2 a 0,4.")
    return SiteInputs(request, site, prices, consumption, connection, tilt, roof.azimuth_deg % 360, assume)


def assumed_consumption(inputs: SiteInputs, array: SiteArray) -> SiteInputs:
    """A fixed size simulated without a consumption: the client is assumed to use what the system
    makes plus the connection's minimum bill, so the economics have something to compensate."""
    if inputs.consumption_kwh is not None:
        return inputs
    per_kwp = float(array.arr.dc_pvwatts_per_w(PVWATTS_GAMMA_PCT_PER_C / 100).sum()) * 0.86
    monthly = inputs.request.system_kwp * per_kwp / 12 + availability_kwh(inputs.connection)
    return replace(inputs, consumption_kwh=np.repeat(monthly, 12))


# --- weather ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteArray:
    """The hourly year at the site and its irradiance on every roof face."""

    weather: WeatherYear
    arr: PVArray
    fit: RoofFit
    tilt_deg: float  # of the first face
    azimuth_deg: float
    min_temp_c: float  # design minimum for Voc [°C]
    uploaded: bool  # the weather came with the request (a file), not from the built-in resource


def default_weather(site: Site) -> WeatherYear:
    """The built-in synthetic year at ``site`` (cached per rounded coordinate)."""
    return synthesize_year_cached(round(site.latitude_deg, 4), round(site.longitude_deg, 4), site.utc_offset_h)


def weather_stage(inputs: SiteInputs, weather: WeatherYear | None = None) -> SiteArray:
    """The year (``weather`` or the built-in one), plane-of-array irradiance per face, roof fit."""
    site, roof = inputs.site, inputs.request.roof
    with span("sizing.weather", **{"helio.site": site.label}):
        wy = weather if weather is not None else default_weather(site)
    geometry = wy.geometry if weather is None else solar_geometry(wy.times, site.latitude_deg, site.longitude_deg)
    face_inputs = list(roof.faces) if roof.faces else [
        models.RoofFace(tilt_deg=inputs.tilt_deg, azimuth_deg=inputs.azimuth_deg, area_m2=roof.area_m2)]
    face_shares = shares([f.area_m2 for f in face_inputs])
    arr = PVArray(tuple(
        Face(f.tilt_deg, f.azimuth_deg % 360, f.area_m2, share, site_irradiance(
            wy.times, site.latitude_deg, site.longitude_deg, wy.ghi_w_m2, wy.dni_w_m2, wy.dhi_w_m2, wy.temp_air_c,
            wy.wind_speed_m_s, f.tilt_deg, f.azimuth_deg % 360, albedo=wy.albedo,
            noct_c=45.0 if roof.type == RoofType.GROUND else 49.0, geometry=geometry))
        for f, share in zip(face_inputs, face_shares, strict=True)))
    tilt, azimuth = (arr.faces[0].tilt_deg, arr.faces[0].azimuth_deg) if roof.faces else (
        inputs.tilt_deg, inputs.azimuth_deg)
    roof_area = (arr.area_m2 if roof.faces and arr.area_m2 is not None else roof.area_m2)
    fit = RoofFit(roof_area, row_pitch_factor(roof.type, max(f.tilt_deg for f in arr.faces), site.latitude_deg))
    min_temp_c = wy.design_min_temp_c - (3.0 if weather is None else 0.0)
    return SiteArray(wy, arr, fit, tilt, azimuth, min_temp_c, uploaded=weather is not None)


# --- target ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The energy a design should produce."""

    availability_kwh_per_month: float  # minimum billed energy of the connection (REN 1.000/2021)
    annual_consumption_kwh: float
    target_kwh: float  # per year; what ``score`` ranks against in ``target`` mode


def target_stage(inputs: SiteInputs, array: SiteArray) -> Target:
    """Compensable consumption × the offset asked for; 422 when nothing is compensable or the
    system would exceed distributed generation."""
    prefs = inputs.request.preferences
    availability = availability_kwh(inputs.connection)
    annual_consumption = float(inputs.consumption_kwh.sum())
    compensable = float(np.maximum(inputs.consumption_kwh - availability, 0).sum())
    target_kwh = compensable * prefs.target_offset_pct / 100
    if target_kwh <= 0 and inputs.mode == "target":
        raise InvalidInput(
            f"Consumo ({format_number(annual_consumption / 12)} kWh/mês) não passa do custo de disponibilidade "
            f"({format_number(availability)} kWh/mês): não há energia a compensar.",
            hint="Um sistema FV não reduz a conta abaixo do mínimo faturável.")
    kwp_for_target = target_kwh / max(array.arr.dc_pvwatts_per_w(PVWATTS_GAMMA_PCT_PER_C / 100).sum() * 0.86, 1e-9)
    if inputs.mode == "target" and kwp_for_target > models.MAX_SYSTEM_KWP:
        raise InvalidInput(
            f"Campo 'consumption': {format_number(annual_consumption / 12)} kWh/mês pede cerca de "
            f"{format_number(kwp_for_target / 1000, decimals=1)} MWp, acima do limite da geração distribuída "
            f"(minigeração solar até {format_number(models.MAX_SYSTEM_KWP / 1000)} MW, Lei 14.300/2022).",
            hint="Confira a unidade (kWh por mês) ou reduza target_offset_pct; usinas maiores são projetos de "
                 "geração centralizada, fora do que este dimensionamento cobre.", field="consumption")
    return Target(availability, annual_consumption, target_kwh)


# --- stock -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stock:
    """What the catalog offers this request: usable components and eligible kits."""

    all_products: list[Product]
    by_id: dict[str, Product]
    registry: object | None  # the spec registry (app.specs), when one is loaded
    modules: list[ModuleElectrical]
    inverters: list[InverterElectrical]  # every usable inverter
    inverters_phase: list[InverterElectrical]  # those that fit the connection (none when a kit is pinned)
    skipped: list[Skipped]
    pinned: bool  # the user chose module/inverter: no kits
    structure: StructureSwap | None
    kit_sel: KitSelection

    @property
    def components_possible(self) -> bool:
        return bool(self.modules and self.inverters_phase)


def _products(products: Iterable[Product] | CatalogRepository) -> list[Product]:
    if hasattr(products, "iter_products"):
        repo = products  # type: ignore[assignment]
        return [*repo.iter_products(Category.MODULE), *repo.iter_products(Category.INVERTER),  # type: ignore[union-attr]
                *repo.iter_products(Category.KIT), *repo.iter_products(Category.STRUCTURE)]  # type: ignore[union-attr]
    return list(products)  # type: ignore[arg-type]


def _apply_preferences(modules, inverters, skipped, prefs: models.Preferences):
    reasons = {x.product_id: x.reason for x in skipped}
    if prefs.module_id:
        modules = [m for m in modules if m.product.id == prefs.module_id]
        if not modules:
            why = reasons.get(prefs.module_id, "não encontrado em estoque")
            raise InvalidInput(f"Módulo {prefs.module_id!r} indisponível para dimensionamento: {why}.",
                               hint="Escolha outro módulo em estoque ou omita module_id.")
    if prefs.inverter_id:
        inverters = [i for i in inverters if i.product.id == prefs.inverter_id]
        if not inverters:
            why = reasons.get(prefs.inverter_id, "não encontrado em estoque")
            raise InvalidInput(f"Inversor {prefs.inverter_id!r} indisponível para dimensionamento: {why}.",
                               hint="Escolha outro inversor em estoque ou omita inverter_id.")
    return modules, inverters


def _check_pinned_kit(kit_id: str, sel: KitSelection, by_id: dict[str, Product]) -> None:
    """A kit the user named must exist, be in stock and fit the connection; else 422 saying why."""
    if sel.eligible:
        return
    hint = "Escolha outro kit (GET /v1/products?category=kit&in_stock=true) ou omita kit_id."
    p = by_id.get(kit_id)
    if p is None or p.category is not Category.KIT:
        raise InvalidInput(f"Campo 'kit_id': kit {kit_id!r} não encontrado no catálogo.", hint=hint, field="kit_id")
    if not p.in_stock:
        raise InvalidInput(f"Campo 'kit_id': kit {kit_id!r} fora de estoque.", hint=hint, field="kit_id")
    why = sel.skipped[0].reason if sel.skipped else "; ".join(sel.excluded) or "não utilizável"
    raise InvalidInput(f"Campo 'kit_id': kit {kit_id!r} não serve a este pedido: {why}.", hint=hint, field="kit_id")


def stock_stage(inputs: SiteInputs, products: Iterable[Product] | CatalogRepository, specs=None) -> Stock:
    """Usable modules and inverters (with the spec registry's datasheet values) and eligible
    kits; 422 naming what was skipped when nothing can be built."""
    request, connection = inputs.request, inputs.connection
    prefs, roof = request.preferences, request.roof
    registry = specs if specs is not None else getattr(products, "spec_registry", None)

    def build() -> list[Product]:
        found = _products(products)
        return found if registry is None else [with_registry_specs(p, registry) for p in found]

    prepared = prepared_stock(products, registry, build)  # once per catalog version (app.sizing.prepared)
    all_products = prepared.products
    modules, inverters, skipped = usable_products(all_products)
    modules, inverters = _apply_preferences(modules, inverters, skipped, prefs)
    inverters_phase = [i for i in inverters if phase_fits(connection, i.phase)]
    by_id = prepared.by_id
    pinned = bool(prefs.module_id or prefs.inverter_id)  # the user chose the equipment: no kits
    structure = structure_for(all_products, roof.type)
    kit_sel = (KitSelection([], [], {}) if pinned else
               select_kits(all_products, connection, roof.type, 9.9 if request.kit_id else prefs.max_dc_ac_ratio,
                           by_id, registry, structure, only_id=request.kit_id, electrical=prepared.kit_electrical))
    if request.kit_id:
        _check_pinned_kit(request.kit_id, kit_sel, by_id)
        modules, inverters_phase = [], []  # the user chose the kit: no component designs
    skipped = skipped + kit_sel.skipped
    stock = Stock(all_products, by_id, registry, modules, inverters, inverters_phase, skipped, pinned, structure,
                  kit_sel)
    if not stock.components_possible and not kit_sel.eligible:
        what = "módulo" if not modules else f"inversor compatível com ligação {connection.value}"
        kits_note = "" if pinned else (
            f" Nenhum kit do catálogo serve: {len(kit_sel.skipped)} kits sem dados utilizáveis"
            + "".join(f"; {n} com {why}" for why, n in sorted(kit_sel.excluded.items())) + ".")
        raise InvalidInput(
            f"Nenhum {what} em estoque com as especificações elétricas necessárias.{kits_note}",
            hint=f"{len(skipped)} produtos ignorados; exemplos: "
                 + "; ".join(f"{x.name} ({x.reason})" for x in skipped[:8]),
            skipped=[x.__dict__ for x in skipped[:50]],
        )
    return stock


# --- candidates ------------------------------------------------------------------------------


@dataclass
class Pool:
    """Every design that could be offered, simulated over the year."""

    candidates: list[Candidate]  # module × inverter layouts whose strings passed
    kit_candidates: list[KitCandidate]
    losses: Losses
    keep: float  # 1 − total losses
    roof_limited_any: bool = False  # the roof area capped the module count of some layout
    checks: dict[str, KitCheck] = field(default_factory=dict)  # string check per eligible kit id
    kits_cut_by_area: int = 0  # kits that would meet the target (or the size asked) but do not fit the area


def kit_check(k: KitElectrical, registry, min_temp_c: float, by_id: dict[str, Product]) -> KitCheck:
    """The string check of a kit from the spec registry's datasheets (``not_verifiable`` without one)."""
    if registry is None:
        return KitCheck("not_verifiable", string_check_reason(k, by_id))
    return check_kit(k.module_spec, k.inverter_spec, k.micro, k.n_modules, sum(x.quantity for x in k.inverters),
                     min_temp_c, short_name(k.modules[0]), short_name(k.inverters[0]), k.module_why,
                     k.inverter_why, k.distributor)


def dc_profile(module: ModuleElectrical, arr: PVArray) -> tuple[np.ndarray, str]:
    """DC output per watt of nameplate [W/W] over the year, and the model used."""
    cec = module.cec
    if cec and all(k in cec for k in CEC_KEYS):
        return arr.dc_cec_per_w(cec), "CEC single-diode (pvlib)"
    return arr.dc_pvwatts_per_w(module.gamma_pmax_pct_per_c / 100), "PVWatts (γ do datasheet)"


def component_candidates(inputs: SiteInputs, array: SiteArray, target: Target, stock: Stock,
                         keep: float) -> tuple[list[Candidate], bool]:
    """Every module × inverter layout that passes the string checks, sized to the target (or
    the kWp asked for) within the roof area; and whether the area capped any of them."""
    request, fit = inputs.request, array.fit
    prefs = request.preferences
    candidates: list[Candidate] = []
    roof_limited_any = False
    for mod in stock.modules if stock.components_possible else []:
        profile, dc_model = dc_profile(mod, array.arr)
        yield_kwh_per_w = float(profile.sum()) * keep * 0.96 / 1000
        if request.system_kwp:
            n_target = max(1, round(request.system_kwp * 1000 / mod.pmax_w))
        else:
            n_target = max(1, math.ceil(target.target_kwh / (yield_kwh_per_w * mod.pmax_w)))
        n_cap = None
        if fit.area_m2 is not None:
            per_module, _ = fit.module_area(mod.pmax_w, mod.area_m2, mod.product.name,
                                            mod.product.module.efficiency_pct if mod.product.module else None)
            n_cap = int(fit.area_m2 // per_module)
            if n_cap < 1:
                continue
        for inv in stock.inverters_phase:
            max_inv = min(200, max(MAX_INVERTERS_PER_DESIGN,
                                   math.ceil(n_target * mod.pmax_w / inv.ac_power_w) + 1))
            layout = best_layout(mod, inv, min(n_target, n_cap) if n_cap else n_target, n_cap, array.min_temp_c,
                                 prefs.max_dc_ac_ratio, max_inverters=max_inv)
            if layout is None:
                continue
            roof_limited_any |= n_cap is not None and n_cap < n_target
            dc = profile * (layout.n_modules * mod.pmax_w) * keep
            ac = layout.inverter_count * inverter_pvwatts(dc / layout.inverter_count, inv.ac_power_w, inv.efficiency)
            ac = np.clip(ac, 0.0, None)
            equipment = layout.n_modules * mod.product.price_brl + layout.inverter_count * inv.product.price_brl
            installation = layout.n_modules * mod.pmax_w / 1000 * prefs.installation_brl_per_kwp
            candidates.append(Candidate(mod, inv, layout, ac, dc, float(ac.sum() / 1000), equipment, installation,
                                        dc_model))
    return candidates, roof_limited_any


def kit_candidates(kits: list[KitElectrical], arr: PVArray, keep: float, target_kwh: float,
                   prefs: models.Preferences, fit: RoofFit, checks: dict[str, KitCheck],
                   fixed_kwp: float | None = None) -> tuple[list[KitCandidate], int]:
    """Single kits, plus N × the same kit when no single kit reaches the target (or N kits
    nearest ``fixed_kwp``); kits that do not fit the roof area are left out. Also returns how
    many kits the area kept out that would have met the target (or had the size asked for):
    0 when the area is not what limits the kit designs.

    Vectorised: one DC profile per γ, one AC row per distinct DC/AC ratio (kits of one
    family share a handful), annual energy = AC rating × row sum.
    """
    if not kits:
        return [], 0
    gamma_of = {k.product.id: k.gamma_pct_per_c if k.gamma_pct_per_c is not None else PVWATTS_GAMMA_PCT_PER_C
                for k in kits}
    kwh_per_w_ac: dict[tuple[float, float], float] = {}
    for gamma in sorted(set(gamma_of.values())):
        ratios = sorted({round(k.dc_ac_ratio, 6) for k in kits if gamma_of[k.product.id] == gamma})
        profile = arr.dc_pvwatts_per_w(gamma / 100)
        sums = ac_per_w_ac(profile, np.array(ratios), keep).sum(axis=1) / 1000
        kwh_per_w_ac.update({(gamma, r): float(v) for r, v in zip(ratios, sums, strict=True)})

    def fits(k: KitElectrical, n: int) -> bool:
        return fit.area_m2 is None or n * k.n_modules * fit.kit_module_area(k)[0] <= fit.area_m2 + 1e-9

    def build(k: KitElectrical, n: int) -> KitCandidate:
        gamma = gamma_of[k.product.id]
        annual = n * k.ac_w * kwh_per_w_ac[(gamma, round(k.dc_ac_ratio, 6))]
        structure = n * k.swap.cost_brl(k.n_modules) if k.swap else 0.0
        return KitCandidate(k, n, gamma, annual, n * float(k.product.price_brl) + structure,  # type: ignore[arg-type]
                            n * k.dc_w / 1000 * prefs.installation_brl_per_kwp, checks[k.product.id])

    def multiple_for_target(c: KitCandidate) -> int:
        return math.ceil(target_kwh * TARGET_TOLERANCE / max(c.annual_kwh, 1e-9))

    if fixed_kwp is not None:
        sized = [(k, max(1, round(fixed_kwp * 1000 / k.dc_w))) for k in kits]
        asked = [(k, n) for k, n in sized if not fixed_kwp
                 or abs(n * k.dc_w / 1000 - fixed_kwp) <= FIXED_SIZE_TOLERANCE * fixed_kwp]
        # the area limits only when no fitting kit has the size asked for (the fixed score's first rule)
        cut = 0 if any(fits(k, n) for k, n in asked) else len(asked)
        return [build(k, n) for k, n in sized if fits(k, n)], cut
    every_single = [build(k, 1) for k in kits]
    singles = [c for c in every_single if fits(c.kit, 1)]
    if any(c.annual_kwh >= TARGET_TOLERANCE * target_kwh for c in singles):
        return singles, 0
    multiples = []
    for c in singles:
        n = multiple_for_target(c)
        if 2 <= n <= MAX_KIT_MULTIPLE and fits(c.kit, n):
            multiples.append(build(c.kit, n))
    if multiples:
        return singles + multiples, 0
    # No fitting kit design meets the target: count the kits whose target-meeting design the area keeps out.
    cut = sum(1 for c in every_single if (n := multiple_for_target(c)) <= MAX_KIT_MULTIPLE and not fits(c.kit, n))
    return singles, cut


def _raise_no_layout(modules, inverters, area_m2, min_temp_c) -> None:
    if area_m2 is not None:
        fits = []
        for m in modules:
            if m.area_m2 is None:
                continue
            for i in inverters:
                n_min, n_max = series_range(m, i, min_temp_c)
                if n_min <= n_max and n_min * m.area_m2 <= area_m2:
                    fits.append(n_min * m.area_m2)
        if not fits:
            need = min((series_range(m, i, min_temp_c)[0] * m.area_m2 for m in modules for i in inverters
                        if m.area_m2), default=None)
            raise InvalidInput(
                f"Telhado pequeno demais ({format_number(area_m2, decimals=1)} m²) para uma string que atenda à tensão mínima de MPPT.",
                hint=(f"A menor string possível ocupa cerca de {format_number(need, decimals=1)} m²; " if need else "")
                + "informe uma área maior ou considere microinversores.")
    raise InvalidInput(
        "Nenhuma combinação de módulo e inversor em estoque passa nas verificações de string e razão CC/CA.",
        hint="Aumente max_dc_ac_ratio, escolha outro inversor/módulo, ou revise a meta de compensação.")


def candidates_stage(inputs: SiteInputs, array: SiteArray, target: Target, stock: Stock) -> Pool:
    """Simulate every component layout and every eligible kit; 422 when none fits."""
    request, fit = inputs.request, array.fit
    losses = replace(ENGINE_LOSSES, shading_pct=request.roof.shading_pct)
    keep = 1 - losses.total_pct / 100
    candidates, roof_limited_any = component_candidates(inputs, array, target, stock, keep)
    kit_sel = stock.kit_sel
    checks = {k.product.id: kit_check(k, stock.registry, array.min_temp_c, stock.by_id) for k in kit_sel.eligible}
    fixed_kwp = request.system_kwp or (0.0 if request.kit_id else None)  # kit_id alone: 1 kit
    kits, kits_cut = kit_candidates(kit_sel.eligible, array.arr, keep, target.target_kwh, request.preferences, fit,
                                    checks, fixed_kwp=fixed_kwp)
    if not candidates and not kits:
        if stock.components_possible and not kit_sel.eligible:
            _raise_no_layout(stock.modules, stock.inverters_phase, fit.area_m2, array.min_temp_c)
        smallest = min((k.n_modules * fit.kit_module_area(k)[0] for k in kit_sel.eligible), default=None)
        raise InvalidInput(
            f"Campo 'roof.area_m2': nenhum projeto em estoque cabe em {format_number(fit.area_m2, decimals=1)} m²"
            + (" (com espaçamento entre fileiras)" if fit.pitch > 1 else "") + ".",
            hint=(f"O menor kit ocupa cerca de {format_number(smallest, decimals=1)} m²; " if smallest else "")
            + "informe uma área maior ou omita a área do telhado.", field="roof.area_m2")
    return Pool(candidates, kits, losses, keep, roof_limited_any, checks, kits_cut)


# --- score -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    """The designs shown: up to three, component designs first, the best kit last."""

    chosen: list[Candidate]
    chosen_kits: list[KitCandidate]


def target_score(target_kwh: float):
    """Sort key in ``target`` mode: meet the target first, then the lowest investment (cost
    per kWh breaks ties); designs short of it rank by energy."""
    def score(c: Candidate | KitCandidate) -> tuple:
        meets = c.annual_kwh >= TARGET_TOLERANCE * target_kwh
        return (not meets, c.capex_brl if meets else -c.annual_kwh, c.capex_brl / c.annual_kwh)
    return score


def fixed_score(system_kwp: float | None):
    """Sort key in the fixed modes: the size asked for first (within 10 %), then the lowest investment."""
    def score(c: Candidate | KitCandidate) -> tuple:
        dev = abs(c.dc_kwp - system_kwp) / system_kwp if system_kwp else 0.0
        return (dev > FIXED_SIZE_TOLERANCE, c.capex_brl, dev)
    return score


def pick(candidates: list, limit: int, rules, same) -> list:
    """Best candidate, then one per diversity rule (another inverter brand, another module brand, any)."""
    if not candidates or limit <= 0:
        return []
    chosen = [candidates[0]]
    for rule in rules:
        for c in candidates[1:]:
            if len(chosen) >= limit:
                break
            if c not in chosen and rule(c, chosen[0]) and all(not same(c, x) for x in chosen):
                chosen.append(c)
                break
    return chosen


def score_stage(inputs: SiteInputs, target: Target, pool: Pool) -> Ranked:
    """Keep what fits the budget (422 when nothing does), rank, and pick diverse designs."""
    request = inputs.request
    prefs = request.preferences
    candidates, kits = pool.candidates, pool.kit_candidates
    if prefs.budget_brl is not None:
        affordable = [c for c in candidates if c.capex_brl <= prefs.budget_brl]
        affordable_kits = [c for c in kits if c.capex_brl <= prefs.budget_brl]
        if not affordable and not affordable_kits:
            cheapest = min(c.capex_brl for c in [*candidates, *kits])
            raise InvalidInput(
                f"Nenhum projeto cabe no orçamento de {format_brl(prefs.budget_brl)}.",
                hint=f"O menor investimento encontrado é {format_brl(cheapest)}; aumente o orçamento ou reduza a "
                     "meta de compensação (target_offset_pct).")
        candidates, kits = affordable, affordable_kits
    score = target_score(target.target_kwh) if inputs.mode == "target" else fixed_score(request.system_kwp)
    candidates = sorted(candidates, key=score)
    # Kits: an unverifiable check costs like 15 % more investment, a failing one ranks last, so a
    # verified kit wins unless it is clearly dearer (a right-sized kit still beats an oversized one).
    kits = sorted(kits, key=lambda c: (score(c)[0], c.check.rank == 2,
                                       score(c)[1] * (KIT_UNVERIFIED_PENALTY if c.check.rank == 1 else 1.0),
                                       *score(c)[2:]))
    # Verified component designs first; when kits exist, the last place goes to the best kit.
    chosen = pick(candidates, 3 if not kits else 2, (
        lambda c, b: c.inverter.product.manufacturer != b.inverter.product.manufacturer,
        lambda c, b: c.module.product.manufacturer != b.module.product.manufacturer,
        lambda c, b: True),
        lambda c, x: (c.module.product.id, c.inverter.product.id) == (x.module.product.id, x.inverter.product.id))
    chosen_kits = pick(kits, 3 - len(chosen), (
        lambda c, b: c.kit.inverter_manufacturer != b.kit.inverter_manufacturer,
        lambda c, b: c.kit.module_manufacturer != b.kit.module_manufacturer,
        lambda c, b: True),
        lambda c, x: (c.kit.signature, c.multiple) == (x.kit.signature, x.multiple))
    return Ranked(chosen, chosen_kits)
