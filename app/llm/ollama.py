"""Production backend: an Ollama server through LangChain's ``ChatOllama``.

The model is the one ``Modelfile`` builds (``ollama create helio -f Modelfile``). Tool calls
use Ollama's native ``tools`` support; JSON extraction uses its ``format`` (a JSON schema).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from app.core import http
from app.llm.base import Health, LLMReply, LLMUnavailable, reply_from_message, stream_text


def ollama_has_model(base_url: str, model: str, timeout_s: float = 0.5) -> tuple[bool, str]:
    """Quick ``GET /api/tags``: is the server up and does it have ``model``?"""
    try:
        response = http.get(base_url.rstrip("/") + "/api/tags", timeout=timeout_s)
        response.raise_for_status()
        names = {m.get("name", "") for m in response.json().get("models", [])}
    except (httpx.HTTPError, ValueError) as exc:
        return False, f"Ollama inacessível em {base_url}: {exc or type(exc).__name__}"
    wanted = model if ":" in model else f"{model}:latest"
    if model in names or wanted in names:
        return True, f"Ollama em {base_url}, modelo {model}"
    return False, f"Ollama em {base_url} não tem o modelo '{model}' (rode 'ollama create {model} -f Modelfile')"


class OllamaBackend:
    name = "ollama"

    def __init__(self, base_url: str, model: str, *, timeout_s: float = 60.0) -> None:
        self.base_url = base_url
        self.model = model
        self.timeout_s = timeout_s

    def _client(self, *, max_tokens: int, temperature: float, fmt: Any = None, timeout_s: float | None = None) -> Any:
        from langchain_ollama import ChatOllama

        kwargs: dict[str, Any] = {
            "model": self.model,
            "base_url": self.base_url,
            "temperature": temperature,
            "num_predict": max_tokens,
            # The shared TLS context: ChatOllama builds two httpx clients per instance (~60 ms of CA bundle).
            "client_kwargs": {"timeout": timeout_s or self.timeout_s, "verify": http.tls_context()},
        }
        if fmt is not None:
            kwargs["format"] = fmt
        return ChatOllama(**kwargs)

    def langchain_model(self, *, max_tokens: int = 256, temperature: float = 0.0,
                        timeout_s: float | None = None) -> Any:
        """A ``ChatOllama`` on this server (the tool-calling loop binds tools to it)."""
        return self._client(max_tokens=max_tokens, temperature=temperature, timeout_s=timeout_s)

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
        client = self._client(max_tokens=max_tokens, temperature=temperature, fmt=json_schema, timeout_s=timeout_s)
        if tools:
            client = client.bind_tools(list(tools))
        start = time.monotonic()
        try:
            message = client.invoke(list(messages))
        except Exception as exc:  # noqa: BLE001 - httpx/ollama errors vary by version; all mean "down"
            raise LLMUnavailable(f"Ollama falhou: {exc}", hint="Confira LLM__OLLAMA_URL e o modelo.") from exc
        return reply_from_message(message, time.monotonic() - start, json_schema)

    def stream(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
    ) -> Iterator[str]:
        client = self._client(max_tokens=max_tokens, temperature=temperature, timeout_s=timeout_s)
        return stream_text(client, messages, "Ollama falhou")

    def status(self) -> tuple[Health, str]:
        ok, reason = ollama_has_model(self.base_url, self.model)
        return ("ok" if ok else "down"), reason
