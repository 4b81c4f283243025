"""``size_system``: site → resource → hourly simulation → designs from stock → economics.

The site's plane-of-array irradiance and cell temperature are computed once; each module
type then gets one normalised DC profile [W/W], and every (module, inverter, layout)
candidate is evaluated from it with array arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from app.catalog.models import Category, Phase, Product, RoofType
from app.catalog.repository import CatalogRepository
from app.core.errors import InvalidInput
from app.sizing import design as D
from app.sizing import economics as E
from app.sizing import models as M
from app.sizing.resource import WeatherYear, synthesize_year_cached
from app.sizing.simulation import (
    STC_IRRADIANCE_W_M2, Losses, SiteIrradiance, dc_power_cec_per_w, dc_power_pvwatts_per_w, inverter_pvwatts,
    monthly_sum, site_irradiance,
)
from app.sizing.sites import Site, resolve_site

ENGINE_LOSSES = Losses(shading_pct=0.0)  # PVWatts defaults, roof assumed unshaded
MODEL_UNCERTAINTY_PCT = 3.0
INTERANNUAL_VARIABILITY_PCT = 3.0
Z_P90 = 1.2816
TARGET_TOLERANCE = 0.97  # a design within 3 % of the target energy counts as meeting it
CEC_KEYS = ("alpha_sc", "a_ref", "I_L_ref", "I_o_ref", "R_sh_ref", "R_s", "Adjust")


def monthly_consumption_kwh(c: M.ConsumptionInput) -> np.ndarray:
    """Twelve monthly consumptions [kWh] from any of the accepted forms."""
    hint = 'Informe {"monthly_kwh": 650}, doze valores mensais, ou {"bill_brl": 480, "tariff_brl_per_kwh": 0.95}.'
    if c.monthly_kwh is not None:
        values = np.atleast_1d(np.asarray(c.monthly_kwh, dtype=float))
        if values.size == 1:
            values = np.repeat(values, 12)
        if values.size != 12:
            raise InvalidInput(f"Consumo mensal com {values.size} valores.", hint=hint)
    elif c.bill_brl is not None:
        if not c.tariff_brl_per_kwh or c.tariff_brl_per_kwh <= 0:
            raise InvalidInput("Conta em R$ sem tarifa válida.", hint=hint)
        values = np.repeat(c.bill_brl / c.tariff_brl_per_kwh, 12)
    else:
        raise InvalidInput("Consumo não informado.", hint=hint)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InvalidInput("O consumo deve ser maior que zero em todos os meses.", hint=hint)
    return values


def _products(products: Iterable[Product] | CatalogRepository) -> list[Product]:
    if hasattr(products, "iter_products"):
        repo = products  # type: ignore[assignment]
        return [*repo.iter_products(Category.MODULE), *repo.iter_products(Category.INVERTER)]  # type: ignore[union-attr]
    return list(products)  # type: ignore[arg-type]


@dataclass
class _Candidate:
    module: D.ModuleElectrical
    inverter: D.InverterElectrical
    layout: D.Layout
    ac_w: np.ndarray
    dc_w: np.ndarray
    annual_kwh: float
    equipment_brl: float
    installation_brl: float
    dc_model: str

    @property
    def capex_brl(self) -> float:
        return self.equipment_brl + self.installation_brl

    @property
    def dc_kwp(self) -> float:
        return self.layout.n_modules * self.module.pmax_w / 1000


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
    consumption = monthly_consumption_kwh(request.consumption)
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

    modules, inverters, skipped = D.usable_products(_products(products))
    modules, inverters = _apply_preferences(modules, inverters, skipped, prefs)
    inverters_phase = [i for i in inverters if D.phase_fits(connection, i.phase)]
    if not modules or not inverters_phase:
        what = "módulo" if not modules else f"inversor compatível com ligação {connection.value}"
        raise InvalidInput(
            f"Nenhum {what} em estoque com as especificações elétricas necessárias.",
            hint=f"{len(skipped)} produtos ignorados; exemplos: "
                 + "; ".join(f"{x.name} ({x.reason})" for x in skipped[:8]),
            skipped=[x.__dict__ for x in skipped[:50]],
        )

    losses = ENGINE_LOSSES
    keep = 1 - losses.total_pct / 100
    candidates: list[_Candidate] = []
    roof_limited_any = False
    for mod in modules:
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
            candidates.append(_Candidate(mod, inv, layout, ac, dc, float(ac.sum() / 1000), equipment, installation,
                                         dc_model))
    if not candidates:
        _raise_no_layout(modules, inverters_phase, roof.area_m2, min_temp_c)
    if prefs.budget_brl is not None:
        affordable = [c for c in candidates if c.capex_brl <= prefs.budget_brl]
        if not affordable:
            cheapest = min(c.capex_brl for c in candidates)
            raise InvalidInput(
                f"Nenhum projeto cabe no orçamento de R$ {prefs.budget_brl:,.2f}.",
                hint=f"O menor investimento encontrado é R$ {cheapest:,.2f}; aumente o orçamento ou reduza a meta "
                     "de compensação (target_offset_pct).")
        candidates = affordable

    def score(c: _Candidate) -> tuple:
        meets = c.annual_kwh >= TARGET_TOLERANCE * target_kwh
        # meet the target first, then the lowest investment (cost per kWh breaks ties);
        # designs short of it rank by energy
        return (not meets, c.capex_brl if meets else -c.annual_kwh, c.capex_brl / c.annual_kwh)

    candidates.sort(key=score)
    chosen = [candidates[0]]
    for rule in (lambda c: c.inverter.product.manufacturer != chosen[0].inverter.product.manufacturer,
                 lambda c: c.module.product.manufacturer != chosen[0].module.product.manufacturer,
                 lambda c: True):
        for c in candidates[1:]:
            if len(chosen) >= 3:
                break
            if c not in chosen and rule(c) and all(
                    (c.module.product.id, c.inverter.product.id) != (x.module.product.id, x.inverter.product.id)
                    for x in chosen):
                chosen.append(c)
                break

    tariff = E.default_tariff(site.uf)
    energy_price = tar.energy_brl_per_kwh or tariff.energy_brl_per_kwh
    fio_b = tar.fio_b_brl_per_kwh if tar.fio_b_brl_per_kwh is not None else tariff.fio_b_brl_per_kwh
    sigma = math.sqrt(wy.ghi_uncertainty_pct**2 + INTERANNUAL_VARIABILITY_PCT**2 + MODEL_UNCERTAINTY_PCT**2)
    poa_kwh_m2 = float(irr.poa.global_w_m2.sum() / 1000)

    designs = []
    for idx, c in enumerate(chosen):
        designs.append(_design_out(c, idx, irr, wy, consumption, connection, tar, energy_price, fio_b, sigma,
                                   poa_kwh_m2, losses, min_temp_c, target_kwh, annual_consumption))

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
        f"Tarifa: TE+TUSD R$ {energy_price:.4f}/kWh, Fio B R$ {fio_b:.4f}/kWh "
        + ("(informadas)" if tar.energy_brl_per_kwh else f"({tariff.source})")
        + f"; reajuste {tar.escalation_pct_per_year:.1f} %/ano; sem impostos (ICMS/PIS/COFINS) nem bandeiras.",
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
        usable_modules=len(modules), usable_inverters=len(inverters),
        skipped_products=[M.SkippedOut(**x.__dict__) for x in skipped], assumptions=assumptions,
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


def _design_out(c: _Candidate, idx: int, irr: SiteIrradiance, wy: WeatherYear, consumption: np.ndarray,
                connection: Phase, tar: M.TariffInput, energy_price: float, fio_b: float, sigma_pct: float,
                poa_kwh_m2: float, losses: Losses, min_temp_c: float, target_kwh: float,
                annual_consumption: float) -> M.DesignOut:
    monthly = monthly_sum(c.ac_w, wy.times) / 1000
    dc_kwp = c.dc_kwp
    ac_kw = c.layout.inverter_count * c.inverter.ac_power_w / 1000
    # Clipped hours sit at the AC rating; what they would have delivered is ≈ P_dc × η_nominal.
    pdc_per_inv = c.dc_w / c.layout.inverter_count
    ac_per_inv = c.ac_w / c.layout.inverter_count
    clipped = ac_per_inv >= c.inverter.ac_power_w * 0.9999
    lost_w = np.clip(pdc_per_inv[clipped] * c.inverter.efficiency - ac_per_inv[clipped], 0, None).sum()
    clipping_pct = 100 * lost_w / max(ac_per_inv.sum() + lost_w, 1e-9)
    econ = E.project_cash_flow(E.EconomicsInputs(
        monthly_consumption_kwh=consumption, monthly_generation_kwh=monthly, connection=connection,
        capex_brl=c.capex_brl, inverter_replacement_brl=c.layout.inverter_count * c.inverter.product.price_brl,
        energy_brl_per_kwh=energy_price, fio_b_brl_per_kwh=fio_b, connection_year=tar.connection_year,
        tariff_escalation_pct=tar.escalation_pct_per_year, discount_rate_pct=tar.discount_rate_pct,
        simultaneity=tar.simultaneity, fio_b_share_2029_on=tar.fio_b_share_2029_on_pct / 100,
        grandfathered=tar.grandfathered,
    ))
    mod_p, inv_p = c.module.product, c.inverter.product
    label = ("melhor projeto" if idx == 0 else f"alternativa {idx}") + f": {mod_p.manufacturer or ''} + {inv_p.manufacturer or ''}"
    lay = c.layout
    notes = list(c.inverter.notes)
    if c.annual_kwh < TARGET_TOLERANCE * target_kwh:
        notes.append(f"gera {c.annual_kwh:.0f} kWh/ano, abaixo da meta de {target_kwh:.0f} kWh/ano")
    return M.DesignOut(
        label=label.strip(),
        module=M.EquipmentLine(product_id=mod_p.id, name=mod_p.name, manufacturer=mod_p.manufacturer,
                               quantity=lay.n_modules, unit_power_w=c.module.pmax_w, unit_price_brl=mod_p.price_brl,
                               total_brl=round(lay.n_modules * mod_p.price_brl, 2)),
        inverter=M.EquipmentLine(product_id=inv_p.id, name=inv_p.name, manufacturer=inv_p.manufacturer,
                                 quantity=lay.inverter_count, unit_power_w=c.inverter.ac_power_w,
                                 unit_price_brl=inv_p.price_brl,
                                 total_brl=round(lay.inverter_count * inv_p.price_brl, 2)),
        dc_kwp=round(dc_kwp, 3), ac_kw=round(ac_kw, 3), dc_ac_ratio=round(dc_kwp / ac_kw, 3),
        roof_area_used_m2=round(lay.n_modules * c.module.area_m2, 1) if c.module.area_m2 else None,
        strings=M.StringCheckOut(
            modules_in_series=lay.modules_in_series, strings_total=lay.strings_total,
            strings_per_mppt=lay.strings_per_mppt_max, voc_cold_string_v=lay.check.voc_cold_string_v,
            max_dc_voltage_v=lay.check.max_dc_voltage_v, vmp_hot_string_v=lay.check.vmp_hot_string_v,
            mppt_min_v=lay.check.mppt_min_v, string_current_design_a=lay.check.string_current_design_a,
            max_current_per_mppt_a=lay.check.max_current_per_mppt_a, min_temp_c=round(min_temp_c, 1),
            hot_cell_temp_c=D.HOT_CELL_TEMP_C),
        energy=M.EnergyOut(
            annual_kwh=round(c.annual_kwh, 1), monthly_kwh=[round(float(v), 1) for v in monthly],
            specific_yield_kwh_per_kwp=round(c.annual_kwh / dc_kwp, 1),
            performance_ratio_pct=round(100 * c.annual_kwh / (poa_kwh_m2 * dc_kwp * 1000 / STC_IRRADIANCE_W_M2), 1),
            p50_annual_kwh=round(c.annual_kwh, 1),
            p90_annual_kwh=round(c.annual_kwh * (1 - Z_P90 * sigma_pct / 100), 1),
            p90_method=f"P50 × (1 − 1,282 × {sigma_pct:.1f} %): recurso, variabilidade interanual e modelo, "
                       "combinados em quadratura (um ano)",
            offset_pct=round(100 * c.annual_kwh / annual_consumption, 1), dc_model=c.dc_model,
            losses_pct=losses.as_dict(), clipping_loss_pct=round(clipping_pct, 2), annual_poa_kwh_m2=round(poa_kwh_m2, 1)),
        economics=M.EconomicsOut(
            capex_brl=round(c.capex_brl, 2), equipment_brl=round(c.equipment_brl, 2),
            installation_brl=round(c.installation_brl, 2), npv_brl=econ.npv_brl, irr_pct=econ.irr_pct,
            simple_payback_years=econ.simple_payback_years, discounted_payback_years=econ.discounted_payback_years,
            first_year_savings_brl=econ.first_year_savings_brl, energy_brl_per_kwh=energy_price,
            fio_b_brl_per_kwh=fio_b, years=[M.YearOut(**r.__dict__) for r in econ.years]),
        notes=notes,
    )
