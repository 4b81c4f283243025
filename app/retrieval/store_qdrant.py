"""qdrant-client implementation: local mode on disk (brute force) or a Qdrant server.

Hybrid search uses the Query API: two prefetches (dense, sparse) with the filter applied
inside each, fused by RRF in the engine.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Collection, Sequence

from qdrant_client import QdrantClient, models

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


def to_qdrant_filter(filters: SearchFilters | None) -> models.Filter | None:
    if filters is None or filters.is_empty():
        return None
    must: list[models.Condition] = [
        models.FieldCondition(key=key, match=models.MatchAny(any=values))
        for key, values in filters.keyword_conditions().items()
    ]
    if filters.min_power_w is not None or filters.max_power_w is not None:
        must.append(
            models.FieldCondition(key="power_w", range=models.Range(gte=filters.min_power_w, lte=filters.max_power_w))
        )
    return models.Filter(must=must)


class QdrantClientStore:
    """One collection in qdrant-client. Build with :meth:`local` or :meth:`server`."""

    def __init__(self, client: QdrantClient, collection: str, *, name: str, prefetch_limit: int = 40,
                 hnsw_ef: int = 128, rrf_k: int = 1, rrf_sparse_weight: float = 5.0, is_local: bool = True) -> None:
        self.client = client
        self.rrf_k = rrf_k
        self.rrf_sparse_weight = rrf_sparse_weight
        self.collection = collection
        self.name = name
        self.prefetch_limit = prefetch_limit
        self.hnsw_ef = hnsw_ef
        self.is_local = is_local

    @classmethod
    def local(cls, settings: QdrantSettings) -> QdrantClientStore:
        settings.path.mkdir(parents=True, exist_ok=True)
        try:
            client = QdrantClient(path=str(settings.path))
        except RuntimeError as exc:  # portalocker: the folder is held by another client
            raise Unavailable(
                f"O índice em {settings.path} está aberto por outro processo (a API?).",
                hint="Pare o processo que o usa antes de 'helio ingest', ou use um servidor Qdrant (QDRANT__URL).",
            ) from exc
        return cls(client, settings.collection, name="qdrant-local", prefetch_limit=settings.prefetch_limit,
                   rrf_k=settings.rrf_k, rrf_sparse_weight=settings.rrf_sparse_weight)

    @classmethod
    def memory(cls, collection: str = "helio_knowledge", prefetch_limit: int = 40, rrf_k: int = 1,
               rrf_sparse_weight: float = 5.0) -> QdrantClientStore:
        return cls(QdrantClient(location=":memory:"), collection, name="qdrant-memory", prefetch_limit=prefetch_limit,
                   rrf_k=rrf_k, rrf_sparse_weight=rrf_sparse_weight)

    @classmethod
    def server(cls, settings: QdrantSettings) -> QdrantClientStore:
        client = QdrantClient(url=settings.url, api_key=settings.api_key, timeout=30)
        return cls(client, settings.collection, name="qdrant-server", prefetch_limit=settings.prefetch_limit,
                   hnsw_ef=settings.hnsw_ef, rrf_k=settings.rrf_k,
                   rrf_sparse_weight=settings.rrf_sparse_weight, is_local=False)

    # -- schema ---------------------------------------------------------------------------
    def ensure(self, dim: int) -> None:
        if self.client.collection_exists(self.collection):
            return
        self.client.create_collection(
            self.collection,
            vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        if self.is_local:
            return  # local mode scans everything; payload indexes would only log a warning
        for key in KEYWORD_FIELDS:
            self.client.create_payload_index(self.collection, key, models.PayloadSchemaType.KEYWORD)
        for key in FLOAT_FIELDS:
            self.client.create_payload_index(self.collection, key, models.PayloadSchemaType.FLOAT)

    def _exists(self) -> bool:
        return self.client.collection_exists(self.collection)

    # -- writes ---------------------------------------------------------------------------
    def upsert(self, records: Sequence[ChunkRecord]) -> None:
        if not records:
            return
        points = [
            models.PointStruct(
                id=r.id,
                vector={DENSE: r.dense, SPARSE: models.SparseVector(indices=r.sparse.indices, values=r.sparse.values)},
                payload=r.payload,
            )
            for r in records
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # local mode warns past 20k points: measured in the bench
            self.client.upsert(self.collection, points=points, wait=True)

    def set_payload(self, ids: Sequence[str], values: dict) -> None:
        if ids:
            self.client.set_payload(self.collection, payload=values, points=list(ids), wait=True)

    def update_sparse(self, items: Sequence[tuple[str, SparseVec]]) -> None:
        if items:
            self.client.update_vectors(self.collection, points=[
                models.PointVectors(id=i, vector={SPARSE: models.SparseVector(indices=v.indices, values=v.values)})
                for i, v in items
            ], wait=True)

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=list(ids)), wait=True)

    # -- reads ----------------------------------------------------------------------------
    def source_states(self, doc_types: Collection[str] | None = None) -> dict[str, SourceState]:
        if not self._exists():
            return {}
        flt = None
        if doc_types:
            flt = models.Filter(must=[models.FieldCondition(key="doc_type", match=models.MatchAny(any=list(doc_types)))])
        states: dict[str, SourceState] = {}
        offset = None
        while True:
            records, offset = self.client.scroll(
                self.collection, scroll_filter=flt, limit=2048, offset=offset, with_payload=_BOOKKEEPING, with_vectors=False
            )
            for rec in records:
                p = rec.payload or {}
                st = states.setdefault(p["source"], SourceState(doc_type=p.get("doc_type", "")))
                st.ids.add(str(rec.id))
                st.hashes.add(p.get("source_hash", ""))
            if offset is None:
                return states

    def query(self, *, dense: list[float] | None, sparse: SparseVec | None, limit: int,
              filters: SearchFilters | None = None, mode: SearchMode = "hybrid") -> list[StoredHit]:
        flt = to_qdrant_filter(filters)
        params = None if self.is_local else models.SearchParams(hnsw_ef=self.hnsw_ef)
        sparse_q = models.SparseVector(indices=sparse.indices, values=sparse.values) if sparse is not None else None
        if mode == "dense":
            res = self.client.query_points(self.collection, query=dense, using=DENSE, limit=limit, query_filter=flt,
                                           search_params=params, with_payload=True)
        elif mode == "sparse":
            if sparse_q is None or not sparse_q.indices:
                return []
            res = self.client.query_points(self.collection, query=sparse_q, using=SPARSE, limit=limit,
                                           query_filter=flt, with_payload=True)
        else:
            depth = max(self.prefetch_limit, limit)
            prefetch = [models.Prefetch(query=dense, using=DENSE, limit=depth, filter=flt, params=params)]
            if sparse_q is not None and sparse_q.indices:
                prefetch.append(models.Prefetch(query=sparse_q, using=SPARSE, limit=depth, filter=flt))
            rrf = models.Rrf(k=self.rrf_k, weights=[1.0, self.rrf_sparse_weight][: len(prefetch)])
            res = self.client.query_points(self.collection, prefetch=prefetch, query=models.RrfQuery(rrf=rrf),
                                           limit=limit, with_payload=True)
        return [StoredHit(id=str(p.id), score=float(p.score), payload=p.payload or {}) for p in res.points]

    def count(self) -> int:
        if not self._exists():
            return 0
        return self.client.count(self.collection, exact=True).count

    def optimize(self) -> None:
        return None

    def close(self) -> None:
        self.client.close()
