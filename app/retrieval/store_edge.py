"""qdrant-edge implementation: Qdrant's engine in-process, HNSW on the dense vector.

One shard directory (``QdrantSettings.edge_path``) is one collection. Writes land in an
appendable segment that is searched exactly; :meth:`EdgeStore.optimize` (called at the end
of an ingestion run) builds the HNSW graph and payload indexes once the segment is large
enough to be worth it. Search = Query API with dense and sparse prefetches fused by RRF.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from pathlib import Path

import qdrant_edge as qe

from app.core.errors import Unavailable
from app.core.settings import QdrantSettings
from app.retrieval.sparse import SparseVec
from app.retrieval.types import (
    DENSE,
    FLOAT_FIELDS,
    KEYWORD_FIELDS,
    SPARSE,
    ChunkRecord,
    SearchFilters,
    SearchMode,
    SourceState,
    StoredHit,
)

log = logging.getLogger(__name__)

_BOOKKEEPING = ["source", "source_hash", "doc_type"]


def to_edge_filter(filters: SearchFilters | None) -> qe.Filter | None:
    if filters is None or filters.is_empty():
        return None
    must: list = [qe.FieldCondition(key=key, match=qe.MatchAny(values)) for key, values in filters.keyword_conditions().items()]
    if filters.min_power_w is not None or filters.max_power_w is not None:
        must.append(qe.FieldCondition(key="power_w", range=qe.RangeFloat(gte=filters.min_power_w, lte=filters.max_power_w)))
    return qe.Filter(must=must)


def _id(point_id: object) -> str:
    return str(point_id) if not isinstance(point_id, uuid.UUID) else str(point_id)


def _open(opener, path: Path) -> qe.EdgeShard:
    """Open a shard; a shard held by another process (its WAL is locked) is a typed error."""
    try:
        return opener()
    except Exception as exc:  # noqa: BLE001 - the binding raises plain Exception
        if "WouldBlock" in str(exc):
            raise Unavailable(
                f"O índice em {path} está aberto por outro processo (a API?).",
                hint="Pare o processo que o usa antes de 'helio ingest', ou use um servidor Qdrant (QDRANT__URL).",
            ) from exc
        raise


class EdgeStore:
    """A qdrant-edge shard on disk (``path``). Opened lazily; created by :meth:`ensure`."""

    name = "qdrant-edge"

    def __init__(self, settings: QdrantSettings | None = None, *, path: Path | None = None, hnsw_ef: int | None = None,
                 prefetch_limit: int | None = None, rrf_k: int | None = None, rrf_sparse_weight: float | None = None,
                 hnsw_m: int = 16, ef_construct: int = 100, indexing_threshold_kb: int = 2_000) -> None:
        settings = settings or QdrantSettings()
        self.path = Path(path or settings.edge_path)
        self.hnsw_ef = hnsw_ef or settings.hnsw_ef
        self.prefetch_limit = prefetch_limit or settings.prefetch_limit
        self.rrf_k = rrf_k or settings.rrf_k
        self.rrf_sparse_weight = rrf_sparse_weight or settings.rrf_sparse_weight
        self.hnsw_m = hnsw_m
        self.ef_construct = ef_construct
        # below this segment size (KB of vectors) search is exact: HNSW is not worth building
        self.indexing_threshold_kb = indexing_threshold_kb
        self._shard: qe.EdgeShard | None = None
        if self._has_data():
            self._shard = _open(lambda: qe.EdgeShard.load(str(self.path)), self.path)

    def _has_data(self) -> bool:
        return self.path.is_dir() and any(self.path.iterdir())

    def _config(self, dim: int) -> qe.EdgeConfig:
        return qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            hnsw_config=qe.HnswIndexConfig(m=self.hnsw_m, ef_construct=self.ef_construct, full_scan_threshold=10_000),
            optimizers=qe.EdgeOptimizersConfig(indexing_threshold=self.indexing_threshold_kb),
        )

    # -- schema ---------------------------------------------------------------------------
    def ensure(self, dim: int) -> None:
        if self._shard is not None:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self._shard = _open(lambda: qe.EdgeShard.create(str(self.path), self._config(dim)), self.path)
        for key in KEYWORD_FIELDS:
            self._shard.update(qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Keyword))
        for key in FLOAT_FIELDS:
            self._shard.update(qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Float))

    @property
    def shard(self) -> qe.EdgeShard:
        if self._shard is None:
            raise RuntimeError(f"índice vazio em {self.path}: rode a ingestão primeiro")
        return self._shard

    # -- writes ---------------------------------------------------------------------------
    def upsert(self, records: Sequence[ChunkRecord]) -> None:
        if not records:
            return
        points = [
            qe.Point(
                id=r.id,
                vector={DENSE: list(r.dense), SPARSE: qe.SparseVector(indices=r.sparse.indices, values=r.sparse.values)},
                payload=r.payload,
            )
            for r in records
        ]
        self.shard.update(qe.UpdateOperation.upsert_points(points))

    def set_payload(self, ids: Sequence[str], values: dict) -> None:
        if ids:
            self.shard.update(qe.UpdateOperation.set_payload(list(ids), values))

    def update_sparse(self, items: Sequence[tuple[str, SparseVec]]) -> None:
        if items:
            self.shard.update(qe.UpdateOperation.update_vectors([
                qe.PointVectors(i, {SPARSE: qe.SparseVector(indices=v.indices, values=v.values)}) for i, v in items
            ]))

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self.shard.update(qe.UpdateOperation.delete_points(list(ids)))

    # -- reads ----------------------------------------------------------------------------
    def source_states(self, doc_types: Collection[str] | None = None) -> dict[str, SourceState]:
        if self._shard is None:
            return {}
        flt = qe.Filter(must=[qe.FieldCondition(key="doc_type", match=qe.MatchAny(list(doc_types)))]) if doc_types else None
        states: dict[str, SourceState] = {}
        offset = None
        while True:
            records, offset = self._shard.scroll(
                qe.ScrollRequest(offset=offset, limit=2048, filter=flt, with_payload=_BOOKKEEPING, with_vector=False)
            )
            for rec in records:
                p = rec.payload or {}
                st = states.setdefault(p["source"], SourceState(doc_type=p.get("doc_type", "")))
                st.ids.add(_id(rec.id))
                st.hashes.add(p.get("source_hash", ""))
            if offset is None or not records:
                return states

    def query(self, *, dense: list[float] | None, sparse: SparseVec | None, limit: int,
              filters: SearchFilters | None = None, mode: SearchMode = "hybrid") -> list[StoredHit]:
        if self._shard is None:
            return []
        flt = to_edge_filter(filters)
        params = qe.SearchParams(hnsw_ef=self.hnsw_ef)
        sparse_q = qe.SparseVector(indices=sparse.indices, values=sparse.values) if sparse is not None and len(sparse) else None
        if mode == "dense":
            req = qe.QueryRequest(limit=limit, query=qe.Query.Nearest(list(dense), using=DENSE), filter=flt,
                                  params=params, with_payload=True)
        elif mode == "sparse":
            if sparse_q is None:
                return []
            req = qe.QueryRequest(limit=limit, query=qe.Query.Nearest(sparse_q, using=SPARSE), filter=flt, with_payload=True)
        else:
            depth = max(self.prefetch_limit, limit)
            prefetches = [qe.Prefetch(limit=depth, query=qe.Query.Nearest(list(dense), using=DENSE), filter=flt, params=params)]
            if sparse_q is not None:
                prefetches.append(qe.Prefetch(limit=depth, query=qe.Query.Nearest(sparse_q, using=SPARSE), filter=flt))
            weights = [1.0, self.rrf_sparse_weight][: len(prefetches)]
            req = qe.QueryRequest(limit=limit, query=qe.Fusion.Rrf(k=self.rrf_k, weights=weights), prefetches=prefetches,
                                  with_payload=True)
        return [StoredHit(id=_id(p.id), score=float(p.score), payload=dict(p.payload or {})) for p in self._shard.query(req)]

    def query_exact(self, dense: list[float], limit: int) -> list[StoredHit]:
        """Brute-force dense search (ground truth for the HNSW recall check)."""
        req = qe.QueryRequest(limit=limit, query=qe.Query.Nearest(list(dense), using=DENSE),
                              params=qe.SearchParams(exact=True), with_payload=False)
        return [StoredHit(id=_id(p.id), score=float(p.score), payload={}) for p in self.shard.query(req)]

    def count(self) -> int:
        if self._shard is None:
            return 0
        return self._shard.count(qe.CountRequest(exact=True))

    def optimize(self) -> None:
        if self._shard is not None:
            self._shard.optimize()
            self._shard.flush()

    def close(self) -> None:
        if self._shard is not None:
            self._shard.flush()
            self._shard.close()
            self._shard = None
