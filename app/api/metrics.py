"""``GET /metrics`` (Prometheus text format) and the ASGI middleware that times requests.

Requests are labelled by route *template* (``/v1/quotes/{quote_id}``), never by the raw
path, so an id in a URL does not make a new time series; a path no route matched is
``unmatched``. The middleware is plain ASGI, so streamed answers (chat SSE, MCP) pass
through untouched and are timed until their last byte.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.metrics import exposition, record_request

router = APIRouter(tags=["saúde"])


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            record_request(scope.get("method", "GET"), template, status, time.perf_counter() - started)


class StateCollector:
    """Gauges read from this process's app state at scrape time: what the ingests left in
    the stores (products in the catalog, chunks in the knowledge index)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        catalog = getattr(self.state, "catalog", None)
        if catalog is not None:
            yield GaugeMetricFamily("helio_catalog_products", "Products in the catalog store", value=catalog.count())
        searcher = getattr(self.state, "searcher", None)
        if searcher is not None:
            try:
                chunks = searcher.store.count()
            except Exception:  # noqa: BLE001 - a locked or missing index is reported by /readyz
                return
            yield GaugeMetricFamily("helio_knowledge_chunks", "Chunks in the knowledge index", value=chunks)


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus text exposition of every worker's counters (no key: scrape it from the
    private network; the proxy does not expose it)."""
    body, content_type = await run_in_threadpool(exposition, [StateCollector(request.app.state)])
    return Response(content=body, media_type=content_type)
