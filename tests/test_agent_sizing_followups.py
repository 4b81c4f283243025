"""What buyers type around a sizing (stop 24, probesize): bare-number follow-ups and corrections,
month-labelled histories, a budget said after the number, misspelt or everyday-word city names,
and "quero um orçamento" before anything is sized. Fast tier: the shipped intent model and the
engine-shaped fake."""

from __future__ import annotations

import pytest

from app.agent import extractors
from app.agent.parsing import parse_message
from test_agent_support import FakeSizing, default_assistant, run_turn


def test_a_bare_number_replaces_the_quantity_the_conversation_holds():
    sizing = FakeSizing()
    a = default_assistant(sizing)
    run_turn(a, "f1", "cliente em poa gasta 450kwh bifasico")
    run_turn(a, "f1", "e se fosse 640?")
    assert sizing.calls[-1]["monthly_kwh"] == 640 and sizing.calls[-1]["municipality"] == "Porto Alegre"
    run_turn(a, "f1", "e em recife?")  # the new consumption stays with the new city
    assert (sizing.calls[-1]["monthly_kwh"], sizing.calls[-1]["municipality"]) == (640, "Recife")

    run_turn(a, "f2", "conta de 760 conto, cliente em bsb, mono")
    run_turn(a, "f2", "na verdade é 870")
    assert sizing.calls[-1]["bill_brl"] == 870 and "monthly_kwh" not in sizing.calls[-1]
    run_turn(a, "f2", "e o consumo na real é 510")  # the word says which quantity
    assert sizing.calls[-1]["monthly_kwh"] == 510 and "bill_brl" not in sizing.calls[-1]


def test_money_the_client_has_is_a_budget_not_a_consumption():
    sizing = FakeSizing()
    a = default_assistant(sizing)
    run_turn(a, "f5", "cliente em londrina, 820 kwh, tri")
    run_turn(a, "f5", "o cliente so tem 30 mil")
    assert sizing.calls[-1]["monthly_kwh"] == 820 and sizing.calls[-1]["budget_brl"] == 30_000
    assert extractors.budget_brl("ele tem uma conta de 500 reais") is None


def test_a_voltage_or_a_term_is_not_a_new_consumption():
    sizing = FakeSizing()
    a = default_assistant(sizing)
    run_turn(a, "f3", "1.250 kWh/mês")
    run_turn(a, "f3", "itajai sc")
    reply = run_turn(a, "f3", "220 bifasico")
    assert sizing.calls[-1]["monthly_kwh"] == 1250 and sizing.calls[-1]["connection"] == "two_phase"
    assert reply["awaiting"] == []
    for text in ("e em 60x?", "e com 150 m2 de area livre?", "inclinacao de 20 graus"):
        assert extractors.bare_quantity(text) is None


def test_quero_um_orcamento_with_nothing_sized_starts_the_sizing_questions():
    a = default_assistant(FakeSizing())
    reply = run_turn(a, "f4", "quero um orçamento de energia solar")
    assert reply["intent"] == "size_pv_system"
    assert reply["awaiting"] == ["consumption", "site", "connection"]
    assert "equipe comercial" not in reply["message"]


def test_simulating_a_size_in_kw_is_a_generation_not_an_inverter_search():
    sizing = FakeSizing()
    a = default_assistant(sizing)
    reply = run_turn(a, "f6", "simula um de 10 kw em goiania")
    assert reply["intent"] == "size_pv_system"
    assert sizing.calls[-1]["system_kwp"] == 10 and sizing.calls[-1]["municipality"] == "Goiânia"
    reply = run_turn(a, "f6", "tem inversor de 10 kw?")  # a power without a generation verb stays a search
    assert reply["intent"] == "find_products"


def test_a_history_labelled_by_month_is_twelve_values_in_calendar_order(places):
    text = "historico: fev 480 jan 520 mar 510 abr 470 mai 430 jun 400 jul 390 ago 410 set 450 out 490 nov 500 dez 530"
    parsed = parse_message(text + " - uberlandia, tri", places)
    assert parsed.monthly_kwh_list == [520, 480, 510, 470, 430, 400, 390, 410, 450, 490, 500, 530]
    assert parsed.monthly_kwh is None and parsed.municipality == "Uberlândia"
    assert extractors.monthly_history("jan 520 fev 480 mar 510") is None  # three months are no history


