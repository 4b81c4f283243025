"""Issue #17, the arguments: the turns quoted in the issue, on the real catalog, places and
sizing engine — the right place, tool, arguments and answer.

The fast tests read single messages with the real municipality list; the ``slow`` ones run
whole turns through the assistant over the ingested catalog export and the real engine
(no model: rules and extractors only, as the embedded default without an LLM).
"""

from __future__ import annotations

import pytest

from app.agent.extractors import MAX_MONTHLY_KWH, distributor, distributor_for_uf
from app.agent.parsing import parse_client, parse_company, parse_message, product_filters
from app.agent.ports import EngineSizing
from app.catalog.models import ProductQuery
from app.catalog.store import SQLiteCatalogStore
from app.core.text import format_brl
from app.sizing import models as sizing_models
from test_agent_support import make_assistant, run_turn


# -- reading one message (real municipality list) ------------------------------------------

@pytest.mark.parametrize(("text", "city", "uf"), [
    ("tenho 45 m² de laje em Salvador e gasto 700 kWh, trifásico", "Salvador", "BA"),
    ("telhado de laje em salvador, 720 kwh", "Salvador", "BA"),
    ("Laje de concreto em Salvador", "Salvador", "BA"),
    ("casa com telha colonial em aracaju", "Aracaju", "SE"),
    ("pousada em Bonito MS", "Bonito", "MS"),
    ("casa em estrela rs, 330kwh", "Estrela", "RS"),
    ("cliente da solar bh em contagem", "Contagem", "MG"),
    ("é em franca, não ribeirão preto", "Franca", "SP"),
    ("Quanto gera um sistema de 8 kWp em Campo Grande MS?", "Campo Grande", "MS"),
])
def test_a_named_city_wins_over_a_homonym_word(text, city, uf, places):
    parsed = parse_message(text, places)
    assert (parsed.municipality, parsed.uf) == (city, uf)


def test_homonym_words_alone_are_no_place_and_a_name_in_several_states_asks(places):
    assert parse_message("qual painel vai nesse kit?", places).municipality is None
    assert parse_message("telhado de laje, 500 kWh", places).municipality is None
    bonito = parse_message("cliente em Bonito, 400 kWh", places)
    assert bonito.uf is None and {"MS", "PE", "BA", "PA"} <= set(bonito.ambiguous_ufs)


def test_kwh_of_a_battery_is_a_capacity_and_of_a_month_a_consumption(places):
    battery = parse_message("quais baterias de lítio de 5 kWh vocês vendem?", places)
    assert battery.battery_kwh == 5.0 and battery.monthly_kwh is None
    both = parse_message("sistema com bateria, consumo de 500 kWh", places)
    assert both.monthly_kwh == 500.0 and both.battery_kwh is None
    assert parse_message("consumo medio 2,1 mil kwh", places).monthly_kwh == pytest.approx(2100)
    assert parse_message("um sistema de 8 kWp", places).system_kwp == 8.0


@pytest.mark.parametrize("text", ["1e308 kWh em Campinas SP, mono", "consumo de 99.999.999.999 kWh, Recife, tri"])
def test_out_of_range_consumption_is_questioned_not_reread(text, places):
    parsed = parse_message(text, places)
    assert parsed.monthly_kwh is None and parsed.doubts and parsed.doubts[0].slot == "consumption"
    assert "308" not in str(parsed.slots())  # "1e308" is not 308 kWh


def test_the_plausibility_limit_is_the_engines():
    assert MAX_MONTHLY_KWH == sizing_models.MAX_MONTHLY_KWH


