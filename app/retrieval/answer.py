"""Extractive answers: the sentence or table row of the retrieved passages that answers.

A knowledge question gets the one or two *units* (a sentence, a list item, or a table row
read with its header: ``| 2027 | 75 % |`` under ``| Ano | Parcela |`` becomes "Ano: 2027;
Parcela: 75 %") that best match the question, quoted verbatim from the passage, or one of
two honest refusals:

* ``silent`` — the passages are about what the question names (the Astronergy 600 W
  datasheet) but none states what it asks (the warranty), or the matching row itself says
  "não informado": the source does not say;
* ``none`` — nothing retrieved is about the question: the base does not cover it.

Scoring is lexical first (the sparse tokenizer's folded, stemmed terms; numbers, years and
model codes weigh more; words of the document's title/section count for the units under
it), then dense similarity (the configured embedder, when given) re-ranks the best
candidates. The thresholds were tuned on the DEV split of evals/datasets/knowledge.

Every number in a quote is the passage's own: nothing here computes or rewrites a value.
Pure functions over :class:`~app.retrieval.types.Passage` (``text``, ``citation{title,
section, …}``, ``metadata``); no FastAPI, no LangChain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.core.text import fold
from app.retrieval.text import STOPWORDS, stem, tokenize
from app.retrieval.types import Passage

AnswerKind = Literal["answer", "silent", "none"]

# Words that shape a question but say nothing about its subject (folded, after stemming).
QUESTION_WORDS = frozenset(
    """
    qual quai quanto quanta quantos quantas qnto qto qts quando onde como porque pq oq que quem
    tem ter tenho ha existe existem sabe saber diz dizer fala falar informa informar preciso precisa
    gostaria queria quero voce voces vcs vc me cliente clientes pode posso podemos vou vai sera seria
    algum alguma favor poderia explica explicar entao ai aqui isso entra funciona conferir checar ver
    perguntou pergunta perguntando disse falou quer querem
    what which how does did do is are much many tell know can could would should there
    """.split()
) | frozenset(
    # how people write in a chat (folded, stemmed): abbreviations and fillers that name nothing
    """
    q qm qnt qnts qts qtos qtas qtd tb tbm tambem msm mesmo eu sei foi cima ai pra pro pras pros ne ja so mt
    muito muita tipo ta hj la dai afinal acho sobram sobra ele ela dele dela nele nela deles delas aquele aquela
    fica ficar fico frente diante mean means meaning define definition about please pls exactly
    """.split()
)
# Table header words that only label the row ("Parâmetro | Valor"): the row reads "name: value".
# How people ask vs how the sources write (question side only; folded, stemmed).
_ASKED_AS = {"veze": "prazo", "vezes": "prazo", "financia": "financiamento", "percentual": "parcela",
             "porcentagem": "parcela", "dura": "prazo", "duram": "prazo", "vence": "expiram", "vencem": "expiram",
             "valem": "validade", "vale": "validade", "valer": "validade", "expira": "expiram"}
_HOW_LONG = re.compile(r"\b(?:em|in)\s+(?:ate\s+|up to\s+)?(?:quantas|quantos|qtas|qtos|qts|qnts|how many)\s+"
                       r"(?:meses|vezes|parcelas|prestacoes|x|months|installments)\b")
# Other words a source may use for an asked term (question side; matched as well as the term).
_ALSO = {
    "prazo": ("expiram", "validade"), "validade": ("expiram", "vencem", "prazo"), "expiram": ("validade",),
    "tempo": ("prazo", "mese", "expiram"), "fios": ("condutore", "condutor"),
    "cobra": ("cobrado", "cobrada", "aplicam", "incidem", "paga"), "cobram": ("cobrado", "cobrada", "aplicam", "incidem"),
    "incide": ("aplicam", "incidem", "cobrada"), "entra": ("aplicam", "incidem"),
    "paga": ("cobrado", "cobrada", "faturado"), "pagar": ("cobrado", "cobrada", "faturado"),
    "liga": ("microinversor", "entrada"), "ligar": ("microinversor", "entrada"), "aguenta": ("microinversor", "entrada"),
    "suporta": ("microinversor", "entrada"), "aceita": ("microinversor", "entrada", "pvmax"),
    "conexao": ("acesso",), "ligacao": ("acesso",), "pediu": ("solicitado", "solicitacao"),
    "pedido": ("solicitado", "solicitacao"), "pediram": ("solicitado", "solicitacao"),
}
_GENERIC_HEADERS = frozenset("parametro campo especificacao item tema caracteristica parameter field spec".split())
_DROP_COLUMNS = frozenset("fonte source".split())
_EMPTY_CELLS = frozenset({"", "-", "—", "–"})
_ABBREVIATIONS = frozenset("art arts n nº no p pp ex sr sra dr etc inc vs obs max min aprox cap a.m a.a fig".split())
_SILENT = re.compile(r"n[aã]o\s+informad|not\s+(?:stated|given|informed)", re.IGNORECASE)
_YEAR = re.compile(r"^(19|20)\d\d$")
_MARKUP = re.compile(r"\*\*|__|`")


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a hit: ``text`` as shown to the user (markup removed)."""

    text: str
    hit: int
    kind: Literal["sentence", "row", "item"]
    key: str | None = None  # a table row: its first cell ("2027")
    value: str | None = None  # a table row: the rest ("75 %")


