"""Request ids and OpenTelemetry traces.

Request id: every HTTP request carries one (the caller's ``X-Request-ID`` when it is sane,
else a new one; see :mod:`app.api.middleware`). It lives in a context variable, so log
records (``%(request_id)s``) and spans pick it up without being handed it.

Traces: off unless the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set (then spans go over OTLP/HTTP, configured by the
other ``OTEL_*`` variables, e.g. ``OTEL_SERVICE_NAME``). Off costs nothing on the hot path:
:func:`span` returns one shared no-op context manager and OpenTelemetry is not even imported.
Spans: the request, the chat turn, each tool call, knowledge search, sizing stages and model
calls, each with ``helio.request_id``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("helio_request_id", default=None)
_NOOP = contextlib.nullcontext()
_tracer: Any = None  # an opentelemetry Tracer while tracing is on
_provider: Any = None
_OTLP_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_enabled() -> bool:
    return _tracer is not None


def setup_tracing(environ: Mapping[str, str] = os.environ, service_name: str = "helio-api") -> bool:
    """Turn tracing on when an OTLP endpoint is configured; True when it is on."""
    global _tracer, _provider
    if _tracer is not None:
        return True
    if not any(environ.get(v) for v in _OTLP_VARS) or environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME")
                                                        or service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    use_tracer_provider(provider)
    logging.getLogger("helio.telemetry").info("Traces OpenTelemetry exportados via OTLP")
    return True


def use_tracer_provider(provider: Any | None) -> None:
    """Trace with ``provider`` (tests pass one with an in-memory exporter); None = off."""
    global _tracer, _provider
    _provider = provider
    _tracer = provider.get_tracer("helio") if provider is not None else None


def shutdown_tracing() -> None:
    """Flush pending spans (at process exit)."""
    if _provider is not None and hasattr(_provider, "shutdown"):
        _provider.shutdown()
    use_tracer_provider(None)


def span(name: str, **attributes: Any) -> contextlib.AbstractContextManager[Any]:
    """A span around a block (the current span's child), or a shared no-op when tracing is off."""
    if _tracer is None:
        return _NOOP
    attrs = {k: v for k, v in attributes.items() if v is not None}
    attrs["helio.request_id"] = REQUEST_ID.get() or ""
    return _tracer.start_as_current_span(name, attributes=attrs)


def request_span(method: str, path: str, headers: Mapping[str, str],
                 attributes: dict[str, Any]) -> contextlib.AbstractContextManager[Any]:
    """The server span of one HTTP request (joining the caller's ``traceparent``); no-op when off."""
    if _tracer is None:
        return _NOOP
    from opentelemetry import trace
    from opentelemetry.propagate import extract

    return _tracer.start_as_current_span(
        f"{method} {path}", context=extract(dict(headers)), kind=trace.SpanKind.SERVER,
        attributes={**attributes, "helio.request_id": REQUEST_ID.get() or ""})


def mark_error(current: Any) -> None:
    from opentelemetry.trace import StatusCode

    current.set_status(StatusCode.ERROR)


def traced_steps(name: str, inner: Iterator[Any], **attributes: Any) -> Iterator[Any]:
    """``inner`` (a generator run step by step, possibly each step in another worker thread)
    inside one span; each step runs with the span current, so what it calls nests under it."""
    if _tracer is None:
        return inner
    return _traced_steps(name, inner, attributes)


def _traced_steps(name: str, inner: Iterator[Any], attributes: dict[str, Any]) -> Iterator[Any]:
    from opentelemetry import trace

    attrs = {k: v for k, v in attributes.items() if v is not None}
    attrs["helio.request_id"] = REQUEST_ID.get() or ""
    current = _tracer.start_span(name, attributes=attrs)
    try:
        while True:
            # Attach and detach within one step: a step may run in another thread's context.
            with trace.use_span(current, end_on_exit=False):
                try:
                    item = next(inner)
                except StopIteration:
                    return
            yield item
    finally:
        current.end()


def install_log_context() -> None:
    """Give every log record a ``request_id`` attribute ("-" outside a request)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_helio_request_id", False):
        return

    def record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = REQUEST_ID.get() or "-"
        return record

    record_factory._helio_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record_factory)


def configure_logging(level: int = logging.INFO) -> None:
    """A root handler that prints the request id, unless logging is already configured."""
    install_log_context()
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
        root.addHandler(handler)
        root.setLevel(level)
