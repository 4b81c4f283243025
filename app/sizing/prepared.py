"""What the sizing engine derives from the catalog alone, kept per catalog version.

Every sizing scans the stock: it applies the spec registry to the modules and inverters
(a deep copy of each matched product) and reads every kit's bill of materials (folding its
text, matching its lines against the registry). Measured on the chat path, that was ~45 %
of a sizing turn, and none of it depends on the request. So it is computed once per
catalog (repository object + its ``fingerprint()``, which changes with any product, price,
stock level or spec-registry row) and shared, read-only, by every sizing until the catalog
changes. Requests still filter it (connection, roof, DC/AC limit, preferences) each time.

A plain list of products (tests, one-off callers) has no fingerprint: it is prepared
afresh on every call, exactly as before.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.catalog.models import Product
from app.sizing.design import Skipped
from app.sizing.kits import KitElectrical, kit_electrical

MAX_CATALOGS = 4  # catalog versions kept (a re-ingest makes a new one; old ones age out)


@dataclass
class PreparedStock:
    """The catalog's products as the engine uses them (registry specs applied), by id, and
    each kit's :class:`KitElectrical` once it has been read."""

    products: list[Product]
    by_id: dict[str, Product]
    registry: Any
    _kits: dict[str, KitElectrical | Skipped] = field(default_factory=dict, repr=False)

    def kit_electrical(self, p: Product, linked: dict[str, Product], registry=None) -> KitElectrical | Skipped:
        """:func:`app.sizing.kits.kit_electrical`, remembered per kit of this catalog version."""
        if linked is not self.by_id or registry is not self.registry or self.by_id.get(p.id) is not p:
            return kit_electrical(p, linked, registry)
        found = self._kits.get(p.id)
        if found is None:
            # two threads may both read a kit the first time: same value, the last one stays
            found = self._kits[p.id] = kit_electrical(p, linked, registry)
        return found


_memo: OrderedDict[tuple[int, str, int], tuple[Callable[[], Any], Callable[[], Any], PreparedStock]] = OrderedDict()
_memo_lock = threading.Lock()


def prepared_stock(source: Any, registry: Any, build: Callable[[], list[Product]]) -> PreparedStock:
    """``build()``'s products prepared once per version of the catalog ``source``.

    ``source``: a catalog repository (with ``fingerprint()``) or a plain iterable of
    products; ``build``: the products with the registry's specs applied."""
    fingerprint = getattr(source, "fingerprint", None)
    if not callable(fingerprint) or not hasattr(source, "iter_products"):
        products = build()
        return PreparedStock(products, {p.id: p for p in products}, registry)
    key = (id(source), str(fingerprint()), id(registry))
    with _memo_lock:
        kept = _memo.get(key)
        if kept is not None and kept[0]() is source and kept[1]() is registry:  # ids are reused after GC
            _memo.move_to_end(key)
            return kept[2]
    products = build()
    prepared = PreparedStock(products, {p.id: p for p in products}, registry)
    with _memo_lock:
        _memo[key] = (_ref(source), _ref(registry), prepared)
        while len(_memo) > MAX_CATALOGS:
            _memo.popitem(last=False)
    return prepared


def _ref(obj: Any) -> Callable[[], Any]:
    """A weak reference when the object allows one (the memo must not keep a closed store alive)."""
    try:
        return weakref.ref(obj)
    except TypeError:
        return lambda: obj


def forget() -> None:
    """Drop every prepared catalog (tests; a benchmark's "before")."""
    with _memo_lock:
        _memo.clear()