@dataclass(frozen=True)
class Quote:
    unit: Unit
    score: float


@dataclass(frozen=True)
class KnowledgeAnswer:
    """What the knowledge step decided. ``hits``: indices of the hits to cite, in order."""

    kind: AnswerKind
    quotes: tuple[Quote, ...] = ()
    hits: tuple[int, ...] = ()
    asked: str | None = None  # silent: what the question asks that the source does not state
    subject: str | None = None  # silent: the document (title) that was searched
    score: float = 0.0
    why: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnswerThresholds:
    """Tuned on evals/datasets/knowledge/dev.yaml (unanswerable and source-silent questions
    against the answerable ones); measured on test."""

    answer: float = 0.5  # weighted share of the question's terms a unit must cover
    subject_share: float = 0.3  # "silent": share of the question's weight that names a document we hold
    second: float = 0.9  # a second quote must score this fraction of the first
    dense_weight: float = 0.35  # share of the final score from dense similarity (0 = lexical only)
    candidates: int = 12  # units kept for the final choice
    short: int = 120  # a sentence shorter than this [characters] is quoted with the next one
    near: float = 0.06  # lexical gap within which dense similarity may re-order units


# -- splitting passages into units ---------------------------------------------------------------

def _cells(line: str) -> list[str]:
    return [_MARKUP.sub("", c).strip() for c in line.strip().strip("|").split("|")]


def _is_separator(line: str) -> bool:
    return bool(re.fullmatch(r"\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?", line.strip()))


def _row_unit(header: list[str], cells: list[str], hit: int) -> Unit | None:
    pairs = [(h, c) for h, c in zip(header, cells) if fold(h) not in _DROP_COLUMNS]
    pairs = [(h, c) for h, c in pairs if c not in _EMPTY_CELLS]
    if not pairs:
        return None
    if len(header) >= 2 and fold(header[0]).split(" ")[0] in _GENERIC_HEADERS and len(pairs) >= 2:
        key, value = pairs[0][1], "; ".join(c if i == 1 else f"{h}: {c}" for i, (h, c) in enumerate(pairs) if i)
        return Unit(f"{key}: {value}", hit, "row", key, value)
    text = "; ".join(f"{h}: {c}" if h else c for h, c in pairs)
    return Unit(text, hit, "row", pairs[0][1], "; ".join(c for _, c in pairs[1:]) or None)


def _sentences(paragraph: str) -> list[str]:
    """Split on . ! ? followed by a space, except after abbreviations (art., p., a.m.) and
    inside numbers ("1.234,56")."""
    out, start = [], 0
    for m in re.finditer(r"[.!?…]+[\"”»)]?\s+", paragraph):
        before = paragraph[start:m.start()].rsplit(" ", 1)[-1].lower().rstrip(".")
        if before in _ABBREVIATIONS or re.fullmatch(r"[a-z]", before):
            continue
        out.append(paragraph[start:m.end()].strip())
        start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return out


