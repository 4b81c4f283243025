"""``GET /v1/products`` without re-validating a query string it has already answered.

FastAPI extracts and validates each of the listing's 18 query parameters on every request:
~120 µs of CPU, more than all of ``/healthz``. A storefront asks for the same few pages over
and over, and the parameters a query string validates to never change, so this route class
remembers them: raw query string → the :class:`~app.catalog.models.ProductQuery` the
endpoint built from it (only after it answered 200). A query string seen before is answered
from the catalog's page memo (``kept_search_json``, which checks the catalog fingerprint)
without FastAPI's parameter pass. Anything else takes the normal path: a new query string,
a page the catalog no longer keeps, a changed catalog, dependency overrides (tests).

The shortcut skips the route's dependencies, so it is only taken when every dependency of the
route, including those its router was included with, is one of :data:`PLAIN_DEPENDENCIES`
(each only reads ``app.state``). Add an auth or rate-limit dependency and the shortcut turns
itself off; nothing is ever answered that the normal path would have refused.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import fastapi.routing
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from app.api.compression import json_response
from app.api.deps import get_catalog, get_gzip_memo, get_settings_dep

PLAIN_DEPENDENCIES = frozenset({get_catalog, get_settings_dep, get_gzip_memo})
MAX_QUERIES = 1024
STATE_KEY = "kept_query"  # request.state attribute the endpoint sets to the query it searched


def remember_query(request: Request, query: Any) -> None:
    """Called by the endpoint with the query it built from this request's parameters."""
    setattr(request.state, STATE_KEY, query)


def _calls(dependant: Any) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    for sub in getattr(dependant, "dependencies", ()):
        if sub.call is not None:
            found.add(sub.call)
        found |= _calls(sub)
    return found


class KeptPageRoute(APIRoute):
    """An :class:`APIRoute` that answers a query string it has validated before from the page memo."""

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
            query = queries.get(raw)
            if query is not None and not request.app.dependency_overrides:
                catalog = await get_catalog(request)
                kept = getattr(catalog, "kept_search_json", None)
                body = kept(query) if kept is not None else None
                if body is not None:
                    settings = await get_settings_dep(request)
                    return json_response(body, request, await get_gzip_memo(request), settings.api.gzip_min_bytes)
            response = await validated(request)
            searched = getattr(request.state, STATE_KEY, None)
            if searched is not None and response.status_code == 200:
                if raw not in queries and len(queries) >= MAX_QUERIES:
                    queries.pop(next(iter(queries)))
                queries[raw] = searched
            return response

        return handler
