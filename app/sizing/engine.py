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
from dataclasses import dataclass

import numpy as np

from app.catalog.models import Category, InverterType, Phase, Product, RoofType
from app.catalog.repository import CatalogRepository
from app.core.errors import InvalidInput
from app.sizing import design as D
from app.sizing import economics as E
from app.sizing import kits as K
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
        return [*repo.iter_products(Category.MODULE), *repo.iter_products(Category.INVERTER),  # type: ignore[union-attr]
                *repo.iter_products(Category.KIT)]  # type: ignore[union-attr]
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


@dataclass
class _KitCandidate:
    kit: K.KitElectrical
    multiple: int
    gamma_pct_per_c: float
    annual_kwh: float
    equipment_brl: float
    installation_brl: float

    @property
    def capex_brl(self) -> float:
        return self.equipment_brl + self.installation_brl

    @property
    def dc_kwp(self) -> float:
        return self.multiple * self.kit.dc_w / 1000


def _score(target_kwh: float):
    def score(c: _Candidate | _KitCandidate) -> tuple:
        meets = c.annual_kwh >= TARGET_TOLERANCE * target_kwh
        # meet the target first, then the lowest investment (cost per kWh breaks ties);
        # designs short of it rank by energy
        return (not meets, c.capex_brl if meets else -c.annual_kwh, c.capex_brl / c.annual_kwh)
    return score


