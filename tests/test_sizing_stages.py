"""Each stage of ``size_system`` on its own (app/sizing/stages.py, app/sizing/outcome.py).

Real stages on the CEC-based stock of test_sizing_engine (real electrical parameters, prices
set by the test); the score stage also on hand-made candidates, where the ranking rules can
be seen without a simulation.
"""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from app.catalog.models import Phase
from app.core.errors import InvalidInput
from app.sizing import stages
from app.sizing.engine import DEFAULT_STAGES, size_system
from app.sizing.models import ConsumptionInput, Preferences, RoofFace, RoofInput, SiteInput, SizingRequest
from app.sizing.outcome import economics_stage, results_stage
from test_sizing_engine import stock


def request(**kw) -> SizingRequest:
    base = dict(site=SiteInput(municipality="Uberlândia", uf="MG"), consumption=ConsumptionInput(monthly_kwh=650),
                connection=Phase.THREE)
    base.update(kw)
    return SizingRequest(**base)


@pytest.fixture(scope="module")
def run():
    """Every stage's output for the Uberlândia request, run one after the other."""
    inputs = stages.site_stage(request())
    array = stages.weather_stage(inputs)
    target = stages.target_stage(inputs, array)
    stock_ = stages.stock_stage(inputs, stock())
    pool = stages.candidates_stage(inputs, array, target, stock_)
    ranked = stages.score_stage(inputs, target, pool)
    priced = economics_stage(inputs, array, target, stock_, pool, ranked)
    return SimpleNamespace(inputs=inputs, array=array, target=target, stock=stock_, pool=pool, ranked=ranked,
                           priced=priced)


# --- site ------------------------------------------------------------------------------------

def test_site_resolves_the_municipality_and_defaults_the_tilt_to_the_latitude():
    inputs = stages.site_stage(request())
    assert inputs.site.ibge_code == 3170206 and inputs.connection is Phase.THREE
    assert inputs.tilt_deg == round(abs(inputs.site.latitude_deg)) == 19
    assert inputs.azimuth_deg == 0 and inputs.mode == "target"
    assert list(inputs.consumption_kwh) == [650.0] * 12


def test_site_converts_a_bill_with_the_distributors_tariff():
    inputs = stages.site_stage(request(consumption=ConsumptionInput(bill_brl=480)))
    assert inputs.consumption_kwh == pytest.approx(np.repeat(480 / inputs.prices.bill_brl_per_kwh, 12))


@pytest.mark.parametrize("kw, match", [
    (dict(preferences=Preferences(max_dc_ac_ratio=3.0)), "CC/CA"),
    (dict(roof=RoofInput(tilt_deg=95)), "Inclinação"),
    (dict(consumption=ConsumptionInput(monthly_kwh=[500, 600])), "2 valores"),
])
def test_site_refuses_what_it_cannot_honour(kw, match):
    with pytest.raises(InvalidInput, match=match):
        stages.site_stage(request(**kw))


def test_mode_follows_what_was_asked():
    assert stages.site_stage(request(system_kwp=8)).mode == "fixed_size"
    assert stages.site_stage(request(kit_id="k", system_kwp=8)).mode == "fixed_kit"


# --- weather ---------------------------------------------------------------------------------

def test_weather_builds_one_plane_and_a_design_minimum_below_the_years(run):
    array = run.array
    assert len(array.arr.faces) == 1 and array.tilt_deg == 19 and not array.uploaded
    assert array.min_temp_c == pytest.approx(array.weather.design_min_temp_c - 3.0)  # built-in year: 3 °C margin
    assert 1700 < array.arr.poa_kwh_m2 < 2400  # Uberlândia, tilted at the latitude
    assert array.fit.area_m2 is None


def test_weather_with_faces_takes_the_first_face_and_sums_their_areas(run):
    faces = [RoofFace(tilt_deg=15, azimuth_deg=90, area_m2=20), RoofFace(tilt_deg=15, azimuth_deg=270, area_m2=10)]
    inputs = stages.site_stage(request(roof=RoofInput(faces=faces)))
    array = stages.weather_stage(inputs, run.array.weather)  # the same year, given as if uploaded
    assert (array.tilt_deg, array.azimuth_deg) == (15, 90) and array.uploaded
    assert array.fit.area_m2 == 30 and [f.share for f in array.arr.faces] == pytest.approx([2 / 3, 1 / 3])
    assert array.min_temp_c == array.weather.design_min_temp_c  # a file's own minimum, no margin
    # east + west at 15° collect less than one face tilted to the north at the latitude
    assert array.arr.poa_kwh_m2 < run.array.arr.poa_kwh_m2


