"""The interface every LLM backend implements, and the value objects it returns.

Messages are OpenAI-style dicts (``{"role": "system"|"user"|"assistant", "content": str}``);
tools are OpenAI-style function specs (what ``langchain_core.utils.function_calling.
convert_to_openai_tool`` produces). Calls are blocking: callers run them in a thread.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from app.core.errors import Unavailable

Health = Literal["ok", "degraded", "down"]


class LLMUnavailable(Unavailable):
    """The model cannot answer now (not loaded, server down, queue full, timed out)."""

    code = "llm_indisponivel"


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    queue_wait_s: float = 0.0
    ttft_s: float | None = None
    elapsed_s: float = 0.0

    @property
    def tokens_per_s(self) -> float | None:
        gen = self.elapsed_s - (self.ttft_s or 0.0)
        return self.completion_tokens / gen if gen > 0 and self.completion_tokens else None


@dataclass
class LLMReply:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    data: dict[str, Any] | None = None
    usage: Usage = field(default_factory=Usage)


def reply_from_message(message: Any, elapsed_s: float, json_schema: dict[str, Any] | None) -> LLMReply:
    """An :class:`LLMReply` from a LangChain ``AIMessage`` (text, tool calls, token usage, and
    the parsed JSON when a schema was asked for)."""
    import json

    meta = getattr(message, "usage_metadata", None) or {}
    text = message.content if isinstance(message.content, str) else ""
    reply = LLMReply(text=text, usage=Usage(prompt_tokens=int(meta.get("input_tokens", 0)),
                                            completion_tokens=int(meta.get("output_tokens", 0)), elapsed_s=elapsed_s))
    reply.tool_calls = [ToolCall(c["name"], dict(c.get("args") or {})) for c in getattr(message, "tool_calls", [])]
    if json_schema is not None:
        try:
            data = json.loads(text)
            reply.data = data if isinstance(data, dict) else None
        except json.JSONDecodeError:
            reply.data = None
    return reply


def stream_text(client: Any, messages: Sequence[dict[str, str]], failure: str) -> Iterator[str]:
    """The text pieces of a LangChain chat model's stream; any client error is :class:`LLMUnavailable`."""
    try:
        for chunk in client.stream(list(messages)):
            if isinstance(chunk.content, str) and chunk.content:
                yield chunk.content
    except Exception as exc:  # noqa: BLE001 - httpx/SDK errors vary by version; all mean "down"
        raise LLMUnavailable(f"{failure}: {exc}") from exc


class LLMBackend(Protocol):
    name: str
    model: str

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
        """One completion. With ``json_schema`` the output is constrained to it and parsed
        into ``reply.data``; with ``tools`` the model may answer with ``reply.tool_calls``."""
        ...

    def stream(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
    ) -> Iterator[str]:
        """Text pieces as the model writes them."""
        ...

    def status(self) -> tuple[Health, str]:
        """Quick health for /readyz; never loads a model or waits long."""
        ...
