"""Query side: validate, embed, search the store, shape hits with citations.

``KnowledgeSearcher.search(query, k, filters, mode)`` is the domain API used by the API
route, the CLI and the agent tool. ``mode``: ``hybrid`` (dense + sparse fused by RRF, the
default), ``dense`` or ``sparse`` (for evaluation and debugging).
"""

from __future__ import annotations

import math
from typing import Any, get_args

from pydantic import BaseModel, Field

from app.core.errors import InvalidInput
from app.core.settings import Settings
from app.retrieval.embed import Embedder, make_embedder
from app.retrieval.query_embed import query_embedder
from app.retrieval.sparse import SparseEncoder
from app.retrieval.store import VectorStore, make_vector_store
from app.retrieval.text import expand_query, name_match, name_terms, text_signature
from app.retrieval.types import SearchFilters, SearchMode, StoredHit

MAX_K = 50
# Fused candidates re-ranked before the top k is cut: deep enough to hold the named product's
# other chunks when template text of other documents outranks them.
POOL = 30
# A product hit whose names miss a share m of the query's product terms weighs exp(-NAME_WEIGHT·m)×
# (a hit about no product, a rule or a credit line, counts as missing half).
NAME_WEIGHT = 3.0
# A catalog entry of a product whose datasheet is also in the pool (the sheet is the fuller source)
CATALOG_DUPLICATE = 0.5
# Text that several documents of the pool share word for word (a datasheet template's notes)
# says nothing about any one of them: its weight is multiplied by this.
TEMPLATE_PENALTY = 0.35


class Citation(BaseModel):
    """Where a hit comes from, precise enough to open the document at the right place."""

    title: str
    source: str = Field(description="document key: path under data/knowledge, 'path#id' for YAML items, 'catalog:<id>'")
    doc_type: str
    page: int | None = Field(None, description="1-based PDF page")
    section: str | None = Field(None, description="heading path, 'A > B'")
    product_ids: list[str] = Field(default_factory=list)

    @property
    def label(self) -> str:
        parts = [self.title]
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.section:
            parts.append(f"§ {self.section}")
        return ", ".join(parts)


class Hit(BaseModel):
    text: str = Field(description="the chunk text (without the title/section header added for indexing)")
    score: float = Field(description="RRF score in hybrid mode, cosine in dense, BM25 in sparse")
    citation: Citation
    doc_keys: list[str] = Field(default_factory=list, description="keys of the document(s) this chunk belongs to")
    metadata: dict[str, Any] = Field(default_factory=dict, description="category, manufacturer, power_w, lender…")


def hit_from_stored(h: StoredHit) -> Hit:
    p = h.payload
    return Hit(
        text=p.get("body", p.get("text", "")),
        score=h.score,
        citation=Citation(
            title=p.get("title", p.get("source", "")),
            source=p.get("source", ""),
            doc_type=p.get("doc_type", ""),
            page=p.get("page"),
            section=p.get("section"),
            product_ids=list(p.get("product_ids") or []),
        ),
        doc_keys=list(p.get("doc_keys") or [p.get("source", "")]),
        metadata={k: p[k] for k in ("category", "manufacturer", "model", "power_w", "lender") if p.get(k) is not None},
    )


