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

import numpy as np

from app.catalog.models import Category, Phase, Product, RoofType
from app.catalog.repository import CatalogRepository
from app.core.errors import InvalidInput
from app.sizing import design as D
from app.sizing import economics as E
from app.sizing import kits as K
from app.sizing import models as M
from app.sizing.resource import WeatherYear, synthesize_year_cached
from app.sizing.simulation import (
    Losses, SiteIrradiance, dc_power_cec_per_w, dc_power_pvwatts_per_w, inverter_pvwatts,
    site_irradiance,
)
from app.sizing.results import (
    TARGET_TOLERANCE, Candidate, DesignContext, KitCandidate, design_out, fmt_pt, inverter_price_per_w, kit_design_out,
    result_warnings,
)
from app.sizing.sites import Site, resolve_site
from app.sizing.tariffs import resolve_prices

ENGINE_LOSSES = Losses(shading_pct=0.0)  # PVWatts defaults, roof assumed unshaded
MODEL_UNCERTAINTY_PCT = 3.0
INTERANNUAL_VARIABILITY_PCT = 3.0
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
                *repo.iter_products(Category.KIT)]  # type: ignore[union-attr]
    return list(products)  # type: ignore[arg-type]


def _score(target_kwh: float):
    def score(c: Candidate | KitCandidate) -> tuple:
        meets = c.annual_kwh >= TARGET_TOLERANCE * target_kwh
        # meet the target first, then the lowest investment (cost per kWh breaks ties);
        # designs short of it rank by energy
        return (not meets, c.capex_brl if meets else -c.annual_kwh, c.capex_brl / c.annual_kwh)
    return score


