"""One home for Brazilian text and numbers.

* :func:`fold` / :func:`fold_words` — accent- and case-free forms for matching
  ("Uberlândia" → "uberlandia").
* :func:`parse_number` — read what people write: "1.234,56", "450,00", "10.000", "1,200.5".
* :func:`format_number`, :func:`format_brl`, :func:`format_kwh`, :func:`format_kwp`,
  :func:`format_percent` — write numbers for a reader in ``pt`` (the default) or ``en``
  with Babel's CLDR locale data: "R$ 1.234,56", "7.193 kWh", "4,80 kWp", "1,17 %".

Nothing here swaps "." and "," by hand; every module that shows or reads a number calls
these functions.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_decimal

_LOCALES = {"pt": "pt_BR", "en": "en_US"}
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case, accent-free copy of ``text`` ("Trifásico" → "trifasico"); other
    characters are kept."""
    if text.isascii():  # the common case (product codes, bills of materials): C speed
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold_words(text: str) -> str:
    """:func:`fold`, then every run of non-alphanumerics becomes one space
    ("São José dos Campos/SP" → "sao jose dos campos sp")."""
    return _NON_ALNUM.sub(" ", fold(text)).strip()


def parse_decimal(raw: str) -> float:
    """A number whose one mark, if any, is the decimal mark, "," or "." ("49,5", "-23.55"): datasheet
    and CSV fields, coordinates, values a parser's pattern already matched. Unlike
    :func:`parse_number`, "1.500" here is one and a half. ``ValueError`` when it is not one."""
    return float(raw.strip().replace(",", "."))


def parse_number(raw: str, lang: str = "pt") -> float:
    """Read a written number; ``ValueError`` when it is not one.

    Both marks present: the later one is the decimal mark ("1.234,56", "1,234.56").
    A lone comma is decimal in Portuguese ("450,00"); in English a comma followed by
    exactly three digits groups thousands ("1,200"). A dot followed by groups of
    exactly three digits groups thousands in Portuguese ("10.000", "1.200.000"); in
    English only when the number has several groups or a short head ("1.200").
    """
    s = raw.strip().replace(" ", "").replace("\u00a0", "")
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        s = s.replace(thousands, "").replace(decimal, ".")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        if lang == "en" and len(tail) == 3:
            s = s.replace(",", "")
        else:
            s = head.replace(",", "") + "." + tail
    elif "." in s:
        parts = s.split(".")
        if all(len(p) == 3 for p in parts[1:]) and (len(parts) > 2 or lang == "pt" or len(parts[0]) <= 3):
            s = s.replace(".", "")
    return float(s)


@lru_cache(maxsize=16)
def _pattern(decimals: int, grouping: bool) -> str:
    head = "#,##0" if grouping else "0"
    return head + ("." + "0" * decimals if decimals > 0 else "")


def _locale(lang: str) -> str:
    return _LOCALES.get((lang or "pt")[:2].lower(), "pt_BR")


def format_number(value: float, lang: str = "pt", decimals: int = 0, *, grouping: bool = True) -> str:
    """``1234.5`` → "1.234,50" (pt, 2 decimals) or "1,234.50" (en).

    Rounds the float's exact value, as Python's own ``f"{x:.2f}"`` does (2.675 → "2,67",
    1.165 → "1,17"), not its shortest repr: a number reads the same in every module.
    """
    exact = Decimal(value) if isinstance(value, float) else value
    return format_decimal(exact, format=_pattern(decimals, grouping), locale=_locale(lang))


def format_brl(value: float, lang: str = "pt") -> str:
    """Money in reais: "R$ 1.234,56" (pt) or "R$ 1,234.56" (en); negative "-R$ 1.234,56"."""
    text = f"R$ {format_number(abs(value), lang, 2)}"
    return f"-{text}" if value < 0 and round(value, 2) != 0 else text


def format_percent(value_pct: float, lang: str = "pt", decimals: int = 2) -> str:
    """A value already in percent: ``1.17`` → "1,17 %"."""
    return f"{format_number(value_pct, lang, decimals)} %"


def format_kwh(value: float, lang: str = "pt", decimals: int = 0) -> str:
    """Energy: "7.193 kWh"."""
    return f"{format_number(value, lang, decimals)} kWh"


def format_kwp(value: float, lang: str = "pt", decimals: int = 2) -> str:
    """Peak power: "4,80 kWp"."""
    return f"{format_number(value, lang, decimals)} kWp"


def format_plain(value: float, lang: str = "pt") -> str:
    """A measured value as written in a datasheet: no thousands grouping, up to six
    decimals, no trailing zeros (``1.17`` → "1,17", ``12000.0`` → "12000")."""
    return format_decimal(value, format="0.######", locale=_locale(lang))
