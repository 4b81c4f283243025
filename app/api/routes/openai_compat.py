"""OpenAI-compatible ``POST /v1/chat/completions`` (streaming and not) over the assistant.

OpenAI clients resend the whole history each time. With an ``X-Conversation-Id`` header
(or the ``user`` field) the server-side conversation is used; without one, the earlier
user messages are replayed through the deterministic parser into a throw-away
conversation, so slot filling still works for stateless clients. Cards and citations ride
along in an extra ``helio`` object that OpenAI clients ignore. The caller's role comes from
its API key, as on ``POST /v1/chat``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from app.agent.assistant import Event, collect
from app.agent.state import check_conversation_id
from app.api.routes.chat import HARD_MAX_CHARS, AssistantDep, admit, error_payload
from app.api.auth import WidgetSession
from app.auth.oidc import creator_of
from app.core.errors import InvalidInput, NotFound

router = APIRouter(tags=["openai"])
RESET_NOTE = "\n\n— refazendo a resposta a partir dos resultados das ferramentas —\n\n"


class OAMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | None = Field(None, max_length=HARD_MAX_CHARS)


class CompletionRequest(BaseModel):
    model: str = "helio"
    messages: list[OAMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    user: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    temperature: float | None = None  # accepted and ignored: answers are templated
    max_tokens: int | None = None


def _user_messages(body: CompletionRequest) -> list[str]:
    users = [m.content or "" for m in body.messages if m.role == "user"]
    if not users or body.messages[-1].role != "user":
        raise InvalidInput("A última mensagem deve ser do usuário.", hint="Envie messages[-1] com role 'user'.")
    return users


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def _stream(events: Iterator[Event], cid: str, model: str, cleanup: Any) -> AsyncIterator[str]:
    yield _chunk(cid, model, {"role": "assistant", "content": ""})
    helio: dict[str, Any] = {"cards": [], "citations": []}
    try:
        async for event in iterate_in_threadpool(events):
            if event.type == "token":
                yield _chunk(cid, model, {"content": event.data["text"]})
            elif event.type == "card":
                helio["cards"].append(event.data)
            elif event.type == "citation":
                helio["citations"].append(event.data)
            elif event.type == "reset":
                # OpenAI chunks cannot be withdrawn: say the answer starts over (the model's
                # partial text had only checked numbers; the replacement follows).
                helio.update(cards=[], citations=[])
                yield _chunk(cid, model, {"content": RESET_NOTE})
            elif event.type == "done":
                helio.update(degraded=event.data["degraded"], conversation_id=event.data["conversation_id"],
                             grounding_fallback=event.data.get("grounding_fallback", False))
        yield _chunk(cid, model, {}, "stop", helio=helio)
    except Exception as exc:  # noqa: BLE001 - in-band error, as OpenAI streams do
        yield f"data: {json.dumps({'error': error_payload(exc)}, ensure_ascii=False)}\n\n"
    finally:
        if cleanup:
            await run_in_threadpool(cleanup)
    yield "data: [DONE]\n\n"


@router.post("/v1/chat/completions", summary="Compatível com a API de chat da OpenAI")
async def chat_completions(body: CompletionRequest, request: Request, assistant: AssistantDep,
                           principal: WidgetSession) -> Any:
    users = _user_messages(body)
    message = users[-1]
    await admit(request, assistant, message)
    conversation_id = request.headers.get("x-conversation-id") or body.user
    ephemeral = conversation_id is None
    if ephemeral:
        conversation_id = "oai-" + uuid.uuid4().hex
        await run_in_threadpool(assistant.prime, conversation_id, users[:-1])
        remember = getattr(assistant, "remember_history", None)  # a model-led assistant reads the history
        if remember is not None:
            await run_in_threadpool(remember, conversation_id, [(m.role, m.content or "") for m in body.messages[:-1]
                                                                if m.role in ("user", "assistant")])
    else:
        check_conversation_id(conversation_id)
        existing = await run_in_threadpool(assistant.store.get, conversation_id)
        if existing is not None and existing.owner not in (None, principal.key_id):
            raise NotFound("Conversa não encontrada (ou expirada).", hint="Use outro X-Conversation-Id.")
    cleanup = (lambda: assistant.store.delete(conversation_id)) if ephemeral else None
    events = assistant.turn(conversation_id, message, role=principal.role, owner=principal.key_id,
                            creator=None if principal.anonymous else creator_of(principal))
    cid = "chatcmpl-" + uuid.uuid4().hex[:24]
    if body.stream:
        return StreamingResponse(_stream(events, cid, body.model, cleanup), media_type="text/event-stream")
    try:
        reply = await run_in_threadpool(collect, events)
    finally:
        if cleanup:
            await run_in_threadpool(cleanup)
    completion_tokens = len(reply["message"].split())
    prompt_tokens = len(message.split())
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply["message"]}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
        "helio": {k: reply.get(k) for k in ("conversation_id", "cards", "citations", "degraded", "degraded_reasons",
                                            "grounding_fallback")},
    }


@router.get("/v1/models", summary="Modelos (compatível com a OpenAI: clientes listam antes de conversar)")
async def list_models(request: Request, principal: WidgetSession) -> dict[str, Any]:
    """One model, ``helio``: the assistant (whatever LLM backend runs behind it)."""
    llm = getattr(request.app.state, "llm", None)
    return {"object": "list", "data": [{
        "id": "helio", "object": "model", "created": 0, "owned_by": "ysh",
        "helio": {"backend": getattr(llm, "name", None), "model": getattr(llm, "model", None)},
    }]}
