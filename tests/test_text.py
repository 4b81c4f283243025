"""Brazilian text and numbers: the one module every answer, document and parser uses."""

from __future__ import annotations

import pytest

from app.core.text import (
    fold,
    fold_words,
    format_brl,
    format_kwh,
    format_kwp,
    format_number,
    format_percent,
    format_plain,
    parse_decimal,
    parse_number,
)


@pytest.mark.parametrize(("raw", "lang", "value"), [
    ("1.234,56", "pt", 1234.56), ("450,00", "pt", 450.0), ("10.000", "pt", 10000), ("1.200.000", "pt", 1_200_000),
    ("1,200.5", "pt", 1200.5), ("2.25", "pt", 2.25), ("1,200", "en", 1200), ("1,5", "en", 1.5),
    ("1.200", "en", 1200), ("1234.567", "en", 1234.567), (" 7 500 ", "pt", 7500),
])
def test_reads_numbers_as_people_write_them(raw, lang, value):
    assert parse_number(raw, lang) == pytest.approx(value)


def test_not_a_number_is_a_value_error():
    with pytest.raises(ValueError):
        parse_number("mil")
    with pytest.raises(ValueError):
        parse_decimal("1.234,5")  # two marks: not a plain decimal


@pytest.mark.parametrize(("raw", "value"), [("49,5", 49.5), ("-23.55", -23.55), ("1.500", 1.5), (" 7 ", 7.0),
                                            ("-0,29", -0.29)])
def test_a_field_with_one_decimal_mark_reads_either_mark(raw, value):
    assert parse_decimal(raw) == value


def test_money_and_units_in_portuguese_and_english():
    assert format_brl(12345.678) == "R$ 12.345,68"
    assert format_brl(-1234.5) == "-R$ 1.234,50"
    assert format_brl(1234.5, "en") == "R$ 1,234.50"
    assert format_brl(0.001) == "R$ 0,00"
    assert format_number(1234567.891, "pt-BR", 1) == "1.234.567,9"
    assert format_number(4.95, "en", 2) == "4.95"
    assert format_kwh(7193.4) == "7.193 kWh"
    assert format_kwp(4.8) == "4,80 kWp"
    assert format_percent(1.17) == "1,17 %"
    assert format_percent(36.06, "en", 1) == "36.1 %"
    assert format_plain(1.17) == "1,17" and format_plain(12000.0) == "12000" and format_plain(0.5, "en") == "0.5"


def test_folding_for_matching():
    assert fold("Uberlândia TRIFÁSICO") == "uberlandia trifasico"
    assert fold("R$ 1.234,56") == "r$ 1.234,56"
    assert fold_words("São José dos Campos/SP") == "sao jose dos campos sp"
