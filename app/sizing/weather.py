"""Hourly weather files a user brings: EPW, TMY2, TMY3 and SAM CSV, in any encoding they come in.

One entry point, :func:`read_weather` (bytes + file name → :class:`WeatherYear`), strict
and all-or-nothing: the whole file is decoded, parsed and checked before anything is
returned, and the first problem raises :class:`WeatherFileError` (a 422) naming the line
and the field, e.g. "linha 1.207, campo GHI: '12a' não é um número".

- Encoding: UTF-8 first (with or without BOM), then Windows-1252, then ISO-8859-1: about
  half of Brazilian EPW files (INMET, SWERA, LabEEE conversions) carry accented city names
  in Latin-1.
- Location from the header (EPW ``LOCATION``, TMY3/SAM first lines, TMY2 header), so no
  coordinates need to be asked.
- A year of 8,760 hours in file order (8,784 for a leap year: 29 February is dropped).
  Stamps are the middle of each hour in the file's standard time, as PVWatts does; every
  format labels the end of the hour.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.core.errors import InvalidInput
from app.sizing.resource import BASE_GHI_UNCERTAINTY_PCT, SYNTHETIC_YEAR, WeatherYear
from app.core.text import format_number, format_plain

MAX_BYTES = 8 * 1024 * 1024  # an hourly year is 1.5–2 MB in every supported format
HOURS = 8760
FORMATS = "EPW, TMY2, TMY3 ou CSV do SAM"

# plausible ranges [unit]: a value outside is a broken or mis-scaled file, not weather
RANGES = {"GHI": (0.0, 1500.0), "DNI": (0.0, 1400.0), "DHI": (0.0, 1000.0), "temperatura": (-60.0, 65.0),
          "vento": (0.0, 60.0)}


class WeatherFileError(InvalidInput):
    """A weather file that cannot be used, with the line (1-based) and field at fault."""

    code = "arquivo_clima_invalido"

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None,
                 hint: str | None = None) -> None:
        where = ", ".join(p for p in (f"linha {format_number(line)}" if line else None,
                                      f"campo {field}" if field else None) if p)
        super().__init__(f"Arquivo de clima inválido{': ' + where if where else ''}: {message}",
                         hint=hint or f"Envie um ano horário completo (8.760 h) em {FORMATS}.",
                         line=line, field=field)


@dataclass
class _Parsed:
    ghi: np.ndarray
    dni: np.ndarray
    dhi: np.ndarray
    temp: np.ndarray
    wind: np.ndarray
    albedo: np.ndarray | None
    months: np.ndarray
    days: np.ndarray
    first_line: int  # file line of the first hour (1-based)
    latitude_deg: float
    longitude_deg: float
    utc_offset_h: float
    place: str
    fmt: str


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name of a weather file's bytes (UTF-8, else cp1252, else Latin-1)."""
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(enc), enc.replace("-sig", "")
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _num(text: str, line: int, field: str) -> float:
    try:
        v = float(text.strip())
    except ValueError:
        raise WeatherFileError(f"{text.strip()!r} não é um número.", line=line, field=field) from None
    if not math.isfinite(v):
        raise WeatherFileError(f"{text.strip()!r} não é um número finito.", line=line, field=field)
    return v


def _check_range(values: np.ndarray, field: str, first_line: int, missing_hint: str = "") -> None:
    lo, hi = RANGES[field]
    bad = np.flatnonzero((values < lo) | (values > hi))
    if bad.size:
        k = int(bad[0])
        raise WeatherFileError(
            f"{format_plain(float(values[k]))} fora da faixa plausível {format_plain(lo)}–{format_plain(hi)}" + (f" {missing_hint}" if missing_hint else "") + ".",
            line=first_line + k, field=field)


def _coordinate(text: str, line: int, field: str, lo: float, hi: float) -> float:
    v = _num(text, line, field)
    if not lo <= v <= hi:
        raise WeatherFileError(f"{format_plain(v)} fora de {format_plain(lo)}…{format_plain(hi)}.", line=line,
                               field=field)
    return v


# ---------------------------------------------------------------- EPW


