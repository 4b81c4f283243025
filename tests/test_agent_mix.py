"""Whole storefront conversations that move between tasks (stop 24, probemix): back to the
sizing after a knowledge or product turn, a lead-in before a follow-up's number, "sou de natal
rn", and turns that ask nothing ("?", "ok") in the middle of a conversation. Fast tier: the
shipped intent model and the engine-shaped fake."""

from __future__ import annotations

import pytest

from app.agent import extractors
from app.agent.parsing import parse_message
from test_agent_support import FakeSearcher, FakeSizing, LAW_HIT, default_assistant, run_turn


def test_back_to_the_sizing_after_a_knowledge_question_keeps_what_was_said():
    sizing = FakeSizing()
    a = default_assistant(sizing, FakeSearcher([LAW_HIT]))
    run_turn(a, "m1", "dimensiona 520kwh em londrina pr, tri")
    assert run_turn(a, "m1", "o que é o fio b?")["intent"] == "search_knowledge"
    n = len(sizing.calls)
    reply = run_turn(a, "m1", "voltando, e se fosse bifasico?")
    assert reply["intent"] == "size_pv_system" and len(sizing.calls) == n + 1
    last = sizing.calls[-1]
    assert (last["monthly_kwh"], last["municipality"], last["connection"]) == (520, "Londrina", "two_phase")


def test_a_lead_in_before_a_named_quantity_still_changes_it():
    assert extractors.bare_quantity("blz, voltando pro meu sistema, e se o consumo fosse 800?") == 800
    # without a word naming the quantity a long message is not a bare follow-up
    assert extractors.bare_quantity("blz, voltando pro meu sistema aqui de casa, e se fosse 800?") is None
    sizing = FakeSizing()
    a = default_assistant(sizing)
    run_turn(a, "m2", "preciso de um sistema pra 610 kwh em goiania, bifasico")
    run_turn(a, "m2", "ok, voltando pro meu sistema aqui, e se o consumo fosse 900?")
    assert sizing.calls[-1]["monthly_kwh"] == 900 and sizing.calls[-1]["municipality"] == "Goiânia"


@pytest.mark.parametrize(("text", "city", "uf"), [
    ("sou de natal rn, consumo 300kwh mono", "Natal", "RN"),
    ("sou de natal, rn", "Natal", "RN"),
    ("i'm from natal rn, 300 kWh", "Natal", "RN"),
])
def test_a_city_introduced_by_sou_de_with_its_uf(text, city, uf, places):
    parsed = parse_message(text, places)
    assert (parsed.municipality, parsed.uf) == (city, uf)


def test_an_everyday_word_after_sou_de_without_uf_is_still_not_a_city(places):
    parsed = parse_message("sou de bonito, 300 kwh", places)
    assert parsed.municipality is None


@pytest.mark.parametrize("message", ["?", "??", "..."])
def test_punctuation_alone_does_not_rerun_the_last_task(message):
    sizing = FakeSizing()
    a = default_assistant(sizing)
    run_turn(a, "m3", "450 kwh recife bifasico")
    n = len(sizing.calls)
    reply = run_turn(a, "m3", message)
    assert len(sizing.calls) == n and reply["intent"] == "greeting"
    assert "Sou o Hélio" not in reply["message"]  # not the introduction again mid-conversation


def test_ok_mid_conversation_offers_what_comes_next_not_the_introduction():
    a = default_assistant(FakeSizing())
    first = run_turn(a, "m4", "oi")
    assert "Sou o Hélio" in first["message"]
    run_turn(a, "m4", "500kwh em campinas trifasico")
    reply = run_turn(a, "m4", "ok")
    assert "Sou o Hélio" not in reply["message"] and "financiamento" in reply["message"]


@pytest.mark.parametrize(("message", "part"), [
    ("esse inversor é de que marca?", "inverter"),
    ("quem fabrica os modulos?", "module"),
    ("which brand is the inverter?", "inverter"),
    ("tem inversor de outra marca?", None),  # a catalog search
    ("qual a garantia do inversor?", None),
])
def test_asking_who_makes_a_part(message, part):
    assert extractors.asks_maker_of(message) == part


def test_the_maker_of_the_sized_inverter_is_answered_from_the_sizing_without_a_search():
    sizing = FakeSizing()
    a = default_assistant(sizing)
    run_turn(a, "m5", "preciso de um sistema pra 650 kwh em goiania, bifasico")
    reply = run_turn(a, "m5", "esse inversor é de que marca?")
    assert not reply["tools"]  # no catalog search
    assert "inversor é da Growatt" in reply["message"] and "Encontrei" not in reply["message"]
    searched = run_turn(a, "m5", "vcs tem inversor growatt de 5kw?")  # a real search still searches
    assert "Encontrei" in searched["message"]


@pytest.mark.parametrize("message", ["quanto custa?", "qto fica energia solar?", "how much does it cost?"])
def test_a_bare_price_question_first_asks_for_the_sizing_details(message):
    sizing = FakeSizing()
    a = default_assistant(sizing)
    reply = run_turn(a, "m6", message)
    assert reply["intent"] == "size_pv_system" and not sizing.calls
    assert set(reply["awaiting"]) == {"consumption", "site", "connection"}


def test_a_correction_of_the_site_after_a_knowledge_question_resizes():
    sizing = FakeSizing()
    a = default_assistant(sizing, FakeSearcher([LAW_HIT]))
    run_turn(a, "m7", "gasto 480 kwh, moro em santos, bifasico")
    run_turn(a, "m7", "como funciona a compensacao com a lei 14.300?")
    n = len(sizing.calls)
    run_turn(a, "m7", "opa, errei, na verdade moro em guaruja")
    assert len(sizing.calls) == n + 1
    assert (sizing.calls[-1]["municipality"], sizing.calls[-1]["monthly_kwh"]) == ("Guarujá", 480)


def test_a_number_followed_by_a_comma_is_still_the_follow_ups_number():
    assert extractors.bare_quantity("e se o consumo fosse 1.300, como fica?") == 1300
    assert extractors.bare_quantity("e com 1,5?") == 1.5


@pytest.mark.parametrize("message", ["me passa o contato de um vendedor", "quero falar com um atendente",
                                     "can I talk to a sales rep?"])
def test_asking_for_a_person_gets_the_way_to_sales_not_a_product_list(message):
    sizing = FakeSizing()
    a = default_assistant(sizing)
    run_turn(a, "m8", "650 kwh em teresina bifasico")
    reply = run_turn(a, "m8", message)
    assert not reply["tools"]
    assert "representante" in reply["message"] or "representative" in reply["message"]


def test_a_monthly_payment_in_english_after_a_sizing_is_a_financing():
    sizing = FakeSizing()
    a = default_assistant(sizing)
    run_turn(a, "m9", "I'm in Recife, use 500 kWh, single phase")
    reply = run_turn(a, "m9", "and what would the monthly payment be over 4 years?")
    assert reply["intent"] == "simulate_financing" and "48" in reply["message"]