# --- target ----------------------------------------------------------------------------------

def test_target_is_the_compensable_consumption(run):
    assert run.target.availability_kwh_per_month == 100  # three-phase
    assert run.target.target_kwh == pytest.approx((650 - 100) * 12)
    assert run.target.annual_consumption_kwh == pytest.approx(650 * 12)


def test_target_refuses_a_consumption_below_the_minimum_bill_only_when_sizing_to_it(run):
    low = stages.site_stage(request(consumption=ConsumptionInput(monthly_kwh=80)))
    with pytest.raises(InvalidInput, match="custo de disponibilidade"):
        stages.target_stage(low, run.array)
    fixed = stages.site_stage(request(consumption=ConsumptionInput(monthly_kwh=80), system_kwp=3))
    assert stages.target_stage(fixed, run.array).target_kwh == 0


# --- stock -----------------------------------------------------------------------------------

def test_stock_keeps_inverters_of_the_connection_and_lists_the_skipped(run):
    # a three-phase service takes three-phase inverters and single-phase 220 V ones
    assert {i.product.manufacturer for i in run.stock.inverters_phase} == {"ABB", "Fronius", "Growatt"}
    assert [s.product_id for s in run.stock.skipped] == ["sem-specs"]
    single = stages.stock_stage(stages.site_stage(request(connection=Phase.SINGLE)), stock())
    assert [i.product.manufacturer for i in single.inverters_phase] == ["ABB"]


def test_stock_honours_a_chosen_module_and_refuses_an_unknown_one():
    chosen = stages.stock_stage(stages.site_stage(request(
        preferences=Preferences(module_id="Canadian_Solar_Inc__CS3W_400P"))), stock())
    assert [m.product.id for m in chosen.modules] == ["Canadian_Solar_Inc__CS3W_400P"] and chosen.pinned
    with pytest.raises(InvalidInput, match="Módulo 'nada'"):
        stages.stock_stage(stages.site_stage(request(preferences=Preferences(module_id="nada"))), stock())


# --- candidates ------------------------------------------------------------------------------

def test_candidates_are_simulated_layouts_whose_energy_is_their_hourly_sum(run):
    pool = run.pool
    assert len(pool.candidates) >= 4 and pool.kit_candidates == []
    for c in pool.candidates:
        assert c.annual_kwh == pytest.approx(c.ac_w.sum() / 1000)
        assert c.layout.n_modules * c.module.pmax_w <= 1.30 * c.layout.inverter_count * c.inverter.ac_power_w + 1e-6
    assert pool.keep == pytest.approx(1 - pool.losses.total_pct / 100)


def test_candidates_respect_the_roof_area(run):
    inputs = stages.site_stage(request(roof=RoofInput(area_m2=15)))
    array = stages.weather_stage(inputs, run.array.weather)
    pool = stages.candidates_stage(inputs, array, run.target, stages.stock_stage(inputs, stock()))
    assert pool.roof_limited_any
    assert all(c.layout.n_modules * array.fit.module_area(c.module.pmax_w, c.module.area_m2, c.module.product.name,
                                                          None)[0] <= 15 + 1e-9 for c in pool.candidates)


# --- score -----------------------------------------------------------------------------------

def _fake(capex: float, kwh: float, inverter: str, module: str = "M", kwp: float = 5.0):
    product = lambda brand: SimpleNamespace(manufacturer=brand, id=f"{brand}-id")  # noqa: E731
    return SimpleNamespace(capex_brl=capex, annual_kwh=kwh, dc_kwp=kwp,
                           inverter=SimpleNamespace(product=product(inverter)),
                           module=SimpleNamespace(product=product(module)))


def test_score_ranks_the_cheapest_design_that_meets_the_target_first_then_another_brand(run):
    pool = stages.Pool([_fake(30_000, 7_000, "A"), _fake(20_000, 6_700, "A"), _fake(25_000, 6_800, "B"),
                        _fake(10_000, 3_000, "C")], [], run.pool.losses, run.pool.keep)
    target = stages.Target(100, 7_800, 6_600)
    ranked = stages.score_stage(run.inputs, target, pool)
    assert [(c.capex_brl, c.inverter.product.manufacturer) for c in ranked.chosen] == [
        (20_000, "A"), (25_000, "B"), (10_000, "C")]  # the short design comes last, for its brand
    assert ranked.chosen_kits == []