def split_units(text: str, hit: int = 0) -> list[Unit]:
    """Sentences, list items and table rows (with their header) of one passage."""
    units: list[Unit] = []
    lines = text.replace("\r", "").split("\n")
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            joined = re.sub(r"\s+", " ", _MARKUP.sub("", " ".join(paragraph))).strip()
            for sentence in _sentences(joined):
                if len(sentence) > 2:
                    units.append(Unit(sentence, hit, "sentence"))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("|"):
            flush()
            block = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i])
                i += 1
            rows = [r for r in block if not _is_separator(r)]
            has_header = len(block) > 1 and _is_separator(block[1])
            header = _cells(rows[0]) if has_header else [""] * len(_cells(rows[0]))
            for row in rows[1:] if has_header else rows:
                unit = _row_unit(header, _cells(row), hit)
                if unit:
                    units.append(unit)
            continue
        if not stripped or stripped.startswith("#"):
            flush()
        elif re.match(r"^([-*+]|\d+[.)])\s+", stripped):
            flush()
            item = re.sub(r"^([-*+]|\d+[.)])\s+", "", stripped)
            paragraph.append(item)
        else:
            paragraph.append(stripped.lstrip("> ").strip())
        i += 1
    flush()
    return units


# -- scoring ---------------------------------------------------------------------------------------

def _weight(term: str) -> float:
    if _YEAR.match(term):
        return 2.0
    if any(c.isdigit() for c in term):
        return 1.8  # quantities (600w), model codes (10ktl3-xh), numbers
    return 1.0


def question_terms(question: str) -> list[str]:
    """Distinct content terms of the question (folded, stemmed, synonyms applied)."""
    seen: dict[str, None] = {}
    if _HOW_LONG.search(fold(question)):
        seen["prazo"] = None  # "em até quantos meses", "em quantas vezes": the term of a loan
    for t in tokenize(question):
        t = _ASKED_AS.get(t, t)
        if t in QUESTION_WORDS or t in STOPWORDS or stem(t) in QUESTION_WORDS:
            continue
        seen.setdefault(t, None)
    return list(seen)


def _match(term: str, terms: set[str]) -> float:
    if term in terms:
        return 1.0
    if any(alt in terms for alt in _ALSO.get(term, ())):
        return 0.9
    if len(term) >= 5 and not any(c.isdigit() for c in term):
        prefix = term[:5]
        if any(t.startswith(prefix) for t in terms if len(t) >= 5):
            return 0.7  # tarifaria ~ tarifa, homologacao ~ homologar
    return 0.0


def _title_terms(hit: Passage) -> set[str]:
    """What the document is: title, manufacturer, model, lender (not the section)."""
    c, meta = hit.citation, hit.metadata
    parts = [str(c.get("title") or "")] + [str(meta.get(k) or "") for k in ("manufacturer", "model", "lender")]
    return set(tokenize(" ".join(parts)))


def _is_code(term: str) -> bool:
    """A model code or a quantity with its unit (600w, 10ktl3-xh), not a bare number."""
    return any(c.isdigit() for c in term) and any(c.isalpha() for c in term)


@dataclass
class _Scored:
    unit: Unit
    lexical: float
    attribute: float  # weighted share of the asked terms the unit itself states
    focus: float = 0.0  # share of the unit's terms that are the question's (short, on-topic units win ties)
    named: float = 1.0  # share of the subject's name (Solfácil, Deye SUN2000G3) its passage holds
    dense: float = 0.0
    score: float = 0.0


