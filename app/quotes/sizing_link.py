"""Where quotes and financing find a sizing: the cache key ``sizing:<sizing_id>`` that
``POST /v1/sizing`` fills (JSON of :class:`app.sizing.models.SizingResult`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.cache import Cache
from app.core.errors import NotFound
from app.sizing.models import DesignOut, SizingResult

SizingLookup = Callable[[str], "dict[str, Any] | SizingResult | None"]


def sizing_key(sizing_id: str) -> str:
    return f"sizing:{sizing_id}"


def cache_sizing_lookup(cache: Cache) -> SizingLookup:
    def get_sizing(sizing_id: str) -> dict[str, Any] | None:
        return cache.get_json(sizing_key(sizing_id))

    return get_sizing


def load_sizing(get_sizing: SizingLookup, sizing_id: str) -> SizingResult:
    raw = get_sizing(sizing_id)
    if raw is None:
        raise NotFound(f"Dimensionamento '{sizing_id}' não encontrado (ou expirado).",
                       hint="Refaça o dimensionamento com POST /v1/sizing e use o sizing_id devolvido.")
    return raw if isinstance(raw, SizingResult) else SizingResult.model_validate(raw)


def pick_design(result: SizingResult, design: str = "best") -> DesignOut:
    if design in ("best", "", None) or design == result.best.label:
        return result.best
    for alt in result.alternatives:
        if alt.label == design:
            return alt
    labels = ", ".join([result.best.label, *(a.label for a in result.alternatives)])
    raise NotFound(f"Alternativa '{design}' não existe neste dimensionamento.", hint=f"Use 'best' ou: {labels}.")
