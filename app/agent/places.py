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
}

# Informal names a buyer types; value is (municipality, UF).
_ALIASES = {
    "bh": ("Belo Horizonte", "MG"),
    "beaga": ("Belo Horizonte", "MG"),
    "sampa": ("São Paulo", "SP"),
    "poa": ("Porto Alegre", "RS"),
    "bsb": ("Brasília", "DF"),
    "floripa": ("Florianópolis", "SC"),
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

    def find(self, text: str) -> PlaceMatch | None:
        """The most specific place named in ``text`` (longest municipality name wins)."""
        explicit_uf = self._explicit_uf(text)
        words = re.findall(r"[\wÀ-ÿ]+", text)
        folded = [fold(w) for w in words]
        best: tuple[int, int, list[Municipality]] | None = None
        for size in range(min(self.max_words, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                key = " ".join(folded[start : start + size])
                if key in _ALIASES and not (size == 1 and key == "rio" and not words[start][0].isupper()):
                    name, uf = _ALIASES[key]
                    return PlaceMatch(name, uf, self._code(name, uf))
                found = self.by_name.get(key)
                if not found:
                    continue
                if size == 1 and (key in _COMMON_WORDS or len(key) <= 3) and not words[start][0].isupper():
                    continue
                if best is None or size > best[0]:
                    best = (size, start, found)
            if best is not None:
                break
        if best is None:
            return PlaceMatch(uf=explicit_uf) if explicit_uf else None
        candidates = best[2]
        if explicit_uf:
            in_uf = [m for m in candidates if m.uf == explicit_uf]
            if in_uf:
                candidates = in_uf
            elif best[0] == 1 and fold(candidates[0].name) in self.uf_by_name:
                return PlaceMatch(uf=explicit_uf)
        if len(candidates) == 1:
            m = candidates[0]
            return PlaceMatch(m.name, m.uf, m.ibge_code)
        capitals = [m for m in candidates if m.capital]
        if len(capitals) == 1:
            m = capitals[0]
            return PlaceMatch(m.name, m.uf, m.ibge_code)
        return PlaceMatch(candidates[0].name, None, None, tuple(sorted(m.uf for m in candidates)))

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


@lru_cache(maxsize=4)
def load_places(data_dir: Path) -> PlaceIndex | None:
    """The index for ``data_dir``, or ``None`` when the municipality files are absent."""
    try:
        return PlaceIndex.load(Path(data_dir))
    except FileNotFoundError:
        return None
