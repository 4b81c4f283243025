"""The registry applied to catalog products, and a catalog that carries its registry.

:func:`with_registry_specs` returns a copy of a module or inverter whose electrical specs
come from the matched registry row (the registry is the engineers' truth, so it wins over
values parsed from names), with ``spec_sources`` naming the source of each value.
:class:`SpecCatalog` wraps any :class:`~app.catalog.repository.CatalogRepository`: reads pass
through; its fingerprint covers catalog and registry, so cached sizings follow spec changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from app.catalog.models import (
    Category, InverterSpecs, InverterType, ModuleSpecs, Phase, Product, ProductPage, ProductQuery,
)
from app.catalog.repository import CatalogRepository
from app.specs.registry import SpecRegistry

_MODULE_MAP = {"pmax_w": "pmax_w", "voc_v": "voc_v", "vmp_v": "vmp_v", "isc_a": "isc_a", "imp_a": "imp_a",
               "beta_voc_pct_per_c": "temp_coeff_voc_pct_per_c", "alpha_isc_pct_per_c": "temp_coeff_isc_pct_per_c",
               "gamma_pmax_pct_per_c": "temp_coeff_pmax_pct_per_c", "length_mm": "length_mm", "width_mm": "width_mm",
               "cells": "cells"}
_INVERTER_MAP = {"ac_power_w": "ac_power_w", "max_dc_voltage_v": "max_dc_voltage_v", "mppt_min_v": "mppt_min_v",
                 "mppt_max_v": "mppt_max_v", "mppt_count": "mppt_count", "inputs_per_mppt": "strings_per_mppt",
                 "max_input_current_per_mppt_a": "max_input_current_per_mppt_a", "efficiency_pct": "efficiency_pct"}


def product_text(p: Product) -> str:
    return " ".join(x for x in (p.manufacturer, p.name, p.model, p.description) if x)


def with_registry_specs(p: Product, registry: SpecRegistry) -> Product:
    """``p`` with the registry's specs applied (a copy), or ``p`` itself when no row matches."""
    if p.category is Category.MODULE:
        found = registry.lookup(["module"], product_text(p), p.power_w)
    elif p.category is Category.INVERTER:
        found = registry.lookup(["string_inverter", "microinverter"], product_text(p))
    else:
        return p
    row = found.row
    if row is None:
        return p
    q = p.model_copy(deep=True)
    src = f"registro: {row.source.label()}"
    if row.category == "module":
        specs = q.module or ModuleSpecs()
        mapping = _MODULE_MAP
    else:
        specs = q.inverter or InverterSpecs()
        mapping = _INVERTER_MAP
        if row.category == "microinverter":
            specs.inverter_type = InverterType.MICRO
        if row.phase:
            specs.phase = Phase(row.phase)
    for ours, theirs in mapping.items():
        value = getattr(row, ours)
        if value is not None:
            setattr(specs, theirs, value)
            q.spec_sources[theirs] = src
            q.missing_specs.pop(theirs, None)
    if row.category == "module":
        q.module = specs
    else:
        q.inverter = specs
    q.provenance.append(src)
    return q


class SpecCatalog:
    """A catalog repository that carries the spec registry the sizing engine applies."""

    def __init__(self, inner: CatalogRepository, registry: SpecRegistry) -> None:
        self.inner = inner
        self.spec_registry = registry

    def __getattr__(self, name: str):  # path, has_fts… of the wrapped store
        return getattr(self.inner, name)

    def get(self, product_id: str) -> Product | None:
        return self.inner.get(product_id)

    def search(self, query: ProductQuery) -> ProductPage:
        return self.inner.search(query)

    def iter_products(self, category: Category | None = None) -> Iterator[Product]:
        return self.inner.iter_products(category)

    def replace_all(self, products: Iterable[Product]) -> int:
        return self.inner.replace_all(products)

    def upsert(self, products: Iterable[Product]) -> int:
        return self.inner.upsert(products)

    def count(self, category: Category | None = None) -> int:
        return self.inner.count(category)

    def fingerprint(self) -> str:
        inner = getattr(self.inner, "fingerprint", None)
        base = str(inner()) if callable(inner) else f"count:{self.inner.count()}"
        return f"{base}+specs:{self.spec_registry.fingerprint()[:16]}"
