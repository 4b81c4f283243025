"""Brazilian formats read by rules: money, energy, phases, places, language."""

from __future__ import annotations

import pytest

from app.agent.parsing import detect_language, number_in_text, parse_message, parse_number


@pytest.mark.parametrize(
    ("raw", "lang", "value"),
    [("1.234,56", "pt", 1234.56), ("450,00", "pt", 450.0), ("1.200", "pt", 1200.0), ("0,95", "pt", 0.95),
     ("1,200.5", "en", 1200.5), ("1,200", "en", 1200.0), ("12.5", "en", 12.5), ("700", "pt", 700.0)],
)
def test_parse_number_brazilian_and_english(raw, lang, value):
    assert parse_number(raw, lang) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("conta de R$ 450,00", {"bill_brl": 450.0}),
        ("a conta vem uns 1.234,56 reais", {"bill_brl": 1234.56}),
        ("450kWh/mês", {"monthly_kwh": 450.0}),
        ("consumo de 1.200 kWh por mês", {"monthly_kwh": 1200.0}),
        ("6000 kWh por ano", {"monthly_kwh": 500.0}),
        ("tarifa de R$ 0,92/kWh", {"tariff_brl_per_kwh": 0.92}),
        ("conta de R$ 380 e tarifa 0,95", {"bill_brl": 380.0, "tariff_brl_per_kwh": 0.95}),
        ("ligação trifásica", {"connection": "three_phase"}),
        ("é bifasico", {"connection": "two_phase"}),
        ("single-phase 220 V", {"connection": "single_phase"}),
    ],
)
def test_reads_money_energy_and_phase(text, expected, places):
    slots = parse_message(text, places).slots()
    for key, value in expected.items():
        assert slots[key] == pytest.approx(value) if isinstance(value, float) else slots[key] == value


@pytest.mark.parametrize(
    ("text", "city", "uf"),
    [
        ("cliente em Uberlândia-MG", "Uberlândia", "MG"),
        ("fica em uberlandia", "Uberlândia", "MG"),
        ("é em BH", "Belo Horizonte", "MG"),
        ("Campinas/SP", "Campinas", "SP"),
        ("sou de Natal, RN", "Natal", "RN"),
        ("My client is in Recife", "Recife", "PE"),
        ("Bom Jesus, RS", "Bom Jesus", "RS"),
        ("santa maria rs", "Santa Maria", "RS"),  # a lower-case UF sigla after the name, no "em"
        ("santa maria - rs", "Santa Maria", "RS"),
        ("estrela rs", "Estrela", "RS"),  # an everyday word that is a town, with its UF
        ("cliente em sjc, 500 kwh", "São José dos Campos", "SP"),  # the abbreviations people write
        ("obra em sjrp", "São José do Rio Preto", "SP"),
    ],
)
def test_finds_municipality(text, city, uf, places):
    parsed = parse_message(text, places)
    assert (parsed.municipality, parsed.uf) == (city, uf)
    assert parsed.ibge_code


def test_everyday_words_are_not_cities(places):
    parsed = parse_message("minha conta de luz veio alta", places)
    assert parsed.municipality is None
    # Laje is a town in BA, not in RS: before a UF where it does not exist it stays a roof word
    assert parse_message("telhado de laje rs", places).municipality is None


def test_homonym_city_without_uf_is_ambiguous(places):
    parsed = parse_message("o cliente mora em Bom Jesus", places)
    assert parsed.municipality == "Bom Jesus" and parsed.uf is None
    assert {"RS", "PI"} <= set(parsed.ambiguous_ufs)


def test_bare_number_answers_the_pending_question(places):
    assert parse_message("500", places, awaiting=("consumption",)).monthly_kwh == 500.0
    assert parse_message("500", places).monthly_kwh is None


def test_correction_is_flagged(places):
    parsed = parse_message("na verdade são 700 kWh", places)
    assert parsed.correction and parsed.monthly_kwh == 700.0


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Quanto preciso para zerar a conta?", "pt-BR"), ("How many panels do I need for my house?", "en"),
     ("Olá, tudo bem?", "pt-BR"), ("My client uses 500 kWh per month", "en")],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_number_in_text_guards_model_numbers():
    assert number_in_text(650, "gasta 650 kWh")
    assert number_in_text(1234.56, "conta de R$ 1.234,56")
    assert not number_in_text(700, "gasta 650 kWh")