def _kit_candidates(kits: list[K.KitElectrical], irr: SiteIrradiance, keep: float, target_kwh: float,
                    prefs: M.Preferences, roof_area_m2: float | None) -> list[_KitCandidate]:
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

    def candidate(k: K.KitElectrical, n: int) -> _KitCandidate | None:
        if roof_area_m2 is not None and k.module_area_m2 and n * k.n_modules * k.module_area_m2 > roof_area_m2:
            return None
        gamma = gamma_of[k.product.id]
        annual = n * k.ac_w * kwh_per_w_ac[(gamma, round(k.dc_ac_ratio, 6))]
        return _KitCandidate(k, n, gamma, annual, n * float(k.product.price_brl),  # type: ignore[arg-type]
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
    candidates: list[_Candidate] = []
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
            candidates.append(_Candidate(mod, inv, layout, ac, dc, float(ac.sum() / 1000), equipment, installation,
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

    tariff = E.default_tariff(site.uf)
    energy_price = tar.energy_brl_per_kwh or tariff.energy_brl_per_kwh
    fio_b = tar.fio_b_brl_per_kwh if tar.fio_b_brl_per_kwh is not None else tariff.fio_b_brl_per_kwh
    sigma = math.sqrt(wy.ghi_uncertainty_pct**2 + INTERANNUAL_VARIABILITY_PCT**2 + MODEL_UNCERTAINTY_PCT**2)
    poa_kwh_m2 = float(irr.poa.global_w_m2.sum() / 1000)
    ctx = _Context(irr, wy, consumption, connection, tar, energy_price, fio_b, sigma, poa_kwh_m2, losses, keep,
                   min_temp_c, target_kwh, annual_consumption, roof.area_m2)

    designs = [_design_out(c, idx, ctx) for idx, c in enumerate(chosen)]
    replacement_ref = _inverter_price_per_w(all_products)
    designs += [_kit_design_out(c, len(designs) + i, ctx, by_id, replacement_ref) for i, c in enumerate(chosen_kits)]
    warnings = _warnings(designs, components_possible, pinned, kit_sel)

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
    if chosen_kits:
        assumptions.append(
            f"Kits do catálogo: CC PVWatts com γ = {_pt(K.PVWATTS_GAMMA_PCT_PER_C, 2)} %/°C (padrão PVWatts) quando o "
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


@dataclass(frozen=True)
class _Context:
    """What every design of one request shares, for building its output."""

    irr: SiteIrradiance
    wy: WeatherYear
    consumption: np.ndarray
    connection: Phase
    tar: M.TariffInput
    energy_price: float
    fio_b: float
    sigma_pct: float
    poa_kwh_m2: float
    losses: Losses
    keep: float
    min_temp_c: float
    target_kwh: float
    annual_consumption: float
    roof_area_m2: float | None


def _energy_economics(ctx: _Context, ac_w: np.ndarray, dc_w: np.ndarray, ac_rating_w: float, efficiency: float,
                      dc_kwp: float, dc_model: str, equipment_brl: float, installation_brl: float,
                      replacement_brl: float) -> tuple[M.EnergyOut, M.EconomicsOut]:
    annual_kwh = float(ac_w.sum() / 1000)
    monthly = monthly_sum(ac_w, ctx.wy.times) / 1000
    # Clipped hours sit at the AC rating; what they would have delivered is ≈ P_dc × η_nominal
    # (identical inverters share the array equally, so totals stand for each inverter).
    clipped = ac_w >= ac_rating_w * 0.9999
    lost_w = np.clip(dc_w[clipped] * efficiency - ac_w[clipped], 0, None).sum()
    clipping_pct = 100 * lost_w / max(ac_w.sum() + lost_w, 1e-9)
    capex = equipment_brl + installation_brl
    econ = E.project_cash_flow(E.EconomicsInputs(
        monthly_consumption_kwh=ctx.consumption, monthly_generation_kwh=monthly, connection=ctx.connection,
        capex_brl=capex, inverter_replacement_brl=replacement_brl,
        energy_brl_per_kwh=ctx.energy_price, fio_b_brl_per_kwh=ctx.fio_b, connection_year=ctx.tar.connection_year,
        tariff_escalation_pct=ctx.tar.escalation_pct_per_year, discount_rate_pct=ctx.tar.discount_rate_pct,
        simultaneity=ctx.tar.simultaneity, fio_b_share_2029_on=ctx.tar.fio_b_share_2029_on_pct / 100,
        grandfathered=ctx.tar.grandfathered,
    ))
    energy = M.EnergyOut(
        annual_kwh=round(annual_kwh, 1), monthly_kwh=[round(float(v), 1) for v in monthly],
        specific_yield_kwh_per_kwp=round(annual_kwh / dc_kwp, 1),
        performance_ratio_pct=round(100 * annual_kwh / (ctx.poa_kwh_m2 * dc_kwp * 1000 / STC_IRRADIANCE_W_M2), 1),
        p50_annual_kwh=round(annual_kwh, 1),
        p90_annual_kwh=round(annual_kwh * (1 - Z_P90 * ctx.sigma_pct / 100), 1),
        p90_method=f"P50 × (1 − 1,282 × {ctx.sigma_pct:.1f} %): recurso, variabilidade interanual e modelo, "
                   "combinados em quadratura (um ano)",
        offset_pct=round(100 * annual_kwh / ctx.annual_consumption, 1), dc_model=dc_model,
        losses_pct=ctx.losses.as_dict(), clipping_loss_pct=round(clipping_pct, 2),
        annual_poa_kwh_m2=round(ctx.poa_kwh_m2, 1))
    economics = M.EconomicsOut(
        capex_brl=round(capex, 2), equipment_brl=round(equipment_brl, 2),
        installation_brl=round(installation_brl, 2), npv_brl=econ.npv_brl, irr_pct=econ.irr_pct,
        simple_payback_years=econ.simple_payback_years, discounted_payback_years=econ.discounted_payback_years,
        first_year_savings_brl=econ.first_year_savings_brl, energy_brl_per_kwh=ctx.energy_price,
        fio_b_brl_per_kwh=ctx.fio_b, years=econ.years)
    return energy, economics


def _pt(value: float, digits: int) -> str:
    """Decimal comma, as the Portuguese text around it."""
    return f"{value:.{digits}f}".replace(".", ",")


def _label(idx: int, what: str) -> str:
    return (("melhor projeto" if idx == 0 else f"alternativa {idx}") + f": {what}").strip()


def _design_out(c: _Candidate, idx: int, ctx: _Context) -> M.DesignOut:
    lay = c.layout
    ac_kw = lay.inverter_count * c.inverter.ac_power_w / 1000
    energy, economics = _energy_economics(
        ctx, c.ac_w, c.dc_w, lay.inverter_count * c.inverter.ac_power_w, c.inverter.efficiency, c.dc_kwp, c.dc_model,
        c.equipment_brl, c.installation_brl, lay.inverter_count * c.inverter.product.price_brl)
    mod_p, inv_p = c.module.product, c.inverter.product
    notes = list(c.inverter.notes)
    if c.annual_kwh < TARGET_TOLERANCE * ctx.target_kwh:
        notes.append(f"gera {c.annual_kwh:.0f} kWh/ano, abaixo da meta de {ctx.target_kwh:.0f} kWh/ano")
    module = M.EquipmentLine(product_id=mod_p.id, name=mod_p.name, manufacturer=mod_p.manufacturer,
                             quantity=lay.n_modules, unit_power_w=c.module.pmax_w, unit_price_brl=mod_p.price_brl,
                             total_brl=round(lay.n_modules * mod_p.price_brl, 2))
    inverter = M.EquipmentLine(product_id=inv_p.id, name=inv_p.name, manufacturer=inv_p.manufacturer,
                               quantity=lay.inverter_count, unit_power_w=c.inverter.ac_power_w,
                               unit_price_brl=inv_p.price_brl, total_brl=round(lay.inverter_count * inv_p.price_brl, 2))
    return M.DesignOut(
        label=_label(idx, f"{mod_p.manufacturer or ''} + {inv_p.manufacturer or ''}"), kind="components",
        module=module, inverter=inverter,
        lines=[M.QuoteLine(product_id=x.product_id, category=cat, name=x.name, quantity=x.quantity,  # type: ignore[arg-type]
                           unit_price_brl=x.unit_price_brl, total_brl=x.total_brl)  # type: ignore[arg-type]
               for cat, x in (("module", module), ("inverter", inverter))],
        dc_kwp=round(c.dc_kwp, 3), ac_kw=round(ac_kw, 3), dc_ac_ratio=round(c.dc_kwp / ac_kw, 3),
        roof_area_used_m2=round(lay.n_modules * c.module.area_m2, 1) if c.module.area_m2 else None,
        area_check="no_limit" if ctx.roof_area_m2 is None else "verified",
        string_check="verified",
        strings=M.StringCheckOut(
            modules_in_series=lay.modules_in_series, strings_total=lay.strings_total,
            strings_per_mppt=lay.strings_per_mppt_max, voc_cold_string_v=lay.check.voc_cold_string_v,
            max_dc_voltage_v=lay.check.max_dc_voltage_v, vmp_hot_string_v=lay.check.vmp_hot_string_v,
            mppt_min_v=lay.check.mppt_min_v, string_current_design_a=lay.check.string_current_design_a,
            max_current_per_mppt_a=lay.check.max_current_per_mppt_a, min_temp_c=round(ctx.min_temp_c, 1),
            hot_cell_temp_c=D.HOT_CELL_TEMP_C),
        energy=energy, economics=economics, notes=notes,
    )


def _inverter_price_per_w(products: list[Product]) -> dict[bool, float]:
    """Median catalog price per AC watt of in-stock grid-tie inverters, by micro (True) or string (False)."""
    out: dict[bool, list[float]] = {True: [], False: []}
    for p in products:
        kind = p.inverter.inverter_type if p.inverter else None
        if (p.category is Category.INVERTER and p.in_stock and p.price_brl and p.power_w
                and kind in (InverterType.MICRO, InverterType.GRID_TIE)):
            out[kind is InverterType.MICRO].append(p.price_brl / p.power_w)
    return {k: float(np.median(v)) for k, v in out.items() if v}


def _kit_design_out(c: _KitCandidate, idx: int, ctx: _Context, by_id: dict[str, Product],
                    price_per_w: dict[bool, float]) -> M.DesignOut:
    k, n = c.kit, c.multiple
    ac_rating_w = n * k.ac_w
    profile = dc_power_pvwatts_per_w(ctx.irr.poa.transmitted_w_m2, ctx.irr.cell_temp_c, c.gamma_pct_per_c / 100)
    dc_w = np.clip(profile, 0.0, None) * (n * k.dc_w) * ctx.keep
    ac_w = ac_rating_w * K.ac_per_w_ac(profile, np.array([k.dc_ac_ratio]), ctx.keep)[0]
    notes: list[str] = []
    # Inverter replacement in year 12: the linked catalog inverter's price, else the catalog median per watt.
    linked = [by_id.get(x.product_id or "") for x in k.inverters]
    if all(p is not None and p.price_brl for p in linked):
        replacement = n * sum(p.price_brl * x.quantity for p, x in zip(linked, k.inverters, strict=True))  # type: ignore[union-attr,operator]
    elif k.micro in price_per_w:
        replacement = ac_rating_w * price_per_w[k.micro]
        notes.append(f"troca do inversor no ano 12 estimada pela mediana do catálogo "
                     f"(R$ {_pt(price_per_w[k.micro], 2)}/W de {'microinversores' if k.micro else 'inversores on-grid'})")
    else:
        replacement = 0.0
        notes.append("troca do inversor no ano 12 não incluída: sem preço de referência no catálogo")
    energy, economics = _energy_economics(
        ctx, ac_w, dc_w, ac_rating_w, K.PVWATTS_INVERTER_EFFICIENCY, c.dc_kwp,
        "PVWatts (γ do catálogo)" if k.gamma_pct_per_c is not None else
        f"PVWatts (γ padrão {_pt(K.PVWATTS_GAMMA_PCT_PER_C, 2)} %/°C)",
        c.equipment_brl, c.installation_brl, replacement)
    if n > 1:
        notes.append(f"{n} kits iguais: nenhum kit sozinho atinge a meta")
    if c.annual_kwh < TARGET_TOLERANCE * ctx.target_kwh:
        notes.append(f"gera {c.annual_kwh:.0f} kWh/ano, abaixo da meta de {ctx.target_kwh:.0f} kWh/ano "
                     "(o maior kit disponível não chega)")
    if k.roof_type is None:
        notes.append("estrutura não informada no kit: confira a fixação para o telhado")
    if k.phase is Phase.SINGLE and ctx.connection is not Phase.SINGLE:
        notes.append("inversor monofásico 220 V em ligação "
                     f"{'trifásica' if ctx.connection is Phase.THREE else 'bifásica'}: confirme o limite de "
                     "potência monofásica da distribuidora")
    if k.has_battery:
        notes.append("kit com bateria: o custo da bateria entra no investimento, seu benefício não é modelado")
    if ctx.roof_area_m2 is not None and not k.module_area_m2:
        area_check = "not_verified"
        notes.append("verificação de área não feita: dimensões do módulo não informadas na fonte")
    else:
        area_check = "no_limit" if ctx.roof_area_m2 is None else "verified"
    p = k.product
    mod, inv = k.modules[0], k.inverters[0]
    unit_price = float(p.price_brl)  # type: ignore[arg-type]
    kit_out = M.KitOut(
        product_id=p.id, name=p.name, distributor=k.distributor, quantity=n, unit_price_brl=unit_price,
        total_brl=round(n * unit_price, 2), unit_dc_w=k.dc_w, unit_ac_w=k.ac_w,
        roof_type=k.roof_type.value if k.roof_type else None, microinverter=k.micro,
        bill_of_materials=[M.KitBomLine(category=x.category.value, description=x.description,
                                        manufacturer=x.manufacturer, quantity=n * x.quantity, power_w=x.power_w,
                                        product_id=x.product_id) for x in p.components])
    dc_kwp = c.dc_kwp
    what = f"kit {k.distributor or ''} {dc_kwp:.2f} kWp ({mod.manufacturer or '?'} + {inv.manufacturer or '?'})"
    return M.DesignOut(
        label=_label(idx, (f"{n} × " if n > 1 else "") + what.replace(".", ",")), kind="kit",
        module=M.EquipmentLine(product_id=mod.product_id, name=mod.description, manufacturer=mod.manufacturer,
                               quantity=n * k.n_modules, unit_power_w=float(mod.power_w),  # type: ignore[arg-type]
                               unit_price_brl=None, total_brl=None, included_in_kit=p.id),
        inverter=M.EquipmentLine(product_id=inv.product_id, name=inv.description, manufacturer=inv.manufacturer,
                                 quantity=n * sum(x.quantity for x in k.inverters),
                                 unit_power_w=float(inv.power_w),  # type: ignore[arg-type]
                                 unit_price_brl=None, total_brl=None, included_in_kit=p.id),
        kit=kit_out,
        lines=[M.QuoteLine(product_id=p.id, category="kit", name=p.name, quantity=n, unit_price_brl=unit_price,
                           total_brl=round(n * unit_price, 2))],
        dc_kwp=round(dc_kwp, 3), ac_kw=round(ac_rating_w / 1000, 3), dc_ac_ratio=round(k.dc_ac_ratio, 3),
        roof_area_used_m2=round(n * k.n_modules * k.module_area_m2, 1) if k.module_area_m2 else None,
        area_check=area_check, string_check="not_verifiable", string_check_reason=K.string_check_reason(k, by_id),
        strings=None, energy=energy, economics=economics, notes=notes,
    )


def _warnings(designs: list[M.DesignOut], components_possible: bool, pinned: bool,
              kit_sel: K.KitSelection) -> list[str]:
    out = []
    if not components_possible and not pinned:
        out.append("Nenhum módulo e inversor avulsos em estoque têm as especificações elétricas para verificar "
                   "strings: os projetos vêm de kits do catálogo (ver produtos ignorados).")
    for d in designs:
        if d.string_check == "not_verifiable":
            out.append(f"{d.label}: {d.string_check_reason}.")
        if d.area_check == "not_verified":
            out.append(f"{d.label}: área do telhado não verificada (dimensões do módulo não informadas).")
    if kit_sel.battery_only:
        out.append("Só kits com bateria atendem: o custo da bateria está no investimento, sem benefício modelado.")
    return out
