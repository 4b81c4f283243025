"""Cached sizing rate through the API with tracing off vs on, in one run.

    .venv/bin/python benchmarks/tracing_bench.py [--requests 300] [--rounds 5]

The app: the sizing route behind the request-id middleware, the sizing benchmark's products
(real CEC parameters), results in process memory; every request after the first is a cache hit (the path a busy storefront
takes). Requests go in-process over ASGI (httpx), so the figures are the service's own cost.
"Off" is the default (no OTLP endpoint: no SDK, shared no-op spans); "on" is the SDK with a
batch processor and an exporter that drops the spans (an OTLP exporter's network cost is
paid on its own thread). Rounds alternate off/on so machine noise hits both alike; the
report is the median rate of each and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from app.core import telemetry  # noqa: E402

BODY = {"site": {"municipality": "Uberlândia", "uf": "MG"}, "consumption": {"monthly_kwh": 650},
        "connection": "three_phase"}


def build_app():
    from fastapi import FastAPI

    from app.api.errors import install_error_handlers
    from app.api.middleware import RequestContextMiddleware
    from app.api.routes import sizing
    from app.core.cache import MemoryCache
    from app.core.settings import Settings
    from sizing_vs_pvwatts import _products

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(sizing.router)
    app.add_middleware(RequestContextMiddleware)
    app.state.settings = Settings(_env_file=None)
    app.state.cache = MemoryCache()
    app.state.catalog = ListCatalog(_products())
    return app


class ListCatalog:
    """The few catalog calls sizing makes, over a list (the engine benchmark's products)."""

    def __init__(self, products) -> None:
        self.products = list(products)

    def iter_products(self, category=None):
        return (p for p in self.products if category is None or p.category == category)

    def count(self, category=None) -> int:
        return sum(1 for _ in self.iter_products(category))

    def fingerprint(self) -> str:
        return f"bench:{len(self.products)}"


def tracing_on():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Drop(SpanExporter):
        exported = 0

        def export(self, spans):
            Drop.exported += len(spans)
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    return provider, Drop


async def rate(app, n: int, concurrency: int = 8) -> float:
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        first = await client.post("/v1/sizing", json=BODY)  # fills the cache (or is already a hit)
        assert first.status_code == 200, first.text
        queue = list(range(n))

        async def worker() -> None:
            while queue:
                queue.pop()
                r = await client.post("/v1/sizing", json=BODY)
                assert r.status_code == 200

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    app = build_app()
    provider, exporter = tracing_on()
    asyncio.run(rate(app, 50))  # warm-up: imports, first sizing
    off, on = [], []
    for _ in range(args.rounds):
        telemetry.use_tracer_provider(None)
        off.append(asyncio.run(rate(app, args.requests)))
        telemetry.use_tracer_provider(provider)
        on.append(asyncio.run(rate(app, args.requests)))
    telemetry.use_tracer_provider(None)
    provider.shutdown()
    m_off, m_on = statistics.median(off), statistics.median(on)
    print(f"cached sizing, {args.rounds} rounds x {args.requests} requests (in-process ASGI, 8 concurrent)")
    print(f"  tracing off: median {m_off:7.1f} req/s  (rounds: {', '.join(f'{x:.0f}' for x in off)})")
    print(f"  tracing on : median {m_on:7.1f} req/s  (rounds: {', '.join(f'{x:.0f}' for x in on)})")
    print(f"  on/off = {m_on / m_off:.3f}; spans exported while on: {exporter.exported}")


if __name__ == "__main__":
    main()
