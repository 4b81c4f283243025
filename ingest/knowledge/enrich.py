"""Attach datasheet specs to the matching catalog products.

Matching, in order: an upstream row id named by the datasheet (front matter, PDF metadata
or manifest) that appears in a product's provenance; else manufacturer + model, both
accent/space/punctuation-insensitive, model found in the product's model or name.
Only missing specs are filled (``spec_sources[field] = "datasheet:<file>#p<page>"``); a
different existing value is a conflict, reported and left alone (tolerance 1 %).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.catalog.models import BatterySpecs, InverterSpecs, ModuleSpecs, Phase, Product
from app.catalog.repository import CatalogRepository
from app.retrieval.text import fold
from ingest.knowledge.catalog_docs import upstream_ids
from ingest.knowledge.specs import ExtractedSpec

SPEC_CLASS = {"module": ModuleSpecs, "inverter": InverterSpecs, "battery": BatterySpecs}


def compact(text: str | None) -> str:
    """``"R5-10K-T2"`` → ``"r510kt2"``: compare models however they are punctuated."""
    return re.sub(r"[^a-z0-9]", "", fold(text or ""))


@dataclass
class SpecConflict:
    product_id: str
    field: str
    existing: object
    datasheet: object
    source: str


@dataclass
class EnrichReport:
    matched: dict[str, list[str]] = field(default_factory=dict)  # datasheet → product ids
    filled: dict[str, list[str]] = field(default_factory=dict)  # product id → fields filled
    conflicts: list[SpecConflict] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    no_specs: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "fichas casadas": len(self.matched), "produtos enriquecidos": len(self.filled),
            "specs preenchidas": sum(len(v) for v in self.filled.values()), "conflitos": len(self.conflicts),
            "fichas sem produto": len(self.unmatched),
        }


class ProductIndex:
    """Lookup of catalog products by upstream row id and by compacted manufacturer/model."""

    def __init__(self, products: Iterable[Product]) -> None:
        self.products: dict[str, Product] = {}
        self.by_upstream: dict[str, set[str]] = {}
        for p in products:
            self.products[p.id] = p
            for uid in upstream_ids(p):
                self.by_upstream.setdefault(uid, set()).add(p.id)

    def match(self, upstream: list[str], manufacturer: str | None, model: str | None,
              category: str | None) -> list[str]:
        ids = sorted({pid for uid in upstream for pid in self.by_upstream.get(uid, ())})
        if ids:
            return ids
        man, mod = compact(manufacturer), compact(model)
        if not man or len(mod) < 4:  # "600 W" is not a model: too many products share it
            return []
        return sorted(
            p.id for p in self.products.values()
            if (category is None or p.category.value == category)
            and man in compact(p.manufacturer or p.name)
            and (mod == compact(p.model) or mod in compact(p.name))
        )


def _same(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= 0.01 * max(abs(a), abs(b), 1e-9)
    return str(getattr(a, "value", a)).lower() == str(getattr(b, "value", b)).lower()


def apply_specs(product: Product, specs: list[ExtractedSpec], source: str) -> tuple[list[str], list[SpecConflict]]:
    """Fill the missing ``specs`` on ``product`` in place; returns (filled fields, conflicts).

    ``source`` is ``"<file>"``; a spec from page N is recorded as ``datasheet:<file>#pN``.
    """
    filled: list[str] = []
    conflicts: list[SpecConflict] = []
    for spec in specs:
        cls = SPEC_CLASS[spec.group]
        group = getattr(product, spec.group, None)
        if group is None:
            if product.category.value != spec.group:
                continue  # a module datasheet matched to a kit: its specs are not the kit's
            group = cls()
            setattr(product, spec.group, group)
        where = f"datasheet:{source}" + (f"#p{spec.page}" if spec.page else "")
        existing = getattr(group, spec.field)
        if existing is not None:
            if not _same(existing, spec.value):
                conflicts.append(SpecConflict(product.id, spec.field, existing, spec.value, where))
            continue
        setattr(group, spec.field, spec.value)
        product.spec_sources[spec.field] = where
        product.missing_specs.pop(spec.field, None)
        filled.append(spec.field)
        if spec.field == "phase" and product.phase is None:
            product.phase = Phase(spec.value)
    return filled, conflicts


def enrich_catalog(datasheets: list[tuple[str, dict, list[ExtractedSpec]]], repo: CatalogRepository | None,
                   index: ProductIndex | None = None, *, write: bool = True) -> tuple[EnrichReport, dict[str, list[str]]]:
    """Match each ``(file key, meta, specs)`` to products and upsert the filled ones.

    Returns the report and ``file key → product ids`` (used to tag the datasheet chunks).
    """
    report = EnrichReport()
    if repo is None and index is None:
        report.unmatched = [key for key, _, _ in datasheets]
        return report, {}
    index = index or ProductIndex(repo.iter_products())  # type: ignore[union-attr]
    touched: dict[str, Product] = {}
    matches: dict[str, list[str]] = {}
    for key, meta, specs in datasheets:
        ids = index.match(list(meta.get("upstream_ids") or []), meta.get("manufacturer"), meta.get("model"),
                          meta.get("category"))
        if not ids:
            report.unmatched.append(key)
            continue
        matches[key] = ids
        report.matched[key] = ids
        if not specs:
            report.no_specs.append(key)
        for pid in ids:
            product = touched.get(pid) or index.products[pid].model_copy(deep=True)
            filled, conflicts = apply_specs(product, specs, key)
            report.conflicts.extend(conflicts)
            if filled:
                report.filled.setdefault(pid, []).extend(filled)
                touched[pid] = product
    if write and touched and repo is not None:
        repo.upsert(touched.values())
        for pid, product in touched.items():
            index.products[pid] = product
    return report, matches
