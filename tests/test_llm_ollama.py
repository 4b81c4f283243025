"""Contract tests for the Ollama backend against a local server on 127.0.0.1 that speaks
Ollama's documented HTTP API: ``GET /api/tags`` and ``POST /api/chat`` (NDJSON stream of
``{"model", "created_at", "message": {"role", "content", "tool_calls"?}, "done": false}``
lines, closed by a ``"done": true`` line with ``done_reason`` and token counts; tool call
arguments are JSON objects, not strings)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.core.settings import LLMSettings
from app.llm.base import LLMUnavailable
from app.llm.factory import make_llm
from app.llm.llamacpp import LlamaCppBackend
from app.llm.ollama import OllamaBackend

NOW = "2026-01-01T00:00:00.000000Z"


class FakeOllama(BaseHTTPRequestHandler):
    models = ["helio:latest"]
    requests: list[dict] = []
    script: dict = {}

    def log_message(self, *_):  # keep pytest output clean
        pass

    def _json(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        if self.path == "/api/tags":
            self._json(200, {"models": [{"name": m, "model": m, "modified_at": NOW, "size": 1, "digest": "x",
                                         "details": {"format": "gguf", "family": "qwen2"}} for m in self.models]})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        FakeOllama.requests.append(body)
        if self.path != "/api/chat":
            return self._json(404, {"error": "not found"})
        if body["model"] not in {m.split(":")[0] for m in self.models} | set(self.models):
            return self._json(404, {"error": f"model '{body['model']}' not found"})
        pieces = self.script.get("pieces", ["Olá", "!"])
        # Like a real model, it answers in words once a tool result came back.
        answered = body.get("messages") and body["messages"][-1].get("role") == "tool"
        tool_calls = self.script.get("tool_calls") if body.get("tools") and not answered else None
        final = {"model": body["model"], "created_at": NOW, "message": {"role": "assistant", "content": ""},
                 "done": True, "done_reason": "stop", "total_duration": 1000, "load_duration": 10,
                 "prompt_eval_count": 42, "prompt_eval_duration": 100, "eval_count": len(pieces),
                 "eval_duration": 500}
        lines = []
        if tool_calls:
            lines.append({"model": body["model"], "created_at": NOW,
                          "message": {"role": "assistant", "content": "", "tool_calls": tool_calls}, "done": False})
        else:
            lines += [{"model": body["model"], "created_at": NOW, "message": {"role": "assistant", "content": p},
                       "done": False} for p in pieces]
        if not body.get("stream", True):
            merged = dict(final)
            merged["message"] = {"role": "assistant", "content": "".join(pieces) if not tool_calls else "",
                                 **({"tool_calls": tool_calls} if tool_calls else {})}
            return self._json(200, merged)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        for line in [*lines, final]:
            self.wfile.write((json.dumps(line) + "\n").encode())
            self.wfile.flush()


@pytest.fixture
def ollama():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOllama)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True)
    thread.start()
    FakeOllama.requests, FakeOllama.script, FakeOllama.models = [], {}, ["helio:latest"]
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_auto_picks_ollama_when_the_model_exists(ollama):
    llm = make_llm(LLMSettings(backend="auto", ollama_url=ollama, ollama_model="helio"))
    assert isinstance(llm, OllamaBackend) and llm.status()[0] == "ok"


def test_auto_falls_back_to_embedded_without_the_model_or_server(ollama):
    FakeOllama.models = ["llama3:latest"]
    assert isinstance(make_llm(LLMSettings(backend="auto", ollama_url=ollama)), LlamaCppBackend)
    assert isinstance(make_llm(LLMSettings(backend="auto", ollama_url="http://127.0.0.1:9")), LlamaCppBackend)
    down = OllamaBackend("http://127.0.0.1:9", "helio")
    assert down.status()[0] == "down"


def test_streams_text_from_ndjson(ollama):
    FakeOllama.script = {"pieces": ["Olá", ", ", "integrador"]}
    llm = OllamaBackend(ollama, "helio")
    assert "".join(llm.stream([{"role": "user", "content": "oi"}], max_tokens=8)) == "Olá, integrador"
    sent = FakeOllama.requests[-1]
    assert sent["model"] == "helio" and sent["messages"][-1] == {"role": "user", "content": "oi"}
    assert sent["options"]["num_predict"] == 8


def test_native_tool_call_is_parsed(ollama):
    FakeOllama.script = {"tool_calls": [{"function": {"name": "size_pv_system", "arguments": {
        "monthly_kwh": 650, "municipality": "Uberlândia", "uf": "MG", "connection": "three_phase"}}}]}
    from app.agent.tools import ToolDeps, ToolRunner, make_tools

    specs = ToolRunner(make_tools(ToolDeps(sizing=None, catalog=None, searcher=None))).specs
    reply = OllamaBackend(ollama, "helio").chat([{"role": "user", "content": "650 kWh em Uberlândia"}], tools=specs)
    assert reply.tool_calls[0].name == "size_pv_system"
    assert reply.tool_calls[0].arguments["monthly_kwh"] == 650
    sent = FakeOllama.requests[-1]
    assert {t["function"]["name"] for t in sent["tools"]} == {s["function"]["name"] for s in specs}
    assert "size_pv_system" in {t["function"]["name"] for t in sent["tools"]}
    assert reply.usage.prompt_tokens == 42


def test_json_schema_goes_in_format(ollama):
    FakeOllama.script = {"pieces": ['{"monthly_kwh": ', "450}"]}
    schema = {"type": "object", "properties": {"monthly_kwh": {"type": "number"}}, "required": ["monthly_kwh"]}
    reply = OllamaBackend(ollama, "helio").chat([{"role": "user", "content": "450 kWh"}], json_schema=schema)
    assert reply.data == {"monthly_kwh": 450}
    assert FakeOllama.requests[-1]["format"] == schema


def test_missing_model_or_dead_server_raises_unavailable(ollama):
    with pytest.raises(LLMUnavailable):
        OllamaBackend(ollama, "nao-existe").chat([{"role": "user", "content": "oi"}])
    with pytest.raises(LLMUnavailable):
        OllamaBackend("http://127.0.0.1:9", "helio", timeout_s=1).chat([{"role": "user", "content": "oi"}])


def test_assistant_runs_on_the_ollama_backend(ollama):
    FakeOllama.script = {"tool_calls": [{"function": {"name": "find_products", "arguments": {
        "category": "inverter", "manufacturer": "growatt"}}}]}
    from test_agent_support import make_assistant, run_turn

    a = make_assistant(llm=OllamaBackend(ollama, "helio"))
    reply = run_turn(a, "ol-1", "algo da growatt pro meu cliente")
    # With Ollama the model leads (issue #13): it called the tool and wrote the answer itself.
    assert reply["llm"]["backend"] == "ollama" and reply["intent"] == "find_products"
    assert reply["llm"]["speaker"] == "model" and reply["message"] == "Olá!"
    assert reply["cards"][0]["data"]["items"][0]["manufacturer"] == "Growatt"
