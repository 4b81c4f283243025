"""FastAPI application factory. Nothing is built at import time: settings, stores and
clients are opened in the lifespan and stored on ``app.state`` for the dependencies."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from app.api.errors import install_error_handlers
from app.api.routes import chat, companies, financing, health, openai_compat, products, quotes, search, sizing
from app.api.routes import widget as widget_routes
from app.core.cache import make_cache
from app.core.settings import Settings, get_settings

log = logging.getLogger("helio")

DESCRIPTION = """
Hélio dimensiona sistemas fotovoltaicos, consulta o catálogo da YSH e prepara orçamentos.
Todos os números (kWp, kWh, R$, meses) vêm do motor de cálculo, nunca do modelo de linguagem.
Erros seguem o formato `{"error": {"code", "message", "hint"}}`.
"""


def open_catalog(settings: Settings):
    from app.catalog.store import SQLiteCatalogStore

    return SQLiteCatalogStore(settings.catalog.db_path)


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


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    state = app.state
    state.cache = make_cache(settings.redis.url)
    from app.widget.demo import setup_demo

    await run_in_threadpool(setup_demo, app)
    try:
        state.catalog = open_catalog(settings)
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
    from app.agent.factory import build_assistant
    from app.llm.factory import make_llm

    # One backend for the whole process: llama.cpp is loaded lazily on first use and serialised
    # by its own queue, so a second instance would double memory and split the queue.
    state.llm = await run_in_threadpool(make_llm, settings.llm)
    state.assistant = build_assistant(settings, state.cache, state.catalog, state.searcher, llm=state.llm,
                                      commerce=lambda: state.commerce)
    yield
    for resource in (state.searcher, state.cache):
        close = getattr(resource, "close", None)
        if callable(close):
            close()


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="Hélio — API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(products.router)
    app.include_router(sizing.router)
    app.include_router(financing.router)
    app.include_router(quotes.router)
    app.include_router(companies.router)
    app.include_router(search.router)
    app.include_router(chat.router)
    app.include_router(openai_compat.router)
    app.include_router(widget_routes.router)
    from app.widget.cors import WidgetCORS

    app.add_middleware(WidgetCORS)
    return app
