"""Pure parsers of the catalog export, on text taken from real rows of data/catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.catalog.models import Category, InverterType, Phase, RoofType
from ingest.catalog.classify import classify, inverter_type, roof_type
from ingest.catalog.listings import build_listing
from ingest.catalog.prices import parse_brl_price, resolve_row_price
from ingest.catalog.source import RawRow
from ingest.catalog.specs import (
    parse_battery_kwh,
    parse_module_efficiency_pct,
    parse_module_technology,
    parse_mppt_count,
    parse_phase,
    parse_power_w,
    parse_voltages_v,
    plausible_efficiency_pct,
)
from ingest.catalog.text import derive_name

DATA = Path(__file__).resolve().parents[1] / "data" / "catalog"


def rows_by_id(file: str, upstream_id: str) -> list[RawRow]:
    data = json.loads((DATA / file).read_text(encoding="utf-8"))
    return [RawRow(file, i, r) for i, r in enumerate(data) if r.get("id") == upstream_id]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R$ 1.194,00", 1194.0),
        ("R$\u00a01.194", 1194.0),  # thousands dot, no cents
        ("R$ 6716,83", 6716.83),
        ("R$ 16,00", 16.0),
        ("911.78", 911.78),  # plain decimal (FORTLEV)
        (2507.99, 2507.99),
        ("", None),
        (None, None),
        ("MODULO FOTOVOLTAICO 585W", None),
    ],
)
def test_parse_brl_price(text, expected):
    assert parse_brl_price(text) == expected


def test_cents_block_is_not_taken_for_the_price():
    # Real FORTLEV row: price "911.78", pricing.price 91178 (cents). An RSD at R$ 91 178 is absurd.
    row = rows_by_id("others_unified.json", "FORTLEV-NEP-PVG-3-20A-L")[0].data
    assert row["pricing"]["price"] == 91178
    price, note = resolve_row_price(row)
    assert price == 911.78
    assert note and "centavos" in note


def test_specs_from_a_real_description():
    row = rows_by_id("inverters_unified.json", "neosolar_inverters_22916")[0].data
    assert "Potência Contínua: 2250 W" in row["description"]
    assert parse_power_w(row["description"]) == 2250.0
    assert parse_phase(row["name"]) is Phase.SINGLE


@pytest.mark.parametrize(
    ("text", "power_w", "phase", "mppt"),
    [
        ("Inversor Grid-Tie SAJ R5-10K-T2 BRL 10kW Trifásico 380V 2 MPPT", 10000.0, Phase.THREE, 2),
        ("Inversor Grid-Tie SAJ R5-8K-T2 BRL 8kW Bifásico 220V 2 MPPT", 8000.0, Phase.TWO, 2),
        ("Inversor Grid-Tie Sofar 3.3K-TL-G4 3.3kW Monofásico 220V 2 MPPT", 3300.0, Phase.SINGLE, 2),
        ("Inversor Carregador Must PV29-5048 LHP - 5000W - MPPT 80A - 48/110V", 5000.0, None, None),
        ("Cabo para Carro Elétrico NeoCharge NCT2-3F até 22kW - T2-T2 32A 3F", 22000.0, Phase.THREE, None),
    ],
)
def test_power_phase_mppt_from_names(text, power_w, phase, mppt):
    assert parse_power_w(text) == power_w
    assert parse_phase(text) is phase
    assert parse_mppt_count(text) == mppt


def test_off_grid_voltage_pair():
    assert parse_voltages_v("Inversor Off Grid Senoidal ZTROON ZT1000-11 - 1000W - 12/127V") == (12.0, 127.0)
    assert parse_voltages_v("Inversor Híbrido Growatt SPH 5000 5kW Monofásico 220V 48V 2 MPPT") == (48.0, 220.0)


def test_module_markers():
    title = "KP04 - ASTRONERGY | TIER 1 | 600W N-TYPE BIFACIAL (22,2% EF.)"
    assert parse_module_efficiency_pct(title) == 22.2
    assert parse_module_efficiency_pct("MODULO FOTOVOLTAICO 700W - HANERSUN BIFACIAL - EF.22.5% - HJT") == 22.5
    assert parse_module_technology(title) == ("n-type", True)
    assert parse_battery_kwh("BATERIA LFP LYNX F (G2) LX F3.2-20 - 3.2KWH - GOODWE") == 3.2


def test_efficiency_that_copies_the_power_is_rejected():
    row = rows_by_id("panels_unified.json", "odex_inverters_ODEX-PAINEL-ODEX-585W")[0].data
    assert row["technical_specs"]["efficiency"] == row["technical_specs"]["power_w"] == 585
    value, why = plausible_efficiency_pct(585, kind="module", power_w=585)
    assert value is None and "potência" in why
    # 5 for a 5 kW inverter: the same copy, in kW
    assert plausible_efficiency_pct(5, kind="inverter", power_w=5000)[0] is None
    assert plausible_efficiency_pct(96.5, kind="inverter", power_w=2250) == (96.5, None)
    listing = build_listing(rows_by_id("panels_unified.json", "odex_inverters_ODEX-PAINEL-ODEX-585W"))
    assert listing.product.module.efficiency_pct is None
    assert "efficiency_pct" in listing.product.missing_specs


def test_image_url_name_is_replaced_from_description():
    row = rows_by_id("cables_unified.json", "neosolar_cables_20121")[0].data
    assert row["name"].startswith("https://")
    assert derive_name(row["name"], row["description"]) == ("Conector MC4 (par) - Proauto", "description")
    # the stray opening quote of a CSV-split description is removed
    assert derive_name("https://x/y.jpg", '"Cabo Lafeber 6mm² - Vermelho 1')[0] == "Cabo Lafeber 6mm² - Vermelho 1"
    assert derive_name("https://x/y.jpg", "https://x/z.jpg") == (None, "none")


def test_name_shifted_into_the_price_column():
    listing = build_listing(rows_by_id("panels_unified.json", "solfacil_panels_4"))
    assert listing.product.name.startswith("MODULO FOTOVOLTAICO 610W - OSDA")
    assert listing.product.power_w == 610.0
    assert listing.product.module.efficiency_pct == 22.6
    assert listing.offer.price_brl is None


@pytest.mark.parametrize(
    ("name", "file", "category"),
    [
        ("String Box Clamper 2 Entradas", "inverters_unified.json", Category.STRING_BOX),
        ("Estrutura Romagnole Fibrocimento RF-55", "inverters_unified.json", Category.STRUCTURE),
        ("Painel Solar Odex 585W", "inverters_unified.json", Category.MODULE),
        ("Carregador Carro Elétrico Wallbox NeoCharge NC6000 - 22kW", "controllers_unified.json", Category.EV_CHARGER),
        ("Kit de Montagem - Estrutura de Fixação para Telha Cerâmica - Solar System", "cables_unified.json",
         Category.STRUCTURE),
        ("KIT FIXADOR MICRO INVERSOR P/ PERFIL LATERAL (C/ SUPORTE L)", "accessories_unified.json", Category.ACCESSORY),
        ("Bateria Growatt AXE 5.0L LiFePO4 5kWh", "accessories_unified.json", Category.BATTERY),
        ("GOODWE GW 3300-XS-30 - AFCI", "inverters_unified.json", Category.INVERTER),
    ],
)
def test_classify(name, file, category):
    assert classify(name, file)[0] is category


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Microinversor Deye SUN2250 G4 Monofásico 2250W - 220V", InverterType.MICRO),
        ("Inversor Híbrido On + Off Grid Deye SUN5K - 5000W - 48/220V", InverterType.HYBRID),
        ("Inversor Off Grid Senoidal ZTROON ZT600-11 - 600W - 12/127V", InverterType.OFF_GRID),
        ("Inversor Grid-Tie Chint NXI-5.0K-T2 5kW Monofásico 220V 2 MPPT", InverterType.GRID_TIE),
        ("GOODWE GW6000-ES-BR20 - AFCI", InverterType.HYBRID),
    ],
)
def test_inverter_type(name, expected):
    assert inverter_type(name)[0] is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Estrutura Solar Group Colonial Cerâmico", RoofType.CERAMIC),
        ("Estrutura Pratyc Fibrocimento Grande PRF-60", RoofType.FIBER_CEMENT),
        ("Estrutura Romagnole Metálico Trapezoidal RM-40", RoofType.METAL),
        ("ESTRUTURA METALICA - LAJE 4 MODULOS RETRADO 1134X2278", RoofType.SLAB),
        ("ESTRUTURA METALICA - SOLO MONOPOSTE LIGHT 6 MODULOS", RoofType.GROUND),
        ("Estrutura K2 Systems BaseRail Plus Universal", None),
    ],
)
def test_roof_type(name, expected):
    assert roof_type(name) is expected
