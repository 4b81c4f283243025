"""``size_system``: site → resource → hourly simulation → designs from stock → economics.

The site's plane-of-array irradiance and cell temperature are computed once; each module
type then gets one normalised DC profile [W/W], and every (module, inverter, layout)
candidate is evaluated from it with array arithmetic. Catalog kits are candidates too
(:mod:`app.sizing.kits`): one PVWatts profile per temperature coefficient, one AC row per
DC/AC ratio, scaled to each kit. Component designs (strings verified) rank first; kits,
whose strings the catalog does not let us verify, fill the remaining places.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from app.catalog.models import Category, Phase, Product, RoofType
from app.catalog.repository import CatalogRepository
from app.core.errors import InvalidInput
from app.sizing import design as D
from app.sizing import economics as E
from app.sizing import kits as K
from app.sizing import models as M
from app.sizing.resource import WeatherYear, synthesize_year_cached
from app.sizing.simulation import Losses, inverter_pvwatts, site_irradiance, solar_geometry
from app.sizing.results import (
    TARGET_TOLERANCE, Candidate, DesignContext, KitCandidate, design_out, fmt_pt, inverter_price_per_w, kit_design_out,
    result_warnings,
)
from app.sizing import roof as R
from app.sizing.kitcheck import KitCheck, check_kit
from app.core.telemetry import span
from app.sizing.sites import Site, resolve_site
from app.specs.catalog import with_registry_specs
from app.sizing.tariffs import resolve_prices

ENGINE_LOSSES = Losses(shading_pct=0.0)  # PVWatts defaults, roof assumed unshaded
MODEL_UNCERTAINTY_PCT = 3.0
INTERANNUAL_VARIABILITY_PCT = 3.0
KIT_UNVERIFIED_PENALTY = 1.15
MICROGENERATION_LIMIT_KW = 75.0
MINIGENERATION_NOTE = (
    "Acima de 75 kW ({kw} kW instalados): é minigeração distribuída (Lei 14.300/2022), não microgeração. Muda: "
    "projeto elétrico e ART de engenheiro, parecer de acesso da distribuidora com prazos e estudos maiores, "
    "garantia de fiel cumprimento acima de 500 kW, em geral conexão em média tensão (grupo A, demanda "
    "contratada) e regras próprias do Fio B/TUSD. A economia aqui usa a tarifa residencial (grupo B): é "
    "indicativa; o projeto usa vários kits ou inversores e deve ser revisto por um engenheiro.")
CEC_KEYS = ("alpha_sc", "a_ref", "I_L_ref", "I_o_ref", "R_sh_ref", "R_s", "Adjust")


def monthly_consumption_kwh(c: M.ConsumptionInput, default_tariff_brl_per_kwh: float | None = None) -> np.ndarray:
    """Twelve monthly consumptions [kWh] from any of the accepted forms.

    A bill without a tariff is converted with ``default_tariff_brl_per_kwh`` (the site's
    distributor, with taxes) when given.
    """
    hint = 'Informe {"monthly_kwh": 650}, doze valores mensais, ou {"bill_brl": 480, "tariff_brl_per_kwh": 0.95}.'
    if c.monthly_kwh is not None:
        values = np.atleast_1d(np.asarray(c.monthly_kwh, dtype=float))
        if values.size == 1:
            values = np.repeat(values, 12)
        if values.size != 12:
            raise InvalidInput(f"Consumo mensal com {values.size} valores.", hint=hint)
    elif c.bill_brl is not None:
        tariff = c.tariff_brl_per_kwh if c.tariff_brl_per_kwh is not None else default_tariff_brl_per_kwh
        if not tariff or tariff <= 0:
            raise InvalidInput("Conta em R$ sem tarifa válida.", hint=hint)
        values = np.repeat(c.bill_brl / tariff, 12)
    else:
        raise InvalidInput("Consumo não informado.", hint=hint)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InvalidInput("O consumo deve ser maior que zero em todos os meses.", hint=hint)
    return values


def _products(products: Iterable[Product] | CatalogRepository) -> list[Product]:
    if hasattr(products, "iter_products"):
        repo = products  # type: ignore[assignment]
        return [*repo.iter_products(Category.MODULE), *repo.iter_products(Category.INVERTER),  # type: ignore[union-attr]
                *repo.iter_products(Category.KIT), *repo.iter_products(Category.STRUCTURE)]  # type: ignore[union-attr]
    return list(products)  # type: ignore[arg-type]


def _score(target_kwh: float):
    def score(c: Candidate | KitCandidate) -> tuple:
        meets = c.annual_kwh >= TARGET_TOLERANCE * target_kwh
        # meet the target first, then the lowest investment (cost per kWh breaks ties);
        # designs short of it rank by energy
        return (not meets, c.capex_brl if meets else -c.annual_kwh, c.capex_brl / c.annual_kwh)
    return score


def fmt_thousands(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def _mode_assumption(request: M.SizingRequest, mode: str, availability: float, target_kwh: float) -> str:
    if mode == "target":
        return (f"Meta: {request.preferences.target_offset_pct:.0f} % do consumo compensável (consumo − custo de "
                f"disponibilidade {availability:.0f} kWh/mês) = {target_kwh:.0f} kWh/ano.")
    size = f"{request.system_kwp:g} kWp".replace(".", ",") if request.system_kwp else ""
    what = f"kit pedido {request.kit_id}" + (f" em {size}" if size else "") if mode == "fixed_kit" else \
        f"tamanho pedido {size} (projetos a até 10 % disso)"
    return f"Simulação de {what}, sem dimensionar pela meta; a economia usa o consumo informado."


def _score_fixed(system_kwp: float | None):
    def score(c: Candidate | KitCandidate) -> tuple:
        # the size asked for first (within 10 %), then the lowest investment
        dev = abs(c.dc_kwp - system_kwp) / system_kwp if system_kwp else 0.0
        return (dev > 0.10, c.capex_brl, dev)
    return score


def _kit_check(k: K.KitElectrical, registry, min_temp_c: float, by_id: dict[str, Product]) -> KitCheck:
    if registry is None:
        return KitCheck("not_verifiable", K.string_check_reason(k, by_id))
    return check_kit(k.module_spec, k.inverter_spec, k.micro, k.n_modules, sum(x.quantity for x in k.inverters),
                     min_temp_c, K.short_name(k.modules[0]), K.short_name(k.inverters[0]), k.module_why, k.inverter_why,
                     k.distributor)


def _kit_candidates(kits: list[K.KitElectrical], arr: R.PVArray, keep: float, target_kwh: float,
                    prefs: M.Preferences, fit: R.RoofFit, checks: dict[str, KitCheck],
                    fixed_kwp: float | None = None) -> list[KitCandidate]:
    """Single kits, plus N × the same kit when no single kit reaches the target (or N kits
    nearest ``fixed_kwp``); kits that do not fit the roof area are left out.

    Vectorised: one DC profile per γ, one AC row per distinct DC/AC ratio (kits of one
    family share a handful), annual energy = AC rating × row sum.
    """
    if not kits:
        return []
    gamma_of = {k.product.id: k.gamma_pct_per_c if k.gamma_pct_per_c is not None else K.PVWATTS_GAMMA_PCT_PER_C
                for k in kits}
    kwh_per_w_ac: dict[tuple[float, float], float] = {}
    for gamma in sorted(set(gamma_of.values())):
        ratios = sorted({round(k.dc_ac_ratio, 6) for k in kits if gamma_of[k.product.id] == gamma})
        profile = arr.dc_pvwatts_per_w(gamma / 100)
        sums = K.ac_per_w_ac(profile, np.array(ratios), keep).sum(axis=1) / 1000
        kwh_per_w_ac.update({(gamma, r): float(v) for r, v in zip(ratios, sums, strict=True)})

    def candidate(k: K.KitElectrical, n: int) -> KitCandidate | None:
        if fit.area_m2 is not None and n * k.n_modules * fit.kit_module_area(k)[0] > fit.area_m2 + 1e-9:
            return None
        gamma = gamma_of[k.product.id]
        annual = n * k.ac_w * kwh_per_w_ac[(gamma, round(k.dc_ac_ratio, 6))]
        structure = n * k.swap.cost_brl(k.n_modules) if k.swap else 0.0
        return KitCandidate(k, n, gamma, annual, n * float(k.product.price_brl) + structure,  # type: ignore[arg-type]
                            n * k.dc_w / 1000 * prefs.installation_brl_per_kwp, checks[k.product.id])

    if fixed_kwp is not None:
        return [c for k in kits if (c := candidate(k, max(1, round(fixed_kwp * 1000 / k.dc_w)))) is not None]
    singles = [c for k in kits if (c := candidate(k, 1)) is not None]
    if any(c.annual_kwh >= TARGET_TOLERANCE * target_kwh for c in singles):
        return singles
    multiples = []
    for c in singles:
        n = math.ceil(target_kwh * TARGET_TOLERANCE / max(c.annual_kwh, 1e-9))
        if 2 <= n <= K.MAX_KIT_MULTIPLE and (m := candidate(c.kit, n)) is not None:
            multiples.append(m)
    return singles + multiples


def _pick(candidates: list, limit: int, rules, same) -> list:
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


def _dc_profile(module: D.ModuleElectrical, arr: R.PVArray) -> tuple[np.ndarray, str]:
    cec = module.cec
    if cec and all(k in cec for k in CEC_KEYS):
        return arr.dc_cec_per_w(cec), "CEC single-diode (pvlib)"
    return arr.dc_pvwatts_per_w(module.gamma_pmax_pct_per_c / 100), "PVWatts (γ do datasheet)"


def _check_pinned_kit(kit_id: str, sel: K.KitSelection, by_id: dict[str, Product]) -> None:
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


def _weather(site: Site, weather: WeatherYear | None) -> WeatherYear:
    if weather is not None:
        return weather
    return synthesize_year_cached(round(site.latitude_deg, 4), round(site.longitude_deg, 4), site.utc_offset_h)


def size_system(request: M.SizingRequest, products: Iterable[Product] | CatalogRepository, *,
                weather: WeatherYear | None = None, specs=None) -> M.SizingResult:
    """Size a grid-tied system for ``request`` from in-stock ``products``.

    ``weather``: an hourly year to use instead of the built-in synthetic resource (e.g.
    :func:`app.sizing.resource.load_weather_file`). Raises InvalidInput (422) with a hint for
    every input the engine cannot honour.
    """
    s = request.site
    site = resolve_site(municipality=s.municipality, uf=s.uf, ibge_code=s.ibge_code, latitude_deg=s.lat,
                        longitude_deg=s.lon)
    prices = resolve_prices(site, request.tariff)
    c_in = request.consumption
    # "How much does 8 kWp generate here?" has no consumption: set below from the size itself.
    assume_consumption = request.system_kwp is not None and c_in.monthly_kwh is None and c_in.bill_brl is None
    consumption = None if assume_consumption else monthly_consumption_kwh(c_in, prices.bill_brl_per_kwh)
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
    azimuth = roof.azimuth_deg % 360
    if not 0 <= tar.simultaneity <= 1:
        raise InvalidInput("Simultaneidade fora de 0–1.", hint="Residencial típico: 0,2 a 0,4.")

    with span("sizing.weather", **{"helio.site": site.label}):
        wy = _weather(site, weather)
    geometry = wy.geometry if weather is None else solar_geometry(wy.times, site.latitude_deg, site.longitude_deg)
    face_inputs = list(roof.faces) if roof.faces else [M.RoofFace(tilt_deg=tilt, azimuth_deg=azimuth,
                                                                   area_m2=roof.area_m2)]
    face_shares = R.shares([f.area_m2 for f in face_inputs])
    arr = R.PVArray(tuple(
        R.Face(f.tilt_deg, f.azimuth_deg % 360, f.area_m2, share, site_irradiance(
            wy.times, site.latitude_deg, site.longitude_deg, wy.ghi_w_m2, wy.dni_w_m2, wy.dhi_w_m2, wy.temp_air_c,
            wy.wind_speed_m_s, f.tilt_deg, f.azimuth_deg % 360, albedo=wy.albedo,
            noct_c=45.0 if roof.type == RoofType.GROUND else 49.0, geometry=geometry))
        for f, share in zip(face_inputs, face_shares, strict=True)))
    if roof.faces:
        tilt, azimuth = arr.faces[0].tilt_deg, arr.faces[0].azimuth_deg
    roof_area = (arr.area_m2 if roof.faces and arr.area_m2 is not None else roof.area_m2)
    fit = R.RoofFit(roof_area, R.row_pitch_factor(roof.type, max(f.tilt_deg for f in arr.faces), site.latitude_deg))
    min_temp_c = wy.design_min_temp_c - (3.0 if weather is None else 0.0)
    mode = "fixed_kit" if request.kit_id else ("fixed_size" if request.system_kwp else "target")

    availability = E.availability_kwh(connection)
    if consumption is None:
        per_kwp = float(arr.dc_pvwatts_per_w(K.PVWATTS_GAMMA_PCT_PER_C / 100).sum()) * 0.86
        consumption = np.repeat(request.system_kwp * per_kwp / 12 + availability, 12)
    annual_consumption = float(consumption.sum())
    compensable = float(np.maximum(consumption - availability, 0).sum())
    target_kwh = compensable * prefs.target_offset_pct / 100
    if target_kwh <= 0 and mode == "target":
        raise InvalidInput(
            f"Consumo ({annual_consumption / 12:.0f} kWh/mês) não passa do custo de disponibilidade "
            f"({availability:.0f} kWh/mês): não há energia a compensar.",
            hint="Um sistema FV não reduz a conta abaixo do mínimo faturável.")
    kwp_for_target = target_kwh / max(arr.dc_pvwatts_per_w(K.PVWATTS_GAMMA_PCT_PER_C / 100).sum() * 0.86, 1e-9)
    if mode == "target" and kwp_for_target > M.MAX_SYSTEM_KWP:
        raise InvalidInput(
            f"Campo 'consumption': {fmt_thousands(annual_consumption / 12)} kWh/mês pede cerca de "
            f"{fmt_pt(kwp_for_target / 1000, 1)} MWp, acima do limite da geração distribuída (minigeração solar até "
            f"{M.MAX_SYSTEM_KWP / 1000:.0f} MW, Lei 14.300/2022).",
            hint="Confira a unidade (kWh por mês) ou reduza target_offset_pct; usinas maiores são projetos de "
                 "geração centralizada, fora do que este dimensionamento cobre.", field="consumption")

    registry = specs if specs is not None else getattr(products, "spec_registry", None)
    all_products = _products(products)
    if registry is not None:
        all_products = [with_registry_specs(p, registry) for p in all_products]
    modules, inverters, skipped = D.usable_products(all_products)
    modules, inverters = _apply_preferences(modules, inverters, skipped, prefs)
    inverters_phase = [i for i in inverters if D.phase_fits(connection, i.phase)]
    by_id = {p.id: p for p in all_products}
    pinned = bool(prefs.module_id or prefs.inverter_id)  # the user chose the equipment: no kits
    structure = R.structure_for(all_products, roof.type)
    kit_sel = (K.KitSelection([], [], {}) if pinned else
               K.select_kits(all_products, connection, roof.type, 9.9 if request.kit_id else prefs.max_dc_ac_ratio,
                             by_id, registry, structure, only_id=request.kit_id))
    if request.kit_id:
        _check_pinned_kit(request.kit_id, kit_sel, by_id)
        modules, inverters_phase = [], []  # the user chose the kit: no component designs
    skipped = skipped + kit_sel.skipped
    components_possible = bool(modules and inverters_phase)
    if not components_possible and not kit_sel.eligible:
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

    losses = replace(ENGINE_LOSSES, shading_pct=roof.shading_pct)
    keep = 1 - losses.total_pct / 100
    candidates: list[Candidate] = []
    roof_limited_any = False
    area_estimated: list[str] = []
    for mod in modules if components_possible else []:
        profile, dc_model = _dc_profile(mod, arr)
        yield_kwh_per_w = float(profile.sum()) * keep * 0.96 / 1000
        if request.system_kwp:
            n_target = max(1, round(request.system_kwp * 1000 / mod.pmax_w))
        else:
            n_target = max(1, math.ceil(target_kwh / (yield_kwh_per_w * mod.pmax_w)))
        n_cap = None
        if fit.area_m2 is not None:
            per_module, real = fit.module_area(mod.pmax_w, mod.area_m2, mod.product.name,
                                               mod.product.module.efficiency_pct if mod.product.module else None)
            if not real:
                area_estimated.append(mod.product.name)
            n_cap = int(fit.area_m2 // per_module)
            if n_cap < 1:
                continue
        for inv in inverters_phase:
            max_inv = min(200, max(D.MAX_INVERTERS_PER_DESIGN,
                                   math.ceil(n_target * mod.pmax_w / inv.ac_power_w) + 1))
            layout = D.best_layout(mod, inv, min(n_target, n_cap) if n_cap else n_target, n_cap, min_temp_c,
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
    checks = {k.product.id: _kit_check(k, registry, min_temp_c, by_id) for k in kit_sel.eligible}
    kit_candidates = _kit_candidates(kit_sel.eligible, arr, keep, target_kwh, prefs, fit, checks,
                                     fixed_kwp=request.system_kwp or (0.0 if request.kit_id else None))  # kit_id alone: 1 kit
    if not candidates and not kit_candidates:
        if components_possible and not kit_sel.eligible:
            _raise_no_layout(modules, inverters_phase, fit.area_m2, min_temp_c)
        smallest = min((k.n_modules * fit.kit_module_area(k)[0] for k in kit_sel.eligible), default=None)
        raise InvalidInput(
            f"Campo 'roof.area_m2': nenhum projeto em estoque cabe em {fmt_pt(fit.area_m2, 1)} m²"
            + (" (com espaçamento entre fileiras)" if fit.pitch > 1 else "") + ".",
            hint=(f"O menor kit ocupa cerca de {fmt_pt(smallest, 1)} m²; " if smallest else "")
            + "informe uma área maior ou omita a área do telhado.", field="roof.area_m2")
    if prefs.budget_brl is not None:
        affordable = [c for c in candidates if c.capex_brl <= prefs.budget_brl]
        affordable_kits = [c for c in kit_candidates if c.capex_brl <= prefs.budget_brl]
        if not affordable and not affordable_kits:
            cheapest = min(c.capex_brl for c in [*candidates, *kit_candidates])
            raise InvalidInput(
                f"Nenhum projeto cabe no orçamento de R$ {prefs.budget_brl:,.2f}.",
                hint=f"O menor investimento encontrado é R$ {cheapest:,.2f}; aumente o orçamento ou reduza a meta "
                     "de compensação (target_offset_pct).")
        candidates, kit_candidates = affordable, affordable_kits

    score = _score(target_kwh) if mode == "target" else _score_fixed(request.system_kwp)
    candidates.sort(key=score)
    # Kits: an unverifiable check costs like 15 % more investment, a failing one ranks last, so a
    # verified kit wins unless it is clearly dearer (a right-sized kit still beats an oversized one).
    kit_candidates.sort(key=lambda c: (score(c)[0], c.check.rank == 2,
                                       score(c)[1] * (KIT_UNVERIFIED_PENALTY if c.check.rank == 1 else 1.0),
                                       *score(c)[2:]))
    # Verified component designs first; when kits exist, the last place goes to the best kit.
    chosen = _pick(candidates, 3 if not kit_candidates else 2, (
        lambda c, b: c.inverter.product.manufacturer != b.inverter.product.manufacturer,
        lambda c, b: c.module.product.manufacturer != b.module.product.manufacturer,
        lambda c, b: True),
        lambda c, x: (c.module.product.id, c.inverter.product.id) == (x.module.product.id, x.inverter.product.id))
    chosen_kits = _pick(kit_candidates, 3 - len(chosen), (
        lambda c, b: c.kit.inverter_manufacturer != b.kit.inverter_manufacturer,
        lambda c, b: c.kit.module_manufacturer != b.kit.module_manufacturer,
        lambda c, b: True),
        lambda c, x: (c.kit.signature, c.multiple) == (x.kit.signature, x.multiple))

    energy_price, fio_b = prices.energy_brl_per_kwh, prices.fio_b_brl_per_kwh
    sigma = math.sqrt(wy.ghi_uncertainty_pct**2 + INTERANNUAL_VARIABILITY_PCT**2 + MODEL_UNCERTAINTY_PCT**2)
    poa_kwh_m2 = arr.poa_kwh_m2
    ctx = DesignContext(arr, wy, consumption, connection, tar, energy_price, fio_b, sigma, poa_kwh_m2, losses, keep,
                        min_temp_c, target_kwh if mode == "target" else 0.0, annual_consumption, fit, roof.type)

    with span("sizing.designs", **{"helio.designs": len(chosen)}):  # simulation + economics per design
        designs = [design_out(c, idx, ctx) for idx, c in enumerate(chosen)]
    replacement_ref = inverter_price_per_w(all_products)
    designs += [kit_design_out(c, len(designs) + i, ctx, by_id, replacement_ref) for i, c in enumerate(chosen_kits)]
    warnings = result_warnings(designs, components_possible, pinned, kit_sel) + list(prices.tariff.warnings)

    assumptions = [
        f"Recurso solar: {wy.source}; incerteza 1σ da irradiação anual {wy.ghi_uncertainty_pct:.1f} %.",
        f"Temperatura mínima de projeto (Voc): {min_temp_c:.1f} °C"
        + (" (mínima GLDAS − 3 °C de margem)" if weather is None else " (mínima do arquivo de clima)")
        + f"; célula quente para Vmp: {D.HOT_CELL_TEMP_C:.0f} °C; Isc × {D.ISC_SAFETY_FACTOR}.",
        f"Plano: inclinação {tilt:.0f}°, azimute {azimuth:.0f}° (0 = norte); telhado {roof.type.value}, "
        f"NOCT instalado {'45' if roof.type == RoofType.GROUND else '49'} °C; albedo {wy.albedo:.2f}.",
        "Modelos: posição solar pvlib ephemeris; transposição Perez; IAM físico com antirreflexo; temperatura "
        "NOCT (SAM); CC single-diode CEC quando há parâmetros, senão PVWatts; inversor curva PVWatts com corte.",
        f"Perdas (PVWatts; sombreamento {roof.shading_pct:.0f} % informado): {losses.as_dict()}.",
        _mode_assumption(request, mode, availability, target_kwh),
        prices.assumption(tar.escalation_pct_per_year),
        f"Lei 14.300: conexão em {tar.connection_year}; Fio B 15 % (2023) … 90 % (2028), "
        f"{tar.fio_b_share_2029_on_pct:.0f} % de 2029 em diante (cenário)"
        + ("; direito adquirido até 2045" if tar.grandfathered else "")
        + f"; simultaneidade {tar.simultaneity:.2f}; créditos expiram em 60 meses.",
        f"Fluxo de caixa 25 anos: degradação 0,5 %/ano, O&M 0,5 % do investimento/ano (+4 %/ano), troca do "
        f"inversor no ano 12 pelo preço atual; taxa de desconto {tar.discount_rate_pct:.1f} %/ano.",
        f"Investimento = equipamentos do catálogo (preços ilustrativos) + R$ {prefs.installation_brl_per_kwp:.0f}/kWp "
        "de estrutura, proteções, cabos e instalação.",
        f"P90 = P50 × (1 − 1,282 σ), σ = √(recurso² + variabilidade interanual {INTERANNUAL_VARIABILITY_PCT:.0f}%² "
        f"+ modelo {MODEL_UNCERTAINTY_PCT:.0f}%²) = {sigma:.1f} %.",
    ]
    if assume_consumption:
        assumptions.append(
            f"Consumo não informado: a economia supõe um consumo igual à geração estimada de {request.system_kwp:g} kWp "
            f"mais o custo de disponibilidade (≈ {fmt_thousands(annual_consumption / 12)} kWh/mês); informe o consumo "
            "para a economia real.")
    if roof_limited_any:
        assumptions.append("A área do telhado limitou o número de módulos em parte dos projetos.")
    if roof.faces:
        assumptions.append(f"Faces do telhado ({len(arr.faces)}): {arr.describe()}; cada face em MPPT próprio "
                           "(ou microinversores); a geração soma as faces.")
    if fit.area_m2 is not None:
        assumptions.append(
            f"Área útil {fmt_pt(fit.area_m2, 1)} m²: área por módulo das dimensões do registro de specs ou, sem elas, "
            f"≈ P/(η·1000 W/m²) com η do nome do produto (20 % se ausente)"
            + (f"; em {R.ROOF_PT[roof.type.value]} os módulos ficam inclinados em fileiras: área × "
               f"{fmt_pt(fit.pitch, 2)} para não sombrear a fileira de trás ao meio-dia do solstício de inverno"
               if fit.pitch > 1 else "") + ".")
    if structure is not None and any(c.kit.swap for c in chosen_kits):
        assumptions.append(f"Nenhum kit do catálogo vem com estrutura para {R.ROOF_PT[roof.type.value]}: os kits "
                           f"levam a estrutura {structure.product.name} do catálogo ({structure.modules_per_unit} "
                           "módulos por unidade) no lugar da original.")
    installed_kw = max(min(d.dc_kwp, d.ac_kw) for d in designs)
    generation_class = "minigeracao" if installed_kw > MICROGENERATION_LIMIT_KW else "microgeracao"
    if generation_class == "minigeracao":
        warnings.insert(0, MINIGENERATION_NOTE.format(kw=fmt_pt(installed_kw, 1)))
    if chosen_kits:
        assumptions.append(
            f"Kits do catálogo: CC PVWatts com γ = {fmt_pt(K.PVWATTS_GAMMA_PCT_PER_C, 2)} %/°C (padrão PVWatts) quando o "
            f"γ do módulo não está no catálogo; inversor curva PVWatts {100 * K.PVWATTS_INVERTER_EFFICIENCY:.0f} % "
            "com corte na potência CA da lista de materiais; investimento = preço do kit + instalação por kWp "
            "(o kit já traz estrutura e cabos: a parcela de instalação é conservadora).")
    if kit_sel.excluded:
        assumptions.append("Kits em estoque não considerados: " + "; ".join(
            f"{n} – {why}" for why, n in sorted(kit_sel.excluded.items())) + ".")
    return M.SizingResult(
        mode=mode, generation_class=generation_class,
        site=M.SiteOut(municipality=site.municipality, uf=site.uf, ibge_code=site.ibge_code,
                       latitude_deg=site.latitude_deg, longitude_deg=site.longitude_deg, timezone=site.timezone,
                       distance_to_seat_km=site.distance_to_seat_km),
        resource=M.ResourceOut(source=wy.source, provenance=list(wy.provenance),
                               annual_ghi_kwh_m2=round(wy.annual_ghi_kwh_m2, 1),
                               ghi_uncertainty_pct=wy.ghi_uncertainty_pct,
                               mean_temp_air_c=round(float(np.mean(wy.temp_air_c)), 1),
                               design_min_temp_c=round(min_temp_c, 1), notes=list(wy.notes)),
        consumption=M.ConsumptionOut(monthly_kwh=[round(float(v), 1) for v in consumption],
                                     annual_kwh=round(annual_consumption, 1),
                                     availability_kwh_per_month=availability, target_annual_kwh=round(target_kwh, 1)),
        tilt_deg=float(tilt), azimuth_deg=float(azimuth), best=designs[0], alternatives=designs[1:],
        usable_modules=len(modules), usable_inverters=len(inverters), usable_kits=len(kit_sel.eligible),
        skipped_products=[M.SkippedOut(**x.__dict__) for x in skipped], warnings=warnings, assumptions=assumptions,
    )


def _apply_preferences(modules, inverters, skipped, prefs: M.Preferences):
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


def _raise_no_layout(modules, inverters, area_m2, min_temp_c) -> None:
    if area_m2 is not None:
        fits = []
        for m in modules:
            if m.area_m2 is None:
                continue
            for i in inverters:
                n_min, n_max = D.series_range(m, i, min_temp_c)
                if n_min <= n_max and n_min * m.area_m2 <= area_m2:
                    fits.append(n_min * m.area_m2)
        if not fits:
            need = min((D.series_range(m, i, min_temp_c)[0] * m.area_m2 for m in modules for i in inverters
                        if m.area_m2), default=None)
            raise InvalidInput(
                f"Telhado pequeno demais ({area_m2:.1f} m²) para uma string que atenda à tensão mínima de MPPT.",
                hint=(f"A menor string possível ocupa cerca de {need:.1f} m²; " if need else "")
                + "informe uma área maior ou considere microinversores.")
    raise InvalidInput(
        "Nenhuma combinação de módulo e inversor em estoque passa nas verificações de string e razão CC/CA.",
        hint="Aumente max_dc_ac_ratio, escolha outro inversor/módulo, ou revise a meta de compensação.")
