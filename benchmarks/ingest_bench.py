"""Knowledge-ingest throughput: the embedding step on the real corpus, before and after.

    python benchmarks/ingest_bench.py                  # whole corpus (data/knowledge + catalog documents)
    python benchmarks/ingest_bench.py --limit 600      # a fixed random sample, faster
    python benchmarks/ingest_bench.py --end-to-end     # whole `ingest all` into fresh indexes, before vs now

The corpus is what ``helio ingest all`` embeds: the chunks of data/knowledge plus the
catalog's product documents (the catalog is built from the upstream export into a scratch
file when ``--catalog`` is not given). Every variant embeds the same texts in the same run,
in turn, with the same threads, so the figures compare as ratios even on a busy machine:

* ``before``: batches of 32 in corpus order (what the ingest did until now);
* ``buckets``: the same model in fp32, each text tokenised once by the model's tokenizer,
  batches of near-equal token length (≤ ``batch_size`` texts, ≤ ``batch_tokens`` padded
  tokens), longest first, run on those ids (no second tokenising inside ``encode``);
* ``auto``: buckets plus bfloat16 autocast where the CPU has native bf16 (the default now;
  the same as ``buckets`` on a CPU without it);
* ``int8``: buckets plus per-channel dynamic int8 linear layers (``EMBEDDING__QUANTIZE=int8``).

For ``auto`` and ``int8`` it also reports fidelity against fp32: cosine of each chunk's two
vectors, and the overlap of the dense top-10 for each labelled query of
evals/retrieval/queries.yaml (the retrieval gate, tests/test_retrieval_eval.py, measures
the end result).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.catalog.store import SQLiteCatalogStore  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.retrieval.embed import SentenceTransformerEmbedder  # noqa: E402
from ingest.knowledge.catalog_docs import catalog_documents  # noqa: E402
from ingest.knowledge.pipeline import make_chunker  # noqa: E402
from ingest.knowledge.sources import KINDS, load_sources  # noqa: E402


def scratch_catalog(settings: Settings) -> Path:
    """The catalog built from the upstream export into a scratch file (as `ingest catalog`)."""
    from ingest.catalog.pipeline import run_catalog_ingest

    scratch = Path(tempfile.mkdtemp(prefix="helio-bench-"))
    run_catalog_ingest(settings.catalog.source_dir, SQLiteCatalogStore(scratch / "catalog.sqlite3"), scratch / "reports")
    return scratch / "catalog.sqlite3"


def corpus_texts(settings: Settings, catalog_path: Path) -> list[str]:
    docs = list(load_sources(settings.knowledge.source_dir, KINDS).docs)
    docs += list(catalog_documents(SQLiteCatalogStore(catalog_path).iter_products()))
    chunker = make_chunker(settings)
    return [c.text for d in docs for c in chunker.chunk(d)]


def embed_in_corpus_order(embedder: SentenceTransformerEmbedder, texts: list[str]) -> np.ndarray:
    """The ingest's former batching: slices of ``batch_size`` in corpus order."""
    embedder.load()
    model, size = embedder._model, embedder.batch_size  # noqa: SLF001 - the baseline needs the raw model
    return np.vstack([model.encode(texts[i:i + size], batch_size=size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
                      for i in range(0, len(texts), size)])


class CorpusOrderEmbedder:
    """The former ingest embedder (fp32, batches in corpus order), for the end-to-end run."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim

    def embed_documents(self, texts, *, on_batch=None):
        vectors = embed_in_corpus_order(self.inner, list(texts)).tolist()
        if on_batch:
            on_batch(len(texts))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def end_to_end(settings: Settings, catalog_path: Path, threads: int) -> dict[str, float]:
    """``ingest all`` (parse, chunk, embed, sparse, store, HNSW) into a fresh index, both ways."""
    from app.retrieval.store_edge import EdgeStore
    from ingest.knowledge.pipeline import ALL_KINDS, run_knowledge_ingest

    catalog = SQLiteCatalogStore(catalog_path)
    fp32 = SentenceTransformerEmbedder(batch_size=32, torch_threads=threads, precision="fp32")
    now = SentenceTransformerEmbedder(batch_size=32, torch_threads=threads)
    out = {}
    for name, embedder in (("before", CorpusOrderEmbedder(fp32)), ("now", now)):
        embedder.embed_documents(["aquecimento"] * 8)
        store = EdgeStore(settings.qdrant, path=Path(tempfile.mkdtemp(prefix="helio-bench-edge-")) / "edge")
        t, cpu = time.perf_counter(), time.process_time()
        report = run_knowledge_ingest(ALL_KINDS, source_dir=settings.knowledge.source_dir, store=store,
                                      embedder=embedder, chunker=make_chunker(settings), catalog=catalog)
        out[f"{name}_seconds"] = time.perf_counter() - t
        out[f"{name}_cpu_seconds"] = time.process_time() - cpu  # steadier than wall time on a shared box
        out[f"{name}_chunks_per_s"] = report.index.chunks_embedded / out[f"{name}_seconds"]
        store.close()
    out["end_to_end_ratio"] = out["before_seconds"] / out["now_seconds"]
    out["end_to_end_cpu_ratio"] = out["before_cpu_seconds"] / out["now_cpu_seconds"]
    return out


def timed(fn) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    out = np.asarray(fn(), dtype=np.float32)
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="embed a fixed random sample of this many chunks")
    ap.add_argument("--catalog", type=Path, default=None, help="an ingested catalog SQLite file")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (ingest uses all cores)")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--end-to-end", action="store_true", help="time whole ingests instead of the embedding step")
    args = ap.parse_args()

    settings = Settings(_env_file=None)
    catalog = args.catalog or scratch_catalog(settings)
    if args.end_to_end:
        for key, value in end_to_end(settings, catalog, args.threads).items():
            print(f"{key:>30}: {value:.4g}")
        return
    texts = corpus_texts(settings, catalog)
    if args.limit and args.limit < len(texts):
        texts = random.Random(7).sample(texts, args.limit)
    print(f"corpus: {len(texts)} chunks; torch threads {args.threads}")
    variants = {
        "buckets": SentenceTransformerEmbedder(batch_size=32, torch_threads=args.threads, precision="fp32"),
        "auto": SentenceTransformerEmbedder(batch_size=32, torch_threads=args.threads),
        "int8": SentenceTransformerEmbedder(batch_size=32, torch_threads=args.threads, quantize="int8"),
    }
    fp32 = variants["buckets"]
    for embedder in variants.values():  # load and warm every model before timing
        embedder.embed_documents(texts[:64])

    before, t_before = timed(lambda: embed_in_corpus_order(fp32, texts))
    figures: dict[str, object] = {"chunks": len(texts), "native_bf16": variants["auto"].bf16,
                                  "before_chunks_per_s": len(texts) / t_before}
    queries = yaml.safe_load((ROOT / "evals" / "retrieval" / "queries.yaml").read_text())["queries"]
    reference = [np.asarray(fp32.embed_query(q["query"])) for q in queries]
    for name, embedder in variants.items():
        vectors, seconds = timed(lambda: embedder.embed_documents(texts))
        figures[f"{name}_chunks_per_s"] = len(texts) / seconds
        figures[f"{name}_ratio"] = t_before / seconds
        figures[f"{name}_cosine_min"] = float((vectors * before).sum(1).min())
        overlaps = []
        for q, ref in zip(queries, reference):
            top_ref = set(np.argsort(-(before @ ref))[:10])
            top = set(np.argsort(-(vectors @ np.asarray(embedder.embed_query(q["query"]))))[:10])
            overlaps.append(len(top_ref & top) / 10)
        figures[f"{name}_dense_top10_overlap"] = float(np.mean(overlaps))
    for key, value in figures.items():
        print(f"{key:>30}: {value:.4g}" if isinstance(value, float) else f"{key:>30}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
