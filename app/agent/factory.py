"""Wire the assistant from what the app lifespan built (the one place that knows all parts)."""

from __future__ import annotations

import logging
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
from app.core.cache import Cache
from app.core.settings import Settings
from app.llm.base import LLMBackend

log = logging.getLogger("helio.agent")


@dataclass(frozen=True)
class ChatLimits:
    """Defaults; ``settings.chat.<name>`` overrides when the settings class has a chat section."""

    max_message_chars: int = 2000
    rate_per_minute: int = 30
    route_timeout_s: float = 20.0
    route_max_tokens: int = 96


def chat_limits(settings: Settings) -> ChatLimits:
    section = getattr(settings, "chat", None)
    if section is None:
        return ChatLimits()
    return ChatLimits(**{k: getattr(section, k) for k in ChatLimits.__dataclass_fields__ if hasattr(section, k)})


def system_prompt() -> str:
    return (PROMPTS_DIR / "system.md").read_text(encoding="utf-8")


def build_assistant(
    settings: Settings,
    cache: Cache,
    catalog: CatalogRepository | None,
    searcher: Any | None,
    *,
    llm: LLMBackend | None = None,
    sizing: SizingPort | None = None,
) -> Assistant:
    """The assistant for the app; ``llm`` defaults to :func:`app.llm.factory.make_llm`."""
    if llm is None:
        from app.llm.factory import make_llm

        llm = make_llm(settings.llm)
    limits = chat_limits(settings)
    runner = ToolRunner(make_tools(ToolDeps(sizing=sizing or EngineSizing(catalog), catalog=catalog, searcher=searcher)))
    router = Router(
        llm, runner.specs, system_prompt(),
        timeout_s=min(limits.route_timeout_s, settings.llm.timeout_s), max_tokens=limits.route_max_tokens,
    )
    places = load_places(settings.data_dir)
    if places is None:
        log.warning("Lista de municípios ausente em %s/municipios: cidades só via modelo", settings.data_dir)
    assistant = Assistant(
        router, runner, ConversationStore(cache, settings.redis.conversation_ttl_s), places,
        max_message_chars=limits.max_message_chars, rate_limiter=RateLimiter(cache, limits.rate_per_minute),
    )
    return assistant