def _kit_candidates(kits: list[K.KitElectrical], irr: SiteIrradiance, keep: float, target_kwh: float,
                    prefs: M.Preferences, roof_area_m2: float | None) -> list[KitCandidate]:
    """Single kits, plus N × the same kit (N ≤ 4) when no single kit reaches the target.

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
        profile = dc_power_pvwatts_per_w(irr.poa.transmitted_w_m2, irr.cell_temp_c, gamma / 100)
        sums = K.ac_per_w_ac(profile, np.array(ratios), keep).sum(axis=1) / 1000
        kwh_per_w_ac.update({(gamma, r): float(v) for r, v in zip(ratios, sums, strict=True)})

    def candidate(k: K.KitElectrical, n: int) -> KitCandidate | None:
        if roof_area_m2 is not None and k.module_area_m2 and n * k.n_modules * k.module_area_m2 > roof_area_m2:
            return None
        gamma = gamma_of[k.product.id]
        annual = n * k.ac_w * kwh_per_w_ac[(gamma, round(k.dc_ac_ratio, 6))]
        return KitCandidate(k, n, gamma, annual, n * float(k.product.price_brl),  # type: ignore[arg-type]
                             n * k.dc_w / 1000 * prefs.installation_brl_per_kwp)

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


def _dc_profile(module: D.ModuleElectrical, site: SiteIrradiance) -> tuple[np.ndarray, str]:
    cec = module.cec
    if cec and all(k in cec for k in CEC_KEYS):
        return dc_power_cec_per_w(site.poa.transmitted_w_m2, site.cell_temp_c, cec), "CEC single-diode (pvlib)"
    return (dc_power_pvwatts_per_w(site.poa.transmitted_w_m2, site.cell_temp_c, module.gamma_pmax_pct_per_c / 100),
            "PVWatts (γ do datasheet)")


def _weather(site: Site, weather: WeatherYear | None) -> WeatherYear:
    if weather is not None:
        return weather
    return synthesize_year_cached(round(site.latitude_deg, 4), round(site.longitude_deg, 4), site.utc_offset_h)


def size_system(request: M.SizingRequest, products: Iterable[Product] | CatalogRepository, *,
                weather: WeatherYear | None = None) -> M.SizingResult:
    """Size a grid-tied system for ``request`` from in-stock ``products``.

    ``weather``: an hourly year to use instead of the built-in synthetic resource (e.g.
    :func:`app.sizing.resource.load_weather_file`). Raises InvalidInput (422) with a hint for
    every input the engine cannot honour.
    """
    s = request.site
    site = resolve_site(municipality=s.municipality, uf=s.uf, ibge_code=s.ibge_code, latitude_deg=s.lat,
                        longitude_deg=s.lon)
    prices = resolve_prices(site, request.tariff)
    consumption = monthly_consumption_kwh(request.consumption, prices.bill_brl_per_kwh)
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

    wy = _weather(site, weather)
    irr = site_irradiance(wy.times, site.latitude_deg, site.longitude_deg, wy.ghi_w_m2, wy.dni_w_m2, wy.dhi_w_m2,
                          wy.temp_air_c, wy.wind_speed_m_s, tilt, azimuth, albedo=wy.albedo,
                          noct_c=45.0 if roof.type == RoofType.GROUND else 49.0,
                          geometry=wy.geometry if weather is None else None)
    min_temp_c = wy.design_min_temp_c - (3.0 if weather is None else 0.0)

    availability = E.availability_kwh(connection)
    annual_consumption = float(consumption.sum())
    compensable = float(np.maximum(consumption - availability, 0).sum())
    target_kwh = compensable * prefs.target_offset_pct / 100
    if target_kwh <= 0:
        raise InvalidInput(
            f"Consumo ({annual_consumption / 12:.0f} kWh/mês) não passa do custo de disponibilidade "
            f"({availability:.0f} kWh/mês): não há energia a compensar.",
            hint="Um sistema FV não reduz a conta abaixo do mínimo faturável.")

    all_products = _products(products)
    modules, inverters, skipped = D.usable_products(all_products)
    modules, inverters = _apply_preferences(modules, inverters, skipped, prefs)
    inverters_phase = [i for i in inverters if D.phase_fits(connection, i.phase)]
    by_id = {p.id: p for p in all_products}
    pinned = bool(prefs.module_id or prefs.inverter_id)  # the user chose the equipment: no kits
    kit_sel = (K.KitSelection([], [], {}) if pinned else
               K.select_kits(all_products, connection, roof.type, prefs.max_dc_ac_ratio, by_id))
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

    losses = ENGINE_LOSSES
    keep = 1 - losses.total_pct / 100
    candidates: list[Candidate] = []
    roof_limited_any = False
    for mod in modules if components_possible else []:
        profile, dc_model = _dc_profile(mod, irr)
        yield_kwh_per_w = float(profile.sum()) * keep * 0.96 / 1000
        n_target = max(1, math.ceil(target_kwh / (yield_kwh_per_w * mod.pmax_w)))
        n_cap = None
        if roof.area_m2 is not None:
            if mod.area_m2 is None:
                skipped.append(D.Skipped(mod.product.id, mod.product.name, "module",
                                         "área do módulo desconhecida com limite de área de telhado"))
                continue
            n_cap = int(roof.area_m2 // mod.area_m2)
        for inv in inverters_phase:
            layout = D.best_layout(mod, inv, min(n_target, n_cap) if n_cap else n_target, n_cap, min_temp_c,
                                   prefs.max_dc_ac_ratio)
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
    kit_candidates = _kit_candidates(kit_sel.eligible, irr, keep, target_kwh, prefs, roof.area_m2)
    if not candidates and not kit_candidates:
        if components_possible:
            _raise_no_layout(modules, inverters_phase, roof.area_m2, min_temp_c)
        raise InvalidInput(f"Nenhum kit em estoque cabe no telhado de {roof.area_m2:.1f} m².",
                           hint="Informe uma área maior ou omita a área do telhado.")
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

    score = _score(target_kwh)
    candidates.sort(key=score)
    kit_candidates.sort(key=score)
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
    poa_kwh_m2 = float(irr.poa.global_w_m2.sum() / 1000)
    ctx = DesignContext(irr, wy, consumption, connection, tar, energy_price, fio_b, sigma, poa_kwh_m2, losses, keep,
                   min_temp_c, target_kwh, annual_consumption, roof.area_m2)

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
        f"Perdas (PVWatts, sem sombreamento): {losses.as_dict()}.",
        f"Meta: {prefs.target_offset_pct:.0f} % do consumo compensável (consumo − custo de disponibilidade "
        f"{availability:.0f} kWh/mês) = {target_kwh:.0f} kWh/ano.",
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
    if roof_limited_any:
        assumptions.append("A área do telhado limitou o número de módulos em parte dos projetos.")
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
