"""FastAPI application factory. Nothing is built at import time: settings, stores and
clients are opened in the lifespan into one typed container (:class:`app.api.services.Services`,
published as ``app.state.services``) that the dependencies read."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.concurrency import run_in_threadpool

from app.api.compression import GzipMemo
from app.api.errors import install_error_handlers
from app.api.metrics import MetricsMiddleware
from app.api.openapi import install_openapi
from app.api.services import Services, ServiceState
from app.api.metrics import router as metrics_router
from app.api.middleware import RequestContextMiddleware
from app.api.routes import chat, companies, financing, health, openai_compat, products, quotes, search, sizing, specs
from app.api.routes import widget as widget_routes
from app.core.cache import make_cache
from app.core.heap import freeze_heap
from app.core.metrics import process_exited
from app.core.settings import Settings, get_settings
from app.core.telemetry import configure_logging, setup_tracing, shutdown_tracing
from app.mcp.asgi import McpEndpoint

log = logging.getLogger("helio")

DESCRIPTION = """
Hélio dimensiona sistemas fotovoltaicos, consulta o catálogo da YSH e prepara orçamentos.
Todos os números (kWp, kWh, R$, meses) vêm do motor de cálculo, nunca do modelo de linguagem.
Erros seguem o formato `{"error": {"code", "message", "hint"}}`.
"""


def open_catalog(settings: Settings):
    from app.catalog.store import SQLiteCatalogStore

    return SQLiteCatalogStore(settings.catalog.db_path)


def _with_specs(settings: Settings, catalog):
    """The spec registry, and the catalog that carries it to the sizing engine."""
    from app.specs.catalog import SpecCatalog
    from app.specs.registry import make_spec_registry

    try:
        registry = make_spec_registry(settings)
    except Exception:  # noqa: BLE001 - sizing still works, kits then say "não verificável"
        log.exception("Registro de specs indisponível; verificações elétricas de kits desligadas")
        return None, catalog
    return registry, SpecCatalog(catalog, registry)


def _open_searcher(settings: Settings, state):
    """The knowledge searcher, or None with the reason kept for /readyz (the chat then
    answers without knowledge and says so)."""
    from app.retrieval.search import make_searcher

    try:
        return make_searcher(settings)
    except Exception as exc:  # noqa: BLE001 - a missing index must not stop the API
        log.warning("Base de conhecimento indisponível: %s", exc)
        state.searcher_error = f"base de conhecimento indisponível: {exc}"
        return None


def _index_in_background(settings: Settings, state):
    """First start on the embedded index: serve now, fill the empty index in a thread
    (``/readyz`` shows the progress; searches answer "not yet" until it is done)."""
    if settings.qdrant.url is not None or state.searcher.store.count() > 0:
        return state.searcher
    from ingest.knowledge.background import BackgroundIndex

    kinds = ("catalog", "datasheets", "financing", "regulation") if state.catalog is not None else (
        "datasheets", "financing", "regulation")
    log.info("Índice de conhecimento vazio: indexando em segundo plano enquanto a API responde")
    return BackgroundIndex(state.searcher).start(settings, state.catalog, kinds)


def _warm_embedder(state) -> None:
    """Load the embedding model off the request path, so the first search is not the one
    that waits for it; a load failure is kept for /readyz like a missing index."""
    load = getattr(state.searcher.embedder, "load", None)
    if load is None:
        return

    def warm() -> None:
        try:
            load()
        except Exception as exc:  # noqa: BLE001 - reported by /readyz; searches then fail clearly
            log.warning("Modelo de embeddings indisponível: %s", exc)
            state.searcher_error = f"base de conhecimento indisponível: {exc}"
            return
        if state.settings.api.gc_freeze:
            freeze_heap("embedder")  # the model's modules too (loaded after the lifespan's freeze)

    threading.Thread(target=warm, name="embedder-warmup", daemon=True).start()


def _build_mcp(settings: Settings, state):
    """The MCP server over the same tools the chat uses (``/mcp``)."""
    from app.agent.factory import make_tool_deps
    from app.mcp.server import build_mcp_server

    return build_mcp_server(make_tool_deps(settings, state.cache, state.catalog, state.searcher,
                                           commerce=lambda: state.commerce, quotes=state.quotes))


def _open_auth(state: Services) -> None:
    """API keys and the OIDC verifier, opened here rather than on the first request that
    needs them (the verifier fetches nothing until a token arrives)."""
    from app.auth.keys import make_key_store
    from app.auth.oidc import OIDCVerifier

    if state.auth_keys is None:  # the demo step may have opened it already
        state.auth_keys = make_key_store(state.settings)
    oidc = state.settings.auth.oidc
    if oidc.issuer and oidc.audience:
        try:
            state.oidc = OIDCVerifier(oidc, state.settings.env)
        except Exception:  # noqa: BLE001 - a bad OIDC setting answers 503 with its reason when a token arrives
            log.exception("OIDC mal configurado")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # Published first, filled in order below; requests arrive only after the yield.
    state = app.state.services = Services(settings=settings)
    configure_logging()  # request ids in every log line (unless logging is already set up)
    tracing = setup_tracing()  # only with OTEL_EXPORTER_OTLP_* set
    state.cache = make_cache(settings.redis)
    state.gzip_memo = GzipMemo(level=settings.api.gzip_level)
    from app.widget.demo import setup_demo

    await run_in_threadpool(setup_demo, app)
    await run_in_threadpool(_open_auth, state)
    try:
        state.catalog = open_catalog(settings)
        state.specs, state.catalog = _with_specs(settings, state.catalog)
    except Exception as exc:  # noqa: BLE001 - reported by /readyz, the process stays up
        log.exception("Catálogo indisponível")
        state.catalog, state.catalog_error = None, f"falha ao abrir o catálogo: {exc}"
    state.commerce = None
    if state.catalog is not None:
        from app.commerce.factory import make_commerce

        try:
            state.commerce = make_commerce(settings, state.catalog)
        except Exception as exc:  # noqa: BLE001 - reported by /readyz
            log.exception("Backend de comércio indisponível")
            state.commerce_error = f"falha ao abrir o comércio: {exc}"
    state.searcher = await run_in_threadpool(_open_searcher, settings, state)
    if state.searcher is not None and settings.knowledge.build_in_background:
        state.searcher = await run_in_threadpool(_index_in_background, settings, state)
    if state.searcher is not None and settings.embedding.preload:
        _warm_embedder(state)
    from app.agent.factory import build_assistant, quote_service_factory
    from app.llm.factory import make_llm

    # The one QuoteService factory: the quote routes, the chat's tools and MCP share its
    # quote records (so an Idempotency-Key means the same quote whichever way it came).
    state.quotes = quote_service_factory(settings, state.cache, lambda: state.commerce)

    # One backend for the whole process: llama.cpp is loaded lazily on first use and serialised
    # by its own queue, so a second instance would double memory and split the queue.
    state.llm = await run_in_threadpool(make_llm, settings.llm)
    state.assistant = build_assistant(settings, state.cache, state.catalog, state.searcher, llm=state.llm,
                                      commerce=lambda: state.commerce, quotes=state.quotes)
    state.mcp = _build_mcp(settings, state)
    if settings.api.gc_freeze:
        freeze_heap()  # last: everything built above stays out of the collector's full passes
    async with state.mcp.session_manager.run():
        yield
    process_exited(os.getpid())
    for resource in (state.searcher, state.cache, state.oidc):
        close = getattr(resource, "close", None)
        if callable(close):
            close()
    if tracing:
        shutdown_tracing()


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="Hélio — API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
    )
    app.state = ServiceState({"settings": settings or get_settings()})
    install_error_handlers(app)
    # Innermost of the outer layers: metrics and request ids see the compressed response.
    app.add_middleware(GZipMiddleware, minimum_size=app.state.settings.api.gzip_min_bytes,
                       compresslevel=app.state.settings.api.gzip_level)
    app.add_middleware(MetricsMiddleware)
    app.include_router(metrics_router)
    app.add_middleware(RequestContextMiddleware, trusted_proxies=app.state.settings.api.trusted_proxies,
                       max_body_bytes=app.state.settings.api.max_body_bytes,
                       max_upload_bytes=app.state.settings.api.max_upload_bytes)
    app.include_router(health.router)
    app.include_router(products.router)
    app.include_router(sizing.router)
    app.include_router(specs.router)
    app.include_router(financing.router)
    app.include_router(quotes.router)
    app.include_router(companies.router)
    app.include_router(search.router)
    app.include_router(chat.router)
    app.include_router(openai_compat.router)
    app.add_route("/mcp", McpEndpoint(), include_in_schema=False)
    app.include_router(widget_routes.router)
    from app.widget.cors import WidgetCORS

    app.add_middleware(WidgetCORS)
    install_openapi(app, [m.router for m in (health, products, sizing, specs, financing, quotes, companies, search,
                                             chat, openai_compat, widget_routes)])
    return app
