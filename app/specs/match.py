"""Matching registry rows to catalog text (product names, kit bill-of-materials lines).

A row's ``match`` is alternatives separated by ``;``; an alternative is terms separated by
``&``; each term must appear in the text as whole consecutive tokens. Tokens keep ``-`` and
``.`` inside model codes, so ``GW10K-MS`` never matches ``GW10K-MS-G40`` (another model):
a wrong match would put another product's voltages into the check, worse than no match.
An empty ``match`` means ``<first word of the manufacturer> & <model>``.
"""

from __future__ import annotations

import re
import unicodedata

_SPLIT = re.compile(r"[^a-z0-9.\-/]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", fold(text))


def tokens(text: str) -> tuple[str, ...]:
    out = []
    for raw in _SPLIT.split(fold(text)):
        t = raw.strip(".-/")
        if t:
            out.append(t)
    return tuple(out)


def alternatives(match: str, manufacturer: str, model: str) -> list[list[tuple[str, ...]]]:
    """The parsed ``match`` expression: alternatives → terms → token sequences."""
    expr = match.strip() or f"{(manufacturer.split() or [''])[0]} & {model}"
    alts = []
    for alt in expr.split(";"):
        terms = [tokens(t) for t in alt.split("&")]
        terms = [t for t in terms if t]
        if terms:
            alts.append(terms)
    return alts


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def match_strength(text_tokens: tuple[str, ...], alts: list[list[tuple[str, ...]]]) -> int:
    """Number of tokens of the best alternative found whole in the text; 0 = no match."""
    best = 0
    for terms in alts:
        if all(_contains(text_tokens, t) for t in terms):
            best = max(best, sum(len(t) for t in terms))
    return best
