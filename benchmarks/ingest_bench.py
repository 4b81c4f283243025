"""Knowledge-ingest throughput: the embedding step on the real corpus, before and after.

    python benchmarks/ingest_bench.py                  # whole corpus (data/knowledge + catalog documents)
    python benchmarks/ingest_bench.py --limit 600      # a fixed random sample, faster
    python benchmarks/ingest_bench.py --end-to-end     # whole `ingest all` into fresh indexes, before vs now
    python benchmarks/ingest_bench.py --rounds 3       # variants alternate, best round of each is kept

The corpus is what ``helio ingest all`` embeds: the chunks of data/knowledge plus the
catalog's product documents (the catalog is built from the upstream export into a scratch
file when ``--catalog`` is not given). Every variant embeds the same texts in the same run,
in turn (alternating, ``--rounds`` times), with the same threads, so the figures compare as
ratios even on a busy machine:

* ``before``: torch fp32, batches of 32 in corpus order (what the ingest did originally);
* ``torch-fp32``: torch fp32, each text tokenised once, batches of near-equal token length
  (≤ ``batch_size`` texts, ≤ ``batch_tokens`` padded tokens), longest first, run on those
  ids (what a CPU without native bf16 got before ONNX Runtime: ``EMBEDDING__ENGINE=torch``);
* ``torch-bf16``: the same under bfloat16 autocast (the default on CPUs with native bf16);
* ``torch-int8``: torch's per-channel dynamic int8 linear layers (``ENGINE=torch QUANTIZE=int8``);
* ``onnx-fp32``: the ONNX Runtime export, fp32 (the default on CPUs without native bf16);
* ``onnx-int8``: the export with ONNX Runtime's per-channel dynamic int8 (``QUANTIZE=int8``).

For each variant it also reports fidelity against fp32: cosine of each chunk's two vectors,
and the overlap of the dense top-10 for each labelled query of evals/retrieval/queries.yaml
(the retrieval eval, ``python -m evals.retrieval.run --ingest``, measures the end result).
Times are wall seconds and process CPU seconds (steadier on a shared box). ONNX Runtime
picks its kernels from the CPU's instructions (AVX-512/VNNI where present): the figures of
one CPU kind say nothing exact about another, so name the CPU with them.
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
from app.retrieval.embed import SentenceTransformerEmbedder, choose_engine, cpu_has_native_bf16  # noqa: E402
from app.retrieval.embed_onnx import OnnxEmbedder  # noqa: E402
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


def make_variant(name: str, threads: int, onnx_dir: Path | None = None):
    """One embedder per variant name (see the module doc); ``auto-avx2`` / ``auto-here`` are the
    default engine choice on a CPU without native bf16 / on this CPU."""
    if name.startswith("auto-"):
        engine = choose_engine("auto", native_bf16=False if name == "auto-avx2" else None)
        name = "onnx-fp32" if engine == "onnx" else ("torch-fp32" if name == "auto-avx2" else "torch-bf16")
    if name in ("before", "torch-fp32"):
        embedder = SentenceTransformerEmbedder(batch_size=32, torch_threads=threads, precision="fp32")
        return CorpusOrderEmbedder(embedder) if name == "before" else embedder
    if name == "torch-bf16":
        return SentenceTransformerEmbedder(batch_size=32, torch_threads=threads, precision="bf16")
    if name == "torch-int8":
        return SentenceTransformerEmbedder(batch_size=32, torch_threads=threads, quantize="int8")
    if name in ("onnx-fp32", "onnx-int8"):
        return OnnxEmbedder(batch_size=32, threads=threads, quantize="int8" if name == "onnx-int8" else None,
                            onnx_dir=onnx_dir)
    raise SystemExit(f"unknown variant {name!r}")


def end_to_end(settings: Settings, catalog_path: Path, threads: int, names: list[str], rounds: int,
               onnx_dir: Path | None = None) -> dict[str, float]:
    """``ingest all`` (parse, chunk, embed, sparse, store, HNSW) into a fresh index per variant,
    variants alternating for ``rounds`` rounds; the best round of each is kept."""
    from app.retrieval.store_edge import EdgeStore
    from ingest.knowledge.pipeline import ALL_KINDS, run_knowledge_ingest

    catalog = SQLiteCatalogStore(catalog_path)
    variants = {name: make_variant(name, threads, onnx_dir) for name in names}
    for embedder in variants.values():
        embedder.embed_documents(["aquecimento"] * 8)
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    chunks = 0
    for _ in range(rounds):
        for name, embedder in variants.items():
            store = EdgeStore(settings.qdrant, path=Path(tempfile.mkdtemp(prefix="helio-bench-edge-")) / "edge")
            t, c = time.perf_counter(), time.process_time()
            report = run_knowledge_ingest(ALL_KINDS, source_dir=settings.knowledge.source_dir, store=store,
                                          embedder=embedder, chunker=make_chunker(settings), catalog=catalog)
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)  # steadier than wall time on a shared box
            chunks = report.index.chunks_embedded
            store.close()
            print(f"  {name}: {wall[name][-1]:.1f} s wall, {cpu[name][-1]:.1f} s CPU, load {os.getloadavg()[0]:.1f}",
                  flush=True)
    out: dict[str, float] = {"chunks": chunks}
    base = names[0]
    for name in names:
        out[f"{name}_seconds"] = min(wall[name])
        out[f"{name}_cpu_seconds"] = min(cpu[name])
        out[f"{name}_chunks_per_s"] = chunks / min(wall[name])
        if name != base:
            out[f"{name}_ratio_vs_{base}"] = min(wall[base]) / min(wall[name])
            out[f"{name}_cpu_ratio_vs_{base}"] = min(cpu[base]) / min(cpu[name])
    return out


def timed(fn) -> tuple[np.ndarray, float, float]:
    t, c = time.perf_counter(), time.process_time()
    out = np.asarray(fn(), dtype=np.float32)
    return out, time.perf_counter() - t, time.process_time() - c


MODEL_VARIANTS = ["before", "torch-fp32", "torch-bf16", "torch-int8", "onnx-fp32", "onnx-int8"]
E2E_VARIANTS = ["before", "torch-fp32", "auto-avx2", "auto-here"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="embed a fixed random sample of this many chunks")
    ap.add_argument("--catalog", type=Path, default=None, help="an ingested catalog SQLite file")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch / ONNX Runtime threads")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--end-to-end", action="store_true", help="time whole ingests instead of the embedding step")
    ap.add_argument("--variants", default=None,
                    help=f"comma-separated; first is the baseline (default {','.join(MODEL_VARIANTS)}; "
                         f"end to end {','.join(E2E_VARIANTS)})")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the variants this many times; keep each one's best")
    ap.add_argument("--onnx-dir", type=Path, default=None, help="where the ONNX exports are (default: the venv's)")
    args = ap.parse_args()

    settings = Settings(_env_file=None)
    catalog = args.catalog or scratch_catalog(settings)
    print(f"CPU native bf16: {cpu_has_native_bf16()}; threads {args.threads}; load {os.getloadavg()}")
    if args.end_to_end:
        names = args.variants.split(",") if args.variants else E2E_VARIANTS
        figures = end_to_end(settings, catalog, args.threads, names, args.rounds, args.onnx_dir)
    else:
        figures = embedding_step(settings, catalog, args)
    figures["load_average_end"] = os.getloadavg()[0]
    for key, value in figures.items():
        print(f"{key:>36}: {value:.4g}" if isinstance(value, float) else f"{key:>36}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def embedding_step(settings: Settings, catalog: Path, args) -> dict[str, object]:
    texts = corpus_texts(settings, catalog)
    if args.limit and args.limit < len(texts):
        texts = random.Random(7).sample(texts, args.limit)
    names = args.variants.split(",") if args.variants else MODEL_VARIANTS
    print(f"corpus: {len(texts)} chunks")
    variants = {name: make_variant(name, args.threads, args.onnx_dir) for name in names}
    for embedder in variants.values():  # load and warm every model before timing
        embedder.embed_documents(texts[:64])
    reference_embedder = make_variant("torch-fp32", args.threads)
    reference = np.asarray(reference_embedder.embed_documents(texts), dtype=np.float32)
    queries = yaml.safe_load((ROOT / "evals" / "retrieval" / "queries.yaml").read_text())["queries"]
    query_ref = [np.asarray(reference_embedder.embed_query(q["query"])) for q in queries]
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, embedder in variants.items():
            vectors[name], seconds, cpu_seconds = timed(lambda e=embedder: e.embed_documents(texts))
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
    base = names[0]
    figures: dict[str, object] = {"chunks": len(texts)}
    for name, embedder in variants.items():
        figures[f"{name}_chunks_per_s"] = len(texts) / min(wall[name])
        figures[f"{name}_cpu_seconds"] = min(cpu[name])
        figures[f"{name}_ratio"] = min(wall[base]) / min(wall[name])
        figures[f"{name}_cpu_ratio"] = min(cpu[base]) / min(cpu[name])
        figures[f"{name}_cosine_min"] = float((vectors[name] * reference).sum(1).min())
        overlaps = []
        for q, ref in zip(queries, query_ref):
            top_ref = set(np.argsort(-(reference @ ref))[:10])
            top = set(np.argsort(-(vectors[name] @ np.asarray(embedder.embed_query(q["query"]))))[:10])
            overlaps.append(len(top_ref & top) / 10)
        figures[f"{name}_dense_top10_overlap"] = float(np.mean(overlaps))
    return figures


if __name__ == "__main__":
    main()
