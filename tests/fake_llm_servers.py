"""Scripted model servers for contract tests: a fake OpenAI-compatible server and a fake
Ollama, both real HTTP servers on loopback (imported as ``fake_llm_servers``).

Each request takes the next step of ``server.script``; a step is a dict, or a function of
the request body returning one:
- ``{"tool_calls": [(name, arguments)]}``: arguments a dict, or a raw string sent verbatim
  (to script malformed JSON);
- ``{"text": "..."}``: streamed in small pieces, as a model writes;
- ``{"status": 500}``: the server fails.
Every request body is kept in ``server.requests`` (what the model was shown: messages, tools).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Step = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


def pieces(text: str) -> list[str]:
    """Split like a tokenizer would: short pieces, numbers cut inside ("1.2" + "34,5" + "6")."""
    return re.findall(r".{1,4}", text, flags=re.S)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.script: list[Step] = []
        self.requests: list[dict[str, Any]] = []
        self.model = "helio-test"

    def next_step(self, body: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(body)
        if not self.script:
            return {"text": "(fim do roteiro)"}
        step = self.script.pop(0)
        return step(body) if callable(step) else step

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> _Server:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("content-length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _json(self, payload: Any, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _write(self, data: str) -> None:
        if getattr(self, "_gone", False):  # the client hung up (Hélio stops a model at an unchecked number)
            return
        raw = data.encode()
        try:
            self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self._gone = self.close_connection = True
        time.sleep(0.002)  # pieces arrive apart, as a model writes them

    def _end_stream(self) -> None:
        self._write("")  # the zero-length chunk ends the body


class _OpenAIHandler(_Handler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/").endswith("/models"):
            self._json({"object": "list", "data": [{"id": self.server.model, "object": "model", "owned_by": "test"}]})
        else:
            self._json({"error": {"message": "not found"}}, 404)

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        step = self.server.next_step(body)
        if "status" in step:
            self._json({"error": {"message": "scripted failure", "type": "server_error"}}, step["status"])
            return
        cid, created = "chatcmpl-fake", int(time.time())
        calls = [{"index": i, "id": f"call_{len(self.server.requests)}_{i}", "type": "function",
                  "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
                 for i, (name, args) in enumerate(step.get("tool_calls", []))]
        text = step.get("text", "")
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
            self._json({"id": cid, "object": "chat.completion", "created": created, "model": self.server.model,
                        "choices": [{"index": 0, "message": message,
                                     "finish_reason": "tool_calls" if calls else "stop"}],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
            return

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
            payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": self.server.model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            self._write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n")

        self._start_stream("text/event-stream")
        chunk({"role": "assistant", "content": ""})
        for piece in pieces(text):
            chunk({"content": piece})
        for call in calls:  # name first, then the arguments in two halves, as servers stream them
            args = call["function"]["arguments"]
            half = len(args) // 2
            chunk({"tool_calls": [{**call, "function": {"name": call["function"]["name"], "arguments": args[:half]}}]})
            chunk({"tool_calls": [{"index": call["index"], "function": {"arguments": args[half:]}}]})
        chunk({}, "tool_calls" if calls else "stop")
        chunk({}, None, usage={"prompt_tokens": 10, "completion_tokens": len(pieces(text)) + 1, "total_tokens": 20})
        self._write("data: [DONE]\n\n")
        self._end_stream()


class _OllamaHandler(_Handler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/api/tags"):
            self._json({"models": [{"name": f"{self.server.model}:latest", "model": f"{self.server.model}:latest"}]})
        else:
            self._json({"error": "not found"}, 404)

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        if not self.path.startswith("/api/chat"):
            self._json({"error": "not found"}, 404)
            return
        step = self.server.next_step(body)
        if "status" in step:
            self._json({"error": "scripted failure"}, step["status"])
            return
        stamp = "2026-01-01T00:00:00Z"
        calls = [{"function": {"name": name, "arguments": args if isinstance(args, dict) else args}}
                 for name, args in step.get("tool_calls", [])]

        def line(message: dict[str, Any], done: bool, **extra: Any) -> str:
            return json.dumps({"model": self.server.model, "created_at": stamp,
                               "message": {"role": "assistant", **message}, "done": done, **extra}) + "\n"

        final = {"done_reason": "stop", "total_duration": 1, "prompt_eval_count": 10, "eval_count": 5}
        if not body.get("stream", True):
            self._json(json.loads(line({"content": step.get("text", ""), **({"tool_calls": calls} if calls else {})},
                                       True, **final)))
            return
        self._start_stream("application/x-ndjson")
        for piece in pieces(step.get("text", "")):
            self._write(line({"content": piece}, False))
        if calls:  # Ollama sends tool calls whole, in one message
            self._write(line({"content": "", "tool_calls": calls}, False))
        self._write(line({"content": ""}, True, **final))
        self._end_stream()


def openai_server() -> _Server:
    return _Server(_OpenAIHandler)


def ollama_server() -> _Server:
    return _Server(_OllamaHandler)


def tool_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool results a request carried back to the model (parsed JSON when it is JSON)."""
    out = []
    for m in body.get("messages", []):
        if m.get("role") == "tool":
            try:
                out.append(json.loads(m["content"]))
            except (ValueError, TypeError):
                out.append({"raw": m.get("content")})
    return out


def tool_names(body: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools") or []]