def test_the_length_of_the_period_is_not_one_of_the_twelve_values(places):
    parsed = parse_message("consumo dos ultimos 12 meses: 410, 395, 380, 420, 450, 470, 500, 480, 460, 430, 415, 400 "
                           "em curitiba, bifasico", places)
    assert parsed.monthly_kwh_list == [410, 395, 380, 420, 450, 470, 500, 480, 460, 430, 415, 400]


@pytest.mark.parametrize(("text", "kwh"), [
    ("consumo de 450 kw/h por mes, cliente em limeira, bifasico", 450),
    ("cliente usa 900kw por mes em petropolis, tri", 900),
    ("1,5k kwh/mes em sinop mt trifasico", 1500),
    ("gasta uns seiscentos kwh, casa em taubate, mono", 600),
    ("dois mil e quinhentos kWh por mês em Sorocaba", 2500),
])
def test_energy_written_as_people_do_is_a_consumption_and_sized(text, kwh, places):
    assert parse_message(text, places).monthly_kwh == kwh
    sizing = FakeSizing()
    reply = run_turn(default_assistant(sizing), "f7", text)
    assert reply["intent"] == "size_pv_system"  # not an inverter search for "450 kW"


def test_spelled_numbers_only_before_a_unit():
    assert parse_message("conta de mil reais, cliente em aracatuba, trifasico", None).bill_brl == 1000
    assert extractors.spelled_numbers("um sistema pra uma casa") == "um sistema pra uma casa"
    assert extractors.spelled_numbers("uns 2 mil kwh") == "uns 2 mil kwh"
    assert extractors.kwh_figures("inversor de 5 kw", "pt") == []


@pytest.mark.parametrize(("text", "phase"), [("3 fases", "three_phase"), ("tres fases", "three_phase"),
                                             ("ligacao de 2 fases", "two_phase"), ("uma fase so", "single_phase"),
                                             ("uma fase de testes", None)])
def test_phases_counted_in_words(text, phase):
    assert parse_message(text, None).connection == phase


def test_a_budget_said_after_the_number():
    assert extractors.budget_brl("cliente tem 25 mil de orcamento, consome 800 kwh") == 25_000
    assert extractors.budget_brl("R$ 40.000 de verba") == 40_000
    assert extractors.budget_brl("800 kwh de consumo") is None


@pytest.mark.parametrize(("text", "city", "uf"), [
    ("cliente em riberao preto consumo 380kwh monofasico", "Ribeirão Preto", "SP"),
    ("cliente em sorocba, 900 kwh", "Sorocaba", "SP"),
    ("simula 5,5 kwp em natal", "Natal", "RN"),
    ("e em vitoria?", "Vitória", "ES"),
])
def test_a_misspelt_name_or_a_capital_that_is_a_word_after_em(text, city, uf, places):
    found = places.find(text)
    assert found is not None and (found.municipality, found.uf) == (city, uf)


def test_an_everyday_word_after_em_is_the_namesake_in_the_conversations_state(places):
    assert (places.find("e se fosse em bonito?", "MS").municipality, places.find("e se fosse em bonito?", "MS").uf) == (
        "Bonito", "MS")
    assert places.find("e se fosse em bonito?") is None  # no state in the conversation: not guessed
    assert places.find("e se fosse em laje?", "BA") is None  # a roof word stays a roof


@pytest.mark.parametrize("text", ["no natal a conta sobe", "consumo em media 500 kwh", "instalar em casa",
                                  "entrega em janeiro", "instalado em telhado ceramico"])
def test_no_place_is_guessed_from_ordinary_words(text, places):
    assert places.find(text) is None


@pytest.mark.parametrize("text", ["quanto ta o dolar hoje?", "me passa a cotação do euro", "what is the exchange rate?"])
def test_money_markets_are_off_topic_not_a_quote_or_a_search(text):
    reply = run_turn(default_assistant(FakeSizing()), "mk", text)
    assert reply["intent"] == "off_topic" and not [t for t in reply["tools"] if t["event"] == "tool_call"]


def test_a_quote_of_a_kit_is_still_a_quote_request():
    reply = run_turn(default_assistant(FakeSizing()), "mk2", "me manda a cotação do kit de 5 kwp")
    assert reply["intent"] != "off_topic"
