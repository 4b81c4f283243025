"""``ingest [catalog|datasheets|financing|regulation]`` for the knowledge index.

parse (sources, catalog_docs) → enrich the catalog with datasheet specs → chunk → embed →
store (index.sync_index). Returns one report; nothing here prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.catalog.repository import CatalogRepository
from app.core.settings import Settings
from app.retrieval.embed import Embedder, make_embedder
from app.retrieval.sparse import SparseEncoder
from app.retrieval.store import VectorStore, make_vector_store
from ingest.knowledge.catalog_docs import catalog_documents
from ingest.knowledge.chunk import Chunker
from ingest.knowledge.documents import ParseError, SourceDoc
from ingest.knowledge.enrich import EnrichReport, enrich_catalog
from ingest.knowledge.index import IndexReport, ProgressFn, sync_index
from ingest.knowledge.sources import KINDS, LoadResult, load_sources

ALL_KINDS = ("catalog", *KINDS)
DOC_TYPE_OF_KIND = {"catalog": "catalog", "datasheets": "datasheet", "financing": "financing", "regulation": "regulation"}


@dataclass
class KnowledgeReport:
    kinds: tuple[str, ...]
    index: IndexReport
    enrich: EnrichReport | None = None
    errors: list[ParseError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "kinds": list(self.kinds),
            "index": {**self.index.summary(), "embed_seconds": round(self.index.embed_seconds, 2)},
            "errors": [asdict(e) for e in self.errors],
            "enrich": None if self.enrich is None else {
                "summary": self.enrich.summary(), "matched": self.enrich.matched, "filled": self.enrich.filled,
                "conflicts": [asdict(c) for c in self.enrich.conflicts], "unmatched": self.enrich.unmatched,
            },
            "notes": self.notes,
        }


def make_chunker(settings: Settings) -> Chunker:
    k = settings.knowledge
    return Chunker(k.chunk_tokens, k.chunk_overlap_tokens, k.encoding)


def tag_products(docs: Iterable[SourceDoc], matches: dict[str, list[str]]) -> None:
    """Give datasheet chunks the ids of the catalog products they describe."""
    for doc in docs:
        if doc.source in matches:
            doc.meta["product_ids"] = matches[doc.source]


def run_knowledge_ingest(
    kinds: Iterable[str],
    *,
    source_dir: Path,
    store: VectorStore,
    embedder: Embedder,
    chunker: Chunker,
    catalog: CatalogRepository | None = None,
    sparse: SparseEncoder | None = None,
    force: bool = False,
    progress: ProgressFn | None = None,
) -> KnowledgeReport:
    """Sync the index for ``kinds`` (subset of :data:`ALL_KINDS`) with the files and the catalog."""
    requested = set(kinds)
    if not requested or requested - set(ALL_KINDS):
        raise ValueError(f"tipos de fonte válidos: {', '.join(ALL_KINDS)}; recebido: {', '.join(sorted(requested))}")
    kinds = tuple(k for k in ALL_KINDS if k in requested)
    notes: list[str] = []
    file_kinds = tuple(k for k in kinds if k != "catalog")
    loaded = load_sources(source_dir, file_kinds) if file_kinds else LoadResult()
    if file_kinds and not source_dir.is_dir():
        notes.append(f"pasta {source_dir} não existe: nada a ler de {', '.join(file_kinds)}")
    enrich = None
    if "datasheets" in kinds:
        if catalog is None:
            notes.append("catálogo tipado indisponível: fichas técnicas indexadas sem casar com produtos")
        enrich, matches = enrich_catalog(loaded.specs, catalog)
        tag_products(loaded.docs, matches)
    docs = list(loaded.docs)
    if "catalog" in kinds:
        if catalog is None:
            notes.append("catálogo tipado indisponível: rode 'helio ingest catalog' antes; produtos não indexados")
            kinds = tuple(k for k in kinds if k != "catalog")  # never delete catalog chunks for lack of a store
        else:
            docs.extend(catalog_documents(catalog.iter_products()))
    scope = {DOC_TYPE_OF_KIND[k] for k in kinds}
    index = sync_index(
        docs, store=store, embedder=embedder, chunker=chunker, sparse=sparse or SparseEncoder(), scope=scope,
        protected=loaded.failed, errors=loaded.errors, force=force, progress=progress,
    ) if scope else IndexReport(errors=list(loaded.errors))
    return KnowledgeReport(kinds, index, enrich, list(loaded.errors), notes)


def ingest_with_settings(kinds: Iterable[str], settings: Settings, catalog: CatalogRepository | None, *,
                         force: bool = False, progress: ProgressFn | None = None,
                         store: VectorStore | None = None) -> KnowledgeReport:
    """Build store/embedder/chunker from settings, run, write ``knowledge-ingest.json``."""
    own_store = store is None
    store = store or make_vector_store(settings.qdrant)
    try:
        report = run_knowledge_ingest(
            kinds, source_dir=settings.knowledge.source_dir, store=store, embedder=make_embedder(settings.embedding),
            chunker=make_chunker(settings), catalog=catalog, force=force, progress=progress,
        )
    finally:
        if own_store:
            store.close()
    out = settings.catalog.report_dir / "knowledge-ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return report
