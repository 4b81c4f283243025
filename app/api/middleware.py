"""What every HTTP request goes through first: its id, the real client address, the body limit,
the request span and one access-log line.

- ``X-Request-ID``: the caller's (or the proxy's) when it is a sane token, else a new one;
  echoed in the response, set in :data:`app.core.telemetry.REQUEST_ID` for logs and spans.
- Behind a proxy: ``X-Forwarded-For`` is believed only when the connection comes from an
  address in ``API__TRUSTED_PROXIES``; the client is then the right-most address that is not
  a trusted proxy. The ASGI ``client`` is rewritten, so rate limits and logs see the buyer,
  not NGINX. From anyone else the header is ignored (it is trivially forged).
- Bodies above ``API__MAX_BODY_BYTES`` get 413 in the house shape.

Pure ASGI (no ``BaseHTTPMiddleware``) so Server-Sent Events stream through untouched.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

from app.core import telemetry
from app.core.errors import HelioError

log = logging.getLogger("helio.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class PayloadTooLarge(HelioError):
    code = "payload_grande_demais"
    status = 413


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def real_client(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str | None:
    """The client address: ``peer`` unless it is a trusted proxy that says who it forwards for."""
    peer_ip = _ip(peer) if peer else None
    if not trusted or peer_ip is None or forwarded_for is None or not any(peer_ip in n for n in trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            return peer  # a malformed chain: do not guess
        if not any(ip in n for n in trusted):
            return str(ip)
    return str(_ip(hops[0])) if hops else peer


def _json_response(status: int, body: dict[str, Any], request_id: str) -> tuple[dict, dict]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                         (b"x-request-id", request_id.encode())]}
    return start, {"type": "http.response.body", "body": raw}


UPLOAD_PATH = "/v1/sizing"


class RequestContextMiddleware:
    def __init__(self, app: Any, trusted_proxies: Iterable[str] = (), max_body_bytes: int | None = None,
                 max_upload_bytes: int | None = None) -> None:
        self.app = app
        self.trusted = parse_networks(trusted_proxies)
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    def _limit_for(self, scope: dict, headers: dict[str, str]) -> int | None:
        """Weather files are uploaded to POST /v1/sizing as multipart: they get the upload limit."""
        if (self.max_upload_bytes and scope["path"] == UPLOAD_PATH and scope["method"] == "POST"
                and headers.get("content-type", "").startswith("multipart/form-data")):
            return max(self.max_upload_bytes, self.max_body_bytes or 0)
        return self.max_body_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = telemetry.REQUEST_ID.set(request_id)
        client = scope.get("client")
        if self.trusted and client:
            host = real_client(client[0], headers.get("x-forwarded-for"), self.trusted)
            if host != client[0]:
                scope["client"] = (host, 0)  # in place: uvicorn's access log reads the same dict
                proto = headers.get("x-forwarded-proto")
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            limit = self._limit_for(scope, headers)
            if limit is not None:
                length = headers.get("content-length", "")
                if length.isdigit() and int(length) > limit:
                    from app.api.errors import error_body

                    start, body = _json_response(413, error_body(
                        PayloadTooLarge.code, f"Requisição com {int(length)} bytes; o limite é {limit}.",
                        "Envie uma mensagem menor."), request_id)
                    status["code"] = 413
                    await send(start)
                    await send(body)
                    return
                receive = self._limited(receive, limit)
            client = scope.get("client")
            with telemetry.request_span(scope["method"], scope["path"], headers, {
                    "http.request.method": scope["method"], "url.path": scope["path"],
                    "client.address": client[0] if client else ""}) as current:
                await self.app(scope, receive, send_with_id)
                if current is not None:
                    route = scope.get("route")
                    name = f"{scope['method']} {getattr(route, 'path', scope['path'])}"
                    current.update_name(name)
                    current.set_attribute("http.response.status_code", status["code"])
                    if status["code"] >= 500:
                        telemetry.mark_error(current)
        finally:
            client = scope.get("client")
            log.info("%s %s %d %.1fms client=%s", scope["method"], scope["path"], status["code"],
                     (time.perf_counter() - started) * 1000, client[0] if client else "-")
            telemetry.REQUEST_ID.reset(token)

    def _limited(self, receive: Any, limit: int) -> Any:
        seen = 0

        async def wrapped() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # chunked bodies carry no Content-Length
                    from fastapi import HTTPException  # FastAPI re-raises it as is: 413 in the house shape

                    raise HTTPException(status_code=413, detail=f"Requisição maior que {limit} bytes.")
            return message

        return wrapped
