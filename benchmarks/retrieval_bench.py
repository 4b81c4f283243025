"""Retrieval benchmark: ingestion throughput, unchanged re-run, search latency at 10k/100k.

    python benchmarks/retrieval_bench.py              # sample corpus + 10k + 100k (≈4–5 min on 2 cores)
    python benchmarks/retrieval_bench.py --sizes 10000 --catalog

1. Ingest ``data/knowledge`` (and the catalog documents with ``--catalog``, which needs the
   typed store) into a fresh qdrant-edge shard: chunks/s. Then run again unchanged: it must
   skip every source and embed nothing.
2. Scale: the real chunk vectors of step 1 plus perturbed copies up to N points. A copy is
   ``normalize(v + ε)`` with ε ~ N(0, σ²·I), σ drawn per copy in [0.02, 0.05] (cosine to
   the original ≈ 0.94–0.71), the same sparse terms with weights × U(0.9, 1.1), same payload. The clusters this makes are
   harder for HNSW than uniform random vectors.
3. For each N and engine (qdrant-client local mode in memory — brute force; qdrant-edge
   with HNSW, ef=settings): load, then time the labelled queries of
   ``evals/retrieval/queries.yaml``: query embedding (measured alone), hybrid search, and the
   sum; plus a filtered hybrid search. HNSW recall@10 of edge's dense search against its
   exact search, and overlap of edge's hybrid top-10 with local mode's.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.core.settings import get_settings  # noqa: E402
from app.retrieval.embed import make_embedder  # noqa: E402
from app.retrieval.sparse import SparseEncoder, SparseVec  # noqa: E402
from app.retrieval.store_edge import EdgeStore  # noqa: E402
from app.retrieval.store_qdrant import QdrantClientStore  # noqa: E402
from app.retrieval.types import ChunkRecord, SearchFilters  # noqa: E402


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def ingest_sample(tmp: Path, with_catalog: bool) -> EdgeStore:
    from ingest.knowledge.pipeline import make_chunker, run_knowledge_ingest

    settings = get_settings()
    catalog = None
    kinds = ["datasheets", "financing", "regulation"]
    if with_catalog:
        from app.catalog.store import SQLiteCatalogStore

        if not settings.catalog.db_path.exists():
            sys.exit("catálogo tipado ausente: rode 'helio ingest catalog' ou tire --catalog")
        shutil.copy(settings.catalog.db_path, tmp / "catalog.sqlite3")  # enrichment writes: keep the real one intact
        catalog = SQLiteCatalogStore(tmp / "catalog.sqlite3")
        kinds.insert(0, "catalog")
    embedder = make_embedder(settings.embedding)
    store = EdgeStore(settings.qdrant, path=tmp / "sample-edge")
    args = dict(source_dir=settings.knowledge.source_dir, store=store, embedder=embedder, chunker=make_chunker(settings),
                catalog=catalog)
    first = run_knowledge_ingest(kinds, **args)
    second = run_knowledge_ingest(kinds, **args)
    i1, i2 = first.index, second.index
    print(f"\n## Ingestion ({', '.join(kinds)}; {embedder.name}, batch {settings.embedding.batch_size}, "
          f"chunks {settings.knowledge.chunk_tokens}/{settings.knowledge.chunk_overlap_tokens} tokens)")
    print(f"first run : {i1.documents} documents, {i1.chunks} chunks in {i1.seconds:.1f} s "
          f"→ {i1.chunks_per_s:.1f} chunks/s (embedding {i1.embed_seconds:.1f} s = "
          f"{i1.chunks_embedded / max(i1.embed_seconds, 1e-9):.1f} chunks/s)")
    print(f"second run: {i2.seconds:.2f} s, skipped {i2.skipped}/{i2.documents} sources, embedded {i2.chunks_embedded} chunks")
    return store


def real_points(store: EdgeStore) -> list[ChunkRecord]:
    import qdrant_edge as qe

    out: list[ChunkRecord] = []
    offset = None
    while True:
        recs, offset = store.shard.scroll(qe.ScrollRequest(offset=offset, limit=1000, with_payload=True, with_vector=True))
        for r in recs:
            v = r.vector
            sp = v["sparse"]
            out.append(ChunkRecord(str(r.id), list(v["dense"]), SparseVec(list(sp.indices), list(sp.values)), dict(r.payload)))
        if offset is None or not recs:
            return out


def scaled(points: list[ChunkRecord], n: int, seed: int = 7):
    """Yield ``n`` records: the real ones, then perturbed copies (see module doc)."""
    import uuid

    rng = np.random.default_rng(seed)
    base = np.array([p.dense for p in points], dtype=np.float32)
    for i in range(n):
        src = points[i % len(points)]
        if i < len(points):
            yield src
            continue
        sigma = rng.uniform(0.02, 0.05)
        v = base[i % len(points)] + rng.normal(0, sigma, base.shape[1]).astype(np.float32)
        v /= np.linalg.norm(v)
        # jitter the sparse weights too, or every copy ties with its original and tie order decides
        jitter = rng.uniform(0.9, 1.1, len(src.sparse.values))
        sp = SparseVec(src.sparse.indices, [float(w * j) for w, j in zip(src.sparse.values, jitter, strict=True)])
        yield ChunkRecord(str(uuid.UUID(int=i)), v.tolist(), sp, {**src.payload, "copy": i})


def load(store, points: list[ChunkRecord], n: int, batch: int = 1000) -> float:
    t = time.perf_counter()
    store.ensure(len(points[0].dense))
    buf: list[ChunkRecord] = []
    for rec in scaled(points, n):
        buf.append(rec)
        if len(buf) == batch:
            store.upsert(buf)
            buf = []
    if buf:
        store.upsert(buf)
    store.optimize()
    return time.perf_counter() - t


def time_queries(store, queries: list[str], qvecs: list[list[float]], sparse: SparseEncoder, limit: int):
    lat, flat, results = [], [], []
    flt = SearchFilters(doc_type=["datasheet"], category=["inverter"])
    for text, vec in zip(queries[:limit], qvecs[:limit], strict=False):
        sq = sparse.encode_query(text)
        t = time.perf_counter()
        hits = store.query(dense=vec, sparse=sq, limit=10, mode="hybrid")
        lat.append((time.perf_counter() - t) * 1000)
        results.append([h.id for h in hits])
        t = time.perf_counter()
        store.query(dense=vec, sparse=sq, limit=10, filters=flt, mode="hybrid")
        flat.append((time.perf_counter() - t) * 1000)
    return lat, flat, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--catalog", action="store_true", help="also index the catalog documents (needs the typed store)")
    parser.add_argument("--local-queries", type=int, default=20,
                        help="queries timed on local mode at 10k points (scaled down as 1/N above; it is slow)")
    args = parser.parse_args()
    settings = get_settings()
    tmp = Path(tempfile.mkdtemp(prefix="helio-bench-"))
    try:
        sample = ingest_sample(tmp, args.catalog)
        points = real_points(sample)
        sample.close()
        embedder = make_embedder(settings.embedding)
        sparse = SparseEncoder()
        data = yaml.safe_load((ROOT / "evals" / "retrieval" / "queries.yaml").read_text(encoding="utf-8"))
        queries = [q["query"] for q in data["queries"]]
        random.Random(1).shuffle(queries)
        embedder.embed_query("aquecimento")  # warm-up
        emb_ms, qvecs = [], []
        for q in queries:
            t = time.perf_counter()
            qvecs.append(embedder.embed_query(q))
            emb_ms.append((time.perf_counter() - t) * 1000)
        print(f"\n## Query embedding ({embedder.name}, {len(queries)} queries): "
              f"p50 {pct(emb_ms, 50):.1f} ms, p95 {pct(emb_ms, 95):.1f} ms")
        print(f"\n## Hybrid search latency, real vectors ({len(points)}) + perturbed copies; k=10, prefetch "
              f"{settings.qdrant.prefetch_limit}/retriever, RRF k={settings.qdrant.rrf_k}")
        print(f"{'N':>7} {'engine':<14} {'load s':>7} {'search p50':>11} {'p95':>7} {'+embed p50':>11} {'p95':>7} "
              f"{'filtered p50':>13} {'p95':>7} {'queries':>8}")
        for n in args.sizes:
            edge = EdgeStore(settings.qdrant, path=tmp / f"edge-{n}")
            local = QdrantClientStore.memory(f"bench{n}", prefetch_limit=settings.qdrant.prefetch_limit, rrf_k=settings.qdrant.rrf_k,
                                            rrf_sparse_weight=settings.qdrant.rrf_sparse_weight)
            rows = {}
            # local mode scans every point in Python: fewer timed queries at large N keep the run short
            local_limit = max(5, args.local_queries * 10_000 // n)
            for name, store, limit in (("qdrant-edge", edge, len(queries)), ("qdrant-local", local, local_limit)):
                secs = load(store, points, n)
                lat, flat, res = time_queries(store, queries, qvecs, sparse, limit)
                rows[name] = res
                total = [a + b for a, b in zip(lat, emb_ms, strict=False)]
                print(f"{n:>7} {name:<14} {secs:>7.1f} {pct(lat, 50):>9.1f}ms {pct(lat, 95):>5.1f}ms {pct(total, 50):>9.1f}ms "
                      f"{pct(total, 95):>5.1f}ms {pct(flat, 50):>11.1f}ms {pct(flat, 95):>5.1f}ms {limit:>8}")
            # quality of the approximate engine on the same points
            exact = [{h.id for h in edge.query_exact(vec, 10)} for vec in qvecs]
            sweep = []
            for ef in sorted({64, 128, 256, settings.qdrant.hnsw_ef}):
                edge.hnsw_ef = ef
                rec, ms = [], []
                for vec, ex in zip(qvecs, exact, strict=True):
                    t = time.perf_counter()
                    approx = {h.id for h in edge.query(dense=vec, sparse=None, limit=10, mode="dense")}
                    ms.append((time.perf_counter() - t) * 1000)
                    rec.append(len(approx & ex) / 10)
                sweep.append(f"ef={ef}: {statistics.fmean(rec):.3f} (p95 {pct(ms, 95):.1f} ms)")
            edge.hnsw_ef = settings.qdrant.hnsw_ef
            overlap = [len(set(a) & set(b)) / 10 for a, b in zip(rows["qdrant-edge"], rows["qdrant-local"], strict=False)]
            print(f"{'':>7} edge HNSW dense recall@10 vs exact search: {'; '.join(sweep)}")
            print(f"{'':>7} hybrid top-10 overlap edge vs local (exact): {statistics.fmean(overlap):.3f} "
                  f"over {len(overlap)} queries")
            edge.close()
            local.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
