"""Retrieval eval: recall@5, MRR@10, nDCG@10 for dense, sparse and hybrid, side by side.

    python -m evals.retrieval.run                 # evaluate the configured index
    python -m evals.retrieval.run --ingest        # (re)index data/knowledge + catalog first
    python -m evals.retrieval.run --check         # exit 1 unless hybrid recall@5 ≥ 0.85 and > dense, sparse

Each query is searched for its top 50 chunks; chunks become a document ranking (first
chunk of a source = its rank). Metrics are in :mod:`evals.retrieval.metrics`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from app.core.yamlfile import load_yaml

ROOT = Path(__file__).resolve().parents[2]
MODES = ("dense", "sparse", "hybrid")
DEPTH = 50


def load_queries(path: Path) -> list[dict]:
    data = load_yaml(path.read_text(encoding="utf-8"))
    queries = data["queries"] if isinstance(data, dict) else data
    return [q for q in queries if q.get("relevant")]


def evaluate(searcher, queries: list[dict], modes=MODES) -> dict:
    from evals.retrieval.metrics import document_ranking, mrr_at_k, ndcg_at_k, page_hit, recall_at_k

    per_query: dict[str, dict[str, dict]] = defaultdict(dict)
    for mode in modes:
        for q in queries:
            t = time.perf_counter()
            hits = searcher.search(q["query"], k=DEPTH, mode=mode)
            ms = (time.perf_counter() - t) * 1000
            ranking = document_ranking([(h.citation.source, h.doc_keys) for h in hits])
            rel = {str(k): int(v) for k, v in q["relevant"].items()}
            per_query[q["id"]][mode] = {
                "recall@5": recall_at_k(ranking, rel, 5),
                "recall@5_uncapped": recall_at_k(ranking, rel, 5, capped=False),
                "mrr@10": mrr_at_k(ranking, rel, 10),
                "ndcg@10": ndcg_at_k(ranking, rel, 10),
                "page@10": page_hit([(h.citation.source, h.citation.page) for h in hits], q.get("relevant_pages") or {}, 10),
                "ms": ms,
                "top": [sorted(keys)[0] for keys in ranking[:5]],
            }
    return per_query


def summarise(per_query: dict, queries: list[dict], modes=MODES, group: str | None = None) -> dict:
    out: dict = {}
    groups: dict[str, list[str]] = defaultdict(list)
    for q in queries:
        groups[q.get(group, "?") if group else "all"].append(q["id"])
    for name, ids in sorted(groups.items()):
        out[name] = {}
        for mode in modes:
            rows = [per_query[i][mode] for i in ids]
            pages = [r["page@10"] for r in rows if r["page@10"] is not None]
            out[name][mode] = {
                "n": len(rows),
                **{m: statistics.fmean(r[m] for r in rows) for m in ("recall@5", "recall@5_uncapped", "mrr@10", "ndcg@10")},
                "page@10": statistics.fmean(pages) if pages else None,
                "p50_ms": statistics.median(r["ms"] for r in rows),
            }
    return out


def print_table(summary: dict, title: str) -> None:
    print(f"\n{title}")
    print(f"{'group':<16}{'mode':<8}{'n':>4}{'R@5':>8}{'R@5unc':>8}{'MRR@10':>8}{'nDCG@10':>9}{'page@10':>9}{'p50 ms':>8}")
    for name, modes in summary.items():
        for mode, m in modes.items():
            page = f"{m['page@10']:.3f}" if m["page@10"] is not None else "—"
            print(f"{name:<16}{mode:<8}{m['n']:>4}{m['recall@5']:>8.3f}{m['recall@5_uncapped']:>8.3f}{m['mrr@10']:>8.3f}"
                  f"{m['ndcg@10']:>9.3f}{page:>9}{m['p50_ms']:>8.1f}")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=Path, default=ROOT / "evals" / "retrieval" / "queries.yaml")
    parser.add_argument("--ingest", action="store_true", help="index data/knowledge (+ catalog store) before evaluating")
    parser.add_argument("--check", action="store_true", help="exit 1 unless hybrid recall@5 >= --min-recall and > dense and sparse")
    parser.add_argument("--min-recall", type=float, default=0.85)
    parser.add_argument("--out", type=Path, default=None, help="JSON report (default var/reports/retrieval-eval.json)")
    parser.add_argument("--failures", action="store_true", help="list hybrid queries with recall@5 < 1")
    args = parser.parse_args(argv)

    from app.core.settings import get_settings
    from app.retrieval.search import make_searcher

    settings = get_settings()
    if args.ingest:
        from cli.knowledge import run_knowledge

        run_knowledge()
    queries = load_queries(args.queries)
    searcher = make_searcher(settings)
    try:
        if searcher.store.count() == 0:
            print("índice vazio: rode 'helio ingest all' ou use --ingest", file=sys.stderr)
            return 2
        per_query = evaluate(searcher, queries)
        chunks = searcher.store.count()
    finally:
        searcher.close()
    overall = summarise(per_query, queries)
    by_type = summarise(per_query, queries, group="type")
    by_lang = summarise(per_query, queries, group="lang")
    print(f"{len(queries)} queries, {chunks} chunks, store={searcher.store.name}, embedder={searcher.embedder.name}")
    print("R@5 = recall@5 over keys with grade >= 1, divided by min(5, |relevant|); R@5unc divides by |relevant|")
    print_table(overall, "Overall")
    print_table(by_type, "Hybrid vs single retrievers by query type")
    print_table(by_lang, "By language")
    if args.failures:
        print("\nHybrid misses (recall@5 < 1):")
        for q in queries:
            r = per_query[q["id"]]["hybrid"]
            if r["recall@5"] < 1:
                print(f"  {q['id']} [{q['type']}] {q['query']!r}: R@5={r['recall@5']:.2f} top={r['top']}")
                print(f"      relevant={sorted(q['relevant'])}")
    out = args.out or settings.catalog.report_dir / "retrieval-eval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"overall": overall, "by_type": by_type, "by_lang": by_lang, "per_query": per_query},
                              ensure_ascii=False, indent=2), encoding="utf-8")
    hybrid = overall["all"]["hybrid"]
    print(f"\nhybrid recall@5 = {hybrid['recall@5']:.3f} (gate {args.min_recall})")
    for metric in ("recall@5", "mrr@10", "ndcg@10"):
        deltas = ", ".join(f"{hybrid[metric] - overall['all'][o][metric]:+.4f} vs {o}" for o in ("dense", "sparse"))
        print(f"hybrid {metric}: {deltas}")
    # the gate: hybrid recall@5 above the threshold and above each single retriever
    ok = hybrid["recall@5"] >= args.min_recall and all(
        hybrid["recall@5"] > overall["all"][o]["recall@5"] for o in ("dense", "sparse"))
    print(f"gate (hybrid R@5 >= {args.min_recall} and > dense, sparse): {'PASS' if ok else 'FAIL'}")
    return 0 if ok or not args.check else 1

if __name__ == "__main__":
    raise SystemExit(main())
