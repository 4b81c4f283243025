"""String-sizing checks with real CEC values (Canadian Solar CS3W-400P, Fronius Symo 10.0-3 480)."""

from __future__ import annotations

import pytest

from app.catalog.models import Category, InverterSpecs, ModuleSpecs, Phase, Product
from app.sizing import design


def _module() -> design.ModuleElectrical:
    # CEC row Canadian_Solar_Inc__CS3W_400P: Voc 47.2 V, Isc 10.9 A, Vmp 38.7 V, beta_oc −0.131546 V/°C,
    # gamma_r −0.3768 %/°C
    p = Product(id="cs3w-400p", category=Category.MODULE, name="CS3W-400P", price_brl=700, in_stock=True,
                module=ModuleSpecs(pmax_w=400.158, voc_v=47.2, isc_a=10.9, vmp_v=38.7,
                                   temp_coeff_voc_pct_per_c=100 * -0.131546 / 47.2,
                                   temp_coeff_pmax_pct_per_c=-0.3768))
    m = design.module_electrical(p)
    assert isinstance(m, design.ModuleElectrical)
    return m


def _inverter() -> design.InverterElectrical:
    # CEC row Fronius_USA__Fronius_Symo_10_0_3_480__480V_: Vdcmax 800 V, Mppt_low 100 V, Idcmax 15.31 A
    p = Product(id="symo-10", category=Category.INVERTER, name="Symo 10.0-3 480", price_brl=14000, in_stock=True,
                inverter=InverterSpecs(phase=Phase.THREE, ac_power_w=9995, max_dc_voltage_v=800, mppt_min_v=100,
                                       mppt_count=1, max_input_current_per_mppt_a=15.313421))
    i = design.inverter_electrical(p)
    assert isinstance(i, design.InverterElectrical)
    return i


def test_voc_at_cold_temperature_hand_calculation():
    # 47.2 V × (1 + (−0.2787 %/°C)(−10 − 25)) = 47.2 × 1.09755 = 51.80 V
    assert design.voc_at_temp_v(47.2, 100 * -0.131546 / 47.2, -10) == pytest.approx(47.2 + 0.131546 * 35, rel=1e-9)


def test_too_many_modules_in_series_fails_on_a_cold_site():
    m, i = _module(), _inverter()
    # at −10 °C one module reaches 51.80 V: 15 × 51.80 = 777 V passes, 16 × 51.80 = 829 V > 800 V fails
    ok = design.check_string(m, i, 15, 1, min_temp_c=-10)
    bad = design.check_string(m, i, 16, 1, min_temp_c=-10)
    assert ok.ok
    assert not bad.ok and "Voc" in bad.failures[0]
    assert bad.voc_cold_string_v == pytest.approx(16 * (47.2 + 0.131546 * 35), abs=0.1)
    # the same 16 modules pass at a warm site (min 15 °C): 16 × 48.52 = 776 V
    assert design.check_string(m, i, 16, 1, min_temp_c=15).ok


def test_mppt_minimum_and_current_checks():
    m, i = _module(), _inverter()
    # Vmp at 70 °C: 38.7 × (1 − 0.3768 % × 45) = 32.14 V; 3 in series = 96 V < 100 V
    low = design.check_string(m, i, 3, 1, min_temp_c=5)
    assert any("MPPT" in f for f in low.failures)
    # two strings on one MPPT: 2 × 10.9 × 1.25 = 27.25 A > 15.31 A
    hot = design.check_string(m, i, 10, 2, min_temp_c=5)
    assert any("corrente" in f for f in hot.failures)
    assert design.series_range(m, i, -10) == (4, 15)


def test_missing_specs_are_reported_not_invented():
    p = Product(id="x", category=Category.MODULE, name="Painel 600W", power_w=600, price_brl=500, in_stock=True)
    s = design.module_electrical(p)
    assert isinstance(s, design.Skipped) and "voc_v" in s.reason


def test_phase_fit():
    assert design.phase_fits(Phase.SINGLE, Phase.SINGLE) and not design.phase_fits(Phase.SINGLE, Phase.THREE)
    assert design.phase_fits(Phase.THREE, Phase.THREE) and design.phase_fits(Phase.TWO, Phase.SINGLE)


def test_failures_are_written_with_the_decimal_comma():
    m, i = _module(), _inverter()
    assert design.check_string(m, i, 16, 1, min_temp_c=-10).failures == (
        "Voc a -10 °C = 829 V > máx. CC do inversor 800 V",)
    # 2 × 10,9 A × 1,25 = 27,25 A, shown to one decimal (exact binary half: to even, as Python's own format)
    assert design.check_string(m, i, 10, 2, min_temp_c=5).failures == (
        "corrente 27,2 A (Isc × 1,25 × 2) > máx. por MPPT 15,3 A",)
