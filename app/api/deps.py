"""Dependencies, declared once as ``Annotated`` aliases. Everything comes from the typed
:class:`~app.api.services.Services` container that the lifespan in :mod:`app.main` builds
and publishes as ``app.state.services``; no provider builds a service.

The providers are ``async`` on purpose: they only read ``app.state``, and FastAPI runs a
plain ``def`` dependency in the thread pool (one thread hop per dependency per request).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from app.api.compression import GzipMemo
from app.api.services import Services, services_of
from app.agent.assistant import Assistant
from app.catalog.repository import CatalogRepository
from app.commerce.base import CommerceBackend
from app.core.cache import Cache
from app.core.errors import Unavailable
from app.core.settings import Settings
from app.quotes.service import QuoteService
from app.specs.registry import SpecRegistry


async def get_services(request: Request) -> Services:
    return services_of(request.app.state)


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_cache(request: Request) -> Cache:
    return services_of(request.app.state).cache


async def get_catalog(request: Request) -> CatalogRepository:
    return services_of(request.app.state).catalog


async def get_gzip_memo(request: Request) -> GzipMemo:
    return services_of(request.app.state).gzip_memo


async def get_searcher(request: Request) -> Any:
    services = services_of(request.app.state)
    if services.searcher is None:
        reason = services.searcher_error or "base de conhecimento não carregada"
        raise Unavailable(
            f"Busca na base de conhecimento indisponível: {reason}.",
            hint="Rode 'helio ingest all' para criar o índice, ou confira QDRANT__URL.",
        )
    return services.searcher


async def get_commerce(request: Request) -> CommerceBackend:
    """The commerce backend the lifespan opened (503 when it could not)."""
    services = services_of(request.app.state)
    if services.commerce is None:
        reason = services.commerce_error or "backend de comércio não iniciado"
        raise Unavailable(f"Comércio indisponível: {reason}.", hint="Confira /readyz e os logs de inicialização.")
    return services.commerce


async def get_quote_service(request: Request) -> QuoteService:
    """A quote service from the one factory the lifespan built (shared with the chat and MCP)."""
    quotes = services_of(request.app.state).quotes
    if quotes is None:
        raise Unavailable("Serviço de orçamentos não iniciado.", hint="Confira os logs de inicialização da API.")
    return quotes()


async def get_assistant(request: Request) -> Assistant:
    assistant = services_of(request.app.state).assistant
    if assistant is None:
        raise Unavailable("Assistente não inicializado.", hint="Confira os logs de inicialização da API.")
    return assistant


async def get_specs(request: Request) -> SpecRegistry:
    registry = services_of(request.app.state).specs
    if registry is None:
        raise Unavailable("Registro de specs indisponível.", hint="Confira data/specs/ e var/ no servidor.")
    return registry


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CacheDep = Annotated[Cache, Depends(get_cache)]
CatalogDep = Annotated[CatalogRepository, Depends(get_catalog)]
GzipMemoDep = Annotated[GzipMemo, Depends(get_gzip_memo)]
SearcherDep = Annotated[Any, Depends(get_searcher)]
CommerceDep = Annotated[CommerceBackend, Depends(get_commerce)]
QuoteServiceDep = Annotated[QuoteService, Depends(get_quote_service)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]
SpecsDep = Annotated[SpecRegistry, Depends(get_specs)]
