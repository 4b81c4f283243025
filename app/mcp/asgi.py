"""The ``/mcp`` endpoint: authenticate the API key, then hand the request to the MCP SDK.

The key is checked like any ``widget`` route (``Authorization: Bearer`` or ``X-API-Key``;
widget keys only from their origins), except that a key is always needed: the public
anonymous chat (``AUTH__PUBLIC_CHAT``) is for the storefront widget, not for MCP clients
(``AUTH__DEV_OPEN`` still admits a keyless developer outside prod). The principal lands on ``request.state`` (the ASGI scope's
state), where :mod:`app.mcp.server` reads the role for each tool call. A refused key gets
the house JSON error (401/403), never an MCP session.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from app.api.errors import error_body
from app.api.auth import require_role
from app.auth.errors import Unauthorized
from app.auth.keys import key_from_headers
from app.core.errors import HelioError, Unavailable

_authenticate = require_role("widget")


class McpEndpoint:
    """ASGI app for ``/mcp``; the MCP server is ``app.state.mcp`` (built in the lifespan)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            server = getattr(request.app.state, "mcp", None)
            if server is None:
                raise Unavailable("Servidor MCP indisponível.", hint="Confira /readyz e tente de novo.")
            settings = request.app.state.settings
            keyless = key_from_headers(request.headers.get("authorization"), request.headers.get("x-api-key")) is None
            if keyless and not (settings.auth.dev_open and settings.env != "prod"):
                raise Unauthorized("Chave de API ausente: o servidor MCP exige uma chave.",
                                   hint="Envie 'Authorization: Bearer <chave>'; crie uma com "
                                        "'helio keys create --role sales_rep' (ou widget).")
            await _authenticate(request)
        except HelioError as exc:
            response = JSONResponse(status_code=exc.status, content=error_body(exc.code, exc.message, exc.hint))
            await response(scope, receive, send)
            return
        await server.session_manager.handle_request(scope, receive, send)
