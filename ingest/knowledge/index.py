"""Incremental, crash-safe sync of parsed documents into the vector store.

* Point id = uuid5(source + chunk hash): the same chunk always gets the same id.
* The per-source manifest is the index itself: every point carries ``source`` and
  ``source_hash`` (hash of the raw source and of the pipeline settings). A source whose
  points all carry the current hash is skipped without parsing its chunks again.
* A changed source: new chunks are embedded and written first, unchanged chunks keep their
  dense vector and get a fresh sparse vector and the new ``source_hash``, then the stale
  points are deleted. A crash in between leaves the
  old points serving; the next run sees two hashes and finishes the job.
* A source that disappeared is deleted, unless it failed to parse this run (``protected``):
  a bad file never takes its previous chunks down.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from app.retrieval.embed import Embedder
from app.retrieval.sparse import SparseEncoder
from app.retrieval.store import VectorStore
from app.retrieval.types import ChunkRecord
from ingest.knowledge.chunk import Chunk, Chunker
from ingest.knowledge.documents import ParseError, SourceDoc, sha256_json

NAMESPACE = uuid.UUID("6f1c2d0e-3b7a-5e8f-9a41-2c6d8e0f1a7b")
PIPELINE_VERSION = "knowledge-v1"
ProgressFn = Callable[[str, int, int], None]


@dataclass
class IndexReport:
    documents: int = 0
    chunks: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    chunks_deleted: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    errors: list[ParseError] = field(default_factory=list)

    @property
    def chunks_per_s(self) -> float:
        """Embedded-and-written chunks per wall-clock second of the whole run."""
        return self.chunks_embedded / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "documentos": self.documents, "chunks": self.chunks, "novos": self.new, "atualizados": self.updated,
            "removidos": self.deleted, "inalterados (pulados)": self.skipped, "chunks embedados": self.chunks_embedded,
            "chunks reaproveitados": self.chunks_reused, "chunks removidos": self.chunks_deleted, "erros": len(self.errors),
            "segundos": round(self.seconds, 2), "chunks/s": round(self.chunks_per_s, 1),
        }


def point_id(source: str, chunk_hash: str, dense_fp: str = "") -> str:
    """uuid5 of source + chunk hash (+ the embedding model, so a new model never keeps old vectors)."""
    return str(uuid.uuid5(NAMESPACE, f"{source}\n{chunk_hash}\n{dense_fp}"))


def pipeline_fingerprint(chunker: Chunker, embedder: Embedder, sparse: SparseEncoder) -> str:
    """Changes when anything that shapes the stored points changes (forces a re-index)."""
    return sha256_json([PIPELINE_VERSION, chunker.max_tokens, chunker.overlap, chunker.enc.name, embedder.name,
                        embedder.dim, sparse.version, sparse.k1, sparse.b, sparse.avg_len])[:16]


def doc_payload_meta(doc: SourceDoc) -> dict[str, Any]:
    m = doc.meta
    manufacturer = m.get("manufacturer")
    power = m.get("power_w")
    return {
        "doc_type": doc.doc_type,
        "doc_keys": doc.doc_keys,
        "title": doc.title,
        "category": m.get("category"),
        "manufacturer": manufacturer.strip().lower() if isinstance(manufacturer, str) and manufacturer.strip() else None,
        "manufacturer_name": manufacturer,
        "model": m.get("model"),
        "power_w": float(power) if isinstance(power, (int, float)) else None,
        "lender": m.get("lender"),
        "product_ids": list(m.get("product_ids") or []),
        "upstream_ids": list(m.get("upstream_ids") or []),
    }


def chunk_payload(doc: SourceDoc, chunk: Chunk, source_hash: str, chunk_hash: str) -> dict[str, Any]:
    return {
        "source": doc.source, "source_hash": source_hash, **doc_payload_meta(doc), "section": chunk.section,
        "page": chunk.page, "text": chunk.text, "body": chunk.body, "chunk_hash": chunk_hash,
        "tokens": chunk.tokens,
    }


@dataclass
class _Pending:
    doc: SourceDoc
    source_hash: str
    records: list[tuple[str, Chunk, dict[str, Any]]]  # (id, chunk, payload)
    old_ids: set[str]
    is_new: bool


def sync_index(
    docs: Iterable[SourceDoc],
    *,
    store: VectorStore,
    embedder: Embedder,
    chunker: Chunker,
    sparse: SparseEncoder,
    scope: Collection[str],
    protected: Callable[[str], bool] = lambda source: False,
    errors: Iterable[ParseError] = (),
    force: bool = False,
    progress: ProgressFn | None = None,
    batch_chunks: int = 256,
) -> IndexReport:
    """Make the index hold exactly ``docs`` for the doc types in ``scope``.

    ``protected(source)`` is true for sources whose file failed to parse this run: their
    points are kept. ``progress(stage, done, total)`` reports embedding progress.
    """
    t0 = time.perf_counter()
    report = IndexReport(errors=list(errors))
    store.ensure(embedder.dim)
    fingerprint = pipeline_fingerprint(chunker, embedder, sparse)
    dense_fp = sha256_json([embedder.name, embedder.dim])[:12]
    states = store.source_states(scope)
    seen: set[str] = set()
    pending: list[_Pending] = []
    for doc in docs:
        report.documents += 1
        seen.add(doc.source)
        source_hash = f"{doc.source_hash[:32]}:{fingerprint}"
        state = states.get(doc.source)
        if state is not None and state.hashes == {source_hash} and not force:
            report.skipped += 1
            continue
        meta = doc_payload_meta(doc)
        records = []
        for chunk in chunker.chunk(doc):
            chunk_hash = chunk.content_hash(meta)
            records.append((point_id(doc.source, chunk_hash, dense_fp), chunk, chunk_payload(doc, chunk, source_hash, chunk_hash)))
        pending.append(_Pending(doc, source_hash, records, set(state.ids) if state else set(), state is None))

    vectors = _embed_new(pending, embedder, report, force, progress)
    batch: list[_Pending] = []
    batch_size = 0
    for item in pending:
        batch.append(item)
        batch_size += len(item.records)
        if batch_size >= batch_chunks:
            _write_batch(batch, store, vectors, sparse, report, force)
            batch, batch_size = [], 0
    if batch:
        _write_batch(batch, store, vectors, sparse, report, force)

    for source, state in states.items():
        if source in seen or protected(source):
            continue
        store.delete(sorted(state.ids))
        report.deleted += 1
        report.chunks_deleted += len(state.ids)
    if pending or report.deleted:
        store.optimize()
    report.seconds = time.perf_counter() - t0
    return report


def _embed_new(pending: list[_Pending], embedder: Embedder, report: IndexReport, force: bool,
               progress: ProgressFn | None) -> dict[str, list[float]]:
    """Dense vectors of every chunk to write, in one call: the embedder sorts the whole run
    by length, so its batches hold chunks of near-equal length (a window of a few
    documents at a time would mix lengths and pad more). Nothing is written before all
    are embedded, so a crash here leaves the old points serving."""
    texts: dict[str, str] = {}
    for p in pending:
        for rid, chunk, _ in p.records:
            if force or rid not in p.old_ids:
                texts.setdefault(rid, chunk.text)
    done = 0
    if progress:
        progress("embeddings", 0, len(texts))

    def on_batch(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embeddings", done, len(texts))

    t = time.perf_counter()
    vectors = embedder.embed_documents(list(texts.values()), on_batch=on_batch) if texts else []
    report.embed_seconds += time.perf_counter() - t
    return dict(zip(texts, vectors, strict=True))


def _write_batch(batch: list[_Pending], store: VectorStore, vectors: dict[str, list[float]], sparse: SparseEncoder,
                 report: IndexReport, force: bool) -> None:
    to_embed = [(rid, chunk, payload) for p in batch for rid, chunk, payload in p.records if force or rid not in p.old_ids]
    store.upsert([ChunkRecord(rid, vectors[rid], sparse.encode_document(c.text), payload)
                  for rid, c, payload in to_embed])
    report.chunks_embedded += len(to_embed)
    for p in batch:  # new points are in; now retag the kept ones and drop the stale ones
        ids = {rid for rid, _, _ in p.records}
        kept = sorted(ids & p.old_ids) if not force else []
        # same id = same text and metadata, so the dense vector is still right; the sparse
        # one is re-encoded (cheap) in case the tokenizer changed, then the hash is retagged
        texts = {rid: c.text for rid, c, _ in p.records}
        store.update_sparse([(rid, sparse.encode_document(texts[rid])) for rid in kept])
        store.set_payload(kept, {"source_hash": p.source_hash})
        store.delete(sorted(p.old_ids - ids))
        report.chunks += len(p.records)
        report.chunks_reused += len(kept)
        report.chunks_deleted += len(p.old_ids - ids)
        if p.is_new:
            report.new += 1
        else:
            report.updated += 1