def _parse_epw(lines: list[str]) -> _Parsed:
    head = next(csv.reader([lines[0]]))
    if len(head) < 10:
        raise WeatherFileError("o cabeçalho LOCATION precisa de 10 campos (cidade, UF, país, fonte, WMO, latitude, "
                               "longitude, fuso, altitude).", line=1, field="LOCATION")
    lat = _coordinate(head[6], 1, "LOCATION latitude", -90, 90)
    lon = _coordinate(head[7], 1, "LOCATION longitude", -180, 180)
    tz = _coordinate(head[8], 1, "LOCATION fuso horário", -12, 14)
    data_start = next((i for i, ln in enumerate(lines[:20]) if ln.upper().startswith("DATA PERIODS")), 7) + 1
    rows = [(i + 1, ln) for i, ln in enumerate(lines[data_start:], start=data_start) if ln.strip()]
    cols = {"mês": 1, "dia": 2, "hora": 3, "temperatura": 6, "GHI": 13, "DNI": 14, "DHI": 15, "vento": 21}
    out = {k: np.empty(len(rows)) for k in cols}
    albedo = np.full(len(rows), np.nan)
    for k, (line_no, text) in enumerate(rows):
        parts = text.split(",")
        if len(parts) < 22:
            raise WeatherFileError(f"{len(parts)} campos; um registro EPW tem 35 (mínimo 22 até a velocidade do "
                                   "vento).", line=line_no)
        for name, idx in cols.items():
            out[name][k] = _num(parts[idx], line_no, name)
        if len(parts) > 32 and parts[32].strip():
            try:
                albedo[k] = float(parts[32])
            except ValueError:
                pass  # albedo is optional: a bad one falls back to 0.2
    return _Parsed(out["GHI"], out["DNI"], out["DHI"], out["temperatura"], out["vento"], albedo,
                   out["mês"].astype(int), out["dia"].astype(int), rows[0][0] if rows else data_start + 1,
                   lat, lon, tz, f"{head[1].strip()}/{head[2].strip()}", "EPW")


# ---------------------------------------------------------------- TMY3 and SAM CSV


_ALIASES = {
    "GHI": ("ghi (w/m^2)", "ghi", "global horizontal irradiance", "glo"),
    "DNI": ("dni (w/m^2)", "dni", "direct normal irradiance", "dir", "beam"),
    "DHI": ("dhi (w/m^2)", "dhi", "diffuse horizontal irradiance", "dif", "diffuse"),
    "temperatura": ("dry-bulb (c)", "tdry", "temperature", "dry bulb", "drybulb", "temp", "air temperature"),
    "vento": ("wspd (m/s)", "wspd", "wind speed", "windspeed", "wind"),
    "albedo": ("alb (unitless)", "albedo", "alb"),
    "mês": ("month",), "dia": ("day",),
}


def _column_index(names: list[str], field: str, line: int, required: bool = True) -> int | None:
    lowered = [n.strip().lower() for n in names]
    for alias in _ALIASES[field]:
        if alias in lowered:
            return lowered.index(alias)
    if required:
        raise WeatherFileError(f"coluna de {field} não encontrada (aceitas: {', '.join(_ALIASES[field][:3])}).",
                               line=line, field=field)
    return None


def _parse_table(lines: list[str], meta: dict[str, str], header_line: int, fmt: str,
                 date_of: Callable[[list[str], int], tuple[int, int]] | None) -> _Parsed:
    names = next(csv.reader([lines[header_line - 1]]))
    idx = {f: _column_index(names, f, header_line) for f in ("GHI", "DNI", "DHI", "temperatura", "vento")}
    alb_i = _column_index(names, "albedo", header_line, required=False)
    month_i = _column_index(names, "mês", header_line, required=date_of is None)
    day_i = _column_index(names, "dia", header_line, required=date_of is None)
    rows = [(i + 1, ln) for i, ln in enumerate(lines[header_line:], start=header_line) if ln.strip()]
    out = {k: np.empty(len(rows)) for k in idx}
    months, days = np.empty(len(rows), int), np.empty(len(rows), int)
    albedo = np.full(len(rows), np.nan)
    width = len(names)
    for k, (line_no, text) in enumerate(rows):
        parts = next(csv.reader([text]))
        if len(parts) < width:
            raise WeatherFileError(f"{len(parts)} campos; o cabeçalho (linha {header_line}) tem {width}.",
                                   line=line_no)
        for name, i in idx.items():
            out[name][k] = _num(parts[i], line_no, name)
        if date_of is not None:
            months[k], days[k] = date_of(parts, line_no)
        else:
            months[k], days[k] = int(_num(parts[month_i], line_no, "mês")), int(_num(parts[day_i], line_no, "dia"))
        if alb_i is not None:
            try:
                albedo[k] = float(parts[alb_i])
            except ValueError:
                pass
    lat = _coordinate(meta["lat"], meta["line"], "latitude", -90, 90)
    lon = _coordinate(meta["lon"], meta["line"], "longitude", -180, 180)
    tz = _coordinate(meta["tz"], meta["line"], "fuso horário", -12, 14)
    return _Parsed(out["GHI"], out["DNI"], out["DHI"], out["temperatura"], out["vento"], albedo, months, days,
                   rows[0][0] if rows else header_line + 1, lat, lon, tz, meta.get("place", ""), fmt)