def test_score_filters_by_budget_and_says_the_cheapest_in_reais(run):
    pool = stages.Pool([_fake(30_000, 7_000, "A"), _fake(20_000, 6_700, "B")], [], run.pool.losses, run.pool.keep)
    target = stages.Target(100, 7_800, 6_600)
    budget = replace(run.inputs, request=request(preferences=Preferences(budget_brl=25_000)))
    assert [c.capex_brl for c in stages.score_stage(budget, target, pool).chosen] == [20_000]
    tight = replace(run.inputs, request=request(preferences=Preferences(budget_brl=1_000)))
    with pytest.raises(InvalidInput, match=r"orçamento de R\$ 1\.000,00") as exc:
        stages.score_stage(tight, target, pool)
    assert "R$ 20.000,00" in exc.value.hint


def test_fixed_size_scores_the_size_asked_before_the_price(run):
    pool = stages.Pool([_fake(10_000, 5_000, "A", kwp=4.0), _fake(15_000, 9_000, "B", kwp=8.1)], [],
                       run.pool.losses, run.pool.keep)
    fixed = replace(run.inputs, request=request(system_kwp=8.0))
    assert stages.score_stage(fixed, run.target, pool).chosen[0].dc_kwp == 8.1


# --- economics and results -------------------------------------------------------------------

def test_economics_prices_every_chosen_design(run):
    designs = run.priced.designs
    assert len(designs) == len(run.ranked.chosen) + len(run.ranked.chosen_kits)
    assert designs[0].label.startswith("melhor projeto")
    for d in designs:
        assert d.economics.capex_brl > 0 and d.energy.p90_annual_kwh < d.energy.p50_annual_kwh
    assert run.priced.sigma_pct > run.array.weather.ghi_uncertainty_pct


def test_results_put_the_best_design_first_with_its_assumptions(run):
    r = results_stage(run.inputs, run.array, run.target, run.stock, run.pool, run.ranked, run.priced)
    assert r.best == run.priced.designs[0] and r.alternatives == run.priced.designs[1:]
    assert r.generation_class == "microgeracao" and r.mode == "target"
    assert r.consumption.target_annual_kwh == pytest.approx(6600)
    assert any(a.startswith("Meta: 100 %") for a in r.assumptions)
    assert r.usable_inverters == 3 and r.skipped_products[0].product_id == "sem-specs"


def test_a_stage_can_be_replaced_on_its_own(run):
    """A score that shows the dearest design first: only the ranking changes."""
    def dearest_first(inputs, target, pool):
        ranked = sorted(pool.candidates, key=lambda c: -c.capex_brl)
        return stages.Ranked(ranked[:3], [])

    r = size_system(request(), stock(), stages=replace(DEFAULT_STAGES, score=dearest_first))
    assert r.best.economics.capex_brl == pytest.approx(max(c.capex_brl for c in run.pool.candidates), abs=0.01)
    assert r.consumption.target_annual_kwh == pytest.approx(run.target.target_kwh)


def test_assumptions_write_numbers_the_brazilian_way(run):
    """Decimal comma and thousands dot in every engine line (the one text module, Babel pt_BR)."""
    r = results_stage(run.inputs, run.array, run.target, run.stock, run.pool, run.ranked, run.priced)
    text = "\n".join(r.assumptions)
    # a dot between digits is only ever a thousands mark ("6.600", "Lei 14.300"), never a decimal point
    assert not re.findall(r"\d\.(?!\d{3}(?!\d))\d", text), text
    assert "= 6.600 kWh/ano." in text  # (650 − 100) × 12, three-phase availability
    assert "Isc × 1,25." in text and "célula quente para Vmp: 70 °C" in text
    assert re.search(r"incerteza 1σ da irradiação anual \d+,\d %\.", text)
    assert re.search(r"Temperatura mínima de projeto \(Voc\): -?\d+,\d °C", text)
    # PVWatts' default losses without shading: 1 − 0,98·0,98·0,98·0,995·0,985·0,99·0,97 = 11,42 %
    assert ("sujeira 2 %, sombreamento 0 %, neve 0 %, descasamento 2 %, cabos 2 %, conexões 0,5 %, degradação "
            "inicial (LID) 1,5 %, tolerância de placa 1 %, envelhecimento 0 %, indisponibilidade 3 %; total 11,42 %"
            ) in text
    assert "cobertura: telhado cerâmico" in text
    assert re.search(r"TE\+TUSD R\$ \d,\d{4}/kWh, Fio B R\$ \d,\d{4}/kWh", text)
    assert re.search(r"ICMS \d+,\d % \+ PIS/COFINS \d+,\d %", text)
    assert re.fullmatch(r"P50 × \(1 − 1,282 × \d+,\d %\).*", r.best.energy.p90_method)
