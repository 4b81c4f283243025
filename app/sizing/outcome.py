"""The last two stages of a sizing: ``economics`` (each chosen design simulated hour by hour
and priced over 25 years) and ``results`` (warnings, assumptions, the response object)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from app.catalog.models import RoofType
from app.core.telemetry import span
from app.core.text import format_number, format_percent, format_plain
from app.sizing import models
from app.sizing.design import HOT_CELL_TEMP_C, ISC_SAFETY_FACTOR
from app.sizing.kits import PVWATTS_GAMMA_PCT_PER_C, PVWATTS_INVERTER_EFFICIENCY
from app.sizing.results import DesignContext, design_out, inverter_price_per_w, kit_design_out, result_warnings
from app.sizing.roof import ROOF_PT
from app.sizing.simulation import Losses
from app.sizing.stages import Pool, Ranked, SiteArray, SiteInputs, Stock, Target

MODEL_UNCERTAINTY_PCT = 3.0
INTERANNUAL_VARIABILITY_PCT = 3.0
MICROGENERATION_LIMIT_KW = 75.0
MINIGENERATION_NOTE = (
    "Acima de 75 kW ({kw} kW instalados): é minigeração distribuída (Lei 14.300/2022), não microgeração. Muda: "
    "projeto elétrico e ART de engenheiro, parecer de acesso da distribuidora com prazos e estudos maiores, "
    "garantia de fiel cumprimento acima de 500 kW, em geral conexão em média tensão (grupo A, demanda "
    "contratada) e regras próprias do Fio B/TUSD. A economia aqui usa a tarifa residencial (grupo B): é "
    "indicativa; o projeto usa vários kits ou inversores e deve ser revisto por um engenheiro.")


@dataclass(frozen=True)
class Priced:
    """The chosen designs with their energy and economics, best first."""

    designs: list[models.DesignOut]
    sigma_pct: float  # 1σ of annual energy: resource, interannual variability and model combined


def sigma_pct(ghi_uncertainty_pct: float) -> float:
    """1σ of a design's annual energy [%]: the resource's, the interannual and the model's, combined."""
    return math.sqrt(ghi_uncertainty_pct**2 + INTERANNUAL_VARIABILITY_PCT**2 + MODEL_UNCERTAINTY_PCT**2)


def economics_stage(inputs: SiteInputs, array: SiteArray, target: Target, stock: Stock, pool: Pool,
                    ranked: Ranked) -> Priced:
    """Hourly energy, P50/P90, savings and cash flow of every chosen design."""
    prices, tar = inputs.prices, inputs.request.tariff
    sigma = sigma_pct(array.weather.ghi_uncertainty_pct)
    ctx = DesignContext(array.arr, array.weather, inputs.consumption_kwh, inputs.connection, tar,
                        prices.energy_brl_per_kwh, prices.fio_b_brl_per_kwh, sigma, array.arr.poa_kwh_m2, pool.losses,
                        pool.keep, array.min_temp_c, target.target_kwh if inputs.mode == "target" else 0.0,
                        target.annual_consumption_kwh, array.fit, inputs.request.roof.type)
    with span("sizing.designs", **{"helio.designs": len(ranked.chosen)}):  # simulation + economics per design
        designs = [design_out(c, idx, ctx) for idx, c in enumerate(ranked.chosen)]
    replacement_ref = inverter_price_per_w(stock.all_products)
    designs += [kit_design_out(c, len(designs) + i, ctx, stock.by_id, replacement_ref)
                for i, c in enumerate(ranked.chosen_kits)]
    return Priced(designs, sigma)


def _mode_assumption(request: models.SizingRequest, mode: str, availability: float, target_kwh: float) -> str:
    if mode == "target":
        return (f"Meta: {format_percent(request.preferences.target_offset_pct, decimals=0)} do consumo compensável "
                f"(consumo − custo de disponibilidade {format_number(availability)} kWh/mês) = "
                f"{format_number(target_kwh)} kWh/ano.")
    size = f"{format_plain(request.system_kwp)} kWp" if request.system_kwp else ""
    what = f"kit pedido {request.kit_id}" + (f" em {size}" if size else "") if mode == "fixed_kit" else \
        f"tamanho pedido {size} (projetos a até 10 % disso)"
    return f"Simulação de {what}, sem dimensionar pela meta; a economia usa o consumo informado."


_LOSS_PT = {"soiling_pct": "sujeira", "shading_pct": "sombreamento", "snow_pct": "neve",
            "mismatch_pct": "descasamento", "wiring_pct": "cabos", "connections_pct": "conexões",
            "light_induced_degradation_pct": "degradação inicial (LID)", "nameplate_pct": "tolerância de placa",
            "age_pct": "envelhecimento", "availability_pct": "indisponibilidade"}