def _tmy3_date(parts: list[str], line_no: int) -> tuple[int, int]:
    try:
        m, d, _ = parts[0].split("/")
        return int(m), int(d)
    except ValueError:
        raise WeatherFileError(f"data {parts[0]!r} não está em MM/DD/AAAA.", line=line_no, field="Date") from None


def _parse_tmy3(lines: list[str]) -> _Parsed:
    head = next(csv.reader([lines[0]]))
    if len(head) < 7:
        raise WeatherFileError("a linha 1 do TMY3 precisa de 7 campos (USAF, nome, UF, fuso, latitude, longitude, "
                               "altitude).", line=1)
    meta = {"lat": head[4], "lon": head[5], "tz": head[3], "line": 1, "place": f"{head[1].strip()}/{head[2].strip()}"}
    return _parse_table(lines, meta, 2, "TMY3", _tmy3_date)


def _parse_sam(lines: list[str]) -> _Parsed:
    keys = [k.strip().lower() for k in next(csv.reader([lines[0]]))]
    values = next(csv.reader([lines[1]]))

    def get(*names: str) -> str:
        for n in names:
            if n in keys and keys.index(n) < len(values):
                return values[keys.index(n)]
        raise WeatherFileError(f"cabeçalho sem {names[0]}.", line=2, field=names[0])

    meta = {"lat": get("latitude", "lat"), "lon": get("longitude", "lon"), "tz": get("time zone", "timezone", "tz"),
            "line": 2, "place": " ".join(v for v in (get_opt(keys, values, "city"), get_opt(keys, values, "state")) if v)}
    return _parse_table(lines, meta, 3, "SAM CSV", None)


def get_opt(keys: list[str], values: list[str], name: str) -> str:
    return values[keys.index(name)].strip() if name in keys and keys.index(name) < len(values) else ""


# ---------------------------------------------------------------- TMY2 (fixed width)


def _parse_tmy2(lines: list[str]) -> _Parsed:
    h = lines[0]
    try:
        lat = (1 if h[37] == "N" else -1) * (int(h[39:41]) + int(h[42:44]) / 60)
        lon = (-1 if h[45] == "W" else 1) * (int(h[47:50]) + int(h[51:53]) / 60)
        tz = float(h[33:36])
    except (ValueError, IndexError):
        raise WeatherFileError("cabeçalho TMY2 fora do formato (WBAN, cidade, UF, fuso, latitude N/S graus minutos, "
                               "longitude E/W graus minutos).", line=1) from None
    spans = {"mês": (3, 5), "dia": (5, 7), "GHI": (17, 21), "DNI": (23, 27), "DHI": (29, 33),
             "temperatura": (67, 71), "vento": (95, 98)}
    rows = [(i + 1, ln) for i, ln in enumerate(lines[1:], start=1) if ln.strip()]
    out = {k: np.empty(len(rows)) for k in spans}
    for k, (line_no, text) in enumerate(rows):
        if len(text) < 98:
            raise WeatherFileError(f"registro com {len(text)} caracteres; o TMY2 tem colunas fixas até a 98.",
                                   line=line_no)
        for name, (a, b) in spans.items():
            out[name][k] = _num(text[a:b], line_no, name)
    # TMY2 stores temperature and wind speed in tenths
    return _Parsed(out["GHI"], out["DNI"], out["DHI"], out["temperatura"] / 10, out["vento"] / 10, None,
                   out["mês"].astype(int), out["dia"].astype(int), 2, lat, lon, tz,
                   f"{h[7:29].strip()}/{h[30:32].strip()}", "TMY2")


# ---------------------------------------------------------------- entry point


def _detect(name: str, lines: list[str]) -> Callable[[list[str]], _Parsed]:
    first = lines[0].strip().upper() if lines else ""
    suffix = Path(name).suffix.lower()
    if first.startswith("LOCATION"):
        return _parse_epw
    if suffix == ".tm2" or (len(lines[0]) >= 50 and lines[0][:1] == " " and lines[0][1:6].strip().isdigit()):
        return _parse_tmy2
    second = lines[1].strip().lower() if len(lines) > 1 else ""
    if second.startswith("date (mm/dd/yyyy)"):
        return _parse_tmy3
    third = lines[2].strip().lower() if len(lines) > 2 else ""
    if "latitude" in first.lower() and third.startswith("year"):
        return _parse_sam
    raise WeatherFileError(f"formato não reconhecido ({FORMATS}).", line=1,
                           hint="EPW começa com 'LOCATION,'; TMY3 tem 'Date (MM/DD/YYYY)' na linha 2; o CSV do SAM "
                                "tem latitude/longitude nas linhas 1–2 e 'Year,Month,Day,Hour' na linha 3.")


