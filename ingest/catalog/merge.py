"""Listings → products: one product per identity key, one offer per listing, stable ids."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from app.catalog.models import Category, Product
from ingest.catalog.listings import Listing
from app.core.text import fold
from ingest.catalog.text import alnum_key, slugify


def _name_slug(p: Product) -> str:
    if p.category is Category.KIT:
        return slugify(f"kit {p.name.removeprefix('Kit ')}", 72)
    brand = p.manufacturer or ""
    prefix = brand if brand and fold(brand) not in fold(p.name) else ""
    return slugify(f"{p.category.value} {prefix} {p.name}", 72)


def _base_slug(p: Product) -> str:
    """``inverter-chint-nxi-5-0k-t2`` from category + brand + model; the name when no model."""
    if p.model and p.category is not Category.KIT:
        return slugify(f"{p.category.value} {p.manufacturer or ''} {p.model}", 72)
    return _name_slug(p)


def merge_listings(listings: list[Listing]) -> tuple[list[Product], dict[str, str]]:
    """Group listings by identity key into products with several offers.

    Returns the products sorted by id and ``{listing ref: product id}``. The listing with
    most parsed specs is the base record; price is the lowest available offer, else the
    lowest listed; in stock when any offer is available. Ids are slugs of
    category/brand/model; slugs shared by different keys all get a hash of their key, so
    an id never depends on processing order.
    """
    by_key: dict[str, list[Listing]] = defaultdict(list)
    for lst in listings:
        by_key[lst.key].append(lst)
    drafts: list[tuple[str, Product, list[Listing]]] = []
    for key in sorted(by_key):
        group = sorted(by_key[key], key=lambda x: (x.offer.distributor, x.offer.source_id, x.refs[0]))
        base = max(group, key=lambda x: len(x.product.spec_sources))
        p = base.product.model_copy(deep=True)
        p.offers = sorted((g.offer for g in group), key=lambda o: (o.distributor, o.source_id,
                                                                  o.distribution_center or "", o.price_brl or 0))
        p.provenance = sorted({ref for g in group for ref in g.product.provenance})
        available = [o.price_brl for o in p.offers if o.available and o.price_brl]
        listed = [o.price_brl for o in p.offers if o.price_brl]
        p.price_brl = min(available or listed) if listed else None
        p.in_stock = any(o.available for o in p.offers)
        if not p.description:
            p.description = next((g.product.description for g in group if g.product.description), None)
        drafts.append((key, p, group))
    # Model slug first; products sharing it (variants: "(T)" vs "(T-BR)", "AFCI" vs "AFCI RED")
    # take their name slug; any still shared take a hash of their key.
    model_count: dict[str, int] = defaultdict(int)
    for _, p, _ in drafts:
        model_count[_base_slug(p)] += 1
    slugs = {key: (_base_slug(p) if model_count[_base_slug(p)] == 1 else _name_slug(p)) for key, p, _ in drafts}
    slug_count: dict[str, int] = defaultdict(int)
    for s in slugs.values():
        slug_count[s] += 1
    ref_to_id: dict[str, str] = {}
    for key, p, group in drafts:
        slug = slugs[key]
        p.id = slug if slug_count[slug] == 1 else f"{slug}-{hashlib.sha1(key.encode()).hexdigest()[:6]}"
        for g in group:
            for ref in g.refs:
                ref_to_id[ref] = p.id
    products = sorted((p for _, p, _ in drafts), key=lambda p: p.id)
    return products, ref_to_id


def link_kit_components(products: list[Product]) -> int:
    """Set ``product_id`` on kit components that match exactly one catalog product.

    Modules match on brand + power (names of module listings carry nothing else);
    inverters on brand + model code. Returns how many components were linked.
    """
    modules: dict[tuple[str, float], list[str]] = defaultdict(list)
    inverters: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in products:
        if p.category is Category.MODULE and p.manufacturer and p.power_w:
            modules[(alnum_key(p.manufacturer), p.power_w)].append(p.id)
        elif p.category is Category.INVERTER and p.manufacturer and p.model:
            inverters[(alnum_key(p.manufacturer), alnum_key(p.model))].append(p.id)
    linked = 0
    for p in products:
        for c in p.components:
            hits: list[str] = []
            if c.category is Category.MODULE and c.manufacturer and c.power_w:
                hits = modules.get((alnum_key(c.manufacturer), c.power_w), [])
            elif c.category is Category.INVERTER and c.manufacturer:
                hits = [pid for (b, m), ids in inverters.items() if b == alnum_key(c.manufacturer)
                        and len(m) >= 5 and m in alnum_key(c.description) for pid in ids]
            if len(hits) == 1:
                c.product_id = hits[0]
                linked += 1
    return linked
