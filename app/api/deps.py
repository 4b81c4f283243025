"""Dependencies, declared once as ``Annotated`` aliases. Everything comes from ``app.state``,
which the lifespan in :mod:`app.main` fills."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from app.catalog.repository import CatalogRepository
from app.core.cache import Cache
from app.core.errors import Unavailable
from app.core.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_cache(request: Request) -> Cache:
    return request.app.state.cache


def get_catalog(request: Request) -> CatalogRepository:
    return request.app.state.catalog


def get_searcher(request: Request) -> Any:
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
SearcherDep = Annotated[Any, Depends(get_searcher)]