class KnowledgeSearcher:
    """Hybrid search over the knowledge index. Thread-safe for concurrent requests."""

    def __init__(self, store: VectorStore, embedder: Embedder, sparse: SparseEncoder | None = None, *,
                 max_query_chars: int = 1000) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse or SparseEncoder()
        self.max_query_chars = max_query_chars

    def validate(self, query: str, k: int, mode: str) -> str:
        text = (query or "").strip()
        if not text:
            raise InvalidInput("A consulta está vazia.", hint="Escreva o que procura, ex.: 'inversor trifásico 10 kW'.")
        if len(text) > self.max_query_chars:
            raise InvalidInput(
                f"A consulta tem {len(text)} caracteres; o limite é {self.max_query_chars}.",
                hint="Resuma a pergunta em uma ou duas frases.",
            )
        if not 1 <= k <= MAX_K:
            raise InvalidInput(f"k={k} fora do intervalo 1–{MAX_K}.", hint="Peça entre 1 e 50 resultados.")
        if mode not in get_args(SearchMode):
            raise InvalidInput(f"Modo '{mode}' desconhecido.", hint="Use 'hybrid', 'dense' ou 'sparse'.")
        return text

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None,
               mode: SearchMode = "hybrid") -> list[Hit]:
        text = self.validate(query, k, mode)
        dense = self.embedder.embed_query(text) if mode != "sparse" else None
        sparse = self.sparse.encode_query(expand_query(text)) if mode != "dense" else None
        if mode != "hybrid":
            stored = self.store.query(dense=dense, sparse=sparse, limit=k, filters=filters, mode=mode)
            return [hit_from_stored(h) for h in stored]
        stored = self.store.query(dense=dense, sparse=sparse, limit=max(k, POOL), filters=filters, mode=mode)
        return rerank(text, [hit_from_stored(h) for h in stored])[:k]

    def close(self) -> None:
        self.store.close()


def _names(hit: Hit) -> str | None:
    """What names the hit's product: maker, model, rated power and the datasheet's file name
    (not the title, whose other words, "cabo", "energia", name no product); None for a hit about
    no product (a rule, a credit line)."""
    meta = hit.metadata
    if not (meta.get("manufacturer") or meta.get("model")):
        return None
    power = meta.get("power_w")
    parts = [str(meta.get("manufacturer") or ""), str(meta.get("model") or ""),
             f"{power:g} W" if isinstance(power, (int, float)) else "",
             *(key.rsplit("/", 1)[-1].rsplit(".", 1)[0] for key in hit.doc_keys if not key.startswith("catalog:"))]
    return " ".join(parts)


def rerank(query: str, hits: list[Hit]) -> list[Hit]:
    """The fused candidates re-ordered for a question about a named product or document.

    - A product's hit loses weight with the share of the query's *name terms* (terms that name
      some candidate product: a maker, a model code, a rated power) that its names miss, so "tensão do
      livoltek 10k" prefers the Livoltek GT1-10KT2 to the SAJ R5-10K-T2 whose chunk matched
      more words.
    - Text repeated word for word about other products (template notes) loses weight, and so does a
      catalog entry of a product whose datasheet is in the pool.
    Scores stay comparable within one answer (the fused score times the factors)."""
    if not hits:
        return hits
    names = [_names(h) for h in hits]
    wanted = name_terms(query, [n for n in names if n])
    signatures = [text_signature(h.text) for h in hits]
    subjects_by_sig: dict[str, set[tuple[str, ...]]] = {}
    for h, sig in zip(hits, signatures, strict=True):
        subjects_by_sig.setdefault(sig, set()).add(tuple(h.citation.product_ids) or (h.citation.source,))
    with_sheet = {p for h in hits if h.citation.doc_type == "datasheet" for p in h.citation.product_ids}
    scored = []
    for i, (h, name, sig) in enumerate(zip(hits, names, signatures, strict=True)):
        factor = 1.0
        if wanted:
            missing = 1.0 - name_match(wanted, name) if name else 0.5
            factor = math.exp(-NAME_WEIGHT * missing)
        if len(subjects_by_sig[sig]) > 1:  # the same words about several products: a template
            factor *= TEMPLATE_PENALTY
        if h.citation.doc_type == "catalog" and with_sheet.intersection(h.citation.product_ids):
            factor *= CATALOG_DUPLICATE
        scored.append((h.score * factor, -i, h))
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [h.model_copy(update={"score": s}) for s, _, h in scored]


def make_searcher(settings: Settings) -> KnowledgeSearcher:
    """Open the configured store and embedder (the model load takes a few seconds); queries
    go through the cached micro-batcher of :mod:`app.retrieval.query_embed`."""
    return KnowledgeSearcher(
        make_vector_store(settings.qdrant),
        query_embedder(make_embedder(settings.embedding), cache_size=settings.embedding.query_cache_size,
                       max_batch=settings.embedding.query_batch_max),
        max_query_chars=settings.knowledge.max_query_chars,
    )
