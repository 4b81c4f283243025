"""Prices in the export: Brazilian strings, plain decimals and cents stored as integers.

Formats seen in the export (Oct 2025):
- ``"R$ 1.194,00"`` / ``"R$ 6716,83"`` – Brazilian: dot = thousands, comma = decimals;
- ``"R$ 1.028"`` – Brazilian without cents: a dot followed by three digits is thousands;
- ``"911.78"`` – plain decimal (FORTLEV rows), whose ``pricing.price`` is ``91178``:
  the integer block is in *cents* and the string is right (an RSD at R$ 91 178 is absurd);
- ``""`` – no price.
"""

from __future__ import annotations

import math
import re

from app.core.text import parse_number

_THOUSANDS_ONLY_RE = re.compile(r"^\d{1,3}(\.\d{3})+$")
_PLAIN_DECIMAL_RE = re.compile(r"^\d+\.\d{1,2}$")


def parse_brl_price(text: str | float | int | None) -> float | None:
    """Parse a price in BRL; ``None`` when absent, unparseable or not positive.

    >>> parse_brl_price("R$ 1.194,00")
    1194.0
    >>> parse_brl_price("R$ 1.028")
    1028.0
    >>> parse_brl_price("911.78")
    911.78
    """
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        value = float(text)
    else:
        s = text.replace("\u00a0", " ").replace("R$", "").replace(" ", "").strip()
        if not s:
            return None
        # the shapes the export uses; anything else (a name in the price column) is no price
        if not ("," in s or _THOUSANDS_ONLY_RE.match(s) or _PLAIN_DECIMAL_RE.match(s) or s.isdigit()):
            return None
        try:
            value = parse_number(s)
        except ValueError:
            return None
    if not math.isfinite(value) or value <= 0:
        return None
    return round(value, 2)


def resolve_row_price(row: dict) -> tuple[float | None, str | None]:
    """Price of one export row [BRL] and a note when the numeric fields disagree.

    The display string (``price``) is what the portal showed; the numeric blocks
    (``price_brl``, ``pricing.price``) were derived later and sometimes hold cents.
    A numeric value exactly 100× the string is read as cents and ignored.
    """
    raw = row.get("price")
    from_text = parse_brl_price(raw)
    if from_text is None and isinstance(raw, str) and re.search(r"[A-Za-z]{3,}", raw.replace("R$", "")):
        return None, None  # the column holds a shifted name, so the numeric blocks are not its price
    pricing = row.get("pricing") or {}
    numeric = parse_brl_price(pricing.get("price") if isinstance(pricing, dict) else None)
    if numeric is None:
        numeric = parse_brl_price(row.get("price_brl"))
    if from_text is None:
        return numeric, None
    if numeric is None or math.isclose(numeric, from_text, rel_tol=1e-6):
        return from_text, None
    if math.isclose(numeric, from_text * 100, rel_tol=1e-6):
        return from_text, f"pricing={numeric:g} está em centavos; usado o texto {row.get('price')!r}"
    return from_text, f"pricing={numeric:g} difere do texto {row.get('price')!r}; usado o texto"


def cents_suspect(a_brl: float, b_brl: float) -> bool:
    """True when two prices of the same listing differ by exactly a factor of 100."""
    hi, lo = max(a_brl, b_brl), min(a_brl, b_brl)
    return lo > 0 and math.isclose(hi / lo, 100.0, rel_tol=1e-4)
