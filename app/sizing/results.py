"""Response objects of a sizing: candidates (component layouts, catalog kits) turned into
:class:`~app.sizing.models.DesignOut` with their energy, economics, notes and warnings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.catalog.models import Category, InverterType, KitComponent, Phase, Product, RoofType
from app.core.text import format_brl, format_kwh, format_kwp, format_number, format_percent
from app.sizing import models
from app.sizing.design import HOT_CELL_TEMP_C, InverterElectrical, Layout, ModuleElectrical
from app.sizing.economics import EconomicsInputs, project_cash_flow
from app.sizing.kits import (
    PVWATTS_GAMMA_PCT_PER_C, PVWATTS_INVERTER_EFFICIENCY, KitElectrical, KitSelection, ac_per_w_ac,
)
from app.sizing.roof import PVArray, ROOF_PT, RoofFit
from app.sizing.kitcheck import KitCheck
from app.sizing.resource import WeatherYear
from app.sizing.simulation import STC_IRRADIANCE_W_M2, Losses, monthly_sum

Z_P90 = 1.2816
TARGET_TOLERANCE = 0.97  # a design within 3 % of the target energy counts as meeting it


@dataclass
class Candidate:
    """A module × inverter layout whose strings passed the checks, with its hourly output."""

    module: ModuleElectrical
    inverter: InverterElectrical
    layout: Layout
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
class KitCandidate:
    """``multiple`` × one catalog kit, simulated with the PVWatts DC model."""

    kit: KitElectrical
    multiple: int
    gamma_pct_per_c: float
    annual_kwh: float
    equipment_brl: float
    installation_brl: float
    check: KitCheck

    @property
    def capex_brl(self) -> float:
        return self.equipment_brl + self.installation_brl

    @property
    def dc_kwp(self) -> float:
        return self.multiple * self.kit.dc_w / 1000


@dataclass(frozen=True)
class DesignContext:
    """What every design of one request shares, for building its output."""

    arr: PVArray
    wy: WeatherYear
    consumption: np.ndarray
    connection: Phase
    tar: models.TariffInput
    energy_price: float
    fio_b: float
    sigma_pct: float
    poa_kwh_m2: float
    losses: Losses
    keep: float
    min_temp_c: float
    target_kwh: float
    annual_consumption: float
    fit: RoofFit
    roof_type: RoofType

    @property
    def roof_area_m2(self) -> float | None:
        return self.fit.area_m2


def energy_economics(ctx: DesignContext, ac_w: np.ndarray, dc_w: np.ndarray, ac_rating_w: float, efficiency: float,
                      dc_kwp: float, dc_model: str, equipment_brl: float, installation_brl: float,
                      replacement_brl: float) -> tuple[models.EnergyOut, models.EconomicsOut]:
    annual_kwh = float(ac_w.sum() / 1000)
    monthly = monthly_sum(ac_w, ctx.wy.times) / 1000
    # Clipped hours sit at the AC rating; what they would have delivered is ≈ P_dc × η_nominal
    # (identical inverters share the array equally, so totals stand for each inverter).
    clipped = ac_w >= ac_rating_w * 0.9999
    lost_w = np.clip(dc_w[clipped] * efficiency - ac_w[clipped], 0, None).sum()
    clipping_pct = 100 * lost_w / max(ac_w.sum() + lost_w, 1e-9)
    capex = equipment_brl + installation_brl
    econ = project_cash_flow(EconomicsInputs(
        monthly_consumption_kwh=ctx.consumption, monthly_generation_kwh=monthly, connection=ctx.connection,
        capex_brl=capex, inverter_replacement_brl=replacement_brl,
        energy_brl_per_kwh=ctx.energy_price, fio_b_brl_per_kwh=ctx.fio_b, connection_year=ctx.tar.connection_year,
        tariff_escalation_pct=ctx.tar.escalation_pct_per_year, discount_rate_pct=ctx.tar.discount_rate_pct,
        simultaneity=ctx.tar.simultaneity, fio_b_share_2029_on=ctx.tar.fio_b_share_2029_on_pct / 100,
        grandfathered=ctx.tar.grandfathered,
    ))
    energy = models.EnergyOut(
        annual_kwh=round(annual_kwh, 1), monthly_kwh=[round(float(v), 1) for v in monthly],
        specific_yield_kwh_per_kwp=round(annual_kwh / dc_kwp, 1),
        performance_ratio_pct=round(100 * annual_kwh / (ctx.poa_kwh_m2 * dc_kwp * 1000 / STC_IRRADIANCE_W_M2), 1),
        p50_annual_kwh=round(annual_kwh, 1),
        p90_annual_kwh=round(annual_kwh * (1 - Z_P90 * ctx.sigma_pct / 100), 1),
        p90_method=f"P50 × (1 − 1,282 × {format_percent(ctx.sigma_pct, decimals=1)}): recurso, variabilidade interanual e modelo, "
                   "combinados em quadratura (um ano)",
        offset_pct=round(100 * annual_kwh / ctx.annual_consumption, 1), dc_model=dc_model,
        losses_pct=ctx.losses.as_dict(), clipping_loss_pct=round(clipping_pct, 2),
        annual_poa_kwh_m2=round(ctx.poa_kwh_m2, 1))
    economics = models.EconomicsOut(
        capex_brl=round(capex, 2), equipment_brl=round(equipment_brl, 2),
        installation_brl=round(installation_brl, 2), npv_brl=econ.npv_brl, irr_pct=econ.irr_pct,
        simple_payback_years=econ.simple_payback_years, discounted_payback_years=econ.discounted_payback_years,
        first_year_savings_brl=econ.first_year_savings_brl, energy_brl_per_kwh=ctx.energy_price,
        fio_b_brl_per_kwh=ctx.fio_b, years=econ.years)
    return energy, economics


def design_label(idx: int, what: str) -> str:
    return (("melhor projeto" if idx == 0 else f"alternativa {idx}") + f": {what}").strip()


def design_out(c: Candidate, idx: int, ctx: DesignContext) -> models.DesignOut:
    lay = c.layout
    ac_kw = lay.inverter_count * c.inverter.ac_power_w / 1000
    energy, economics = energy_economics(
        ctx, c.ac_w, c.dc_w, lay.inverter_count * c.inverter.ac_power_w, c.inverter.efficiency, c.dc_kwp, c.dc_model,
        c.equipment_brl, c.installation_brl, lay.inverter_count * c.inverter.product.price_brl)
    mod_p, inv_p = c.module.product, c.inverter.product
    notes = list(c.inverter.notes)
    per_module, real = ctx.fit.module_area(c.module.pmax_w, c.module.area_m2, mod_p.name,
                                           mod_p.module.efficiency_pct if mod_p.module else None)
    if not real:
        notes.append(area_note(per_module, ctx))
    if c.annual_kwh < TARGET_TOLERANCE * ctx.target_kwh:
        notes.append(f"gera {format_kwh(c.annual_kwh)}/ano, abaixo da meta de {format_kwh(ctx.target_kwh)}/ano")
    module = models.EquipmentLine(product_id=mod_p.id, name=mod_p.name, manufacturer=mod_p.manufacturer,
                             quantity=lay.n_modules, unit_power_w=c.module.pmax_w, unit_price_brl=mod_p.price_brl,
                             total_brl=round(lay.n_modules * mod_p.price_brl, 2))
    inverter = models.EquipmentLine(product_id=inv_p.id, name=inv_p.name, manufacturer=inv_p.manufacturer,
                               quantity=lay.inverter_count, unit_power_w=c.inverter.ac_power_w,
                               unit_price_brl=inv_p.price_brl, total_brl=round(lay.inverter_count * inv_p.price_brl, 2))
    return models.DesignOut(
        label=design_label(idx, f"{mod_p.manufacturer or ''} + {inv_p.manufacturer or ''}"), kind="components",
        module=module, inverter=inverter,
        lines=[models.QuoteLine(product_id=x.product_id, category=cat, name=x.name, quantity=x.quantity,  # type: ignore[arg-type]
                           unit_price_brl=x.unit_price_brl, total_brl=x.total_brl)  # type: ignore[arg-type]
               for cat, x in (("module", module), ("inverter", inverter))],
        dc_kwp=round(c.dc_kwp, 3), ac_kw=round(ac_kw, 3), dc_ac_ratio=round(c.dc_kwp / ac_kw, 3),
        roof_area_used_m2=round(lay.n_modules * per_module, 1),
        area_check="no_limit" if ctx.roof_area_m2 is None else ("verified" if real else "estimated"),
        string_check="verified",
        strings=models.StringCheckOut(
            modules_in_series=lay.modules_in_series, strings_total=lay.strings_total,
            strings_per_mppt=lay.strings_per_mppt_max, voc_cold_string_v=lay.check.voc_cold_string_v,
            max_dc_voltage_v=lay.check.max_dc_voltage_v, vmp_hot_string_v=lay.check.vmp_hot_string_v,
            mppt_min_v=lay.check.mppt_min_v, string_current_design_a=lay.check.string_current_design_a,
            max_current_per_mppt_a=lay.check.max_current_per_mppt_a, min_temp_c=round(ctx.min_temp_c, 1),
            hot_cell_temp_c=HOT_CELL_TEMP_C),
        energy=energy, economics=economics, notes=notes,
    )


def area_note(per_module_m2: float, ctx: DesignContext) -> str:
    pitch = (f", com espaçamento entre fileiras (×{format_number(ctx.fit.pitch, decimals=2)})"
             if ctx.fit.pitch > 1 else "")
    return (f"área estimada: dimensões do módulo não informadas; área ≈ P/(η·1000 W/m²){pitch} = "
            f"{format_number(per_module_m2, decimals=2)} m² por módulo (η do nome do produto, ou 20 % se ausente)")


def inverter_price_per_w(products: list[Product]) -> dict[bool, float]:
    """Median catalog price per AC watt of in-stock grid-tie inverters, by micro (True) or string (False)."""
    out: dict[bool, list[float]] = {True: [], False: []}
    for p in products:
        kind = p.inverter.inverter_type if p.inverter else None
        if (p.category is Category.INVERTER and p.in_stock and p.price_brl and p.power_w
                and kind in (InverterType.MICRO, InverterType.GRID_TIE)):
            out[kind is InverterType.MICRO].append(p.price_brl / p.power_w)
    return {k: float(np.median(v)) for k, v in out.items() if v}


def kit_design_out(c: KitCandidate, idx: int, ctx: DesignContext, by_id: dict[str, Product],
                    price_per_w: dict[bool, float]) -> models.DesignOut:
    k, n = c.kit, c.multiple
    ac_rating_w = n * k.ac_w
    profile = ctx.arr.dc_pvwatts_per_w(c.gamma_pct_per_c / 100)
    dc_w = np.clip(profile, 0.0, None) * (n * k.dc_w) * ctx.keep
    ac_w = ac_rating_w * ac_per_w_ac(profile, np.array([k.dc_ac_ratio]), ctx.keep)[0]
    notes: list[str] = []
    # Inverter replacement in year 12: the linked catalog inverter's price, else the catalog median per watt.
    linked = [by_id.get(x.product_id or "") for x in k.inverters]
    if all(p is not None and p.price_brl for p in linked):
        replacement = n * sum(p.price_brl * x.quantity for p, x in zip(linked, k.inverters, strict=True))  # type: ignore[union-attr,operator]
    elif k.micro in price_per_w:
        replacement = ac_rating_w * price_per_w[k.micro]
        notes.append(f"troca do inversor no ano 12 estimada pela mediana do catálogo "
                     f"(R$ {format_number(price_per_w[k.micro], decimals=2)}/W de "
                     f"{'microinversores' if k.micro else 'inversores on-grid'})")
    else:
        replacement = 0.0
        notes.append("troca do inversor no ano 12 não incluída: sem preço de referência no catálogo")
    energy, economics = energy_economics(
        ctx, ac_w, dc_w, ac_rating_w, PVWATTS_INVERTER_EFFICIENCY, c.dc_kwp,
        "PVWatts (γ do catálogo)" if k.gamma_pct_per_c is not None else
        f"PVWatts (γ padrão {format_number(PVWATTS_GAMMA_PCT_PER_C, decimals=2)} %/°C)",
        c.equipment_brl, c.installation_brl, replacement)
    if n > 1:
        notes.append(f"{n} kits iguais: nenhum kit sozinho atinge a meta")
    if c.annual_kwh < TARGET_TOLERANCE * ctx.target_kwh:
        notes.append(f"gera {format_kwh(c.annual_kwh)}/ano, abaixo da meta de {format_kwh(ctx.target_kwh)}/ano "
                     "(o maior kit disponível não chega)")
    if k.roof_type is None:
        notes.append("estrutura não informada no kit: confira a fixação para o telhado")
    if k.phase is Phase.SINGLE and ctx.connection is not Phase.SINGLE:
        notes.append("inversor monofásico 220 V em ligação "
                     f"{'trifásica' if ctx.connection is Phase.THREE else 'bifásica'}: confirme o limite de "
                     "potência monofásica da distribuidora")
    if k.has_battery:
        notes.append("kit com bateria: o custo da bateria entra no investimento, seu benefício não é modelado")
    per_module, real = ctx.fit.kit_module_area(k)
    area_check = "no_limit" if ctx.roof_area_m2 is None else ("verified" if real else "estimated")
    if not real:
        notes.append(area_note(per_module, ctx))
    lines = [models.QuoteLine(product_id=k.product.id, category="kit", name=k.product.name, quantity=n,
                         unit_price_brl=float(k.product.price_brl),  # type: ignore[arg-type]
                         total_brl=round(n * float(k.product.price_brl), 2))]  # type: ignore[arg-type]
    bom = [x for x in k.product.components if not (k.swap and x.category is Category.STRUCTURE)]
    if k.swap:
        sp, units = k.swap.product, n * k.swap.units(k.n_modules)
        lines.append(models.QuoteLine(product_id=sp.id, category="structure", name=sp.name, quantity=units,
                                 unit_price_brl=float(sp.price_brl), total_brl=round(units * sp.price_brl, 2)))  # type: ignore[arg-type,operator]
        bom.append(KitComponent(category=Category.STRUCTURE, description=sp.name, manufacturer=sp.manufacturer,
                                quantity=k.swap.units(k.n_modules), product_id=sp.id))
        notes.append(f"estrutura do kit ({ROOF_PT.get(k.roof_type.value, k.roof_type.value) if k.roof_type else '?'})"
                     f" trocada por {units} × {sp.name} ({format_brl(float(sp.price_brl))} cada, "  # type: ignore[arg-type]
                     f"{k.swap.modules_per_unit} módulos por unidade), do catálogo; o preço da estrutura original não "
                     "é descontado do kit (não informado)")
    p = k.product
    mod, inv = k.modules[0], k.inverters[0]
    unit_price = float(p.price_brl)  # type: ignore[arg-type]
    kit_out = models.KitOut(
        product_id=p.id, name=p.name, distributor=k.distributor, quantity=n, unit_price_brl=unit_price,
        total_brl=round(n * unit_price, 2), unit_dc_w=k.dc_w, unit_ac_w=k.ac_w,
        roof_type=(ctx.roof_type.value if k.swap else (k.roof_type.value if k.roof_type else None)),
        microinverter=k.micro,
        bill_of_materials=[models.KitBomLine(category=x.category.value, description=x.description,
                                        manufacturer=x.manufacturer, quantity=n * x.quantity, power_w=x.power_w,
                                        product_id=x.product_id) for x in bom])
    dc_kwp = c.dc_kwp
    what = f"kit {k.distributor or ''} {format_kwp(dc_kwp)} ({mod.manufacturer or '?'} + {inv.manufacturer or '?'})"
    return models.DesignOut(
        label=design_label(idx, (f"{n} × " if n > 1 else "") + what), kind="kit",
        module=models.EquipmentLine(product_id=mod.product_id, name=mod.description, manufacturer=mod.manufacturer,
                               quantity=n * k.n_modules, unit_power_w=float(mod.power_w),  # type: ignore[arg-type]
                               unit_price_brl=None, total_brl=None, included_in_kit=p.id),
        inverter=models.EquipmentLine(product_id=inv.product_id, name=inv.description, manufacturer=inv.manufacturer,
                                 quantity=n * sum(x.quantity for x in k.inverters),
                                 unit_power_w=float(inv.power_w),  # type: ignore[arg-type]
                                 unit_price_brl=None, total_brl=None, included_in_kit=p.id),
        kit=kit_out,
        lines=lines,
        dc_kwp=round(dc_kwp, 3), ac_kw=round(ac_rating_w / 1000, 3), dc_ac_ratio=round(k.dc_ac_ratio, 3),
        roof_area_used_m2=round(n * k.n_modules * per_module, 1),
        area_check=area_check, string_check=c.check.status, string_check_reason=c.check.reason,
        electrical_checks=[models.ElectricalCheckOut(check=x.check, value=round(x.value, 2), limit=round(x.limit, 2),
                                                unit=x.unit, ok=x.ok) for x in c.check.lines],
        spec_sources=list(c.check.sources), strings=None, energy=energy, economics=economics,
        notes=notes + list(c.check.notes),
    )


def result_warnings(designs: list[models.DesignOut], components_possible: bool, pinned: bool,
              kit_sel: KitSelection) -> list[str]:
    out = []
    if not components_possible and not pinned:
        out.append("Nenhum módulo e inversor avulsos em estoque têm as especificações elétricas para verificar "
                   "strings: os projetos vêm de kits do catálogo (ver produtos ignorados).")
    for d in designs:
        if d.string_check == "not_verifiable":
            out.append(f"{d.label}: {d.string_check_reason}.")
        elif d.string_check == "fails":
            out.append(f"{d.label}: verificação elétrica reprovada — {d.string_check_reason}.")

    if kit_sel.battery_only:
        out.append("Só kits com bateria atendem: o custo da bateria está no investimento, sem benefício modelado.")
    return out