def _roles(question: str, terms: list[str], titles: list[set[str]]) -> dict[str, tuple[str, float]]:
    """term → (role, weight). ``subject``: names what the question is about (a title word,
    a model code); ``asked``: what it wants to know. Asked terms written before the subject
    ("garantia do Astronergy 600 W", "weight of the GoodWe …") are the question's head and
    weigh more."""
    order = {t: i for i, t in reversed(list(enumerate(tokenize(question))))}
    words = re.findall(r"[\wÀ-ÿ-]+", fold(question))
    # "garantia dos módulos Astronergy": a kind named after a preposition describes the subject
    described = {t for prev, word in zip(words, words[1:]) if prev in _OBJECT_PREPOSITIONS | {"de"}
                 for t in tokenize(word) if t in _KIND_WORDS}
    subject = [t for t in terms if _is_code(t) or t in described or any(t in title for title in titles)]
    first_subject = min((order.get(t, 10**6) for t in subject), default=10**6)
    roles: dict[str, tuple[str, float]] = {}
    for t in terms:
        w = _weight(t)
        if t in subject:
            roles[t] = ("subject", w)
            continue
        if order.get(t, 0) < first_subject:
            w *= 1.5
        roles[t] = ("asked", w)
    return roles


def answer_question(
    question: str,
    hits: Sequence[Passage],
    *,
    embed_query: Callable[[str], Sequence[float]] | None = None,
    embed_documents: Callable[[Sequence[str]], Sequence[Sequence[float]]] | None = None,
    thresholds: AnswerThresholds | None = None,
    keep: Callable[[Unit], bool] | None = None,
    context: str | None = None,
) -> KnowledgeAnswer:
    """Pick the unit(s) of ``hits`` that answer ``question``, or say why none does.

    ``embed_query``/``embed_documents``: the index's embedder, to order near-ties;
    ``keep(unit)``: False drops a unit (the agent drops text that tries to instruct it);
    ``context``: the question a follow-up refers back to ("e monofásico?" after "mínimo do
    bifásico de 3 fios?"): its terms count at half weight, the follow-up's own terms decide."""
    th = thresholds or AnswerThresholds()
    terms = question_terms(question)
    before = [t for t in question_terms(context) if t not in terms] if context else []
    if not hits or not (terms or before):
        return KnowledgeAnswer("none", why={"terms": terms})
    titles = [_title_terms(h) for h in hits]
    sections = [set(tokenize(str(h.citation.get("section") or ""))) for h in hits]
    bodies = [set(tokenize(h.text)) for h in hits]
    everywhere = set().union(*titles, *sections, *bodies)
    roles = _roles(question, terms, titles)
    if before:
        roles.update({t: (role, 0.5 * w) for t, (role, w) in _roles(context or "", before, titles).items()})
    subject = {t: w for t, (role, w) in roles.items() if role == "subject"}
    asked = {t: w for t, (role, w) in roles.items() if role == "asked"}
    if not asked:  # "o que é o Fio B": the unit itself must name the subject
        asked, subject = subject, {}
    w_subject, w_asked = sum(subject.values()), sum(asked.values())

    named = {t: w for t, w in subject.items() if t not in _KIND_WORDS}
    scored: list[_Scored] = []
    following: dict[Unit, Unit] = {}  # a kept sentence → the kept sentence after it in the passage
    for i, hit in enumerate(hits):
        # the subject may be named anywhere in the passage or its title; the asked terms
        # must be in the unit (or its section heading)
        subj = sum(w * max(_match(t, titles[i]), _match(t, bodies[i])) for t, w in subject.items())
        named_share = (sum(w * max(_match(t, titles[i]), _match(t, bodies[i])) for t, w in named.items())
                       / sum(named.values())) if named else 1.0
        previous: Unit | None = None
        for unit in split_units(hit.text, i):
            if keep is not None and not keep(unit):
                previous = None
                continue
            if previous is not None and previous.kind == unit.kind == "sentence":
                following[previous] = unit
            previous = unit
            own = set(tokenize(unit.text))
            got = sum(w * max(_match(t, own), 0.8 * _match(t, sections[i])) for t, w in asked.items())
            attribute = got / w_asked
            lexical = (subj + got) / (w_subject + w_asked)
            focus = len(own & set(roles)) / len(own) if own else 0.0
            scored.append(_Scored(unit, lexical, attribute, focus, named=named_share))
    if not scored:
        return KnowledgeAnswer("none", why={"terms": terms})
    # A "não informado" row speaks for its own document only: it may answer a question
    # that names that document, never one about something else.
    specific = any(_is_code(t) or not all(_match(t, title) for title in titles) for t in subject)
    scored = [s for s in scored if not _is_silent(s.unit) or (specific and all(
        _match(t, titles[s.unit.hit]) or _match(t, bodies[s.unit.hit]) for t in subject))]
    if not scored:
        return KnowledgeAnswer("none", why={"terms": terms})
    for s in scored:
        s.score = s.lexical + 0.1 * s.focus - (0.1 if len(s.unit.text) > 250 else 0.0)  # a quote, not a paragraph
        s.score *= 0.7 + 0.3 * s.named  # "prazo da Solfácil": a BV row that fits the words is about another lender
        if s.unit.key and (keyed := set(tokenize(s.unit.key))) and keyed <= set(roles):
            s.score += 0.25  # the row of a lookup table keyed by what was asked ("2027 | 75 %")
        elif s.unit.key and asked and all(_match(t, set(tokenize(s.unit.key))) for t in asked):
            s.score += 0.15  # the row named by all that is asked ("Tensão de circuito aberto (Voc)" for "tensão voc")
    scored.sort(key=lambda s: (s.score, s.attribute), reverse=True)
    pool = scored[: th.candidates]
    top = max(s.lexical for s in pool)
    if embed_query is not None and embed_documents is not None and th.dense_weight > 0:
        # Dense similarity only re-orders near-ties of the lexical score ("o que é o CET":
        # the definition over a formula that names CET): what decides is lexical.
        near = [s for s in pool if s.lexical >= top - th.near]
        if len(near) > 1:
            q = list(embed_query(question))
            vecs = embed_documents([s.unit.text for s in near])
            for s, v in zip(near, vecs, strict=True):
                s.dense = float(sum(a * b for a, b in zip(q, v)))
            lo, hi = min(s.dense for s in near), max(s.dense for s in near)
            for s in near:
                rel = (s.dense - lo) / (hi - lo) if hi > lo else 1.0
                s.score *= 1 - th.dense_weight + th.dense_weight * rel
            pool = near + [s for s in pool if s not in near]
    pool.sort(key=lambda s: (s.score, s.attribute), reverse=True)
    best = pool[0]
    why = {"top": [(round(s.score, 3), s.unit.text[:70]) for s in pool[:3]], "absent": [t for t in roles if not _match(t, everywhere)], "roles": roles, "best": best.unit.text[:120], "lexical": round(best.lexical, 3),
           "attribute": round(best.attribute, 3), "dense": round(best.dense, 3)}
    asked_words = _surface(question, [t for t in asked if t not in _KIND_WORDS] or list(asked))
    # "silent" needs the question to be mostly about a document we hold (its title names it)
    subject_hit = _subject_hit(subject, titles, bodies) if w_subject >= th.subject_share * (w_subject + w_asked) else None

    missing = _named_missing(question, everywhere, set().union(*titles),
                             [f"{_title(h)} {h.text}" for h in hits])
    why["missing"] = missing
    if top >= th.answer and best.attribute > 0 and not missing:
        if _is_silent(best.unit):
            return KnowledgeAnswer("silent", (Quote(best.unit, best.score),), (best.unit.hit,), asked=asked_words,
                                   subject=_title(hits[best.unit.hit]), score=best.score, why=why)
        first = best.unit
        nxt = following.get(first)
        if first.kind == "sentence" and len(first.text) < th.short and nxt is not None and not _is_silent(nxt):
            # a short sentence often only opens the point ("O IOF incide sobre o crédito."):
            # quote it with the sentence that follows it in the passage
            first = Unit(f"{first.text} {nxt.text}", first.hit, "sentence")
        quotes = [Quote(first, best.score)]
        for s in pool[1:]:
            if s.unit is nxt:
                continue
            if (s.score >= th.second * best.score and s.unit.text != best.unit.text and not _is_silent(s.unit)
                    and s.attribute > 0):
                quotes.append(Quote(s.unit, s.score))
                break
        order = tuple(dict.fromkeys(q.unit.hit for q in quotes))
        return KnowledgeAnswer("answer", tuple(quotes), order, score=best.score, why=why)
    if subject_hit is not None and asked_words and not missing:
        return KnowledgeAnswer("silent", (), (subject_hit,), asked=asked_words, subject=_title(hits[subject_hit]),
                               score=best.score, why=why)
    return KnowledgeAnswer("none", score=best.score, why=why)


