"""Any OpenAI-compatible chat server (vLLM, llama.cpp's server, a hosted API) through
LangChain's ``ChatOpenAI``.

Base URL, model and key come from settings (``LLM__OPENAI_BASE_URL``, ``LLM__OPENAI_MODEL``,
``LLM__OPENAI_API_KEY``). Tool calls use the server's native ``tools``; JSON extraction asks
for ``response_format={"type": "json_object"}``, which most compatible servers honour.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from app.core import http
from app.llm.base import Health, LLMReply, LLMUnavailable, reply_from_message, stream_text

PLACEHOLDER_KEY = "sem-chave"  # the SDK refuses an empty key; local servers ignore it


def openai_has_model(base_url: str, model: str, api_key: str | None = None,
                     timeout_s: float = 0.5) -> tuple[bool, str]:
    """Quick ``GET /models``: is the server up and does it list ``model``?"""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = http.get(base_url.rstrip("/") + "/models", headers=headers, timeout=timeout_s)
        response.raise_for_status()
        ids = {m.get("id", "") for m in response.json().get("data", [])}
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return False, f"servidor OpenAI-compatível inacessível em {base_url}: {exc or type(exc).__name__}"
    if model in ids or not ids:
        return True, f"servidor OpenAI-compatível em {base_url}, modelo {model}"
    return False, f"o servidor em {base_url} não lista o modelo '{model}' (lista: {', '.join(sorted(ids)[:5])})"


class OpenAICompatBackend:
    name = "openai"

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout_s: float = 60.0) -> None:
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s

    def langchain_model(self, *, max_tokens: int = 256, temperature: float = 0.0,
                        timeout_s: float | None = None, json_mode: bool = False) -> Any:
        """A ``ChatOpenAI`` on this server (the tool-calling loop binds tools to it)."""
        from langchain_openai import ChatOpenAI

        kwargs: dict[str, Any] = {
            "model": self.model, "base_url": self.base_url, "api_key": self.api_key or PLACEHOLDER_KEY,
            "temperature": temperature, "timeout": timeout_s or self.timeout_s, "max_retries": 0,
            "stream_usage": True,
            # ``max_tokens``, not LangChain's ``max_completion_tokens``: llama.cpp's and older
            # compatible servers ignore the newer name and would write until the context is full.
            "extra_body": {"max_tokens": max_tokens},
        }
        if json_mode:
            kwargs["model_kwargs"] = {"response_format": {"type": "json_object"}}
        return ChatOpenAI(**kwargs)

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
        client = self.langchain_model(max_tokens=max_tokens, temperature=temperature, timeout_s=timeout_s,
                                      json_mode=json_schema is not None)
        if tools:
            client = client.bind_tools(list(tools))
        start = time.monotonic()
        try:
            message = client.invoke(list(messages))
        except Exception as exc:  # noqa: BLE001 - openai/httpx errors vary; all mean "down" to the caller
            raise LLMUnavailable(f"Servidor OpenAI-compatível falhou: {exc}",
                                 hint="Confira LLM__OPENAI_BASE_URL, LLM__OPENAI_MODEL e a chave.") from exc
        return reply_from_message(message, time.monotonic() - start, json_schema)

    def stream(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
    ) -> Iterator[str]:
        client = self.langchain_model(max_tokens=max_tokens, temperature=temperature, timeout_s=timeout_s)
        return stream_text(client, messages, "Servidor OpenAI-compatível falhou")

    def status(self) -> tuple[Health, str]:
        ok, reason = openai_has_model(self.base_url, self.model, self.api_key)
        return ("ok" if ok else "down"), reason
