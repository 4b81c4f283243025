"""Specs written only in names and descriptions, and sanity checks on upstream specs.

All parsers take free Portuguese text and return ``None`` when the text does not say;
they never guess. Units are in the function names.
"""

from __future__ import annotations

import math
import re

from app.catalog.models import Phase
from app.core.text import fold, parse_decimal

_NUM = r"(\d+(?:[.,]\d+)?)"
_AC_VOLTAGES_V = (110, 115, 120, 127, 220, 230, 240, 380, 400)
_BATTERY_BUS_V = (12, 24, 36, 48, 51.2, 96)


def _watts(number: str, kilo: str) -> float:
    """"3.500" W is three thousand five hundred (Brazilian thousands dot); "3.5" kW is 3500 W."""
    if not kilo and re.fullmatch(r"\d{1,3}(\.\d{3})+", number):
        return float(number.replace(".", ""))
    return parse_decimal(number) * (1000.0 if kilo else 1.0)


# Powers that are not the nominal one: surge ("P. Surto: 3.500W"), peak, PV array maximum.
_NOT_NOMINAL_RE = re.compile(r"(surto|pico|pvmax|pv max|maxima fv|fv maxima)\W{0,3}$")


def parse_power_w(text: str) -> float | None:
    """Nominal power in a name/description [W].

    "Potência Contínua: 2000 W" wins over other mentions; otherwise the first
    "<n> W" or "<n> kW" (decimal comma or dot; "3.500 W" is 3500 W) that is not a surge,
    peak or PV-array figure ("P. Surto: 3.500W", "PVmax: 15kW"). Peak-watt figures
    ("680Wp") are not nominal power: see :func:`parse_peak_power_w`.
    """
    f = fold(text)
    m = re.search(r"potencia (?:continua|nominal)[^:]*:\s*" + _NUM + r"\s*(k?)w\b", f)
    if m:
        value = _watts(m.group(1), m.group(2))
        return value if value > 0 else None
    for m in re.finditer(r"(?<![\w.,])" + _NUM + r"\s*(k?)w\b(?!p)", f):
        if _NOT_NOMINAL_RE.search(f[max(0, m.start() - 16):m.start()]):
            continue
        value = _watts(m.group(1), m.group(2))
        return value if value > 0 else None
    return None


def parse_peak_power_w(text: str) -> float | None:
    """Peak DC power of a kit or module [Wp]: "680Wp", "1,14 kWp"."""
    m = re.search(r"(?<![\w.,])" + _NUM + r"\s*(k?)wp\b", fold(text))
    if not m:
        return None
    return parse_decimal(m.group(1)) * (1000.0 if m.group(2) else 1.0)


def parse_phase(text: str) -> Phase | None:
    """Grid connection written in the name: Mono/Monofásico, Bifásico, Tri/Trifásico."""
    f = fold(text)
    if re.search(r"\btrifasic[oa]\b|\btri\b|\b3f\b", f):
        return Phase.THREE
    if re.search(r"\bbifasic[oa]\b", f):
        return Phase.TWO
    if re.search(r"\bmonofasic[oa]\b|\bmono\b", f):
        return Phase.SINGLE
    return None


def parse_voltages_v(text: str) -> tuple[float | None, float | None]:
    """``(battery_dc_v, ac_v)`` from "12/127V", "48/220-230V", "220V 48V".

    The "<dc>/<ac>V" form of off-grid inverters gives both; otherwise a standalone
    voltage is AC when it is a grid voltage and DC when it is a battery-bus voltage.
    """
    f = fold(text)
    m = re.search(r"\b(\d{2})\s*/\s*(\d{3})(?:\s*-\s*\d{3})?\s*v", f)
    if m:
        return float(m.group(1)), float(m.group(2))
    ac = dc = None
    for v in re.findall(r"(?<![\w.,/-])" + _NUM + r"\s*v\b", f):
        val = parse_decimal(v)
        if ac is None and val in _AC_VOLTAGES_V:
            ac = val
        elif dc is None and val in _BATTERY_BUS_V:
            dc = val
    return dc, ac


def parse_mppt_count(text: str) -> int | None:
    """Number of MPPT trackers: "2 MPPT" → 2 (not "MPPT 80A", a charger current)."""
    m = re.search(r"\b(\d{1,2})\s*mppts?\b", fold(text))
    return int(m.group(1)) if m and 0 < int(m.group(1)) <= 20 else None


def parse_module_efficiency_pct(text: str) -> float | None:
    """Module efficiency: "(22,2% EF.)", "EF. 22.6%", "EF.22.5%" → 22.2 / 22.6 / 22.5 [%]."""
    f = fold(text)
    m = re.search(_NUM + r"\s*%\s*ef\b", f) or re.search(r"\bef\.?\s*" + _NUM + r"\s*%", f)
    if not m:
        return None
    value = parse_decimal(m.group(1))
    return value if 10.0 <= value <= 30.0 else None


def parse_module_technology(text: str) -> tuple[str | None, bool | None]:
    """``(technology, bifacial)`` from markers like "N-TYPE", "HJT", "BIFACIAL", "BF"."""
    f = fold(text)
    tech = None
    if re.search(r"\bhjt\b", f):
        tech = "n-type HJT"
    elif re.search(r"\btopcon\b", f):
        tech = "n-type TOPCon"
    elif re.search(r"\bn-?type\b", f):
        tech = "n-type"
    elif re.search(r"monocristalin|\bmono\b", f):
        tech = "mono"
    elif re.search(r"policristalin|\bpoly\b", f):
        tech = "poly"
    bifacial = True if re.search(r"bifacial|\bbf\b", f) else None
    return tech, bifacial


def parse_battery_kwh(text: str) -> float | None:
    """Usable/nominal energy written as "5kWh", "3.2KWH", "LP 5.1KWH" [kWh]."""
    m = re.search(r"(?<![\w.,])" + _NUM + r"\s*kwh\b", fold(text))
    return parse_decimal(m.group(1)) if m else None


def parse_modules_supported(text: str) -> int | None:
    """Modules a structure holds: "P/ 2 MÓDULOS", "LAJE 4 MODULOS" → 2 / 4."""
    m = re.search(r"\b(\d{1,3})\s*modulos\b", fold(text))
    return int(m.group(1)) if m else None


def plausible_efficiency_pct(
    value: object, *, kind: str, power_w: float | None = None, power_kw: float | None = None
) -> tuple[float | None, str | None]:
    """An upstream ``efficiency`` as a candidate, or ``(None, reason)`` when it is a copy.

    The export often copies the power into ``efficiency`` (2250 for a 2250 W inverter,
    5 for a 5 kW one, 585 for a 585 W panel): such a value is rejected here. Whether the
    rest is a plausible efficiency for a ``kind`` ("module"/"inverter") is decided by the
    declared rules (``app/catalog/plausibility.yaml``), so every range failure is reported.
    """
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return None, None
    v = float(value)
    for p in (power_w, power_kw, (power_w or 0) / 1000 or None):
        if p is not None and math.isclose(v, p, rel_tol=1e-3):
            return None, f"efficiency={v:g} repete a potência"
    return v, None