_OBJECT_PREPOSITIONS = frozenset("do da dos das no na nos nas pelo pela of from at".split())
# What a question names generically ("do módulo", "do banco"): never the missing object itself.
_KIND_WORDS = frozenset(
    "modulo inversor microinversor bateria estrutura cabo controlador carregador sistema kit produto equipamento "
    "banco linha financiamento cliente distribuidora concessionaria empresa cidade estado ano".split())


_INSTITUTIONS = frozenset("banco bank distribuidora concessionaria cooperativa fintech".split())


def _named_missing(question: str, everywhere: set[str], names: set[str] | None = None,
                   texts: Sequence[str] = ()) -> list[str]:
    """Words the question names as its object ("… do Sicredi", "na Enel Ceará") that no
    retrieved passage holds anywhere: the base does not cover that bank or distributor.

    The name of an institution ("banco do Brasil") must be one of ``names`` (the titles,
    lenders and makers of the hits): "Brasil" in a sentence is not a bank we hold. An acronym
    the user capitalises ("ART", "PIS") must appear as a word in ``texts``, not only as an
    abbreviation ("art. 13")."""
    words = re.findall(r"[\wÀ-ÿ-]+", fold(question))
    out = []
    for i, prev in enumerate(words[:-1]):
        if prev not in _OBJECT_PREPOSITIONS:
            continue
        j = i + 1
        while j < len(words) - 1 and all(t in _KIND_WORDS for t in tokenize(words[j]) or ["-"]):
            j += 1  # "do banco Xpto", "na distribuidora Enel": the name follows the kind
        word = words[j]
        if not word.isalpha() or len(word) < 3:
            continue
        terms = [t for t in tokenize(word) if t not in QUESTION_WORDS and t not in _KIND_WORDS]
        of_kind = j == i + 1 and i > 0 and words[i - 1] in _INSTITUTIONS
        space = names if of_kind and names is not None else everywhere
        if terms and not any(_match(t, space) for t in terms):
            out.append(word)
    if texts:
        for acronym in re.findall(r"\b[A-Z]{3,5}\b", question):
            if fold(acronym) in QUESTION_WORDS or fold(acronym) in STOPWORDS:
                continue
            pattern = re.compile(rf"\b{acronym}\b(?!\.)", re.IGNORECASE)
            if not any(pattern.search(t) for t in texts):
                out.append(acronym.lower())
    return list(dict.fromkeys(out))


