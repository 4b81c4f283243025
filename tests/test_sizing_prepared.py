"""The catalog-only part of a sizing is prepared once per catalog version (app/sizing/prepared.py)
and a sizing from the prepared stock is the same, byte for byte, as one prepared afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.catalog.models import Category, Phase
from app.catalog.store import SQLiteCatalogStore
from app.sizing import prepared
from app.sizing.engine import size_system
from app.sizing.models import ConsumptionInput, SiteInput, SizingRequest
from app.specs.catalog import SpecCatalog
from app.specs.registry import SpecRegistry, load_seed

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # the real catalog, sized with pvlib: integration tier


@pytest.fixture
def catalog(real_catalog, tmp_path):
    prepared.forget()
    store = SQLiteCatalogStore(real_catalog.copy(tmp_path / "cat"))
    yield SpecCatalog(store, SpecRegistry(load_seed(ROOT / "data" / "specs")))
    prepared.forget()


def request(kwh: float = 640) -> SizingRequest:
    return SizingRequest(consumption=ConsumptionInput(monthly_kwh=kwh), site=SiteInput(municipality="Londrina", uf="PR"),
                         connection=Phase.THREE)


def test_one_preparation_per_catalog_version(catalog):
    build_calls = []

    def build():
        build_calls.append(1)
        return [*catalog.iter_products(Category.KIT)]

    first = prepared.prepared_stock(catalog, catalog.spec_registry, build)
    assert prepared.prepared_stock(catalog, catalog.spec_registry, build) is first and len(build_calls) == 1
    kit = next(p for p in first.products if p.price_brl)
    assert first.kit_electrical(kit, first.by_id, first.registry) is first.kit_electrical(kit, first.by_id, first.registry)
    # a price change is a new catalog version: prepared again
    catalog.upsert([kit.model_copy(update={"price_brl": kit.price_brl + 1})])
    again = prepared.prepared_stock(catalog, catalog.spec_registry, build)
    assert again is not first and len(build_calls) == 2
    # another registry, or a plain list of products, is never served from the memo
    assert prepared.prepared_stock(catalog, None, build) is not again
    plain = list(again.products)
    assert prepared.prepared_stock(plain, None, lambda: plain) is not prepared.prepared_stock(plain, None, lambda: plain)


def test_a_sizing_from_the_prepared_stock_is_identical_to_a_fresh_one(catalog):
    fresh = size_system(request(), catalog).model_dump_json()  # memo empty: prepared now
    again = size_system(request(), catalog).model_dump_json()  # from the memo
    assert again == fresh
    other = size_system(request(1500), catalog)  # another request reuses the memo and still fits its own numbers
    assert other.model_dump_json() != fresh and other.usable_kits > 0
    prepared.forget()
    assert size_system(request(1500), catalog).model_dump_json() == other.model_dump_json()
