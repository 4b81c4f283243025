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


def is_grounded(value: float, decimals: int, sources: Iterable[float]) -> bool:
    # A formatter may round to the digits it shows and scale units (W→kW, fraction→%).
    tol = 0.5 * 10 ** -decimals
    for m in sources:
        for scale in _SCALES:
            s = m * scale
            if abs(s - value) <= max(tol, 1e-9) or (s and abs(s - value) <= 0.005 * abs(s)):
                return True
    return False


def _decimals(token: str) -> int:
    return len(re.split(r"[.,]", token)[-1]) if re.search(r"[.,]\d{1,2}$", token) else 0


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
            self._verdicts[token] = any(is_grounded(v, _decimals(token), self.sources) for v in values)
        return self._verdicts[token]

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
