"""Text normalisation shared by the sparse encoder (index side and query side).

Pure functions. Portuguese and English: accents are folded (``trifásico`` → ``trifasico``),
plurals are reduced by a few suffix rules, and quantities with a unit are kept as one token
(``10 kW`` / ``10kW`` / ``10.000 W`` → ``10kw``) so that a query about a rating matches the
datasheet line that states it, whatever the spacing or the unit prefix.
"""

from __future__ import annotations

import re

from app.core.text import fold  # noqa: F401 - re-exported: retrieval and ingest fold with it
from app.core.text import parse_number as _parse_number

STOPWORDS = frozenset(
    """
    a o as os um uma uns umas de da do das dos em na no nas nos por para pra com sem e ou que
    se ao aos à às é ser são como mais menos qual quais quanto quanta quantos quantas
    este esta isto esse essa isso meu minha seu sua nosso nossa entre sobre até pelo pela
    pelos pelas the an of in on at to for with without and or is are be by from as it its
    this that these those what which how much many does do my our your me we i you
    """.split()
)

# unit spellings → canonical unit; the scale turns W into kW etc. for a second token
_UNITS: dict[str, tuple[str, float]] = {
    "w": ("w", 1.0), "wp": ("wp", 1.0), "kw": ("kw", 1.0), "kwp": ("kwp", 1.0),
    "mw": ("mw", 1.0), "kwh": ("kwh", 1.0), "wh": ("wh", 1.0), "v": ("v", 1.0), "vcc": ("v", 1.0),
    "vca": ("v", 1.0), "vdc": ("v", 1.0), "vac": ("v", 1.0), "a": ("a", 1.0), "ah": ("ah", 1.0),
    "mm": ("mm", 1.0), "kg": ("kg", 1.0), "meses": ("meses", 1.0), "mes": ("meses", 1.0),
    "months": ("meses", 1.0), "anos": ("anos", 1.0), "years": ("anos", 1.0), "mppt": ("mppt", 1.0),
    "mppts": ("mppt", 1.0),
}
# pt/en domain words → one canonical term (after folding and stemming), applied to documents
# and queries alike, so "three-phase inverter" meets "inversor trifásico"
SYNONYMS: dict[str, str] = {
    "three-phase": "trifasico", "trifasica": "trifasico", "single-phase": "monofasico", "monofasica": "monofasico",
    "two-phase": "bifasico", "bifasica": "bifasico", "split-phase": "bifasico", "hybrid": "hibrido",
    "hibrida": "hibrido", "microinverter": "microinversor", "micro-inversor": "microinversor",
    "micro-inverter": "microinversor", "inverter": "inversor", "module": "modulo", "panel": "modulo",
    "painel": "modulo", "placa": "modulo", "datasheet": "ficha", "folha": "ficha", "financing": "financiamento",
    "financiar": "financiamento", "loan": "financiamento", "grace": "carencia", "rate": "taxa", "juro": "taxa",
    "term": "prazo", "battery": "bateria", "efficiency": "eficiencia", "tracker": "mppt", "off-grid": "offgrid",
    "on-grid": "ongrid", "grid-tie": "ongrid", "law": "lei", "wire": "fio", "cable": "cabo", "price": "preco",
    "cost": "custo", "structure": "estrutura", "roof": "telhado", "bifacial": "bifacial", "warranty": "garantia",
    "voltage": "tensao", "current": "corrente", "power": "potencia",
}

_QUANTITY = re.compile(r"(\d+(?:[.,]\d+)*)\s?(kwp|kwh|kw|wp|wh|w|mw|vcc|vca|vdc|vac|v|ah|a|mm|kg|meses|mes|months|anos|years|mppts|mppt)\b")
_WORD = re.compile(r"[a-z0-9]+(?:[-/][a-z0-9]+)*")


def parse_number(raw: str) -> float | None:
    """Read ``10``, ``10,5``, ``10.000`` (pt thousands) or ``1,234.5``; None if not a number."""
    try:
        return _parse_number(raw, "pt")
    except ValueError:
        return None


