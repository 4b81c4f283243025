"""The one typed container of the API's services.

The lifespan in :mod:`app.main` opens every service once, in order, into a :class:`Services`
and publishes it as ``app.state.services``; the dependencies in :mod:`app.api.deps` read it
from there and nothing else builds a service on a request. A service that could not start
is ``None`` with its reason in the matching ``*_error`` field (``/readyz`` shows it; the
routes that need it answer 503).

``app.state`` of an app made by :func:`app.main.create_app` is a :class:`ServiceState`:
``app.state.commerce`` and friends read and write the container's fields, so code and tests
that address a service by its ``app.state`` name see the same object as the dependencies
(one source, never a copy). An app assembled by hand without the lifespan (unit tests)
keeps a plain ``State``; :func:`services_of` then reads its attributes into a container.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from starlette.datastructures import State

if TYPE_CHECKING:
    from app.agent.assistant import Assistant
    from app.api.compression import GzipMemo
    from app.auth.keys import ApiKeyStore
    from app.auth.oidc import OIDCVerifier
    from app.catalog.repository import CatalogRepository
    from app.commerce.base import CommerceBackend
    from app.core.cache import Cache
    from app.core.settings import Settings
    from app.quotes.service import QuoteService
    from app.specs.registry import SpecRegistry


@dataclass(eq=False)
class Services:
    settings: Settings
    cache: Cache | None = None
    gzip_memo: GzipMemo | None = None
    auth_keys: ApiKeyStore | None = None
    oidc: OIDCVerifier | None = None
    catalog: CatalogRepository | None = None
    catalog_error: str | None = None
    specs: SpecRegistry | None = None
    commerce: CommerceBackend | None = None
    commerce_error: str | None = None
    searcher: Any = None  # KnowledgeSearcher or BackgroundIndex (same search interface)
    searcher_error: str | None = None
    quotes: Callable[[], QuoteService] | None = None  # the one QuoteService factory
    llm: Any = None
    assistant: Assistant | None = None
    mcp: Any = None


SERVICE_FIELDS = frozenset(f.name for f in fields(Services))


class ServiceState(State):
    """``app.state`` whose service names are the published container's fields."""

    def __getattr__(self, key: Any) -> Any:
        services = self._state.get("services")
        if services is not None and key in SERVICE_FIELDS:
            return getattr(services, key)
        return super().__getattr__(key)

    def __setattr__(self, key: Any, value: Any) -> None:
        services = self._state.get("services")
        if services is not None and key in SERVICE_FIELDS:
            setattr(services, key, value)
        else:
            super().__setattr__(key, value)


def services_of(state: Any) -> Services:
    """The published container; for an app without the lifespan, its ``state`` attributes."""
    services = getattr(state, "services", None)
    if isinstance(services, Services):
        return services
    return Services(**{name: getattr(state, name, None) for name in SERVICE_FIELDS})
