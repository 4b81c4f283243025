"""The vector store interface and the one factory that picks an implementation.

Implementations: :class:`~app.retrieval.store_qdrant.QdrantClientStore` (qdrant-client,
local mode on disk or a server URL) and :class:`~app.retrieval.store_edge.EdgeStore`
(qdrant-edge, in-process with HNSW). One collection holds a named dense vector
(cosine) and a named sparse vector (IDF modifier).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from app.core.settings import QdrantSettings
from app.retrieval.sparse import SparseVec
from app.retrieval.types import ChunkRecord, SearchFilters, SearchMode, SourceState, StoredHit


class VectorStore(Protocol):
    name: str

    def ensure(self, dim: int) -> None:
        """Create the collection (dense size ``dim``) and payload indexes if missing."""
        ...

    def source_states(self, doc_types: Collection[str] | None = None) -> dict[str, SourceState]:
        """Index bookkeeping: for each source, its point ids and source hash(es)."""
        ...

    def upsert(self, records: Sequence[ChunkRecord]) -> None: ...

    def set_payload(self, ids: Sequence[str], values: dict) -> None:
        """Overwrite some payload keys of existing points (e.g. a new ``source_hash``)."""
        ...

    def update_sparse(self, items: Sequence[tuple[str, SparseVec]]) -> None:
        """Replace the sparse vector of existing points (the dense one is kept)."""
        ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(
        self,
        *,
        dense: list[float] | None,
        sparse: SparseVec | None,
        limit: int,
        filters: SearchFilters | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[StoredHit]:
        """Top ``limit`` points; hybrid = RRF fusion of dense and sparse prefetches."""
        ...

    def count(self) -> int: ...

    def optimize(self) -> None:
        """Build indexes after a bulk write (HNSW for edge; no-op elsewhere)."""
        ...

    def close(self) -> None: ...


def make_vector_store(settings: QdrantSettings) -> VectorStore:
    """Server when ``url`` is set, else the embedded engine named by ``engine``."""
    if settings.url:
        from app.retrieval.store_qdrant import QdrantClientStore

        return QdrantClientStore.server(settings)
    if settings.engine == "edge":
        from app.retrieval.store_edge import EdgeStore

        return EdgeStore(settings)
    from app.retrieval.store_qdrant import QdrantClientStore

    return QdrantClientStore.local(settings)
