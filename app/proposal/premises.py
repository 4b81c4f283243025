"""The proposal's "Premissas": what the figures assume, told to the end customer.

The sizing result's ``assumptions`` are written for integrators and engineers (model
names, English data provenance, internal data paths, API fields to change). The proposal
states the premises from the result's own figures, in Portuguese, and keeps only the
engine lines that are already customer text (goal, Lei 14.300, cash flow, investment, P90).
"""

from __future__ import annotations

import re

from app.core.text import format_brl, format_number, format_percent
from app.sizing.models import SizingResult

# Engine lines a customer can read as they are (Portuguese, no internals), by their opening.
_CUSTOMER_LINES = ("Meta:", "Lei 14.300", "Fluxo de caixa", "Investimento", "P90", "A área do telhado")
_DIRECTIONS = ("norte", "nordeste", "leste", "sudeste", "sul", "sudoeste", "oeste", "noroeste")
_INTERNAL_PATH = re.compile(r"\s*;?\s*\bdata/[\w./-]+")


def _direction(azimuth_deg: float) -> str:
    """Compass direction of an azimuth (0 = norte, 90 = leste)."""
    return _DIRECTIONS[round((azimuth_deg % 360) / 45) % 8]


def _resource(r: SizingResult) -> str:
    res = r.resource
    ghi = f"irradiação solar global de {format_number(res.annual_ghi_kwh_m2)} kWh/m² por ano"
    spread = f"incerteza de ±{format_percent(res.ghi_uncertainty_pct, decimals=1)} (1 desvio-padrão)"
    if res.source.startswith("weather file"):
        return f"Recurso solar: arquivo de clima enviado para este projeto, {ghi}."
    if res.source.startswith("synthetic"):
        return (f"Recurso solar: dados de satélite da NASA (MERRA-2) calibrados em estações meteorológicas "
                f"brasileiras, {ghi}, {spread}.")
    return f"Recurso solar: {ghi}, {spread}."


def customer_premises(r: SizingResult) -> list[str]:
    """The premises of ``r`` for the proposal, in Portuguese, figures from the result."""
    best = r.best
    out = [
        _resource(r),
        f"Módulos com inclinação de {format_number(r.tilt_deg)}° voltados para o {_direction(r.azimuth_deg)} "
        f"(azimute {format_number(r.azimuth_deg)}°, 0° = norte).",
    ]
    total_loss = best.energy.losses_pct.get("total_pct")
    if total_loss is not None:
        out.append(f"Perdas do sistema (sujeira, cabos, descasamento, indisponibilidade e outras): "
                   f"{format_percent(total_loss, decimals=1)}.")
    out.append(f"Tarifa de energia com impostos: {format_brl(best.economics.energy_brl_per_kwh)}/kWh, dos quais "
               f"{format_brl(best.economics.fio_b_brl_per_kwh)}/kWh de TUSD Fio B (tarifa homologada pela ANEEL "
               "para a distribuidora).")
    out += [_INTERNAL_PATH.sub("", a) for a in r.assumptions if a.startswith(_CUSTOMER_LINES)]
    return out
