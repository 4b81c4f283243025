"""``POST /v1/search``: hybrid search over the knowledge base, each hit with its citation.

Thin: parse the body, run the blocking search (query embedding + vector search) in the
threadpool, return the hits. Empty or oversized queries are 422 (``InvalidInput`` from the
searcher, mapped in ``app.api.errors``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import SearcherDep
from app.retrieval.search import MAX_K, Hit
from app.retrieval.types import SearchFilters

router = APIRouter(prefix="/v1", tags=["busca"])


class SearchRequest(BaseModel):
    query: str = Field(description="pergunta ou termos; 1 a 1.000 caracteres", examples=["inversor trifásico 10 kW com 2 MPPT"])
    k: int = Field(5, ge=1, le=MAX_K, description="quantos trechos devolver")
    mode: Literal["hybrid", "dense", "sparse"] = "hybrid"
    filters: SearchFilters | None = None


class SearchResponse(BaseModel):
    query: str
    mode: str
    hits: list[Hit]


@router.post("/search", response_model=SearchResponse, summary="Busca na base de conhecimento com citações")
async def search(body: SearchRequest, searcher: SearcherDep) -> SearchResponse:
    hits = await run_in_threadpool(searcher.search, body.query, body.k, body.filters, body.mode)
    return SearchResponse(query=body.query, mode=body.mode, hits=hits)
