"""The small interface every catalog store implements (SQLite now, commerce later)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from app.catalog.models import Category, Product, ProductPage, ProductQuery


class CatalogRepository(Protocol):
    def get(self, product_id: str) -> Product | None: ...

    def search(self, query: ProductQuery) -> ProductPage: ...

    def iter_products(self, category: Category | None = None) -> Iterator[Product]: ...

    def replace_all(self, products: Iterable[Product]) -> int:
        """Atomically replace the whole catalog (a failed ingest leaves the old one)."""
        ...

    def upsert(self, products: Iterable[Product]) -> int: ...

    def count(self, category: Category | None = None) -> int: ...

    def fingerprint(self) -> str:
        """Content hash of the catalog (ids, prices, stock, specs); changes when any of them does."""
        ...
