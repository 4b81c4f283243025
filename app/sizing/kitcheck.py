"""Electrical check of a catalog kit: its module against its microinverter's input window or its
string inverter's MPPTs, at the site's design temperatures, from the spec registry.

Microinverter (one module per input): Voc at the design minimum ≤ the input's max DC voltage;
Vmp at hot cell temperature ≥ the MPPT minimum; Vmp (STC) ≤ the MPPT maximum; Imp ≤ the
input's max operating current; Isc ≤ its max short-circuit current (when the source gives
it); modules ≤ inputs of the kit's microinverters.
String inverter: the kit's modules split over its inverters in strings that pass
:func:`app.sizing.design.check_string` (Voc cold, Vmp hot, Isc × 1.25 per MPPT).

A module whose source gives no β_Voc (or γ) is checked with a conservative bound (β −0.35
%/°C for Voc at the cold end, −0.45 %/°C for Vmp at the hot end: more extreme than any
crystalline module) and the check says so. A spec nobody gives is named, never guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.catalog.models import Phase
from app.sizing.design import (
    HOT_CELL_TEMP_C, ISC_SAFETY_FACTOR, InverterElectrical, ModuleElectrical, StringCheck, check_string, series_range,
    vmp_at_temp_v, voc_at_temp_v,
)
from app.specs.models import SpecRow
from app.core.text import format_number

CONSERVATIVE_BETA_VOC_PCT_PER_C = -0.35
CONSERVATIVE_VMP_COEFF_PCT_PER_C = -0.45

MICRO_MODULE_NEEDS = (("voc_v", "Voc"), ("vmp_v", "Vmp"), ("imp_a", "Imp"))
MICRO_NEEDS = (("max_dc_voltage_v", "tensão CC máx. por entrada"), ("mppt_min_v", "faixa MPPT"),
               ("max_input_current_per_mppt_a", "corrente máx. por entrada"), ("mppt_count", "número de entradas"))
STRING_MODULE_NEEDS = (("voc_v", "Voc"), ("vmp_v", "Vmp"), ("isc_a", "Isc"))
STRING_NEEDS = (("max_dc_voltage_v", "tensão CC máx."), ("mppt_min_v", "janela MPPT"),
                ("max_input_current_per_mppt_a", "corrente máx. por MPPT"))


@dataclass(frozen=True)
class CheckLine:
    check: str
    value: float
    limit: float
    unit: str
    ok: bool


@dataclass(frozen=True)
class KitCheck:
    status: str  # "verified" | "fails" | "not_verifiable"
    reason: str | None
    lines: tuple[CheckLine, ...] = ()
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rank(self) -> int:
        return {"verified": 0, "not_verifiable": 1, "fails": 2}[self.status]


def _fmt(v: float, digits: int = 1) -> str:
    # datasheet style: "1100,0 V", no thousands mark
    return format_number(v, decimals=digits, grouping=False)


def _missing(row: SpecRow | None, needs) -> list[str]:
    return [label for attr, label in needs if row is None or getattr(row, attr) is None]


def _coefficients(mod: SpecRow) -> tuple[float, float, list[str]]:
    notes = []
    beta = mod.beta_voc_pct_per_c
    if beta is None:
        beta = CONSERVATIVE_BETA_VOC_PCT_PER_C
        notes.append(f"β_Voc do módulo não informado pela fonte: usado limite conservador {_fmt(beta, 2)} %/°C")
    vmp_coeff = mod.gamma_pmax_pct_per_c
    if vmp_coeff is None:
        vmp_coeff = CONSERVATIVE_VMP_COEFF_PCT_PER_C
        notes.append(f"γ do módulo não informado: Vmp a quente com {_fmt(vmp_coeff, 2)} %/°C (conservador)")
    return beta, vmp_coeff, notes


def check_micro_kit(mod: SpecRow, inv: SpecRow, n_modules: int, n_micros: int, min_temp_c: float,
                    hot_cell_c: float = HOT_CELL_TEMP_C) -> KitCheck:
    beta, vmp_coeff, notes = _coefficients(mod)
    voc_cold = voc_at_temp_v(mod.voc_v, beta, min_temp_c)  # type: ignore[arg-type]
    vmp_hot = vmp_at_temp_v(mod.vmp_v, vmp_coeff, hot_cell_c)  # type: ignore[arg-type]
    inputs = n_micros * (inv.mppt_count or 1) * (inv.inputs_per_mppt or 1)
    lines = [
        CheckLine(f"Voc do módulo a {_fmt(min_temp_c)} °C ≤ tensão máx. da entrada", voc_cold, inv.max_dc_voltage_v,  # type: ignore[arg-type]
                  "V", voc_cold <= inv.max_dc_voltage_v),  # type: ignore[operator]
        CheckLine(f"Vmp a {_fmt(hot_cell_c, 0)} °C ≥ mínimo do MPPT", vmp_hot, inv.mppt_min_v, "V",  # type: ignore[arg-type]
                  vmp_hot >= inv.mppt_min_v),  # type: ignore[operator]
    ]
    if inv.mppt_max_v is not None:
        lines.append(CheckLine("Vmp (STC) ≤ máximo do MPPT", mod.vmp_v, inv.mppt_max_v, "V",  # type: ignore[arg-type]
                               mod.vmp_v <= inv.mppt_max_v))  # type: ignore[operator]
    lines.append(CheckLine("Imp do módulo ≤ corrente máx. de operação da entrada", mod.imp_a,  # type: ignore[arg-type]
                           inv.max_input_current_per_mppt_a, "A", mod.imp_a <= inv.max_input_current_per_mppt_a))  # type: ignore[arg-type,operator]
    if inv.max_isc_per_mppt_a is not None and mod.isc_a is not None:
        lines.append(CheckLine("Isc do módulo ≤ corrente de curto máx. da entrada", mod.isc_a, inv.max_isc_per_mppt_a,
                               "A", mod.isc_a <= inv.max_isc_per_mppt_a))
    lines.append(CheckLine("módulos ≤ entradas dos microinversores", n_modules, inputs, "", n_modules <= inputs))
    return _verdict(lines, mod, inv, notes)


def check_string_kit(mod: SpecRow, inv: SpecRow, n_modules: int, n_inverters: int, min_temp_c: float) -> KitCheck:
    beta, vmp_coeff, notes = _coefficients(mod)
    m = ModuleElectrical(product=None, pmax_w=mod.pmax_w, voc_v=mod.voc_v, isc_a=mod.isc_a, vmp_v=mod.vmp_v,  # type: ignore[arg-type]
                           beta_voc_pct_per_c=beta, gamma_pmax_pct_per_c=vmp_coeff, area_m2=mod.area_m2, cec=None)
    i = InverterElectrical(product=None, ac_power_w=inv.ac_power_w, phase=Phase(inv.phase or "single_phase"),  # type: ignore[arg-type]
                             max_dc_voltage_v=inv.max_dc_voltage_v, mppt_min_v=inv.mppt_min_v,  # type: ignore[arg-type]
                             mppt_max_v=inv.mppt_max_v, mppt_count=inv.mppt_count or 1,
                             max_current_per_mppt_a=inv.max_input_current_per_mppt_a,  # type: ignore[arg-type]
                             strings_per_mppt=inv.inputs_per_mppt, efficiency=0.96)
    per_inverter, rest = divmod(n_modules, max(n_inverters, 1))
    best: StringCheck | None = None
    n_min, n_max = series_range(m, i, min_temp_c)
    for s in range(max(1, n_min - 2), max(n_max, n_min) + 3):
        if rest or per_inverter % s:
            continue
        strings = per_inverter // s
        per_mppt = math.ceil(strings / i.mppt_count)
        check = check_string(m, i, s, per_mppt, min_temp_c)
        if check.ok:
            best = check
            break
        if best is None or len(check.failures) < len(best.failures):
            best = check
    if best is None:
        return KitCheck("fails", f"falha: {n_modules} módulos não se dividem em strings iguais entre "
                                 f"{n_inverters} inversor(es)", (), _sources(mod, inv), tuple(notes))
    lines = (
        CheckLine(f"{best.modules_in_series} módulos em série: Voc a {_fmt(min_temp_c)} °C ≤ máx. CC",
                  best.voc_cold_string_v, best.max_dc_voltage_v, "V", best.voc_cold_string_v <= best.max_dc_voltage_v),
        CheckLine(f"Vmp da string a {_fmt(HOT_CELL_TEMP_C, 0)} °C ≥ mínimo do MPPT", best.vmp_hot_string_v,
                  best.mppt_min_v, "V", best.vmp_hot_string_v >= best.mppt_min_v),
        CheckLine(f"Isc × {_fmt(ISC_SAFETY_FACTOR, 2)} × {best.strings_per_mppt} string(s) ≤ máx. por MPPT",
                  best.string_current_design_a, best.max_current_per_mppt_a, "A",
                  best.string_current_design_a <= best.max_current_per_mppt_a + 1e-9),
    )
    return _verdict(list(lines), mod, inv, notes, extra_failures=best.failures)


def _sources(mod: SpecRow, inv: SpecRow) -> tuple[str, ...]:
    return (f"módulo {mod.label()}: {mod.source.label()}", f"inversor {inv.label()}: {inv.source.label()}")


def _verdict(lines: list[CheckLine], mod: SpecRow, inv: SpecRow, notes: list[str],
             extra_failures: tuple[str, ...] = ()) -> KitCheck:
    failed = [c for c in lines if not c.ok]
    if failed or extra_failures:
        why = "; ".join(f"{c.check} — {_fmt(c.value)} {c.unit}, limite {_fmt(c.limit)} {c.unit}".replace(" ,", ",")
                        for c in failed) or "; ".join(extra_failures)
        return KitCheck("fails", f"falha: {why}", tuple(lines), _sources(mod, inv), tuple(notes))
    return KitCheck("verified", None, tuple(lines), _sources(mod, inv), tuple(notes))


def check_kit(module: SpecRow | None, inverter: SpecRow | None, micro: bool, n_modules: int, n_inverters: int,
              min_temp_c: float, module_desc: str, inverter_desc: str, module_why: str | None,
              inverter_why: str | None, distributor: str | None) -> KitCheck:
    """The kit's check, or ``not_verifiable`` naming the specs (and models) the registry lacks."""
    mod_needs, inv_needs = (MICRO_MODULE_NEEDS, MICRO_NEEDS) if micro else (STRING_MODULE_NEEDS, STRING_NEEDS)
    mod_missing, inv_missing = _missing(module, mod_needs), _missing(inverter, inv_needs)
    if micro and inverter is not None and inverter.category != "microinverter":
        inv_missing = ["cadastro como microinversor"]
    if mod_missing or inv_missing:
        parts = []
        if mod_missing:
            parts.append(f"{'/'.join(mod_missing)} do módulo {module_desc}"
                         + (f" ({module_why})" if module is None and module_why else " (fonte não informa)"))
        if inv_missing:
            parts.append(f"{' e '.join(inv_missing)} do {'microinversor' if micro else 'inversor'} {inverter_desc}"
                         + (f" ({inverter_why})" if inverter is None and inverter_why else " (fonte não informa)"))
        what = "compatibilidade módulo–microinversor não verificada" if micro else "string sizing não verificado"
        return KitCheck("not_verifiable", f"{what}: faltam {' e '.join(parts)}; kit montado "
                                          f"pelo distribuidor {distributor or 'não informado'}")
    assert module is not None and inverter is not None
    if micro:
        return check_micro_kit(module, inverter, n_modules, n_inverters, min_temp_c)
    return check_string_kit(module, inverter, n_modules, n_inverters, min_temp_c)
