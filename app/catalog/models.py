"""Typed product records: the contract between ingestion, the store, sizing and the API.

Units are in field names. A spec that no trusted source gives is ``None`` and its reason
is in ``Product.missing_specs``; where a value came from is in ``Product.spec_sources``
(e.g. ``"name"``, ``"description"``, ``"upstream.technical_specs"``, ``"cec:<CEC name>"``,
``"datasheet:<file>"``). Never invent a spec.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Category(StrEnum):
    MODULE = "module"
    INVERTER = "inverter"
    BATTERY = "battery"
    STRUCTURE = "structure"
    STRING_BOX = "string_box"
    CABLE = "cable"
    KIT = "kit"
    CHARGE_CONTROLLER = "charge_controller"
    EV_CHARGER = "ev_charger"
    ACCESSORY = "accessory"


class InverterType(StrEnum):
    GRID_TIE = "grid_tie"
    HYBRID = "hybrid"
    OFF_GRID = "off_grid"
    MICRO = "micro"


class Phase(StrEnum):
    SINGLE = "single_phase"
    TWO = "two_phase"
    THREE = "three_phase"


class RoofType(StrEnum):
    CERAMIC = "ceramic"
    FIBER_CEMENT = "fiber_cement"
    METAL = "metal"
    SLAB = "slab"
    GROUND = "ground"


class Offer(BaseModel):
    """One distributor's listing of the product."""

    distributor: str
    source_id: str = Field(description="row id in the upstream export")
    price_brl: float | None = None
    available: bool = False
    distribution_center: str | None = None


class ModuleSpecs(BaseModel):
    pmax_w: float | None = None
    voc_v: float | None = None
    isc_a: float | None = None
    vmp_v: float | None = None
    imp_a: float | None = None
    temp_coeff_voc_pct_per_c: float | None = Field(None, description="β_Voc [%/°C], negative")
    temp_coeff_isc_pct_per_c: float | None = Field(None, description="α_Isc [%/°C]")
    temp_coeff_pmax_pct_per_c: float | None = Field(None, description="γ_Pmp [%/°C], negative")
    efficiency_pct: float | None = None
    length_mm: float | None = None
    width_mm: float | None = None
    cells: int | None = None
    technology: str | None = Field(None, description="mono, poly, n-type TOPCon, HJT…")
    bifacial: bool | None = None
    cec: dict[str, float | str] | None = Field(
        None, description="CEC single-diode parameters (pvlib CECMod row) when the model is in the CEC database"
    )

    @property
    def area_m2(self) -> float | None:
        if self.length_mm and self.width_mm:
            return self.length_mm * self.width_mm / 1e6
        return None


class InverterSpecs(BaseModel):
    inverter_type: InverterType | None = None
    phase: Phase | None = None
    ac_voltage_v: float | None = None
    ac_power_w: float | None = Field(None, description="nominal AC output (Paco) [W]")
    max_dc_power_w: float | None = None
    max_dc_voltage_v: float | None = Field(None, description="absolute max DC input voltage [V]")
    mppt_min_v: float | None = None
    mppt_max_v: float | None = None
    mppt_count: int | None = None
    max_input_current_per_mppt_a: float | None = None
    strings_per_mppt: int | None = None
    efficiency_pct: float | None = Field(None, description="max or CEC-weighted efficiency [%]")
    cec: dict[str, float | str] | None = Field(
        None, description="CEC/Sandia inverter parameters (pvlib CECInverter row) when matched"
    )


class BatterySpecs(BaseModel):
    capacity_kwh: float | None = None
    nominal_voltage_v: float | None = None
    chemistry: str | None = None
    cycles: int | None = None
    depth_of_discharge_pct: float | None = None


class StructureSpecs(BaseModel):
    roof_type: RoofType | None = None
    modules_supported: int | None = None


class KitComponent(BaseModel):
    category: Category
    description: str
    manufacturer: str | None = None
    quantity: int
    power_w: float | None = None
    product_id: str | None = Field(None, description="matching catalog product, when found")


class QualityNote(BaseModel):
    """A value a plausibility rule rejected, and what the catalog serves instead.

    ``action`` is ``"corrected"`` (``value`` comes from ``source``, quoted in ``evidence``) or
    ``"held_back"`` (``value`` is ``None``: no source states the field plainly; never use it).
    """

    rule: str = Field(description="id of the rule in app/catalog/plausibility.yaml")
    field: str = Field(description="dotted path of the field, e.g. inverter.efficiency_pct")
    action: str = Field(description="corrected | held_back")
    found: float | str | None = Field(None, description="the value the sources gave that failed the rule")
    value: float | str | None = Field(None, description="the value served now (None when held back)")
    reason: str = Field(description="why the found value fails (Portuguese)")
    source: str | None = Field(None, description="where the served value comes from, when corrected")
    evidence: str | None = Field(None, description="the source text that states the served value")


class Product(BaseModel):
    id: str = Field(description="stable slug, independent of the distributor")
    category: Category
    name: str
    manufacturer: str | None = None
    model: str | None = None
    description: str | None = None
    power_w: float | None = Field(None, description="module Pmax, inverter AC nominal, kit DC total [W]")
    phase: Phase | None = None
    price_brl: float | None = Field(None, description="lowest available offer, else lowest listed")
    in_stock: bool = False
    offers: list[Offer] = Field(default_factory=list)
    module: ModuleSpecs | None = None
    inverter: InverterSpecs | None = None
    battery: BatterySpecs | None = None
    structure: StructureSpecs | None = None
    components: list[KitComponent] = Field(default_factory=list, description="kit bill of materials")
    spec_sources: dict[str, str] = Field(default_factory=dict)
    missing_specs: dict[str, str] = Field(default_factory=dict)
    provenance: list[str] = Field(default_factory=list, description="upstream files/rows this record came from")
    quality: list[QualityNote] = Field(
        default_factory=list, description="values the plausibility rules corrected or held back, with the evidence"
    )


class ProductQuery(BaseModel):
    """Filters for :meth:`CatalogRepository.search`. All optional; combined with AND."""

    category: Category | None = None
    subtype: str | None = Field(None, description="inverter_type or roof_type")
    manufacturer: str | None = None
    min_power_w: float | None = None
    max_power_w: float | None = None
    phase: Phase | None = None
    min_price_brl: float | None = None
    max_price_brl: float | None = None
    min_capacity_kwh: float | None = Field(None, description="battery capacity [kWh], lower bound")
    max_capacity_kwh: float | None = Field(None, description="battery capacity [kWh], upper bound")
    min_voltage_v: float | None = Field(None, description="battery nominal voltage [V], lower bound")
    max_voltage_v: float | None = Field(None, description="battery nominal voltage [V], upper bound")
    in_stock: bool | None = None
    q: str | None = Field(None, description="free text over name, model, manufacturer, description")
    limit: int = 20
    offset: int = 0


class ProductPage(BaseModel):
    items: list[Product]
    total: int
    limit: int
    offset: int
