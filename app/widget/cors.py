"""CORS for the widget: answer only origins some widget key allows.

Starlette's ``CORSMiddleware`` takes a fixed list; ours changes whenever a key is created
or revoked, so this small ASGI middleware reads the union of the widget keys' origins (and
``AUTH__WIDGET_ORIGINS``) from the key store, cached for a few seconds. It covers the
routes a browser widget calls: ``/v1/chat``, ``/v1/conversations/…`` and ``/widget/v1/…``.

The per-key check stays where it was (``app.auth``: a key used from an origin it does not
list gets 403). ``/widget/v1/session`` is the exception that answers every origin: it only
says whether this key may run here, so the widget can explain a refusal in the console
instead of failing with an opaque CORS error.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from app.api.errors import error_body

WIDGET_PATHS = ("/v1/chat", "/v1/conversations/", "/widget/v1/")
OPEN_PATHS = ("/widget/v1/session", "/widget/v1/widget.js")
ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
ALLOW_HEADERS = "content-type, x-api-key, authorization, accept, last-event-id"
CACHE_S = 5.0


def _covers(path: str) -> bool:
    return path == "/v1/chat" or path.startswith(WIDGET_PATHS)


def _allowed_origins(app: Any) -> frozenset[str]:
    from app.api.auth import get_key_store

    settings = app.state.settings
    cached = getattr(app.state, "_widget_cors", None)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    store = get_key_store(Request({"type": "http", "app": app, "headers": []}))
    origins = store.widget_origins() | {o.rstrip("/") for o in settings.auth.widget_origins}
    app.state._widget_cors = (time.monotonic() + CACHE_S, origins)
    return origins


class WidgetCORS:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not _covers(scope["path"]):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if not origin or origin == "null":
            return await self.app(scope, receive, send)
        origin = origin.rstrip("/")
        allowed = scope["path"] in OPEN_PATHS or origin in await run_in_threadpool(_allowed_origins, scope["app"])
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, origin, allowed)
            return
        if not allowed:
            return await self.app(scope, receive, send)

        async def send_with_cors(message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"),
                         (b"access-control-expose-headers", b"Retry-After, ETag")]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    async def _preflight(send, origin: str, allowed: bool) -> None:
        if allowed:
            status, body = 204, b""
            headers = [(b"access-control-allow-origin", origin.encode("latin-1")),
                       (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                       (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                       (b"access-control-max-age", b"600"), (b"vary", b"Origin")]
        else:
            status = 403
            body = json.dumps(error_body(
                "origem_nao_permitida", f"Origem não permitida para o widget: {origin}.",
                "Cadastre a origem na chave: helio keys create --role widget --origin https://sua-loja.com.br"),
                ensure_ascii=False).encode()
            headers = [(b"content-type", b"application/json"), (b"vary", b"Origin")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
