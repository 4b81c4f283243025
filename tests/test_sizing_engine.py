"""End-to-end sizing on products built from pvlib's CEC database (real models, real params).

Prices, stock flags and phases are set by the test (the CEC list has none of them);
electrical values come from the CEC rows unchanged.
"""

from __future__ import annotations

import json
import re
import time
from functools import cache

import pytest
import pvlib

from app.catalog.models import Category, InverterSpecs, InverterType, ModuleSpecs, Phase, Product
from app.core.errors import InvalidInput
from app.sizing.engine import size_system
from app.sizing.models import ConsumptionInput, Preferences, RoofInput, SiteInput, SizingRequest


@cache
def _cec():
    return pvlib.pvsystem.retrieve_sam("CECMod"), pvlib.pvsystem.retrieve_sam("cecinverter")


def cec_module(name: str, price_brl: float, manufacturer: str) -> Product:
    row = _cec()[0][name]
    cec = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    return Product(id=name, category=Category.MODULE, name=name, manufacturer=manufacturer,
                   power_w=float(row["STC"]), price_brl=price_brl, in_stock=True,
                   module=ModuleSpecs(pmax_w=float(row["STC"]), cec=cec))


def cec_inverter(name: str, price_brl: float, manufacturer: str, phase: Phase) -> Product:
    row = _cec()[1][name]
    cec = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    return Product(id=name, category=Category.INVERTER, name=name, manufacturer=manufacturer,
                   power_w=float(row["Paco"]), phase=phase, price_brl=price_brl, in_stock=True,
                   inverter=InverterSpecs(inverter_type=InverterType.GRID_TIE, phase=phase, cec=cec))


@cache
def stock() -> tuple[Product, ...]:
    return (
        cec_module("Canadian_Solar_Inc__CS3W_400P", 700.0, "Canadian Solar"),
        cec_module("Jinko_Solar_Co___Ltd_JKM400M_72HL", 720.0, "Jinko"),
        cec_inverter("Fronius_International_GmbH__Fronius_Symo_10_0_3_480__480V_", 14000.0, "Fronius", Phase.THREE),
        cec_inverter("ABB__PVI_6000_OUTD_US__240V_", 7000.0, "ABB", Phase.SINGLE),
        cec_inverter("Shenzhen_Growatt_New_Energy_Technology_Co___Ltd__Growatt_10000_TL3_US__240V_", 9000.0,
                     "Growatt", Phase.THREE),
        # incomplete: no specs at all -> must be listed as skipped
        Product(id="sem-specs", category=Category.INVERTER, name="Inversor sem specs", price_brl=3000.0,
                in_stock=True),
    )


def request(**kw) -> SizingRequest:
    base = dict(site=SiteInput(municipality="Uberlândia", uf="MG"), consumption=ConsumptionInput(monthly_kwh=650),
                connection=Phase.THREE)
    base.update(kw)
    return SizingRequest(**base)


def test_uberlandia_650_three_phase_meets_target():
    r = size_system(request(), stock())
    best = r.best
    assert r.site.ibge_code == 3170206
    assert r.consumption.target_annual_kwh == pytest.approx((650 - 100) * 12)
    assert best.energy.annual_kwh >= 0.97 * r.consumption.target_annual_kwh
    # Uberlândia: specific yield of a well-oriented system is ~1,400–1,650 kWh/kWp
    assert 1300 < best.energy.specific_yield_kwh_per_kwp < 1750
    assert 70 < best.energy.performance_ratio_pct < 90
    assert best.energy.p90_annual_kwh < best.energy.p50_annual_kwh
    assert best.strings.voc_cold_string_v <= best.strings.max_dc_voltage_v
    assert best.strings.vmp_hot_string_v >= best.strings.mppt_min_v
    assert best.economics.capex_brl > 0 and best.economics.simple_payback_years is not None
    assert any(s.product_id == "sem-specs" for s in r.skipped_products)
    assert len(r.alternatives) >= 1


def test_request_json_is_deterministic_and_hashable():
    a, b = request(), request()
    assert a.model_dump_json() == b.model_dump_json()
    assert hash(a) == hash(b)
    json.loads(a.model_dump_json())


@pytest.mark.parametrize("kw, match", [
    (dict(consumption=ConsumptionInput(monthly_kwh=0)), "maior que zero"),
    (dict(consumption=ConsumptionInput(monthly_kwh=-5)), "maior que zero"),
    (dict(site=SiteInput(lat=38.7, lon=-9.1)), "fora do Brasil"),
    (dict(site=SiteInput(lat=-25.3, lon=-57.6)), "fora do Brasil"),  # Asunción
    (dict(site=SiteInput(municipality="Santa Maria")), "ambíguo"),
    (dict(roof=RoofInput(area_m2=3.0)), "Telhado pequeno"),
    (dict(preferences=Preferences(budget_brl=1000.0)), "orçamento"),
    (dict(preferences=Preferences(inverter_id="sem-specs")), "faltam specs"),
])
def test_invalid_inputs_are_422_with_hint(kw, match):
    with pytest.raises(InvalidInput, match=match) as exc:
        size_system(request(**kw), stock())
    assert exc.value.status == 422 and exc.value.hint


def test_budget_error_writes_reais_as_a_brazilian_reads_them():
    with pytest.raises(InvalidInput, match=r"orçamento de R\$ 1\.234,50\.") as exc:
        size_system(request(preferences=Preferences(budget_brl=1234.5)), stock())
    cheapest = re.search(r"menor investimento encontrado é R\$ (\S+);", exc.value.hint).group(1)
    assert re.fullmatch(r"\d{1,3}(\.\d{3})+,\d{2}", cheapest)  # tens of thousands: "19.621,71", not "19,621.71"


def test_ambiguous_name_lists_candidates():
    with pytest.raises(InvalidInput) as exc:
        size_system(request(site=SiteInput(municipality="santa maria")), stock())
    assert "Santa Maria/RS" in exc.value.hint


def test_single_phase_connection_uses_single_phase_inverter():
    r = size_system(request(connection=Phase.SINGLE, consumption=ConsumptionInput(monthly_kwh=400)), stock())
    assert r.best.inverter.product_id.startswith("ABB")


def test_no_usable_inverter_says_which_were_skipped():
    mods = [p for p in stock() if p.category == Category.MODULE] + [stock()[-1]]
    with pytest.raises(InvalidInput, match="Nenhum inversor") as exc:
        size_system(request(), mods)
    assert "Inversor sem specs" in exc.value.hint


def test_full_sizing_is_fast_when_site_is_warm():
    size_system(request(), stock())
    t0 = time.perf_counter()
    for _ in range(3):
        size_system(request(), stock())
    assert (time.perf_counter() - t0) / 3 < 1.0  # generous bound for shared CI cores