def test_sizing_options_are_read(places):
    p = parse_message("galpão em Sorocaba, 5.400 kWh, telhado metálico com 400 m² livres", places)
    assert (p.roof_type, p.roof_area_m2, p.monthly_kwh) == ("metal", 400.0, 5400.0)
    p = parse_message("tenho 30 mil pra investir e quero cobrir 80 % da conta, sou da Cemig", places)
    assert (p.budget_brl, p.target_offset_pct, p.distributor) == (30000.0, 80.0, "Cemig-D")
    assert p.bill_brl is None  # a budget, not a bill
    assert distributor("minha distribuidora é a Coelba") == "Neoenergia Coelba"
    assert distributor_for_uf("Enel", "CE") == "Enel CE"
    p = parse_message("telhado voltado para o leste, inclinação de 15°, 10% de sombreamento", places)
    assert (p.azimuth_deg, p.tilt_deg, p.shading_pct) == (90.0, 15.0, 10.0)
    for word, roof in (("fibrocimento", "fiber_cement"), ("telha cerâmica", "ceramic"), ("no solo", "ground")):
        assert parse_message(f"instalação {word}", places).roof_type == roof


def test_product_codes_prices_and_battery_filters(places):
    def filters(text):
        return product_filters(text, parse_message(text, places))

    assert filters("Preço do Deye SUN 12K?") == {"manufacturer": "deye", "category": "inverter",
                                                  "min_power_w": 12000.0, "max_power_w": 12000.0}
    assert filters("bateria de litio 15 kWh de 48v")["capacity_kwh"] == 15.0
    assert filters("bateria de litio 15 kWh de 48v")["voltage_v"] == 48.0
    assert filters("inversor até R$ 5 mil em estoque") == {"category": "inverter", "max_price_brl": 5000.0,
                                                           "in_stock": True}
    assert filters("inversor monofásico até 5 kW") == {"category": "inverter", "max_power_w": 5000.0,
                                                       "phase": "single_phase"}  # kW is power, not price


def test_a_client_is_a_name_or_a_cnpj_never_words_of_the_message():
    assert parse_client("gera uma cotação desse kit pro cliente") is None
    assert parse_company("gera uma cotação desse kit pro cliente") is None
    assert parse_client("cria um orçamento desse sistema") is None
    assert parse_client("orçamento pra Solar Triângulo em 48 meses") == "Solar Triângulo"
    assert parse_client("CNPJ 12.345.678/0001-90") == "12345678000190"


# -- whole turns: real catalog export, real engine, real places -----------------------------

@pytest.fixture(scope="module")
def store(real_catalog, tmp_path_factory) -> SQLiteCatalogStore:
    return SQLiteCatalogStore(real_catalog.copy(tmp_path_factory.mktemp("real-catalog-arguments")))


@pytest.fixture(scope="module")
def assistant(store):
    return make_assistant(catalog=store, sizing=EngineSizing(store))


def calls(reply: dict, name: str) -> list[dict]:
    return [t["arguments"] for t in reply["tools"] if t["event"] == "tool_call" and t["name"] == name]


@pytest.mark.slow
def test_laje_in_salvador_sizes_salvador_on_a_slab_within_the_area(assistant):
    reply = run_turn(assistant, "a1", "tenho 45 m² de laje em Salvador e gasto 700 kWh, trifásico")
    (args,) = calls(reply, "size_pv_system")
    assert (args["municipality"], args["uf"], args["roof_type"], args["roof_area_m2"]) == ("Salvador", "BA", "slab", 45)
    assert args["monthly_kwh"] == 700 and args["connection"] == "three_phase"
    assert "Salvador/BA" in reply["message"] and "Laje/BA" not in reply["message"]
    assert "telhado laje" in reply["message"] and "45 m²" in reply["message"]  # what the user gave is said
    result = next(c for c in reply["cards"] if c["type"] == "sizing")["data"]["result"]
    assert result["best"]["roof_area_used_m2"] <= 45


@pytest.mark.slow
def test_a_bill_sizes_with_the_distributors_tariff(assistant):
    reply = run_turn(assistant, "a2", "conta de luz de R$ 620,00 por mês em Teresina, trifásico")
    (args,) = calls(reply, "size_pv_system")
    assert args["bill_brl"] == 620 and "tariff_brl_per_kwh" not in args
    assert (args["municipality"], args["uf"]) == ("Teresina", "PI")
    assert reply["awaiting"] == [] and "kWp" in reply["message"] and "Equatorial PI" in reply["message"]
    named = run_turn(assistant, "a2b", "cliente em Uberlândia MG, conta de R$ 500, bifásico, sou da Cemig")
    (args,) = calls(named, "size_pv_system")
    assert args["distributor"] == "Cemig-D" and "Cemig-D" in named["message"]


