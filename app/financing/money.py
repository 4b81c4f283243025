"""Brazilian number formatting for messages and documents (R$ 1.234,56; 1,17 %)."""

from __future__ import annotations


def brl(value: float) -> str:
    """``R$ 1.234,56`` (negative: ``-R$ 1.234,56``)."""
    text = f"{abs(value):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"-R$ {text}" if value < 0 else f"R$ {text}"


def num(value: float, digits: int = 2) -> str:
    """``1.234,5`` with ``digits`` decimals, Brazilian separators."""
    return f"{value:,.{digits}f}".replace(",", "X").replace(".", ",").replace("X", ".")


def pct(value_pct: float, digits: int = 2) -> str:
    """``1,17 %`` from a value already in percent."""
    return f"{num(value_pct, digits)} %"
