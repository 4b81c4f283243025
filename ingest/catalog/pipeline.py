"""Entry point of ``helio ingest catalog``: export JSON → typed products → store + report."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from app.catalog.models import Product
from app.catalog.repository import CatalogRepository
from ingest.catalog.cec import enrich_with_cec
from ingest.catalog.kits import build_kit_listing
from ingest.catalog.listings import INVERTER_SIZING_FIELDS, MODULE_SIZING_FIELDS, Listing, build_listing, mark_missing
from ingest.catalog.merge import link_kit_components, merge_listings
from ingest.catalog.quality import build_quality_report, enforce, write_quality_report
from ingest.catalog.report import CatalogReport, DroppedRow, MergedRow, Recategorised, write_report
from ingest.catalog.source import RawRow, distributor_of, load_rows

Progress = Callable[[str, int, int], None]


def _group_same_listing(rows: list[RawRow], report: CatalogReport) -> list[list[RawRow]]:
    """Rows of the same distributor listing (same distributor + upstream id), in file order.

    Kit rows are not grouped by id: FOTUS reuses one id for different kits.
    """
    groups: dict[tuple[str, str], list[RawRow]] = defaultdict(list)
    singles: list[list[RawRow]] = []
    for r in rows:
        if "id" not in r.data or "name" not in r.data:
            report.dropped_rows.append(DroppedRow(ref=r.ref, reason="não é produto (objeto de schema JSON sem id)"))
        elif r.file == "kits_unified.json" or "panels" in r.data:
            singles.append([r])
        else:
            groups[(distributor_of(r.data), str(r.data["id"]))].append(r)
    return singles + list(groups.values())


def _to_listing(group: list[RawRow]) -> Listing | str:
    if len(group) == 1 and ("panels" in group[0].data or group[0].file == "kits_unified.json"):
        return build_kit_listing(group[0])
    return build_listing(group)


def _sizing_ready(p: Product) -> str | None:
    if p.module is not None and all(getattr(p.module, f) is not None for f in MODULE_SIZING_FIELDS):
        return "module"
    if p.inverter is not None and all(getattr(p.inverter, f) is not None for f in INVERTER_SIZING_FIELDS):
        return "inverter"
    return None


def run_catalog_ingest(
    source_dir: Path,
    store: CatalogRepository,
    report_dir: Path,
    progress: Progress | None = None,
) -> CatalogReport:
    """Clean, deduplicate and enrich the export in ``source_dir``; replace the store's catalog.

    ``progress(stage, done, total)`` is called as work advances (stages: "lendo",
    "limpando", "mesclando", "CEC", "regras", "gravando"). The store is replaced atomically, so a
    failure leaves the previous catalog serving. Same export in → same products, ids and
    report out.
    """
    tick: Progress = progress or (lambda stage, done, total: None)
    rows = load_rows(source_dir)
    tick("lendo", len(rows), len(rows))
    report = CatalogReport(source_dir=str(source_dir), rows_in=len(rows))

    groups = _group_same_listing(rows, report)
    listings: list[Listing] = []
    for i, group in enumerate(groups, 1):
        result = _to_listing(group)
        if isinstance(result, str):
            report.dropped_rows.extend(DroppedRow(ref=r.ref, reason=result) for r in group)
        else:
            listings.append(result)
            report.warnings.extend(result.warnings)
        tick("limpando", i, len(groups))

    products, ref_to_id = merge_listings(listings)
    tick("mesclando", 1, 1)
    for lst in listings:
        pid = ref_to_id[lst.refs[0]]
        for ref in lst.refs[1:]:
            report.merged_rows.append(MergedRow(ref=ref, into=pid, reason="linha repetida do mesmo anúncio (mesmo id)"))
        if lst.filed_as is not lst.product.category:
            report.recategorised_rows.append(Recategorised(
                ref=lst.refs[0], product_id=pid, from_category=lst.filed_as.value,
                to_category=lst.product.category.value, reason=lst.category_reason))
    first_listing: dict[str, str] = {}
    for lst in sorted(listings, key=lambda x: (x.offer.distributor, x.offer.source_id, x.refs[0])):
        pid = ref_to_id[lst.refs[0]]
        if pid in first_listing:
            report.merged_rows.append(MergedRow(
                ref=lst.refs[0], into=pid,
                reason=f"mesmo produto que {first_listing[pid]} (fabricante + nome + potência); vira outra oferta"))
        else:
            first_listing[pid] = lst.refs[0]

    report.cec_matches = enrich_with_cec(products)
    tick("CEC", 1, 1)
    # Plausibility rules before kits are linked: a corrected inverter power is the one kits use.
    by_ref = {r.ref: r for r in rows}
    sources: dict[str, list[RawRow]] = defaultdict(list)
    for lst in listings:
        sources[ref_to_id[lst.refs[0]]].extend(by_ref[ref] for ref in lst.refs)
    for p in products:
        enforce(p, sources[p.id])
    tick("regras", 1, 1)
    link_kit_components(products)
    for p in products:
        mark_missing(p)

    count = store.replace_all(products)
    tick("gravando", count, len(products))

    report.products_out = len(products)
    report.dropped = len(report.dropped_rows)
    report.merged = len(report.merged_rows)
    report.recategorised = len(report.recategorised_rows)
    report.with_specs = sum(1 for p in products if set(p.spec_sources) - {"name"})
    report.with_cec = sum(1 for p in products if (p.module and p.module.cec) or (p.inverter and p.inverter.cec))
    report.per_category = dict(sorted(Counter(p.category.value for p in products).items()))
    ready = Counter(k for p in products if (k := _sizing_ready(p)))
    report.string_sizing_ready = {"module": ready["module"], "inverter": ready["inverter"]}
    report.dropped_rows.sort(key=lambda d: d.ref)
    report.merged_rows.sort(key=lambda m: m.ref)
    report.recategorised_rows.sort(key=lambda x: x.ref)
    quality = build_quality_report(products)
    report.quality_findings = {"achados": quality.findings, "corrigidos": quality.corrected,
                               "retidos": quality.held_back, "produtos afetados": quality.products_affected}
    report.quality_per_rule = {c.rule: {"corrigidos": c.corrected, "retidos": c.held_back} for c in quality.per_rule}
    write_quality_report(quality, report_dir)
    write_report(report, report_dir)
    return report


__all__ = ["CatalogReport", "run_catalog_ingest"]
