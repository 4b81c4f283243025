"""Value objects passed between ingestion, the vector store and the searcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.retrieval.sparse import SparseVec

DocType = Literal["catalog", "datasheet", "financing", "regulation"]
SearchMode = Literal["hybrid", "dense", "sparse"]

DENSE = "dense"
SPARSE = "sparse"

# payload fields with an index (the filters below and the incremental bookkeeping)
KEYWORD_FIELDS = ("source", "doc_type", "category", "manufacturer", "lender", "product_ids", "doc_keys")
FLOAT_FIELDS = ("power_w",)


class SearchFilters(BaseModel):
    """Metadata filters, combined with AND. A list field matches any of its values."""

    doc_type: list[DocType] | None = None
    category: list[str] | None = Field(None, description="catalog categories: inverter, module, battery…")
    manufacturer: list[str] | None = Field(None, description="matched case-insensitively (stored lowercase)")
    lender: list[str] | None = Field(None, description="financing: bank or fintech id, e.g. 'bv', 'santander'")
    product_id: list[str] | None = None
    min_power_w: float | None = Field(None, ge=0)
    max_power_w: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _range(self) -> SearchFilters:
        if self.min_power_w is not None and self.max_power_w is not None and self.min_power_w > self.max_power_w:
            raise ValueError("min_power_w > max_power_w")
        return self

    def is_empty(self) -> bool:
        return all(v in (None, []) for v in self.model_dump().values())

    def keyword_conditions(self) -> dict[str, list[str]]:
        """``payload field → accepted values`` for the keyword filters that are set."""
        out: dict[str, list[str]] = {}
        for name, key in (("doc_type", "doc_type"), ("category", "category"), ("lender", "lender"), ("product_id", "product_ids")):
            values = getattr(self, name)
            if values:
                out[key] = [str(v) for v in values]
        if self.manufacturer:
            out["manufacturer"] = [m.strip().lower() for m in self.manufacturer]
        return out


class Passage(BaseModel):
    """A retrieved passage as the assistant quotes and cites it (``search_knowledge``'s items)."""

    text: str
    score: float = 0.0
    citation: dict[str, Any] = Field(
        default_factory=dict, description="printable: title always set; source, section, page… as the searcher gave")
    metadata: dict[str, Any] = Field(
        default_factory=dict, exclude=True,
        description="what the document is (manufacturer, model, lender) for the answer step; not part of the JSON")


class KnowledgeHits(BaseModel):
    """What ``search_knowledge`` returns: the passages found, best first."""

    hits: list[Passage] = Field(default_factory=list)


@dataclass(frozen=True)
class ChunkRecord:
    """One point to store: id (uuid5 of source + chunk hash), both vectors, payload."""

    id: str
    dense: list[float]
    sparse: SparseVec
    payload: dict[str, Any]


@dataclass(frozen=True)
class StoredHit:
    id: str
    score: float
    payload: dict[str, Any]


@dataclass
class SourceState:
    """What the index holds for one source: its point ids and the source hash(es) they carry.

    More than one hash means a run stopped between writing new points and deleting old
    ones; the next run treats the source as changed and finishes the replacement.
    """

    doc_type: str
    ids: set[str] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)