def read_weather(data: bytes, name: str = "arquivo") -> WeatherYear:
    """A weather file's bytes as a :class:`WeatherYear` at the location its header gives."""
    if len(data) > MAX_BYTES:
        raise WeatherFileError(f"{format_number(len(data) / 1e6, decimals=1)} MB; o limite é "
                               f"{format_number(MAX_BYTES / 1e6)} MB.")
    if not data.strip():
        raise WeatherFileError("arquivo vazio.")
    text, encoding = decode(data)
    lines = text.splitlines()
    p = _detect(name, lines)(lines)
    n = p.ghi.size
    leap_day = (p.months == 2) & (p.days == 29)
    if n == HOURS + 24 and leap_day.sum() == 24:
        keep = ~leap_day
        p.ghi, p.dni, p.dhi, p.temp, p.wind = (a[keep] for a in (p.ghi, p.dni, p.dhi, p.temp, p.wind))
        p.albedo = None if p.albedo is None else p.albedo[keep]
        p.months, p.days = p.months[keep], p.days[keep]
        n = HOURS
    if n != HOURS:
        raise WeatherFileError(f"{format_number(n)} registros horários; é preciso um ano completo de "
                               f"{format_number(HOURS)} (ou {format_number(HOURS + 24)}).", line=p.first_line + min(n, HOURS))
    expected = pd.date_range(f"{SYNTHETIC_YEAR}-01-01", periods=HOURS, freq="h")
    off = np.flatnonzero((p.months != expected.month) | (p.days != expected.day))
    if off.size:
        k = int(off[0])
        raise WeatherFileError(f"data {p.days[k]:02d}/{p.months[k]:02d} onde se esperava {expected.day[k]:02d}/"
                               f"{expected.month[k]:02d}: as horas devem seguir de 1º de janeiro a 31 de dezembro.",
                               line=p.first_line + k, field="data")
    hint = "(9999/999 marcam dado ausente no EPW: preencha as lacunas antes de enviar)" if p.fmt == "EPW" else ""
    for field, values in (("GHI", p.ghi), ("DNI", p.dni), ("DHI", p.dhi), ("temperatura", p.temp),
                          ("vento", p.wind)):
        _check_range(values, field, p.first_line, hint)
    if p.ghi.sum() / 1000 < 500:
        raise WeatherFileError(f"GHI anual de {format_number(p.ghi.sum() / 1000)} kWh/m²: implausível para um ano típico "
                               "(esperado 1.100–2.500 no Brasil).", field="GHI")
    albedo = 0.2
    if p.albedo is not None and np.isfinite(p.albedo).all() and ((p.albedo >= 0.05) & (p.albedo <= 0.9)).all():
        albedo = float(p.albedo.mean())
    tz = f"Etc/GMT{int(-p.utc_offset_h):+d}" if p.utc_offset_h else "UTC"
    times = pd.date_range(f"{SYNTHETIC_YEAR}-01-01 00:30", periods=HOURS, freq="h", tz=tz)
    label = f"{p.fmt} {name}" + (f" ({p.place})" if p.place.strip("/ ") else "")
    return WeatherYear(
        times=times, ghi_w_m2=p.ghi, dni_w_m2=p.dni, dhi_w_m2=p.dhi, temp_air_c=p.temp, wind_speed_m_s=p.wind,
        latitude_deg=p.latitude_deg, longitude_deg=p.longitude_deg, albedo=albedo,
        source=f"weather file: {label}",
        provenance=(f"weather file supplied by the user: {name} ({p.fmt}, {encoding}; location from its header: "
                    f"{p.latitude_deg:.3f}, {p.longitude_deg:.3f}, UTC{p.utc_offset_h:+g})",),
        ghi_uncertainty_pct=BASE_GHI_UNCERTAINTY_PCT, design_min_temp_c=float(np.min(p.temp)),
        notes=(f"Arquivo de clima {p.fmt} ({encoding}): {p.place or name}, GHI anual "
               f"{format_number(p.ghi.sum() / 1000)} kWh/m².",),
    )


def load_weather_file(path: str | Path) -> WeatherYear:
    """A weather file on disk (see :func:`read_weather`)."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"Arquivo de clima não encontrado: {p}.", hint=f"Informe um arquivo {FORMATS}.")
    return read_weather(p.read_bytes(), p.name)
