"""Dependencies, declared once as ``Annotated`` aliases. Everything comes from ``app.state``,
which the lifespan in :mod:`app.main` fills.

The providers are ``async`` on purpose: they only read ``app.state``, and FastAPI runs a
plain ``def`` dependency in the thread pool (one thread hop per dependency per request).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from app.api.compression import GzipMemo
from app.catalog.repository import CatalogRepository
from app.core.cache import Cache
from app.core.errors import Unavailable
from app.core.settings import Settings


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_cache(request: Request) -> Cache:
    return request.app.state.cache


async def get_catalog(request: Request) -> CatalogRepository:
    return request.app.state.catalog


async def get_gzip_memo(request: Request) -> GzipMemo:
    return request.app.state.gzip_memo


async def get_searcher(request: Request) -> Any:
    searcher = getattr(request.app.state, "searcher", None)
    if searcher is None:
        reason = getattr(request.app.state, "searcher_error", None) or "base de conhecimento não carregada"
        raise Unavailable(
            f"Busca na base de conhecimento indisponível: {reason}.",
            hint="Rode 'helio ingest all' para criar o índice, ou confira QDRANT__URL.",
        )
    return searcher


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CacheDep = Annotated[Cache, Depends(get_cache)]
CatalogDep = Annotated[CatalogRepository, Depends(get_catalog)]
GzipMemoDep = Annotated[GzipMemo, Depends(get_gzip_memo)]
SearcherDep = Annotated[Any, Depends(get_searcher)]
