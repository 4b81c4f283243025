"""The catalog's declared plausibility rules (``plausibility.yaml`` beside this file).

Ingestion checks every product against them (``ingest/catalog/quality.py``); consumers that
must not trust an unchecked store (the sizing engine) read the same ranges from here, so a
range lives in one place.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from app.core.yamlfile import load_yaml

RULES_PATH = Path(__file__).with_name("plausibility.yaml")


class Rule(BaseModel):
    id: str
    category: str | list[str] = Field(description="product category, a list of them, or 'all'")
    check: str = Field(description="range | greater | power_stated | output_phase | kit_kwp | positive | complete_name")
    field: str = Field(description="dotted path on Product, e.g. inverter.efficiency_pct")
    reason: str
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    than: str | None = None
    tolerance_pct: float | None = None
    min_w: dict[str, float] = Field(default_factory=dict)
    max_w: dict[str, float] = Field(default_factory=dict)
    types: list[str] = Field(default_factory=list)
    single_phase_max_v: float | None = None

    def applies_to(self, category: str) -> bool:
        if self.category == "all":
            return True
        cats = [self.category] if isinstance(self.category, str) else self.category
        return category in cats

    def in_range(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> tuple[Rule, ...]:
    """The rules in file order (read once per path)."""
    data = load_yaml(path.read_text("utf-8"))
    rules = tuple(Rule.model_validate(r) for r in data["rules"])
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise ValueError(f"ids de regra repetidos em {path}: {ids}")
    return rules


def rule(rule_id: str) -> Rule:
    """One rule by id; ``KeyError`` names the known ids."""
    for r in load_rules():
        if r.id == rule_id:
            return r
    raise KeyError(f"regra '{rule_id}' não existe; conhecidas: {[r.id for r in load_rules()]}")


def plausible_inverter_efficiency_pct(value: float | None) -> bool:
    """True when ``value`` [%] passes the ``inverter_efficiency`` rule (90–99.5 %)."""
    return value is not None and rule("inverter_efficiency").in_range(value)
