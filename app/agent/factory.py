"""Wire the assistant from what the app lifespan built (the one place that knows all parts)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.agent.assistant import Assistant
from app.agent.limits import RateLimiter
from app.agent.places import load_places
from app.agent.ports import EngineSizing, SizingPort
from app.agent.render import PROMPTS_DIR
from app.agent.router import Router
from app.agent.state import ConversationStore
from app.agent.tools import ToolDeps, ToolRunner, make_tools
from app.catalog.repository import CatalogRepository
from app.commerce.base import CommerceBackend
from app.core.cache import Cache
from app.core.errors import Unavailable
from app.core.settings import Settings
from app.financing.rules import CreditLineBook, cached_book
from app.llm.base import LLMBackend
from app.quotes.service import QuoteService
from app.quotes.sizing_link import cache_sizing_lookup
from app.quotes.store import QuoteRecordStore, make_quote_records

log = logging.getLogger("helio.agent")


@dataclass(frozen=True)
class ChatLimits:
    """Defaults; ``settings.chat.<name>`` overrides when the settings class has a chat section."""

    max_message_chars: int = 2000
    rate_per_minute: int = 30
    route_timeout_s: float = 20.0
    route_max_tokens: int = 96
    breaker_trip_after: int = 2
    breaker_cooldown_s: float = 30.0
    shed_queue_depth: int = 2
    route_with_model: bool = False


def chat_limits(settings: Settings) -> ChatLimits:
    section = getattr(settings, "chat", None)
    if section is None:
        return ChatLimits()
    return ChatLimits(**{k: getattr(section, k) for k in ChatLimits.__dataclass_fields__ if hasattr(section, k)})


def system_prompt() -> str:
    return (PROMPTS_DIR / "system.md").read_text(encoding="utf-8")


def credit_book_loader(settings: Settings) -> Callable[[], CreditLineBook]:
    """The credit-line rules as the financing route reads them (re-read when the YAML changes)."""
    return lambda: cached_book(settings.financing.credit_lines_path, settings.financing.iof_rates_path)


def quote_service_factory(settings: Settings, cache: Cache,
                          commerce: Callable[[], CommerceBackend | None]) -> Callable[[], QuoteService]:
    """A :class:`QuoteService` like ``POST /v1/quotes`` builds: same backend, same quote records
    (so the idempotency keys are shared), sizings looked up in the same cache.

    ``commerce`` is read on every call, as the routes read ``app.state.commerce``, so a
    backend that comes up (or is swapped) after startup is used by both.
    """
    records: list[QuoteRecordStore] = []
    lock = threading.Lock()

    def make() -> QuoteService:
        backend = commerce()
        if backend is None:
            raise Unavailable("Backend de comércio indisponível.", hint="Confira /readyz e tente de novo.")
        with lock:
            if not records:  # opened on first use: no SQLite file for a chat that never quotes
                records.append(make_quote_records(settings))
        return QuoteService(backend, records[0], credit_book_loader(settings), cache_sizing_lookup(cache),
                            validity_days=settings.commerce.quote_validity_days)

    return make


def make_tool_deps(
    settings: Settings,
    cache: Cache,
    catalog: CatalogRepository | None,
    searcher: Any | None,
    *,
    sizing: SizingPort | None = None,
    commerce: Callable[[], CommerceBackend | None] | None = None,
    quotes: Callable[[], QuoteService] | None = None,
) -> ToolDeps:
    """What the tools run on, for the chat's tools and the MCP server alike."""
    return ToolDeps(
        sizing=sizing or EngineSizing(catalog, cache, settings.redis.sizing_cache_ttl_s),
        catalog=catalog, searcher=searcher, credit_book=credit_book_loader(settings),
        quotes=quotes or (quote_service_factory(settings, cache, commerce) if commerce is not None else None),
    )


def build_assistant(
    settings: Settings,
    cache: Cache,
    catalog: CatalogRepository | None,
    searcher: Any | None,
    *,
    llm: LLMBackend | None = None,
    sizing: SizingPort | None = None,
    commerce: Callable[[], CommerceBackend | None] | None = None,
    quotes: Callable[[], QuoteService] | None = None,
) -> Assistant:
    """The assistant for the app; ``llm`` defaults to :func:`app.llm.factory.make_llm`.
    ``commerce`` returns the commerce backend (the app passes ``lambda: app.state.commerce``);
    ``quotes`` replaces the quote service built over it (evals); with neither, the quote
    tool answers "indisponível"."""
    if llm is None:
        from app.llm.factory import make_llm

        llm = make_llm(settings.llm)
    limits = chat_limits(settings)
    deps = make_tool_deps(settings, cache, catalog, searcher, sizing=sizing, commerce=commerce, quotes=quotes)
    runner = ToolRunner(make_tools(deps), deps=deps)
    router = Router(
        llm, runner.specs, system_prompt(),
        timeout_s=min(limits.route_timeout_s, settings.llm.timeout_s), max_tokens=limits.route_max_tokens,
        cooldown_s=limits.breaker_cooldown_s, trip_after=limits.breaker_trip_after,
    )
    places = load_places(settings.data_dir)
    if places is None:
        log.warning("Lista de municípios ausente em %s/municipios: cidades só via modelo", settings.data_dir)
    assistant = Assistant(
        router, runner, ConversationStore(cache, settings.redis.conversation_ttl_s), places,
        max_message_chars=limits.max_message_chars, rate_limiter=RateLimiter(cache, limits.rate_per_minute),
        shed_queue_depth=limits.shed_queue_depth, consult_model=limits.route_with_model,
    )
    assistant.knowledge_embedder = getattr(searcher, "embedder", None)  # orders near-tie answer sentences
    if model_leads(llm):
        assistant = model_led_assistant(settings, llm, assistant)
    return assistant


def model_leads(llm: LLMBackend | None) -> bool:
    """A capable model (Ollama, an OpenAI-compatible server) leads the turn; the embedded
    llama.cpp model (or none) leaves it to the rules and templates."""
    return getattr(llm, "name", None) in ("ollama", "openai") and hasattr(llm, "langchain_model")


def model_led_assistant(settings: Settings, llm: Any, assistant: Assistant) -> Assistant:
    """``assistant`` (same parts, same template path for fallbacks) with the model leading."""
    from app.agent.loop import ModelLedAssistant

    cfg = settings.llm
    return ModelLedAssistant.leading(
        assistant,
        chat_model=lambda: llm.langchain_model(max_tokens=cfg.loop_max_tokens, timeout_s=cfg.timeout_s),
        prompt=(PROMPTS_DIR / "loop.md").read_text(encoding="utf-8"),
        max_steps=cfg.loop_max_steps, history_tokens=cfg.loop_history_tokens,
    )
