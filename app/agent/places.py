"""Find a Brazilian municipality or UF inside free text (deterministic, no model).

Reads the IBGE municipality list that ships in ``data/municipios`` (see its PROVENANCE.md).
Matching is on accent- and case-folded word n-grams, so "uberlandia", "Uberlândia-MG" and
"Uberlândia/MG" all resolve. Single-word names that are also everyday Portuguese words
("Luz", "Natal", "Vitória"…) only match when the user capitalised them, so "conta de luz"
never becomes Luz/MG.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.core.text import fold_words as fold

# Everyday words that are also municipality names; matched only when capitalised.
_COMMON_WORDS = {
    "luz", "natal", "vitoria", "bonito", "esperanca", "paraiso", "triunfo", "cruz", "alegria",
    "uniao", "central", "serra", "planalto", "liberdade", "progresso", "salto", "horizonte",
    "sol", "conta", "casa", "fonte", "ouro", "prata", "pedra", "palmas", "general", "mundo",
    "saudade", "sossego", "tabuleiro", "lagoa", "campos", "barra", "porto", "rio", "amparo",
    "aurora", "caridade", "concordia", "harmonia", "independencia", "jardim", "macaco",
    "nova", "santa", "sao", "vista", "feliz", "formosa", "moeda", "bandeira", "bom", "capital",
    "pilar", "piedade", "carmo", "glória", "gloria", "cascavel", "tiros", "trindade", "brasil",
    "sertao", "estrela", "cristal", "chacara", "mata", "formiga", "pedreira",
    "cachoeira", "palmeira", "cedro", "ipe", "capela", "cruzeiro", "varzea", "alegre", "prata",
    "marco", "propria", "bora", "caem", "conquista", "sales",
}
# Words of the trade (a roof, a panel, a current) that are also municipality names: never a place
# unless capitalised or followed by the UF ("em laje" is on a slab even in a conversation about BA).
_TRADE_WORDS = {"laje", "telha", "painel", "placas", "corrente", "modelo"}
# UF siglas that are also everyday words ("se", "to", "pe"...): in lower case after a name they
# count as a UF only after a place cue ("em", "cidade de"); the others ("rs", "sp", "mg"...) always.
_WORD_UFS = {"ac", "al", "am", "ap", "ce", "es", "go", "ma", "pa", "pe", "pi", "ro", "se", "to"}
_COMMON_WORDS |= _TRADE_WORDS

# Informal names a buyer types; value is (municipality, UF).
_ALIASES = {
    "bh": ("Belo Horizonte", "MG"),
    "beaga": ("Belo Horizonte", "MG"),
    "sampa": ("São Paulo", "SP"),
    "poa": ("Porto Alegre", "RS"),
    "bsb": ("Brasília", "DF"),
    "floripa": ("Florianópolis", "SC"),
    "sjc": ("São José dos Campos", "SP"),
    "sjrp": ("São José do Rio Preto", "SP"),
    "cwb": ("Curitiba", "PR"),
    "rio": ("Rio de Janeiro", "RJ"),
    "rj capital": ("Rio de Janeiro", "RJ"),
    "sp capital": ("São Paulo", "SP"),
}


@dataclass(frozen=True)
class Municipality:
    ibge_code: int
    name: str
    uf: str
    lat: float
    lon: float
    capital: bool


@dataclass(frozen=True)
class _Candidate:
    """A municipality name found in the text (word positions [start, end))."""

    start: int
    end: int
    matches: list[Municipality]
    common: bool  # an everyday word too ("laje", "Estrela"): the last resort
    uf_after: bool  # followed by a UF sigla ("Bonito MS", "Natal, RN")
    cue: bool  # introduced as a place ("em …", "cidade de …")


@dataclass(frozen=True)
class PlaceMatch:
    municipality: str | None = None
    uf: str | None = None
    ibge_code: int | None = None
    ambiguous_ufs: tuple[str, ...] = ()


class PlaceIndex:
    """Municipalities and UFs, indexed by folded name."""

    def __init__(self, municipalities: list[Municipality], states: dict[str, str]) -> None:
        self.by_name: dict[str, list[Municipality]] = {}
        for m in municipalities:
            self.by_name.setdefault(fold(m.name), []).append(m)
        self.uf_by_name = {fold(name): uf for uf, name in states.items()}
        self.ufs = set(states)
        self.max_words = max((len(k.split()) for k in self.by_name), default=1)

    @classmethod
    def load(cls, data_dir: Path) -> PlaceIndex:
        folder = data_dir / "municipios"
        states: dict[str, str] = {}
        uf_by_code: dict[str, str] = {}
        with open(folder / "estados.csv", encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                states[row["uf"]] = row["nome"]
                uf_by_code[row["codigo_uf"]] = row["uf"]
        municipalities = []
        with open(folder / "municipios.csv", encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                municipalities.append(
                    Municipality(
                        ibge_code=int(row["codigo_ibge"]),
                        name=row["nome"],
                        uf=uf_by_code[row["codigo_uf"]],
                        lat=float(row["latitude"]),
                        lon=float(row["longitude"]),
                        capital=row["capital"] == "1",
                    )
                )
        return cls(municipalities, states)

    def lookup(self, name: str, uf: str | None = None) -> Municipality | None:
        """One municipality by (folded) name, disambiguated by UF when given."""
        candidates = self.by_name.get(fold(name), [])
        if uf:
            candidates = [m for m in candidates if m.uf == uf.upper()]
        return candidates[0] if len(candidates) == 1 else None

    def find(self, text: str, near_uf: str | None = None) -> PlaceMatch | None:
        """The place named in ``text``.

        Every municipality name (and nickname) in the text is a candidate; a name inside a
        longer one ("Lapa" in "Bom Jesus da Lapa") is not. An everyday word that is also a
        municipality ("laje", "telha", "painel", "Estrela"…) counts only when nothing else
        does, so "45 m² de laje em Salvador" is Salvador. Among the rest, a name followed by
        its UF ("Bonito MS") or introduced as a place ("em Contagem", "cidade de …") beats
        one that is not ("cliente da solar bh em contagem"), then the longer name wins.
        ``near_uf`` (the state the conversation is about) lets an everyday word after "em" be
        that state's municipality: "e em bonito?" after Campo Grande/MS is Bonito/MS.
        """
        explicit_uf = self._explicit_uf(text)
        spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[\wÀ-ÿ]+", text)]
        words = [w for _, _, w in spans]
        folded = [fold(w) for w in words]
        found: list[_Candidate] = []
        for size in range(min(self.max_words, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                key = " ".join(folded[start : start + size])
                before = " ".join(folded[max(0, start - 2) : start])
                cue = bool(re.search(r"(^|\s)(em|no|na|in|at|pra|para|perto de|cidade de|municipio de|regiao de|"
                                     r"sou de|sou da|sou do|aqui de|daqui de|moro de|from)$", before)
                           ) or start == 0 and len(words) == size
                if key in _ALIASES:
                    if size == 1 and key == "rio" and not (words[start][0].isupper() or cue):
                        continue
                    name, uf = _ALIASES[key]
                    matches = [m for m in self.by_name.get(fold(name), []) if m.uf == uf]
                    alias = True
                else:
                    matches = self.by_name.get(key, [])
                    alias = False
                if not matches:
                    continue
                if any(c.start <= start and start + size <= c.end for c in found):
                    continue  # a name inside a longer name already found
                if before.endswith(("nao", "not", "nem")):
                    continue  # "é em Franca, não Ribeirão"
                common = size == 1 and (key in _COMMON_WORDS or len(key) <= 3) and not alias
                capitalised = all(w[0].isupper() for w in words[start : start + size])
                end_char = spans[start + size - 1][1]
                after = text[end_char : end_char + 6]  # " - rs", "/rs", " (RS)"
                uf_after = re.match(r"\s*[-/,(]?\s*([A-Za-z]{2})(?![A-Za-z])", after)
                if uf_after and (uf_after.group(1).upper() not in {m.uf for m in matches}
                                 or (uf_after.group(1).islower() and not cue
                                     and uf_after.group(1) in _WORD_UFS)):
                    uf_after = None  # a UF sigla after the name, and one where that name exists
                capital_after_em = bool(re.search(r"(^|\s)(em|in|cidade de|municipio de)$", before)) and any(
                    m.capital or (m.uf == near_uf and key not in _TRADE_WORDS) for m in matches)
                if common and not capitalised and not uf_after and not capital_after_em:
                    continue  # "telhado de laje", but "estrela rs" is Estrela/RS, "em natal" Natal/RN
                if uf_after:
                    matches = [m for m in matches if m.uf == uf_after.group(1).upper()]
                elif common and not capitalised and capital_after_em and near_uf in {m.uf for m in matches}:
                    matches = [m for m in matches if m.uf == near_uf]
                found.append(_Candidate(start, start + size, matches, common, bool(uf_after), cue))
        if not any(not c.common for c in found):
            typo = self._near_miss(words, folded)
            if typo is not None:
                found.append(typo)
        if not found:
            return PlaceMatch(uf=explicit_uf) if explicit_uf else None
        plain = [c for c in found if not c.common] or found
        best = max(plain, key=lambda c: (c.uf_after, c.cue, c.end - c.start, -c.start))
        candidates = best.matches
        if explicit_uf:
            in_uf = [m for m in candidates if m.uf == explicit_uf]
            if in_uf:
                candidates = in_uf
            elif best.end - best.start == 1 and fold(candidates[0].name) in self.uf_by_name:
                return PlaceMatch(uf=explicit_uf)
        if len(candidates) == 1:
            m = candidates[0]
            return PlaceMatch(m.name, m.uf, m.ibge_code)
        capitals = [m for m in candidates if m.capital]
        if len(capitals) == 1:
            m = capitals[0]
            return PlaceMatch(m.name, m.uf, m.ibge_code)
        return PlaceMatch(candidates[0].name, None, None, tuple(sorted(m.uf for m in candidates)))

    def _near_miss(self, words: list[str], folded: list[str]) -> _Candidate | None:
        """A misspelt name right after a place cue ("em riberao preto", "em florianopolis"): the
        one municipality name within one edit (two for names of 10+ letters), same first letter,
        longest span first. Short words and anything not introduced as a place are never guessed."""
        for start in range(1, len(words)):
            before = " ".join(folded[max(0, start - 2) : start])
            if not re.search(r"(^|\s)(em|in|cidade de|municipio de|perto de|regiao de)$", before):
                continue
            for size in range(min(self.max_words, len(words) - start), 0, -1):
                key = " ".join(folded[start : start + size])
                letters = len(key.replace(" ", ""))
                if letters < 6 or (size == 1 and key in _COMMON_WORDS) or any(ch.isdigit() for ch in key):
                    continue
                budget = 2 if letters >= 10 else 1
                names = {name for name in self._by_initial().get(key[0], ())
                         if abs(len(name) - len(key)) <= budget and _edits(key, name, budget) <= budget}
                if len(names) == 1:
                    name = names.pop()
                    return _Candidate(start, start + size, self.by_name[name], False, False, True)
        return None

    def _by_initial(self) -> dict[str, list[str]]:
        if not hasattr(self, "_initials"):
            initials: dict[str, list[str]] = {}
            for name in self.by_name:
                initials.setdefault(name[0], []).append(name)
            self._initials = initials
        return self._initials

    def _code(self, name: str, uf: str) -> int | None:
        m = self.lookup(name, uf)
        return m.ibge_code if m else None

    def _explicit_uf(self, text: str) -> str | None:
        # "Uberlândia-MG", "Campinas/SP", "Natal, RN", "(SP)", "em MG": an upper-case sigla.
        for token in re.findall(r"(?<![A-Za-z])([A-Z]{2})(?![A-Za-z])", text):
            if token in self.ufs:
                return token
        folded = f" {fold(text)} "
        for name, uf in sorted(self.uf_by_name.items(), key=lambda kv: -len(kv[0])):
            if f" estado de {name} " in folded or f" estado do {name} " in folded or f" state of {name} " in folded:
                return uf
        for name, uf in sorted(self.uf_by_name.items(), key=lambda kv: -len(kv[0])):
            # A state's name alone ("interior de Minas Gerais") when it is not also a city.
            if f" {name} " in folded and name not in self.by_name:
                # "para" is also the commonest preposition: only the accented "Pará" counts.
                if name == "para" and "pará" not in text.lower():
                    continue
                return uf
        return None


def _edits(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between ``a`` and ``b`` (insert, delete, substitute,
    swap two neighbours), or ``limit + 1`` as soon as it must exceed ``limit``."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=4)
def load_places(data_dir: Path) -> PlaceIndex | None:
    """The index for ``data_dir``, or ``None`` when the municipality files are absent."""
    try:
        return PlaceIndex.load(Path(data_dir))
    except FileNotFoundError:
        return None
