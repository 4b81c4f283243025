"""Rows of the electrical-spec registry: one manufacturer model, its values and their source.

Units are in field names. Every row carries where its values come from (title, URL, date
and kind of source); a value no source gives stays ``None`` and the string check then says
which one is missing. Categories: ``module``, ``string_inverter``, ``microinverter``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["module", "string_inverter", "microinverter"]
CATEGORIES: tuple[str, ...] = ("module", "string_inverter", "microinverter")
SourceKind = Literal["datasheet", "compilation", "cec", "secondary", "engineer"]
SOURCE_KINDS: tuple[str, ...] = ("datasheet", "compilation", "cec", "secondary", "engineer")

SOURCE_KIND_PT = {
    "datasheet": "folha de dados do fabricante",
    "compilation": "compilação de folhas de dados (conferida por regras, não contra o PDF)",
    "cec": "banco CEC (pvlib)",
    "secondary": "fonte secundária (conferir com a folha do fabricante)",
    "engineer": "cadastro de engenheiro YSH",
}


class SpecSource(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str = Field(description="título da folha de dados / documento")
    url: str | None = None
    date: str = Field(description="data da fonte ou da consulta, AAAA-MM ou AAAA-MM-DD")
    kind: SourceKind

    def label(self) -> str:
        where = f" <{self.url}>" if self.url else ""
        return f"{self.title}{where} ({self.date}; {SOURCE_KIND_PT[self.kind]})"


class SpecRow(BaseModel):
    """One model's specs. Module fields or inverter fields are filled by category."""

    model_config = ConfigDict(frozen=True)

    category: Category
    manufacturer: str
    model: str
    match: str = Field("", description="termos que identificam o produto no catálogo ('a & b; c')")
    # module
    pmax_w: float | None = None
    voc_v: float | None = None
    vmp_v: float | None = None
    isc_a: float | None = None
    imp_a: float | None = None
    beta_voc_pct_per_c: float | None = None
    alpha_isc_pct_per_c: float | None = None
    gamma_pmax_pct_per_c: float | None = None
    length_mm: float | None = None
    width_mm: float | None = None
    cells: int | None = None
    # inverter (string or micro); a microinverter's "MPPTs" are its module inputs
    ac_power_w: float | None = None
    phase: Literal["single_phase", "two_phase", "three_phase"] | None = None
    max_dc_voltage_v: float | None = None
    startup_v: float | None = None
    mppt_min_v: float | None = None
    mppt_max_v: float | None = None
    mppt_count: int | None = None
    inputs_per_mppt: int | None = None
    max_input_current_per_mppt_a: float | None = None
    max_isc_per_mppt_a: float | None = None
    efficiency_pct: float | None = None
    source: SpecSource
    notes: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        from app.specs.match import alnum

        return (self.category, alnum(self.manufacturer), alnum(self.model))

    @property
    def area_m2(self) -> float | None:
        if self.length_mm and self.width_mm:
            return self.length_mm * self.width_mm / 1e6
        return None

    def label(self) -> str:
        return f"{self.manufacturer} {self.model}"


MODULE_FIELDS = ("pmax_w", "voc_v", "vmp_v", "isc_a", "imp_a", "beta_voc_pct_per_c", "alpha_isc_pct_per_c",
                 "gamma_pmax_pct_per_c", "length_mm", "width_mm", "cells")
INVERTER_FIELDS = ("ac_power_w", "phase", "max_dc_voltage_v", "startup_v", "mppt_min_v", "mppt_max_v", "mppt_count",
                   "inputs_per_mppt", "max_input_current_per_mppt_a", "max_isc_per_mppt_a", "efficiency_pct")
SOURCE_FIELDS = ("source_title", "source_url", "source_date", "source_kind")
CSV_COLUMNS = ("category", "manufacturer", "model", "match", *MODULE_FIELDS, *INVERTER_FIELDS, *SOURCE_FIELDS, "notes")
