"""The roof a design must fit: faces (tilt, azimuth, area), module footprint, mounting structure.

- Several faces (e.g. east + west): each face gets its own plane-of-array irradiance and cell
  temperature; the array is spread over the faces in proportion to their areas (equal shares
  when areas are not given), each face on its own MPPT or microinverters. DC per watt is the
  share-weighted sum of the faces' DC, exact for the linear PVWatts model.
- Module footprint: length × width from the spec registry, else area ≈ P / (η · 1000 W/m²)
  with η from the product name ("22,1% EF.") or a conservative 20 % — said as an assumption.
- Slab (laje) and ground: modules stand tilted in rows; the row pitch that keeps the winter-
  solstice noon sun above the row in front is L·cos β + L·sin β / tan(h), h = 90° − |lat| −
  23,45°; the roof area used is the footprint times pitch/L.
- A kit engineered for another roof gets the catalog's structure for this roof (in stock,
  priced, with the number of modules it holds) swapped into its bill of materials.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.catalog.models import Category, Product, RoofType
from app.sizing.simulation import SiteIrradiance, dc_power_cec_per_w, dc_power_pvwatts_per_w
from app.core.text import format_number, parse_number

DEFAULT_MODULE_EFFICIENCY = 0.20  # conservative for today's 540–710 W modules (21–23 %): more area, not less
STC_W_M2 = 1000.0
_EFF_RE = re.compile(r"(\d{2}(?:[.,]\d+)?)\s*%\s*ef", re.IGNORECASE)
TILTED_ROW_ROOFS = (RoofType.SLAB, RoofType.GROUND)
ROOF_PT = {"ceramic": "telhado cerâmico", "fiber_cement": "fibrocimento", "metal": "metálico", "slab": "laje",
           "ground": "solo"}


@dataclass(frozen=True)
class Face:
    tilt_deg: float
    azimuth_deg: float
    area_m2: float | None
    share: float
    irr: SiteIrradiance


@dataclass(frozen=True)
class PVArray:
    """The array over one or more roof faces; per-watt DC profiles are share-weighted."""

    faces: tuple[Face, ...]

    @property
    def times(self):
        return self.faces[0].irr.times

    def dc_pvwatts_per_w(self, gamma_per_c: float) -> np.ndarray:
        return sum(f.share * dc_power_pvwatts_per_w(f.irr.poa.transmitted_w_m2, f.irr.cell_temp_c, gamma_per_c)
                   for f in self.faces)  # type: ignore[return-value]

    def dc_cec_per_w(self, cec: dict[str, Any]) -> np.ndarray:
        return sum(f.share * dc_power_cec_per_w(f.irr.poa.transmitted_w_m2, f.irr.cell_temp_c, cec)
                   for f in self.faces)  # type: ignore[return-value]

    @property
    def poa_kwh_m2(self) -> float:
        return float(sum(f.share * f.irr.poa.global_w_m2.sum() / 1000 for f in self.faces))

    @property
    def area_m2(self) -> float | None:
        areas = [f.area_m2 for f in self.faces]
        return float(sum(areas)) if all(a is not None for a in areas) else None  # type: ignore[arg-type]

    def describe(self) -> str:
        return "; ".join(f"face {i + 1}: inclinação {format_number(f.tilt_deg)}°, azimute {format_number(f.azimuth_deg)}°"
                         + (f", {format_number(f.area_m2, decimals=1)} m²" if f.area_m2 is not None else "")
                         + f", {format_number(100 * f.share)} % dos módulos" for i, f in enumerate(self.faces))


def shares(areas: list[float | None]) -> list[float]:
    if all(a is not None for a in areas):
        total = sum(areas)  # type: ignore[arg-type]
        return [a / total for a in areas]  # type: ignore[operator]
    return [1 / len(areas)] * len(areas)


def module_efficiency(text: str, efficiency_pct: float | None = None) -> tuple[float, bool]:
    """(η, known): from the typed spec, else "22,1% EF." in the name, else the conservative default."""
    if efficiency_pct and 10 <= efficiency_pct <= 30:
        return efficiency_pct / 100, True
    m = _EFF_RE.search(text or "")
    if m:
        v = parse_number(m.group(1))
        if 10 <= v <= 30:
            return v / 100, True
    return DEFAULT_MODULE_EFFICIENCY, False


def derived_module_area_m2(power_w: float, efficiency: float) -> float:
    """Module area from power and efficiency, area ≈ P / (η · 1000 W/m²) [m²]."""
    return power_w / (efficiency * STC_W_M2)


def row_pitch_factor(roof: RoofType, tilt_deg: float, latitude_deg: float) -> float:
    """Roof area per module footprint (≥ 1): 1 on pitched roofs, row spacing on slab and ground."""
    if roof not in TILTED_ROW_ROOFS or tilt_deg <= 0:
        return 1.0
    h = math.radians(max(90 - abs(latitude_deg) - 23.45, 15.0))  # winter-solstice noon elevation (≥ 15°)
    b = math.radians(tilt_deg)
    return math.cos(b) + math.sin(b) / math.tan(h)


@dataclass(frozen=True)
class StructureSwap:
    product: Product
    modules_per_unit: int

    def units(self, n_modules: int) -> int:
        return math.ceil(n_modules / self.modules_per_unit)

    def cost_brl(self, n_modules: int) -> float:
        return self.units(n_modules) * float(self.product.price_brl)  # type: ignore[arg-type]


def structure_for(products: list[Product], roof: RoofType) -> StructureSwap | None:
    """The catalog's cheapest per-module structure for ``roof`` (in stock, priced, capacity known)."""
    best: tuple[float, StructureSwap] | None = None
    for p in products:
        s = p.structure
        if (p.category is not Category.STRUCTURE or not p.in_stock or not p.price_brl or s is None
                or s.roof_type is not roof or not s.modules_supported):
            continue
        per_module = p.price_brl / s.modules_supported
        if best is None or per_module < best[0]:
            best = (per_module, StructureSwap(p, s.modules_supported))
    return best[1] if best else None


@dataclass(frozen=True)
class RoofFit:
    """How much roof one module takes here: footprint (registry dimensions or P/η) × row pitch."""

    area_m2: float | None
    pitch: float

    def module_area(self, power_w: float, known_area_m2: float | None, text: str,
                    efficiency_pct: float | None = None) -> tuple[float, bool]:
        """(roof area per module [m²], from real dimensions?)."""
        if known_area_m2:
            return known_area_m2 * self.pitch, True
        eta, _ = module_efficiency(text, efficiency_pct)
        return derived_module_area_m2(power_w, eta) * self.pitch, False

    def kit_module_area(self, k) -> tuple[float, bool]:
        return self.module_area(float(k.modules[0].power_w), k.module_area_m2, k.modules[0].description)  # type: ignore[arg-type]