def _losses_line(losses: Losses, shading_pct: float) -> str:
    """The loss budget in Portuguese: "sujeira 2 %, …; total 14,08 %"."""
    parts = [f"{_LOSS_PT[k]} {format_percent(v, decimals=1 if v % 1 else 0)}" for k, v in asdict(losses).items()]
    return (f"Perdas (PVWatts; sombreamento {format_percent(shading_pct, decimals=1 if shading_pct % 1 else 0)} "
            f"informado): {', '.join(parts)}; total {format_percent(losses.total_pct)}.")


def _kits_cut_line(n: int, area_m2: float, target_mode: bool) -> str:
    """The roof area kept ``n`` catalog kits out that would have met the target (or had the size asked)."""
    one = n == 1
    what = ("atenderia à meta" if one else "atenderiam à meta") if target_mode else \
        ("teria o tamanho pedido" if one else "teriam o tamanho pedido")
    return (f"A área do telhado limitou os kits: {'1 kit' if one else f'{n} kits'} do catálogo {what}, mas não "
            f"{'cabe' if one else 'cabem'} em {format_number(area_m2, decimals=1)} m².")


def assumptions(inputs: SiteInputs, array: SiteArray, target: Target, stock: Stock, pool: Pool, ranked: Ranked,
                priced: Priced) -> list[str]:
    """What the numbers rest on, in the order a reader checks them."""
    request, wy, fit = inputs.request, array.weather, array.fit
    prefs, roof, tar = request.preferences, request.roof, request.tariff
    lines = [
        f"Recurso solar: {wy.source}; incerteza 1σ da irradiação anual "
        f"{format_percent(wy.ghi_uncertainty_pct, decimals=1)}.",
        f"Temperatura mínima de projeto (Voc): {format_number(array.min_temp_c, decimals=1)} °C"
        + (" (mínima do arquivo de clima)" if array.uploaded else " (mínima GLDAS − 3 °C de margem)")
        + f"; célula quente para Vmp: {format_number(HOT_CELL_TEMP_C)} °C; Isc × {format_plain(ISC_SAFETY_FACTOR)}.",
        f"Plano: inclinação {format_number(array.tilt_deg)}°, azimute {format_number(array.azimuth_deg)}° "
        f"(0 = norte); cobertura: {ROOF_PT[roof.type.value]}, NOCT instalado "
        f"{'45' if roof.type == RoofType.GROUND else '49'} °C; albedo {format_number(wy.albedo, decimals=2)}.",
        "Modelos: posição solar pvlib ephemeris; transposição Perez; IAM físico com antirreflexo; temperatura "
        "NOCT (SAM); CC single-diode CEC quando há parâmetros, senão PVWatts; inversor curva PVWatts com corte.",
        _losses_line(pool.losses, roof.shading_pct),
        _mode_assumption(request, inputs.mode, target.availability_kwh_per_month, target.target_kwh),
        inputs.prices.assumption(tar.escalation_pct_per_year),
        f"Lei 14.300: conexão em {tar.connection_year}; Fio B 15 % (2023) … 90 % (2028), "
        f"{format_percent(tar.fio_b_share_2029_on_pct, decimals=0)} de 2029 em diante (cenário)"
        + ("; direito adquirido até 2045" if tar.grandfathered else "")
        + f"; simultaneidade {format_number(tar.simultaneity, decimals=2)}; créditos expiram em 60 meses.",
        f"Fluxo de caixa 25 anos: degradação 0,5 %/ano, O&M 0,5 % do investimento/ano (+4 %/ano), troca do "
        f"inversor no ano 12 pelo preço atual; taxa de desconto {format_percent(tar.discount_rate_pct, decimals=1)}"
        "/ano.",
        f"Investimento = equipamentos do catálogo (preços ilustrativos) + "
        f"R$ {format_number(prefs.installation_brl_per_kwp)}/kWp "
        "de estrutura, proteções, cabos e instalação.",
        f"P90 = P50 × (1 − 1,282 σ), σ = √(recurso² + variabilidade interanual "
        f"{format_number(INTERANNUAL_VARIABILITY_PCT)}%² + modelo {format_number(MODEL_UNCERTAINTY_PCT)}%²) = "
        f"{format_percent(priced.sigma_pct, decimals=1)}.",
    ]
    if inputs.consumption_assumed:
        lines.append(
            f"Consumo não informado: a economia supõe um consumo igual à geração estimada de "
            f"{format_plain(request.system_kwp)} kWp mais o custo de disponibilidade "
            f"(≈ {format_number(target.annual_consumption_kwh / 12)} kWh/mês); informe o consumo para a economia real.")
    if pool.roof_limited_any:
        lines.append("A área do telhado limitou o número de módulos em parte dos projetos.")
    if pool.kits_cut_by_area and fit.area_m2 is not None:
        lines.append(_kits_cut_line(pool.kits_cut_by_area, fit.area_m2, inputs.mode == "target"))
    if roof.faces:
        lines.append(f"Faces do telhado ({len(array.arr.faces)}): {array.arr.describe()}; cada face em MPPT próprio "
                     "(ou microinversores); a geração soma as faces.")
    if fit.area_m2 is not None:
        lines.append(
            f"Área útil {format_number(fit.area_m2, decimals=1)} m²: área por módulo das dimensões do registro de "
            f"specs ou, sem elas, ≈ P/(η·1000 W/m²) com η do nome do produto (20 % se ausente)"
            + (f"; em {ROOF_PT[roof.type.value]} os módulos ficam inclinados em fileiras: área × "
               f"{format_number(fit.pitch, decimals=2)} para não sombrear a fileira de trás ao meio-dia do solstício "
               "de inverno" if fit.pitch > 1 else "") + ".")
    if stock.structure is not None and any(c.kit.swap for c in ranked.chosen_kits):
        lines.append(f"Nenhum kit do catálogo vem com estrutura para {ROOF_PT[roof.type.value]}: os kits "
                     f"levam a estrutura {stock.structure.product.name} do catálogo "
                     f"({stock.structure.modules_per_unit} módulos por unidade) no lugar da original.")
    return lines


