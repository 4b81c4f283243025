"""Share of in-stock catalog kits whose string check is verified, and which specs are missing.

    PYTHONPATH=. .venv/bin/python benchmarks/kit_spec_coverage.py [--catalog-db PATH] [--tmin 4.2]

Ingests ``data/catalog`` into a temporary store (or reads ``--catalog-db``), opens the spec
registry shipped in ``data/specs`` (no engineer imports), and runs every usable in-stock kit's
electrical check (``app/sizing/kitcheck.check_kit``, the one a sizing runs) at the design
minimum temperature ``--tmin`` [°C] (default 4,2 °C, Uberlândia's). Prints the shares of
verified / fails / not_verifiable and the missing specs ranked by how many kits they block
(issue #15 goal: ≥ 80 % verified).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.catalog.models import Category  # noqa: E402
from app.catalog.store import SQLiteCatalogStore  # noqa: E402
from app.sizing import design as D  # noqa: E402
from app.sizing import kits as K  # noqa: E402
from app.sizing.kitcheck import check_kit  # noqa: E402
from app.specs.registry import open_registry  # noqa: E402


def coverage(store, registry, tmin_c: float) -> dict:
    products = list(store.iter_products())
    by_id = {p.id: p for p in products}
    statuses: Counter[str] = Counter()
    blocking: Counter[str] = Counter()
    alone: Counter[str] = Counter()  # kits this one spec alone keeps from being checked
    for p in products:
        if p.category is not Category.KIT or not p.in_stock:
            continue
        k = K.kit_electrical(p, by_id, registry)
        if isinstance(k, D.Skipped):
            continue
        check = check_kit(k.module_spec, k.inverter_spec, k.micro, k.n_modules, sum(x.quantity for x in k.inverters),
                          tmin_c, K.short_name(k.modules[0]), K.short_name(k.inverters[0]), k.module_why,
                          k.inverter_why, k.distributor)
        statuses[check.status] += 1
        if check.status == "not_verifiable":
            missing = []
            if k.module_spec is None:
                missing.append(f"módulo {K.short_name(k.modules[0])}")
            if k.inverter_spec is None:
                missing.append(f"{'microinversor' if k.micro else 'inversor'} {K.short_name(k.inverters[0])}")
            if not missing:
                missing.append(f"campos faltando: {check.reason}")
            blocking.update(missing)
            if len(missing) == 1:
                alone.update(missing)
    return {"kits": sum(statuses.values()), "statuses": dict(statuses),
            "blocking": [(what, c, alone.get(what, 0)) for what, c in blocking.most_common()]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--catalog-db", type=Path, help="an ingested catalog store (default: ingest data/catalog)")
    ap.add_argument("--tmin", type=float, default=4.2, help="design minimum temperature [°C]")
    args = ap.parse_args()
    registry = open_registry(ROOT / "data" / "specs", None)
    with tempfile.TemporaryDirectory() as tmp:
        if args.catalog_db:
            store = SQLiteCatalogStore(args.catalog_db)
        else:
            from ingest.catalog.pipeline import run_catalog_ingest

            store = SQLiteCatalogStore(Path(tmp) / "catalog.sqlite3")
            run_catalog_ingest(ROOT / "data" / "catalog", store, Path(tmp) / "reports")
        out = coverage(store, registry, args.tmin)
    n = out["kits"]
    print(f"Registry: {registry.counts()}; usable in-stock kits: {n}; design minimum {args.tmin:g} °C")
    for status in ("verified", "fails", "not_verifiable"):
        c = out["statuses"].get(status, 0)
        print(f"  {status:15} {c:4d}  {100 * c / max(n, 1):5.1f} %")
    print("Specs missing, by kits blocked (and kits that this spec alone would turn checkable):")
    for what, c, only in out["blocking"]:
        print(f"  {c:4d} ({only:3d})  {what}")


if __name__ == "__main__":
    main()
