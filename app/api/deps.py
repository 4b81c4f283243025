"""Dependencies, declared once as ``Annotated`` aliases. Everything comes from ``app.state``,
which the lifespan in :mod:`app.main` fills.

The providers are ``async`` on purpose: they only read ``app.state``, and FastAPI runs a
plain ``def`` dependency in the thread pool (one thread hop per dependency per request).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from app.api.compression import GzipMemo
from app.agent.assistant import Assistant
from app.catalog.repository import CatalogRepository
from app.commerce.base import CommerceBackend
from app.core.cache import Cache
from app.core.errors import Unavailable
from app.core.settings import Settings
from app.quotes.service import QuoteService
from app.specs.registry import SpecRegistry


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


async def get_commerce(request: Request) -> CommerceBackend:
    """The commerce backend the lifespan opened (503 when it could not)."""
    commerce = getattr(request.app.state, "commerce", None)
    if commerce is None:
        reason = getattr(request.app.state, "commerce_error", None) or "backend de comércio não iniciado"
        raise Unavailable(f"Comércio indisponível: {reason}.", hint="Confira /readyz e os logs de inicialização.")
    return commerce


async def get_quote_service(request: Request) -> QuoteService:
    """A quote service from the one factory the lifespan built (shared with the chat and MCP)."""
    quotes = getattr(request.app.state, "quotes", None)
    if quotes is None:
        raise Unavailable("Serviço de orçamentos não iniciado.", hint="Confira os logs de inicialização da API.")
    return quotes()


async def get_assistant(request: Request) -> Assistant:
    assistant = getattr(request.app.state, "assistant", None)
    if assistant is None:
        raise Unavailable("Assistente não inicializado.", hint="Confira os logs de inicialização da API.")
    return assistant


async def get_specs(request: Request) -> SpecRegistry:
    registry = getattr(request.app.state, "specs", None)
    if registry is None:
        raise Unavailable("Registro de specs indisponível.", hint="Confira data/specs/ e var/ no servidor.")
    return registry


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CacheDep = Annotated[Cache, Depends(get_cache)]
CatalogDep = Annotated[CatalogRepository, Depends(get_catalog)]
GzipMemoDep = Annotated[GzipMemo, Depends(get_gzip_memo)]
SearcherDep = Annotated[Any, Depends(get_searcher)]
CommerceDep = Annotated[CommerceBackend, Depends(get_commerce)]
QuoteServiceDep = Annotated[QuoteService, Depends(get_quote_service)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]
SpecsDep = Annotated[SpecRegistry, Depends(get_specs)]