def _fmt(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def quantity_tokens(folded: str) -> list[str]:
    """Tokens such as ``10kw`` for every ``<number> <unit>`` in already folded text.

    Watts are also written in kilowatts (``10000 w`` → ``10000w`` and ``10kw``) and
    kilowatts in watts, so a 10 kW inverter matches a ``10.000 W`` datasheet line.
    """
    out: list[str] = []
    for m in _QUANTITY.finditer(folded):
        value = parse_number(m.group(1))
        if value is None:
            continue
        unit = _UNITS[m.group(2)][0]
        out.append(_fmt(value) + unit)
        if unit in ("w", "wp") and value >= 1000:
            out.append(_fmt(value / 1000) + "k" + unit)
        elif unit in ("kw", "kwp") and value < 1000:
            out.append(_fmt(value * 1000) + unit[1:])
        elif unit == "anos":
            out.append(_fmt(value * 12) + "meses")
    return out


def stem(word: str) -> str:
    """A few plural/suffix rules for pt/en; good enough to join ``inversores``/``inversor``."""
    if len(word) <= 3 or word.isdigit() or any(c.isdigit() for c in word):
        return word
    for suffix, repl in (("coes", "cao"), ("oes", "ao"), ("aes", "ao"), ("ais", "al"), ("eis", "el"), ("ores", "or"), ("ies", "y")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            return word[: -len(suffix)] + repl
    if word.endswith("s") and not word.endswith("ss") and len(word) > 4:
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Sparse-index terms of ``text``: folded words (stemmed, stopwords out), the parts of
    hyphenated model names (``10ktl3-x`` → ``10ktl3-x``, ``10ktl3``, ``x``) and quantities."""
    folded = fold(text)
    tokens: list[str] = []
    for m in _WORD.finditer(folded):
        word = m.group(0)
        parts = re.split(r"[-/]", word)
        if len(parts) > 1:
            joined = word.replace("/", "-")
            tokens.append(SYNONYMS.get(joined, joined))
        for part in parts:
            if part and part not in STOPWORDS and (len(part) > 1 or part.isdigit()):
                stemmed = stem(part)
                tokens.append(SYNONYMS.get(stemmed, stemmed))
    tokens.extend(quantity_tokens(folded))
    return tokens


# -- query side ---------------------------------------------------------------------------------
# How people type a datasheet question vs the words of the sheets: added to the sparse query
# (the typed words stay), never to documents, so the index does not change.
_QUERY_WORDS = tuple((re.compile(p), words) for p, words in (
    (r"\bmono\b", "monofasico"), (r"\btri\b", "trifasico"), (r"\bbi\b", "bifasico"),
    (r"\bwatts?\b|\bq(?:ua)?n?to?s? w\b|\bw de saida\b", "potencia nominal"),
    (r"\b(tamanho|medidas?)\b", "dimensoes"), (r"\bpesa\b", "peso"),
    (r"\bwi-?fi\b", "wi-fi comunicacao"), (r"\b(arco|afci)\b", "protecao de arco afci"),
    # English questions about Portuguese sheets
    (r"\bphases?\b", "fases"), (r"\bweigh\w*\b", "peso"), (r"\b(dimensions?|size)\b", "dimensoes"),
    (r"\bcells?\b", "celulas"), (r"\boutput\b", "saida"), (r"\binput\b", "entrada"), (r"\brated\b", "nominal"),
))
# terms that name no product or document (they occur in the titles of many)
_NOT_NAMES = frozenset(fold(w) for w in """
    folha ficha dado dados modulo inversor microinversor fotovoltaico solar painel financiamento nota
    referencia hibrido trifasico monofasico bifasico grid tie on off catalogo produto potencia nominal
    tensao corrente garantia bateria lei marco legal regra tipo linha banco bifacial n type eu br
    mono tri energia energy eletrica sistema sistemas systems grupo group
    """.split())  # words of makers' names that also say what a question is about ("créditos de energia")


# "nxi 5k" asks for the model written "NXI-5.0K" (indexed as "nxi-5", "0k"): the joined code
_CODE_KILO = re.compile(r"\b([a-z]+[0-9]*)\s(\d+)k\b")


def expand_query(text: str) -> str:
    """The query with the sheets' words for chat shorthand ("mono" → monofásico, "pesa" → peso).

    A model code's "10k" is NOT turned into "10 kW": that term matches every 10 kW product and
    drowned the model asked for (measured); the code matches the model by prefix in :func:`name_match`."""
    folded = fold(text)
    extra = [words for pattern, words in _QUERY_WORDS if pattern.search(folded)]
    extra += [f"{m.group(1)}-{m.group(2)}" for m in _CODE_KILO.finditer(folded) if m.group(1) not in STOPWORDS]
    return f"{text} {' '.join(extra)}" if extra else text


def _name_tokens(text: str) -> set[str]:
    # "NXI-5.0K-T2" is asked as "nxi 5k": a zero decimal before k goes away
    return set(tokenize(re.sub(r"(\d)[.,]0+(?=k)", r"\1", fold(text))))


def _code_like(term: str) -> bool:
    return len(term) >= 2 and any(c.isdigit() for c in term) and any(c.isalpha() for c in term)


def _term_in(term: str, tokens: set[str]) -> bool:
    if term in tokens:
        return True
    return _code_like(term) and any(t.startswith(term) for t in tokens if "-" not in t)


def name_terms(query: str, names: list[str]) -> list[str]:
    """Query terms that name one of ``names`` (a maker, a model code, a rated power): the words
    that tell which product or document the question is about."""
    query_tokens = [t for t in dict.fromkeys(_name_tokens(expand_query(query))) if t not in _NOT_NAMES]
    name_sets = [_name_tokens(n) for n in names]
    return [t for t in query_tokens if any(_term_in(t, s) for s in name_sets)]


def name_match(terms: list[str], name: str) -> float:
    """Share of ``terms`` that ``name`` holds (a model-code term matches as a prefix: "10k" → "10kt2")."""
    if not terms:
        return 0.0
    tokens = _name_tokens(name)
    return sum(_term_in(t, tokens) for t in terms) / len(terms)


def text_signature(text: str) -> str:
    """Prose reduced to its words, so template text shared by several documents compares equal.
    A table's signature is unique (its rows are the document's own facts)."""
    stripped = text.lstrip("…. \n")
    if stripped.startswith("|"):
        return f"table:{id(text)}"
    return " ".join(re.findall(r"[a-z]+", fold(stripped)))[:240]
