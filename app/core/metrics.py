"""Prometheus metrics: what the service counts, and how a scrape reads it.

The metric objects are built on first use (:func:`metrics`), never at import time, and
live in prometheus_client's default registry (one per process). With several uvicorn
workers each process writes its samples to files under ``PROMETHEUS_MULTIPROC_DIR``
(``helio serve --workers N`` sets it); :func:`exposition` then merges every worker's
files, so any worker answers a scrape for all of them. The directory must be set before
``prometheus_client`` is first imported in the process, which is why this module imports
it lazily.

The ``record_*`` functions are what the rest of the code calls: cheap, never raising
(a metric must not break a request), and label values are bounded (routes by template,
tools by name, intents by the router's small set).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

log = logging.getLogger("helio.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Request latencies [s]: the API's answers range from ~1 ms (cached) to seconds (a sizing
# with a year simulation, a chat turn with a model).
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUEUE_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0)


@dataclass(frozen=True)
class HelioMetrics:
    http_requests: Any
    http_latency: Any
    chat_turns: Any
    tool_calls: Any
    tool_errors: Any
    llm_queue_depth: Any
    llm_queue_wait: Any
    cache_lookups: Any
    ingest_items: Any


@cache
def metrics() -> HelioMetrics:
    """The process's metric objects, registered once in the default registry."""
    from prometheus_client import Counter, Gauge, Histogram

    return HelioMetrics(
        http_requests=Counter("helio_http_requests", "HTTP requests answered, by route template and status",
                              ["method", "route", "status"]),
        http_latency=Histogram("helio_http_request_duration_seconds", "Time to answer an HTTP request [s]",
                               ["method", "route"], buckets=LATENCY_BUCKETS_S),
        chat_turns=Counter("helio_chat_turns", "Chat turns by chosen intent; degraded = answered by rules "
                           "without the model or without the knowledge base", ["intent", "degraded"]),
        tool_calls=Counter("helio_tool_calls", "Tool calls by tool, caller (chat or mcp) and outcome",
                           ["tool", "via", "outcome"]),
        tool_errors=Counter("helio_tool_errors", "Failed tool calls by tool and error code", ["tool", "code"]),
        llm_queue_depth=Gauge("helio_llm_queue_depth", "Requests waiting for the embedded model",
                              multiprocess_mode="livesum"),
        llm_queue_wait=Histogram("helio_llm_queue_wait_seconds", "Time a request waited for the model [s]",
                                 buckets=QUEUE_BUCKETS_S),
        cache_lookups=Counter("helio_cache_lookups", "Cache reads by key family and result (hit/miss); "
                              "hit rate = hit / (hit + miss)", ["family", "result"]),
        ingest_items=Counter("helio_ingest_items", "Items seen by an ingest run, by kind and outcome",
                             ["kind", "outcome"]),
    )


def _safely(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - metrics must never break the request being measured
        log.debug("métrica não registrada", exc_info=True)


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    def do() -> None:
        m = metrics()
        m.http_requests.labels(method, route, str(status)).inc()
        m.http_latency.labels(method, route).observe(seconds)

    _safely(do)


def record_turn(intent: str | None, degraded: bool) -> None:
    _safely(lambda: metrics().chat_turns.labels(intent or "none", "true" if degraded else "false").inc())


def record_tool(name: str, via: str, ok: bool, error_code: str | None = None) -> None:
    def do() -> None:
        m = metrics()
        m.tool_calls.labels(name, via, "ok" if ok else "error").inc()
        if not ok:
            m.tool_errors.labels(name, error_code or "erro").inc()

    _safely(do)


def record_queue_wait(seconds: float) -> None:
    _safely(lambda: metrics().llm_queue_wait.observe(seconds))


def queue_depth_changed(delta: int) -> None:
    _safely(lambda: metrics().llm_queue_depth.inc(delta))


def record_cache(key: str, hit: bool) -> None:
    """One cache read of ``key``; its family is the part before the first ``:``."""
    family = key.split(":", 1)[0] if ":" in key else "other"
    _safely(lambda: metrics().cache_lookups.labels(family, "hit" if hit else "miss").inc())


def record_ingest(kind: str, counts: dict[str, int]) -> None:
    """Counts of one ingest run (e.g. ``{"kept": 120, "dropped": 7}``)."""
    def do() -> None:
        for outcome, n in counts.items():
            if n:
                metrics().ingest_items.labels(kind, outcome).inc(n)

    _safely(do)


def multiprocess_dir() -> str | None:
    path = os.environ.get(MULTIPROC_ENV)
    return path if path and os.path.isdir(path) else None


def process_exited(pid: int) -> None:
    """Drop a finished worker's live gauges (multiprocess mode only)."""
    if multiprocess_dir() is None:
        return
    from prometheus_client import multiprocess

    _safely(lambda: multiprocess.mark_process_dead(pid))


def exposition(extra: Iterable[Any] = ()) -> tuple[bytes, str]:
    """The text a scrape gets (body, content type): this process's metrics, or every
    worker's in multiprocess mode, plus the ``extra`` collectors (state read at scrape time)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    metrics()  # registered (and so present with zero values) even before the first request
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        from prometheus_client import REGISTRY

        registry.register(_Delegate(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Delegate:
    """Collects another registry (so per-scrape collectors never join the global one)."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Any]:
        return self.registry.collect()
