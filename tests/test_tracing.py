"""OpenTelemetry spans of a chat turn, collected with the SDK's in-memory exporter."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.agent.ports import EngineSizing
from app.api.middleware import RequestContextMiddleware
from app.core import telemetry
from app.core.cache import MemoryCache
from app.core.settings import Settings
from test_agent_support import LAW_HIT, FakeCatalog, FakeSearcher, ScriptedLLM, make_app, make_assistant, parse_sse
from test_quotes_flow import stock


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use_tracer_provider(provider)
    yield exporter
    telemetry.use_tracer_provider(None)


def traced_client(pick) -> TestClient:
    cache = MemoryCache()
    catalog = FakeCatalog(list(stock()))
    assistant = make_assistant(cache=cache, catalog=catalog, llm=ScriptedLLM(pick),
                               sizing=EngineSizing(catalog, cache), searcher=FakeSearcher([LAW_HIT]))
    app = make_app(assistant, Settings(_env_file=None))
    app.add_middleware(RequestContextMiddleware)
    return TestClient(app)


def tree(exporter: InMemorySpanExporter) -> dict[str, list[str]]:
    """parent span name -> child span names, plus the spans by name."""
    finished = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    children: dict[str, list[str]] = {}
    for s in finished:
        parent = by_id.get(s.parent.span_id).name if s.parent and s.parent.span_id in by_id else None
        children.setdefault(parent or "<root>", []).append(s.name)
    return children


@pytest.mark.slow  # a real sizing (pvlib year simulation): ~8 s on 2 shared cores
def test_one_sizing_turn_makes_a_span_tree_with_the_request_id(spans):
    client = traced_client(lambda m: ("size_pv_system", {"monthly_kwh": 650, "municipality": "Uberlândia",
                                                         "uf": "MG", "connection": "three_phase"}))
    r = client.post("/v1/chat", json={"message": "Cliente em Uberlândia/MG, 650 kWh por mês, trifásico"},
                    headers={"X-Request-ID": "turno-42"})
    events = parse_sse(r.text)
    assert [e for e, _ in events if e == "card"] and events[-1][0] == "done"
    t = tree(spans)
    assert t["<root>"] == ["POST /v1/chat"]
    assert t["POST /v1/chat"] == ["chat.turn"]
    assert sorted(t["chat.turn"]) == ["llm.chat", "tool.size_pv_system"]
    assert t["tool.size_pv_system"] == ["sizing"]
    assert t["sizing"] == ["sizing.cache_lookup", "sizing.engine", "sizing.store"]
    assert t["sizing.engine"] == ["sizing.weather", "sizing.designs"]
    finished = spans.get_finished_spans()
    assert {s.attributes["helio.request_id"] for s in finished} == {"turno-42"}
    assert len({s.context.trace_id for s in finished}) == 1
    request = next(s for s in finished if s.name == "POST /v1/chat")
    assert request.attributes["http.response.status_code"] == 200
    sizing = next(s for s in finished if s.name == "sizing")
    assert sizing.attributes["helio.sizing.cache_hit"] is False
    # The turn span covers its children in time (it ends after the last event is sent).
    turn = next(s for s in finished if s.name == "chat.turn")
    assert turn.start_time <= sizing.start_time and sizing.end_time <= turn.end_time


def test_knowledge_turn_has_a_search_span(spans):
    client = traced_client(lambda m: ("search_knowledge", {"query": "Fio B Lei 14.300"}))
    r = client.post("/v1/chat", json={"message": "O que a Lei 14.300 diz sobre o Fio B?", "stream": False})
    assert r.status_code == 200
    t = tree(spans)
    assert "tool.search_knowledge" in t["chat.turn"] and t["tool.search_knowledge"] == ["retrieval.search"]


def test_tracing_is_off_without_an_otlp_endpoint():
    assert telemetry.setup_tracing(environ={}) is False and not telemetry.tracing_enabled()
    assert telemetry.span("x") is telemetry.span("y")  # one shared no-op, nothing allocated
    steps = iter([1, 2])
    assert telemetry.traced_steps("t", steps) is steps


def test_spans_are_exported_over_otlp_when_the_endpoint_is_set():
    """A loopback OTLP/HTTP receiver gets the spans (protobuf POST /v1/traces)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            received.append(self.path.encode() + b" " + self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True).start()
    try:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
               "OTEL_SERVICE_NAME": "helio-teste"}
        import os
        from unittest import mock

        with mock.patch.dict(os.environ, env):
            assert telemetry.setup_tracing() is True
            with telemetry.span("sizing"):
                pass
            telemetry.shutdown_tracing()
    finally:
        server.shutdown()
        server.server_close()
    assert not telemetry.tracing_enabled()
    assert received and received[0].startswith(b"/v1/traces ")
    assert b"sizing" in received[0] and b"helio-teste" in received[0]
