"""Routes that answer a repeated request from what they keep, before FastAPI's pass over it.

For a cached sizing or a product page already built, FastAPI's own per-request work was
most of the cost: solving the route's dependencies (~30 µs for four), extracting and
validating each query parameter (~120 µs for the listing's 18), more than all of
``/healthz``. What a query string validates to never changes, so a :class:`ShortcutRoute`
remembers it: raw query string → the value the endpoint built from its parameters (the
endpoint calls :func:`remember`, and it is kept only after a 200). When that query string
comes again, the route's :meth:`ShortcutRoute.shortcut` may answer from the kept value (a
page memo, the sizing cache); it returns None for anything it cannot answer (a new body, a
miss, a changed catalog), and the request takes the normal, fully validated path.

The shortcut skips the route's dependencies, so it is only taken when every dependency of the
route, including those its router was included with, is one of :data:`PLAIN_DEPENDENCIES`
(each only reads ``app.state``), and never while dependency overrides are set (tests). Add
an auth or rate-limit dependency and the shortcut turns itself off: nothing is answered that
the normal path would have refused.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import fastapi.routing
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from app.api.deps import get_cache, get_catalog, get_gzip_memo, get_settings_dep

PLAIN_DEPENDENCIES = frozenset({get_catalog, get_cache, get_settings_dep, get_gzip_memo})
MAX_QUERIES = 1024
_STATE_KEY = "shortcut_params"


def remember(request: Request, params: Any) -> None:
    """Called by the endpoint with what it built from this request's query parameters."""
    setattr(request.state, _STATE_KEY, params)


def _calls(dependant: Any) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    for sub in getattr(dependant, "dependencies", ()):
        if sub.call is not None:
            found.add(sub.call)
        found |= _calls(sub)
    return found


class ShortcutRoute(APIRoute):
    """An :class:`APIRoute` whose subclass's :meth:`shortcut` may answer a query string it has
    validated before."""

    async def shortcut(self, request: Request, params: Any) -> Response | None:
        return None

    def _effective_dependant(self) -> Any:
        # Since FastAPI 0.16x an included route is built inside a context that carries the
        # including router's dependencies; earlier versions copied them into self.dependant.
        var = getattr(fastapi.routing, "_effective_route_context_var", None)
        context = var.get() if var is not None else None
        if context is not None and getattr(context, "original_route", None) is self:
            return context.dependant
        return self.dependant

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        validated = super().get_route_handler()
        if not _calls(self._effective_dependant()) <= PLAIN_DEPENDENCIES:
            return validated
        queries: dict[bytes, Any] = {}

        async def handler(request: Request) -> Response:
            raw = request.scope.get("query_string", b"")
            params = queries.get(raw)
            if params is not None and not request.app.dependency_overrides:
                response = await self.shortcut(request, params)
                if response is not None:
                    return response
            response = await validated(request)
            kept = getattr(request.state, _STATE_KEY, None)
            if kept is not None and response.status_code == 200:
                if raw not in queries and len(queries) >= MAX_QUERIES:
                    queries.pop(next(iter(queries)))
                queries[raw] = kept
            return response

        return handler
