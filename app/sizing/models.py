"""Request and result of a sizing, units in field names.

``SizingRequest`` is frozen, forbids unknown fields and dumps deterministically
(``model_dump_json()``), so the service layer can key a cache on it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.catalog.models import Phase, RoofType


# Plausibility limits of inputs (a 422 naming the field beyond them, never a silly design):
# distributed generation ends at 3 MW for solar (Lei 14.300, art. 1º); 1 GWh/month is far past it.
MAX_MONTHLY_KWH = 1_000_000.0
MAX_SYSTEM_KWP = 3000.0
MAX_AREA_M2 = 1_000_000.0
# The limits an answer may quote ("acima de 1.000.000 kWh/mês"): published by the engine, so a
# number-grounding check counts them as sources like a tool result.
INPUT_LIMITS = {"max_monthly_kwh": MAX_MONTHLY_KWH, "max_system_kwp": MAX_SYSTEM_KWP, "max_area_m2": MAX_AREA_M2}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class SiteInput(_Frozen):
    municipality: str | None = Field(None, description="nome do município (sem acento ou caixa)")
    uf: str | None = Field(None, description="sigla do estado; desfaz ambiguidades como 'Santa Maria'")
    ibge_code: int | None = None
    lat: float | None = Field(None, description="latitude [graus], sul negativa")
    lon: float | None = Field(None, description="longitude [graus], oeste negativa")


class ConsumptionInput(_Frozen):
    monthly_kwh: float | tuple[float, ...] | None = Field(
        None, description="consumo médio mensal [kWh] ou doze valores, janeiro a dezembro (até 1.000.000)")

    @field_validator("monthly_kwh")
    @classmethod
    def _plausible(cls, v):
        values = v if isinstance(v, tuple) else (v,)
        if any(x is not None and x > MAX_MONTHLY_KWH for x in values):
            # same error type as Field(le=…): the API names the field and the limit in Portuguese
            raise PydanticCustomError("less_than_equal", "Input should be less than or equal to {le}",
                                      {"le": "1.000.000 kWh/mês"})
        return v
    bill_brl: float | None = Field(None, le=10_000_000, description="valor médio da conta [R$/mês]")
    tariff_brl_per_kwh: float | None = Field(
        None, le=10, description="tarifa com impostos usada para converter a conta [R$/kWh]; padrão: a da distribuidora")


class RoofFace(_Frozen):
    """One roof face (água): the array is spread over the faces in proportion to their areas."""

    tilt_deg: float = Field(ge=0, le=90, description="inclinação [graus]")
    azimuth_deg: float = Field(0.0, ge=-360, le=360, description="0 = norte, 90 = leste, 180 = sul, 270 = oeste")
    area_m2: float | None = Field(None, gt=0, le=MAX_AREA_M2, description="área útil da face [m²]")


class RoofInput(_Frozen):
    type: RoofType = RoofType.CERAMIC
    area_m2: float | None = Field(None, le=MAX_AREA_M2, description="área útil [m²]; None = sem limite")
    azimuth_deg: float = Field(0.0, ge=-360, le=360, description="0 = norte, 90 = leste, 180 = sul, 270 = oeste")
    tilt_deg: float | None = Field(None, description="inclinação [graus]; None = ≈ latitude")
    faces: tuple[RoofFace, ...] | None = Field(
        None, min_length=1, max_length=6, description="várias faces (ex.: leste + oeste); substitui tilt/azimute")
    shading_pct: float = Field(0.0, ge=0, le=80, description="perda por sombreamento/outras perdas extras [%]")


class Preferences(_Frozen):
    module_id: str | None = None
    inverter_id: str | None = None
    max_dc_ac_ratio: float = 1.30
    target_offset_pct: float = Field(100.0, description="parcela do consumo compensável a gerar [%]")
    budget_brl: float | None = Field(None, le=1e9)
    installation_brl_per_kwp: float = Field(
        1200.0, ge=0, le=20000, description="estrutura, proteção, cabos e mão de obra por kWp [R$/kWp] (ilustrativo)")


class TariffInput(_Frozen):
    distributor: str | None = Field(
        None, description="distribuidora (ex.: 'Cemig', 'Enel SP', 'Equatorial PI'); padrão: a do município, senão "
                          "a maior da UF")
    energy_brl_per_kwh: float | None = Field(None, description="TE + TUSD [R$/kWh], sem impostos")
    fio_b_brl_per_kwh: float | None = Field(None, description="TUSD Fio B [R$/kWh], sem impostos")
    icms_pct: float | None = Field(None, description="alíquota de ICMS [%]; padrão: alíquota modal da UF")
    pis_cofins_pct: float | None = Field(None, description="PIS + COFINS efetivos [%]; padrão 5,5")
    escalation_pct_per_year: float = 5.0
    connection_year: int = Field(2026, description="ano de conexão do sistema (define a parcela do Fio B)")
    fio_b_share_2029_on_pct: float = Field(100.0, description="parcela do Fio B de 2029 em diante [%] (cenário)")
    grandfathered: bool = Field(False, description="acesso pedido antes de 7/1/2023 (art. 26): sem Fio B até 2045")
    simultaneity: float = Field(0.30, description="fração da geração consumida no instante (0–1)")
    discount_rate_pct: float = 10.0


class SizingRequest(_Frozen):
    site: SiteInput
    consumption: ConsumptionInput
    connection: Phase
    roof: RoofInput = RoofInput()
    preferences: Preferences = Preferences()
    tariff: TariffInput = TariffInput()
    system_kwp: float | None = Field(
        None, gt=0, le=MAX_SYSTEM_KWP, description="simula este tamanho [kWp] em vez de dimensionar pela meta")
    kit_id: str | None = Field(None, max_length=200, description="simula este kit do catálogo (com system_kwp: N kits)")


# ---------------------------------------------------------------- result


class SiteOut(BaseModel):
    municipality: str
    uf: str
    ibge_code: int
    latitude_deg: float
    longitude_deg: float
    timezone: str
    distance_to_seat_km: float


class ResourceOut(BaseModel):
    source: str
    provenance: list[str]
    annual_ghi_kwh_m2: float
    ghi_uncertainty_pct: float = Field(description="1σ da irradiação anual [%]")
    mean_temp_air_c: float
    design_min_temp_c: float = Field(description="temperatura mínima de projeto para Voc [°C]")
    notes: list[str] = []


class ConsumptionOut(BaseModel):
    monthly_kwh: list[float]
    annual_kwh: float
    availability_kwh_per_month: float
    target_annual_kwh: float


class EquipmentLine(BaseModel):
    """Module or inverter of a design. In a kit design the line is part of the kit: no own
    price (``unit_price_brl``/``total_brl`` None), ``product_id`` only when the catalog links it."""

    product_id: str | None
    name: str
    manufacturer: str | None
    quantity: int
    unit_power_w: float
    unit_price_brl: float | None
    total_brl: float | None
    included_in_kit: str | None = Field(None, description="id do kit que inclui este item")


class QuoteLine(BaseModel):
    """One priced catalog line to put on a quote: id, quantity, unit price from the catalog."""

    product_id: str
    category: str
    name: str
    quantity: int
    unit_price_brl: float
    total_brl: float


class KitBomLine(BaseModel):
    category: str
    description: str
    manufacturer: str | None
    quantity: int = Field(description="quantidade total no projeto (por kit × número de kits)")
    power_w: float | None
    product_id: str | None


class KitOut(BaseModel):
    product_id: str
    name: str
    distributor: str | None
    quantity: int = Field(description="número de kits iguais no projeto")
    unit_price_brl: float
    total_brl: float
    unit_dc_w: float
    unit_ac_w: float
    roof_type: str | None = Field(description="telhado da estrutura do kit; None = estrutura não informada")
    microinverter: bool
    bill_of_materials: list[KitBomLine]


class StringCheckOut(BaseModel):
    modules_in_series: int
    strings_total: int
    strings_per_mppt: int
    voc_cold_string_v: float
    max_dc_voltage_v: float
    vmp_hot_string_v: float
    mppt_min_v: float
    string_current_design_a: float
    max_current_per_mppt_a: float
    min_temp_c: float
    hot_cell_temp_c: float


class ElectricalCheckOut(BaseModel):
    check: str
    value: float
    limit: float
    unit: str
    ok: bool


class EnergyOut(BaseModel):
    annual_kwh: float
    monthly_kwh: list[float]
    specific_yield_kwh_per_kwp: float
    performance_ratio_pct: float
    p50_annual_kwh: float
    p90_annual_kwh: float
    p90_method: str
    offset_pct: float = Field(description="geração / consumo anual [%]")
    dc_model: str
    losses_pct: dict[str, float]
    clipping_loss_pct: float
    annual_poa_kwh_m2: float


class YearOut(BaseModel):
    year: int
    calendar_year: int
    generation_kwh: float
    compensated_kwh: float
    self_consumed_kwh: float
    credits_expired_kwh: float
    fio_b_share: float
    bill_without_pv_brl: float
    bill_with_pv_brl: float
    savings_brl: float
    om_brl: float
    replacement_brl: float
    net_cash_flow_brl: float
    cumulative_brl: float


class EconomicsOut(BaseModel):
    capex_brl: float
    equipment_brl: float
    installation_brl: float
    npv_brl: float
    irr_pct: float | None
    simple_payback_years: float | None
    discounted_payback_years: float | None
    first_year_savings_brl: float
    energy_brl_per_kwh: float
    fio_b_brl_per_kwh: float
    years: list[YearOut]


class DesignOut(BaseModel):
    label: str
    kind: Literal["components", "kit"] = Field(
        "components", description="módulo + inversor avulsos com specs completas, ou kit do catálogo")
    module: EquipmentLine
    inverter: EquipmentLine
    kit: KitOut | None = None
    lines: list[QuoteLine] = Field(default_factory=list, description="itens do catálogo para o orçamento")
    dc_kwp: float
    ac_kw: float
    dc_ac_ratio: float
    roof_area_used_m2: float | None
    area_check: str = Field("verified", description="verified (dimensões do registro) | estimated (área ≈ P/η) | "
                                                    "no_limit")
    string_check: Literal["verified", "fails", "not_verifiable"] = "verified"
    string_check_reason: str | None = None
    electrical_checks: list[ElectricalCheckOut] = Field(
        default_factory=list, description="verificações módulo × inversor/microinversor de um kit, com limites")
    spec_sources: list[str] = Field(default_factory=list, description="fonte das specs usadas na verificação")
    strings: StringCheckOut | None
    energy: EnergyOut
    economics: EconomicsOut
    notes: list[str] = []


class SkippedOut(BaseModel):
    product_id: str
    name: str
    category: str
    reason: str


class SizingResult(BaseModel):
    mode: Literal["target", "fixed_size", "fixed_kit"] = Field(
        "target", description="target = pela meta de consumo; fixed_size = system_kwp; fixed_kit = kit_id")
    generation_class: Literal["microgeracao", "minigeracao"] = Field(
        "microgeracao", description="microgeração ≤ 75 kW; minigeração acima (Lei 14.300)")
    sizing_id: str | None = Field(
        None, description="id estável (pedido + catálogo); GET /v1/sizing/{sizing_id} devolve este resultado")
    site: SiteOut
    resource: ResourceOut
    consumption: ConsumptionOut
    tilt_deg: float
    azimuth_deg: float
    best: DesignOut
    alternatives: list[DesignOut]
    usable_modules: int
    usable_inverters: int
    usable_kits: int = 0
    skipped_products: list[SkippedOut]
    warnings: list[str] = []
    assumptions: list[str]
