"""Where the system is: municipality lookup, lat/lon validation, time zone.

Data: ``data/municipios`` (5,570 municipalities, kelvins/municipios-brasileiros, MIT), read
lazily on first use and cached. Names are matched accent- and case-insensitively.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from app.core.errors import InvalidInput
from app.core.text import fold_words, format_number

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "municipios"

# Bounding box of Brazil including its oceanic islands (Fernando de Noronha, Trindade) [deg].
BRAZIL_LAT_MIN_DEG, BRAZIL_LAT_MAX_DEG = -33.76, 5.28
BRAZIL_LON_MIN_DEG, BRAZIL_LON_MAX_DEG = -74.0, -28.8
# A point farther than this from every municipal seat is treated as outside Brazil: the
# bounding box alone accepts Asunción or Montevideo's surroundings.
MAX_DISTANCE_TO_SEAT_KM = 200.0
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Site:
    """A point in Brazil with the municipality it belongs to (or the nearest seat)."""

    latitude_deg: float
    longitude_deg: float
    municipality: str
    uf: str
    ibge_code: int
    timezone: str
    utc_offset_h: float
    distance_to_seat_km: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.municipality}/{self.uf}"


# Lower-case, accent-free, punctuation-free form of a place name ("São José dos Campos/SP" →
# "sao jose dos campos sp"); the name stays importable for the modules that match places.
normalize_name = fold_words


@dataclass(frozen=True)
class _Table:
    codes: np.ndarray  # int64 IBGE codes
    names: tuple[str, ...]
    ufs: tuple[str, ...]
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    timezones: tuple[str, ...]
    by_name: dict[str, tuple[int, ...]]  # normalized name -> row indices
    by_code: dict[int, int]


@cache
def _table() -> _Table:
    with open(DATA_DIR / "estados.csv", encoding="utf-8-sig", newline="") as fh:
        uf_by_code = {int(r["codigo_uf"]): r["uf"] for r in csv.DictReader(fh)}
    rows = []
    with open(DATA_DIR / "municipios.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_name: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_name.setdefault(normalize_name(r["nome"]), []).append(i)
    codes = np.array([int(r["codigo_ibge"]) for r in rows], dtype=np.int64)
    return _Table(
        codes=codes,
        names=tuple(r["nome"] for r in rows),
        ufs=tuple(uf_by_code[int(r["codigo_uf"])] for r in rows),
        lat_deg=np.array([float(r["latitude"]) for r in rows]),
        lon_deg=np.array([float(r["longitude"]) for r in rows]),
        timezones=tuple(r["fuso_horario"] for r in rows),
        by_name={k: tuple(v) for k, v in by_name.items()},
        by_code={int(c): i for i, c in enumerate(codes)},
    )


@cache
def _utc_offset_h(timezone: str) -> float:
    """Standard-time UTC offset [h]; Brazil has had no daylight saving time since 2019."""
    try:
        offset = datetime(2024, 6, 1, tzinfo=ZoneInfo(timezone)).utcoffset()
    except Exception:  # tz database missing: fall back to the São Paulo offset
        return -3.0
    return offset.total_seconds() / 3600.0 if offset is not None else -3.0


def _site_from_row(i: int, lat_deg: float | None = None, lon_deg: float | None = None,
                   distance_km: float = 0.0) -> Site:
    t = _table()
    tz = t.timezones[i]
    return Site(
        latitude_deg=float(t.lat_deg[i]) if lat_deg is None else float(lat_deg),
        longitude_deg=float(t.lon_deg[i]) if lon_deg is None else float(lon_deg),
        municipality=t.names[i],
        uf=t.ufs[i],
        ibge_code=int(t.codes[i]),
        timezone=tz,
        utc_offset_h=_utc_offset_h(tz),
        distance_to_seat_km=round(distance_km, 1),
    )


def municipality_count() -> int:
    return len(_table().names)


def find_municipality(name: str, uf: str | None = None) -> Site:
    """Municipality by name (accent/case-insensitive), optionally disambiguated by UF.

    Raises InvalidInput listing the candidates when the name is ambiguous without a UF, and
    with close suggestions when it is unknown.
    """
    t = _table()
    key = normalize_name(name)
    idx = t.by_name.get(key, ())
    if uf:
        uf_up = uf.strip().upper()
        if uf_up not in set(t.ufs):
            raise InvalidInput(f"UF desconhecida: {uf!r}.", hint="Use a sigla do estado, por exemplo MG, SP, RS.")
        idx = tuple(i for i in idx if t.ufs[i] == uf_up)
    if len(idx) == 1:
        return _site_from_row(idx[0])
    if len(idx) > 1:
        candidates = sorted(f"{t.names[i]}/{t.ufs[i]}" for i in idx)
        raise InvalidInput(
            f"Município ambíguo: {name!r} existe em {len(idx)} estados.",
            hint="Informe a UF. Candidatos: " + ", ".join(candidates),
            candidates=candidates,
        )
    suggestions = _suggest(key, uf)
    where = f" em {uf.upper()}" if uf else ""
    raise InvalidInput(
        f"Município não encontrado: {name!r}{where}.",
        hint=("Verifique a grafia" + (": talvez " + ", ".join(suggestions) if suggestions else "")
              + "; ou informe o código IBGE ou a latitude/longitude."),
        suggestions=suggestions,
    )


def _suggest(key: str, uf: str | None, limit: int = 5) -> list[str]:
    import difflib

    t = _table()
    names = difflib.get_close_matches(key, list(t.by_name), n=limit * 2, cutoff=0.75)
    out = []
    for n in names:
        for i in t.by_name[n]:
            if uf is None or t.ufs[i] == uf.strip().upper():
                out.append(f"{t.names[i]}/{t.ufs[i]}")
    return out[:limit]


def find_by_ibge_code(ibge_code: int) -> Site:
    t = _table()
    i = t.by_code.get(int(ibge_code))
    if i is None:
        raise InvalidInput(
            f"Código IBGE desconhecido: {ibge_code}.",
            hint="O código IBGE de município tem 7 dígitos, por exemplo 3170206 (Uberlândia/MG).",
        )
    return _site_from_row(i)


def _haversine_km(lat1_deg: float, lon1_deg: float, lat2_deg: np.ndarray, lon2_deg: np.ndarray) -> np.ndarray:
    p1, p2 = math.radians(lat1_deg), np.radians(lat2_deg)
    dphi = p2 - p1
    dlmb = np.radians(lon2_deg) - math.radians(lon1_deg)
    a = np.sin(dphi / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def site_from_coordinates(latitude_deg: float, longitude_deg: float) -> Site:
    """A lat/lon in Brazil, tagged with the nearest municipal seat (its UF and time zone)."""
    if not (math.isfinite(latitude_deg) and math.isfinite(longitude_deg)):
        raise InvalidInput("Coordenadas inválidas.", hint="Informe latitude e longitude em graus decimais.")
    inside_box = (BRAZIL_LAT_MIN_DEG <= latitude_deg <= BRAZIL_LAT_MAX_DEG
                  and BRAZIL_LON_MIN_DEG <= longitude_deg <= BRAZIL_LON_MAX_DEG)
    hint = ("O dimensionamento cobre apenas o Brasil (latitude −33,8° a 5,3°, longitude −74° a −28,8°; "
            "longitude oeste é negativa). Confira o sinal das coordenadas ou informe o município.")
    if not inside_box:
        raise InvalidInput(f"Local fora do Brasil: ({latitude_deg}, {longitude_deg}).", hint=hint)
    t = _table()
    dist_km = _haversine_km(latitude_deg, longitude_deg, t.lat_deg, t.lon_deg)
    i = int(np.argmin(dist_km))
    if dist_km[i] > MAX_DISTANCE_TO_SEAT_KM:
        raise InvalidInput(
            f"Local fora do Brasil ou longe de qualquer sede municipal ({format_number(float(dist_km[i]))} km).",
            hint=hint,
        )
    return _site_from_row(i, latitude_deg, longitude_deg, float(dist_km[i]))


def resolve_site(*, municipality: str | None = None, uf: str | None = None, ibge_code: int | None = None,
                 latitude_deg: float | None = None, longitude_deg: float | None = None) -> Site:
    """One entry point for the three ways to give a site (coordinates win, then IBGE, then name)."""
    if latitude_deg is not None or longitude_deg is not None:
        if latitude_deg is None or longitude_deg is None:
            raise InvalidInput("Informe latitude e longitude juntas.", hint='Ex.: {"lat": -18.9, "lon": -48.3}')
        return site_from_coordinates(latitude_deg, longitude_deg)
    if ibge_code is not None:
        return find_by_ibge_code(ibge_code)
    if municipality:
        return find_municipality(municipality, uf)
    raise InvalidInput(
        "Local não informado.",
        hint='Informe {"municipality": "Uberlândia", "uf": "MG"}, {"ibge_code": 3170206} ou {"lat": ..., "lon": ...}.',
    )