def results_stage(inputs: SiteInputs, array: SiteArray, target: Target, stock: Stock, pool: Pool, ranked: Ranked,
                  priced: Priced) -> models.SizingResult:
    """The response: best design and alternatives, warnings, assumptions, what was skipped."""
    site, wy, designs = inputs.site, array.weather, priced.designs
    kit_sel = stock.kit_sel
    warnings = (result_warnings(designs, stock.components_possible, stock.pinned, kit_sel)
                + list(inputs.prices.tariff.warnings))
    notes = assumptions(inputs, array, target, stock, pool, ranked, priced)
    installed_kw = max(min(d.dc_kwp, d.ac_kw) for d in designs)
    generation_class = "minigeracao" if installed_kw > MICROGENERATION_LIMIT_KW else "microgeracao"
    if generation_class == "minigeracao":
        warnings.insert(0, MINIGENERATION_NOTE.format(kw=format_number(installed_kw, decimals=1)))
    if ranked.chosen_kits:
        notes.append(
            f"Kits do catálogo: CC PVWatts com γ = {format_number(PVWATTS_GAMMA_PCT_PER_C, decimals=2)} %/°C "
            f"(padrão PVWatts) quando o γ do módulo não está no catálogo; inversor curva PVWatts "
            f"{format_percent(100 * PVWATTS_INVERTER_EFFICIENCY, decimals=0)} com corte na potência CA da lista de materiais; investimento "
            "= preço do kit + instalação por kWp (o kit já traz estrutura e cabos: a parcela de instalação é "
            "conservadora).")
    if kit_sel.excluded:
        notes.append("Kits em estoque não considerados: " + "; ".join(
            f"{n} – {why}" for why, n in sorted(kit_sel.excluded.items())) + ".")
    return models.SizingResult(
        mode=inputs.mode, generation_class=generation_class,
        site=models.SiteOut(municipality=site.municipality, uf=site.uf, ibge_code=site.ibge_code,
                            latitude_deg=site.latitude_deg, longitude_deg=site.longitude_deg,
                            timezone=site.timezone, distance_to_seat_km=site.distance_to_seat_km),
        resource=models.ResourceOut(source=wy.source, provenance=list(wy.provenance),
                                    annual_ghi_kwh_m2=round(wy.annual_ghi_kwh_m2, 1),
                                    ghi_uncertainty_pct=wy.ghi_uncertainty_pct,
                                    mean_temp_air_c=round(float(np.mean(wy.temp_air_c)), 1),
                                    design_min_temp_c=round(array.min_temp_c, 1), notes=list(wy.notes)),
        consumption=models.ConsumptionOut(monthly_kwh=[round(float(v), 1) for v in inputs.consumption_kwh],
                                          annual_kwh=round(target.annual_consumption_kwh, 1),
                                          availability_kwh_per_month=target.availability_kwh_per_month,
                                          target_annual_kwh=round(target.target_kwh, 1)),
        tilt_deg=float(array.tilt_deg), azimuth_deg=float(array.azimuth_deg), best=designs[0],
        alternatives=designs[1:], usable_modules=len(stock.modules), usable_inverters=len(stock.inverters),
        usable_kits=len(kit_sel.eligible), skipped_products=[models.SkippedOut(**x.__dict__) for x in stock.skipped],
        warnings=warnings, assumptions=notes,
    )
