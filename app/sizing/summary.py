"""The sizing summary: what a UI shows, a fraction of the full result's bytes.

The full :class:`~app.sizing.models.SizingResult` (~95 KB of JSON on the real catalog) carries
every alternative in full and every skipped catalog product with its reason; a page that
shows the proposal needs the best design, a headline per alternative, the economics and the
assumptions (~20 KB). The full result stays one request away (``?detail=full``) and is what
quotes, financing and the proposal PDF read from the store.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.sizing.models import (
    ConsumptionOut,
    DesignOut,
    ResourceOut,
    SiteOut,
    SizingResult,
)


class AlternativeHeadline(BaseModel):
    """An alternative design in one line of figures (the full design: ``?detail=full``)."""

    label: str
    kind: Literal["components", "kit"]
    kit_id: str | None = Field(None, description="id do kit no catálogo (designs de kit)")
    module: str = Field(description="módulo: quantidade × nome")
    inverter: str = Field(description="inversor: quantidade × nome")
    dc_kwp: float
    ac_kw: float
    annual_kwh: float
    offset_pct: float = Field(description="geração / consumo anual [%]")
    string_check: Literal["verified", "fails", "not_verifiable"]
    capex_brl: float
    npv_brl: float
    irr_pct: float | None
    simple_payback_years: float | None
    first_year_savings_brl: float


class SizingSummary(BaseModel):
    """Resumo de um dimensionamento: o melhor projeto completo, as alternativas em números de
    manchete, a economia e as premissas. O resultado completo: ``?detail=full``."""

    detail: Literal["summary"] = "summary"
    mode: Literal["target", "fixed_size", "fixed_kit"]
    generation_class: Literal["microgeracao", "minigeracao"]
    sizing_id: str | None
    site: SiteOut
    resource: ResourceOut
    consumption: ConsumptionOut
    tilt_deg: float
    azimuth_deg: float
    best: DesignOut
    alternatives: list[AlternativeHeadline]
    usable_modules: int
    usable_inverters: int
    usable_kits: int
    skipped_products_count: int = Field(description="produtos do catálogo não usados (motivos: ?detail=full)")
    warnings: list[str]
    assumptions: list[str]


def _headline(d: DesignOut) -> AlternativeHeadline:
    return AlternativeHeadline(
        label=d.label, kind=d.kind, kit_id=d.kit.product_id if d.kit else None,
        module=f"{d.module.quantity} × {d.module.name}", inverter=f"{d.inverter.quantity} × {d.inverter.name}",
        dc_kwp=d.dc_kwp, ac_kw=d.ac_kw, annual_kwh=d.energy.annual_kwh, offset_pct=d.energy.offset_pct,
        string_check=d.string_check, capex_brl=d.economics.capex_brl, npv_brl=d.economics.npv_brl,
        irr_pct=d.economics.irr_pct, simple_payback_years=d.economics.simple_payback_years,
        first_year_savings_brl=d.economics.first_year_savings_brl)


def summarize(result: SizingResult) -> SizingSummary:
    """The summary of ``result`` (pure: same result → same summary)."""
    return SizingSummary(
        mode=result.mode, generation_class=result.generation_class, sizing_id=result.sizing_id,
        site=result.site, resource=result.resource, consumption=result.consumption, tilt_deg=result.tilt_deg,
        azimuth_deg=result.azimuth_deg, best=result.best,
        alternatives=[_headline(a) for a in result.alternatives], usable_modules=result.usable_modules,
        usable_inverters=result.usable_inverters, usable_kits=result.usable_kits,
        skipped_products_count=len(result.skipped_products), warnings=result.warnings,
        assumptions=result.assumptions)
