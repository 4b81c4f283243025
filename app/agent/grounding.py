"""Are the numbers in an answer backed by something? The check a model-written answer must pass.

Every number a user reads must come from a tool result of the turn or from what the user
wrote ("numbers come from tools, never from the model"). :func:`ungrounded_numbers` finds
the numbers in a text that neither supports, in any written form (pt-BR ``1.234,56``, en
``1,234.56``, rounded to the digits shown, W↔kW, fraction↔%, month↔year). The eval
suite's "numbers grounded" metric and the model-led turn's guard share it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_NUM = re.compile(r"(?<![A-Za-z\d.,])(?:\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?![\d])")
# Numbers that are names, not quantities: law/article ids, citation markers, list ranks.
_NAMES = re.compile(r"(?:\b(?:lei|law)\s*n?º?\s*|\bart\.?\s*|\bren\s*(?:aneel\s*)?n?º?\s*|\bnº\s*)[\d.]+"
                    r"|\[\d+\]|^\s*\d+\.\s|\b[a-z]+[-_]?\d[\w.-]*", re.IGNORECASE | re.MULTILINE)
# A number that may still be growing at the end of a streamed text ("1.2" → "1.234,56").
_OPEN_TAIL = re.compile(r"[\w.,]*\d[\d.,]*$")
_SCALES = (1, 100, 0.01, 1000, 0.001, 12, 1 / 12)


def number_candidates(token: str) -> set[float]:
    """Every value a written number may mean (pt-BR "1.234,56" or en "1,234.56")."""
    out: set[float] = set()
    if re.fullmatch(r"\d+", token):
        return {float(token)}
    for thousands, decimal in ((".", ","), (",", ".")):
        t = token
        if decimal in t and t.count(decimal) > 1:
            continue
        whole, _, frac = t.partition(decimal)
        parts = whole.split(thousands)
        if len(parts) > 1 and not all(len(p) == 3 for p in parts[1:]):
            continue
        try:
            out.add(float("".join(parts) + ("." + frac if frac else "")))
        except ValueError:
            pass
    return out


def numbers_in(text: str, *, skip_names: bool = True) -> list[tuple[str, set[float]]]:
    if skip_names:
        text = _NAMES.sub(" ", text)
    return [(m.group(0), number_candidates(m.group(0))) for m in _NUM.finditer(text)]


def source_values(obj: Any) -> list[float]:
    """Every number in a tool result (nested dicts/lists, numbers written in strings), plus
    the length of each list ("encontrei 5 produtos": a count of what the tool returned)."""
    out: list[float] = []
    if isinstance(obj, dict):
        for v in obj.values():
            out.extend(source_values(v))
    elif isinstance(obj, list):
        out.append(float(len(obj)))
        for v in obj:
            out.extend(source_values(v))
    elif isinstance(obj, bool):
        pass
    elif isinstance(obj, (int, float)):
        out.append(float(obj))
    elif isinstance(obj, str):
        for _, values in numbers_in(obj, skip_names=False):
            out.extend(values)
    return out


def is_grounded(value: float, decimals: int, sources: Iterable[float], rounded_to: int = 0) -> bool:
    """Does some source, in some unit (W→kW, fraction→%, month→year), round to ``value`` as
    written? ``decimals`` digits after the comma are shown; ``rounded_to`` trailing zeros of a
    whole number may be rounding ("6.600 kWh" for 6.587). No looser than that: with a whole
    sizing result as the source (hundreds of numbers), a relative tolerance let invented
    figures through ("R$ 99.999" matched 100 × 1000)."""
    tol = max(0.5 * 10 ** (rounded_to if rounded_to else -decimals), 1e-9)
    for m in sources:
        for scale in _SCALES:
            if abs(m * scale - value) <= tol:
                return True
    return False


def _decimals(token: str) -> int:
    return len(re.split(r"[.,]", token)[-1]) if re.search(r"[.,]\d{1,2}$", token) else 0


def _precision(token: str, value: float) -> tuple[int, int]:
    """(decimals shown, trailing zeros that may be rounding) of ``token`` read as ``value``.
    A whole number may be rounded keeping two significant digits ("6.600" → 2, "1.000" → 2,
    "250" → 1, "99.999" → 0); "6.610" read as 6,61 shows three decimals."""
    digits = re.sub(r"\D", "", token).lstrip("0")
    if value != float(digits or 0):  # read with a decimal separator ("26.000" as 26,000 shows 3 decimals)
        return len(re.split(r"[.,]", token)[-1]), 0
    zeros = len(digits) - len(digits.rstrip("0"))
    return 0, max(0, min(zeros, len(digits) - 2))


class Grounding:
    """The numbers one answer may use: this turn's tool results and arguments, and the user's words."""

    def __init__(self, tool_results: list[Any], user_words: list[str]) -> None:
        self.sources = source_values(tool_results)
        for text in user_words:
            for _, values in numbers_in(text, skip_names=False):
                self.sources.extend(values)
        self._verdicts: dict[str, bool] = {}  # a streamed answer is re-checked piece by piece

    def add(self, obj: Any) -> None:
        self.sources.extend(source_values(obj))
        self._verdicts.clear()

    def _ok(self, token: str, values: set[float]) -> bool:
        if token not in self._verdicts:
            self._verdicts[token] = any(self._supports(token, v) for v in values)
        return self._verdicts[token]

    def _supports(self, token: str, value: float) -> bool:
        decimals, rounded_to = _precision(token, value)
        return is_grounded(value, decimals, self.sources, rounded_to)

    def ungrounded(self, text: str) -> list[str]:
        """Numbers in ``text`` that no source supports, as written."""
        return [token for token, values in numbers_in(text) if not self._ok(token, values)]


def ungrounded_numbers(answer: str, tool_results: list[Any], user_words: list[str]) -> list[str]:
    """Numbers in ``answer`` found neither in this turn's tool results/arguments nor in what
    the user wrote (any form: 1.234,56 / 1,234.56 / rounded to the digits shown)."""
    return Grounding(tool_results, user_words).ungrounded(answer)


def settled_length(text: str) -> int:
    """How much of a text being streamed can be checked now: everything but a trailing
    number (or word with digits) that the next piece may still extend."""
    tail = _OPEN_TAIL.search(text)
    return tail.start() if tail else len(text)