@pytest.mark.slow
def test_battery_capacity_is_a_catalog_search(assistant, store):
    reply = run_turn(assistant, "a3", "quais baterias de lítio de 5 kWh vocês vendem?")
    assert not calls(reply, "size_pv_system")
    (args,) = calls(reply, "find_products")
    assert args["category"] == "battery" and args["capacity_kwh"] == 5
    expected = store.search(ProductQuery(category="battery", min_capacity_kwh=4.5, max_capacity_kwh=5.5)).items
    assert expected and all(p.name in reply["message"] for p in expected[:5])
    assert "consumo" not in reply["message"]


@pytest.mark.slow
def test_a_model_code_and_price_question_is_answered_with_the_catalog_price(assistant, store):
    reply = run_turn(assistant, "a4", "Preço do Deye SUN 12K?")
    (args,) = calls(reply, "find_products")
    assert (args["manufacturer"], args["category"], args["min_power_w"], args["max_power_w"]) == (
        "deye", "inverter", 12000, 12000)
    found = store.search(ProductQuery(category="inverter", manufacturer="deye", min_power_w=12000,
                                      max_power_w=12000)).items
    assert found and format_brl(found[0].price_brl) in reply["message"]


@pytest.mark.slow
def test_how_much_does_8_kwp_generate_is_a_fixed_size_simulation(assistant):
    reply = run_turn(assistant, "a5", "Quanto gera um sistema de 8 kWp em Campo Grande MS?")
    (args,) = calls(reply, "size_pv_system")
    assert args["system_kwp"] == 8 and (args["municipality"], args["uf"]) == ("Campo Grande", "MS")
    result = next(c for c in reply["cards"] if c["type"] == "sizing")["data"]["result"]
    assert result["mode"] == "fixed_size" and abs(result["best"]["dc_kwp"] - 8) <= 0.8
    assert "por ano" in reply["message"] and "trifásica" in reply["message"]  # the assumed phase is said
    assert "consumo não informado" in reply["message"]


@pytest.mark.slow
def test_roof_and_area_of_a_shed_are_passed_and_said(assistant):
    reply = run_turn(assistant, "a6", "galpão em Sorocaba, 5.400 kWh, telhado metálico com 400 m² livres, trifásico")
    (args,) = calls(reply, "size_pv_system")
    assert (args["roof_type"], args["roof_area_m2"], args["monthly_kwh"]) == ("metal", 400, 5400)
    assert "telhado metálico" in reply["message"] and "400 m²" in reply["message"]


@pytest.mark.slow
@pytest.mark.parametrize("text", ["1e308 kWh em Campinas SP, mono", "consumo de 99.999.999.999 kWh, Recife, tri"])
def test_out_of_range_consumption_is_asked_about(assistant, text):
    reply = run_turn(assistant, "a7-" + text[:4], text)
    assert not calls(reply, "size_pv_system") and reply["awaiting"][0] == "consumption"
    raw = "1e308 kWh" if text.startswith("1e308") else "99.999.999.999 kWh"
    assert f"“{raw}”" in reply["message"] and "308 kWh/mês" not in reply["message"]


@pytest.mark.slow  # the real engine: a pvlib year per retry
def test_an_option_the_engine_cannot_honour_is_dropped_and_said():
    # Small hand-built catalog (as the engine's own tests): kits from R$ 4.000 + installation.
    from test_sizing_design_modes import catalog

    a = make_assistant(sizing=EngineSizing(catalog()))
    reply = run_turn(a, "o1", "tenho R$ 3 mil, cliente em Salvador BA, 500 kWh, monofásico, sou da Enel")
    sized = calls(reply, "size_pv_system")
    assert sized[0]["budget_brl"] == 3000 and sized[0]["distributor"] == "Enel"
    assert "budget_brl" not in sized[-1] and "distributor" not in sized[-1]  # retried without them
    assert "kWp" in reply["message"]
    assert "nenhum projeto cabe no orçamento de R$ 3.000,00" in reply["message"]
    assert "não reconheci a distribuidora “Enel”" in reply["message"]