def _is_silent(unit: Unit) -> bool:
    """The unit says the source does not state the value (and states no other figure)."""
    value = unit.value if unit.kind == "row" and unit.value else unit.text
    return bool(_SILENT.search(value)) and not re.search(r"\d", value)


def _subject_hit(subject: dict[str, float], titles: list[set[str]], bodies: list[set[str]]) -> int | None:
    """The first hit whose title names the subject, and whose title or text holds all of it."""
    named = [t for t in subject if t not in _KIND_WORDS]  # "módulo" describes; the name identifies
    if not named:
        return None
    for i, (title, body) in enumerate(zip(titles, bodies, strict=True)):
        if all(_match(t, title) or _match(t, body) for t in named) and any(_match(t, title) for t in named):
            return i
    return None


def _surface(question: str, terms: list[str]) -> str | None:
    """The question's own words for ``terms`` ("garantia", "tensão cc máxima"), in order."""
    if not terms:
        return None
    wanted = set(terms)
    words = []
    for word in re.findall(r"[\wÀ-ÿ.-]+", question):
        toks = tokenize(word)
        if toks and any(t in wanted for t in toks):
            words.append(word.strip(".-"))
    return " ".join(dict.fromkeys(words)) or None


def _title(hit: Passage) -> str:
    c = hit.citation
    return str(c.get("title") or c.get("source") or "fonte")


__all__ = ["AnswerThresholds", "KnowledgeAnswer", "Quote", "Unit", "answer_question", "question_terms",
           "split_units"]
