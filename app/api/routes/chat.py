"""Chat with Hélio: ``POST /v1/chat`` (SSE or JSON) and the conversation resource.

SSE events: ``token`` (a piece of the answer text), ``tool_call``, ``tool_result``,
``card`` (sizing / products / product / citations / financing / quote_preview / quote, for
the UI), ``citation``, ``done`` (conversation id, language, ``degraded`` and why), ``error``.
The turn runs in a worker thread (model calls and tools block); the event loop only
forwards events.

Who is chatting comes from the API key (``WidgetSession``: anonymous = public widget when
``AUTH__PUBLIC_CHAT`` is on; sales-rep and admin keys may also create quotes). The role is
passed to the assistant; nothing in the message can change it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from app.agent.assistant import Assistant, Event, collect
from app.api.deps import AssistantDep
from app.agent.limits import check_message
from app.agent.state import check_conversation_id
from app.api.auth import WidgetSession
from app.auth.oidc import creator_of
from app.core.errors import HelioError, NotFound
from app.core.locks import CacheLock, locked_events

log = logging.getLogger("helio.api.chat")
router = APIRouter(tags=["chat"])

HARD_MAX_CHARS = 20_000  # pydantic bound (422); the assistant's own limit (413) is lower




class ChatRequest(BaseModel):
    conversation_id: str | None = Field(
        None, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$", description="omitido = nova conversa"
    )
    message: str = Field(min_length=1, max_length=HARD_MAX_CHARS)
    stream: bool = Field(True, description="true = Server-Sent Events; false = uma resposta JSON")
    language: Literal["pt-BR", "en"] | None = Field(None, description="omitido = idioma da mensagem")
    company_id: str | None = Field(
        None, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$",
        description="empresa compradora, quando a UI de vendas já a conhece (orçamentos: só representantes)")
    employee_id: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$",
                                    description="funcionário comprador (o limite de gastos dele é verificado)")


def client_identity(request: Request) -> str:
    """Rate-limit key: the signed-in person (OIDC: one budget whatever token they hold), else
    the API key when sent (hashed), else the client IP (the real one behind a trusted proxy)."""
    principal = getattr(request.state, "principal", None)
    if principal is not None and (principal.key_id or "").startswith("oidc:"):
        return "person:" + hashlib.sha256(principal.key_id.encode()).hexdigest()[:16]
    key = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return "ip:" + (request.client.host if request.client else "unknown")


async def admit(request: Request, assistant: Assistant, message: str) -> None:
    """Size and rate checks before any streaming starts, so they surface as 413/429 JSON."""
    check_message(message, assistant.max_message_chars)
    if assistant.rate_limiter is not None:
        await run_in_threadpool(assistant.rate_limiter.hit, client_identity(request))


def error_payload(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, HelioError):
        return {"code": exc.code, "message": exc.message, "hint": exc.hint}
    return {"code": "erro_interno", "message": "Erro interno inesperado.", "hint": "Tente de novo em instantes."}


async def sse_events(events: Iterator[Event]) -> AsyncIterator[dict[str, str]]:
    try:
        async for event in iterate_in_threadpool(events):
            yield {"event": event.type, "data": json.dumps(event.data, ensure_ascii=False)}
    except Exception as exc:  # noqa: BLE001 - the stream has started: report in-band
        if not isinstance(exc, HelioError):
            log.exception("Falha no turno de chat")
        yield {"event": "error", "data": json.dumps(error_payload(exc), ensure_ascii=False)}
    finally:
        # A client that hangs up (the widget's stop button) cancels us between two events: close
        # the turn now so it frees the conversation's lock, instead of whenever it is collected.
        close = getattr(events, "close", None)
        if callable(close):
            try:
                close()
            except ValueError:  # still running in its thread: it closes when collected (lock TTL as backstop)
                log.warning("Turno ainda em execução ao encerrar o stream")


@router.post("/v1/chat", summary="Uma mensagem ao Hélio (SSE por padrão, JSON com stream=false)")
async def chat(body: ChatRequest, request: Request, assistant: AssistantDep, principal: WidgetSession) -> Any:
    await admit(request, assistant, body.message)
    conversation_id = check_conversation_id(body.conversation_id or uuid.uuid4().hex)
    # Refuse someone else's conversation before streaming starts (a clean 404, not an SSE error).
    existing = await run_in_threadpool(assistant.store.get, conversation_id)
    if existing is not None and existing.owner not in (None, principal.key_id):
        raise NotFound("Conversa não encontrada (ou expirada).", hint="Inicie outra com POST /v1/chat.")
    # One turn at a time per conversation (two tabs, a double click), across replicas when the
    # cache is Redis: each turn reads the state at its start and writes it at its end.
    events = locked_events(CacheLock(assistant.store.cache, prefix="lock:conv:"), conversation_id, lambda: assistant.turn(
        conversation_id, body.message, body.language, role=principal.role,
        company_id=body.company_id, employee_id=body.employee_id, owner=principal.key_id,
        creator=None if principal.anonymous else creator_of(principal)))
    if not body.stream:
        return await run_in_threadpool(collect, events)
    return EventSourceResponse(sse_events(events), ping=15)


@router.get("/v1/conversations/{conversation_id}", summary="Estado de uma conversa")
async def get_conversation(conversation_id: str, assistant: AssistantDep, principal: WidgetSession) -> dict[str, Any]:
    state = await run_in_threadpool(assistant.store.get_owned, conversation_id, principal.key_id)
    if state is None:
        raise NotFound("Conversa não encontrada (ou expirada).", hint="Inicie outra com POST /v1/chat.")
    return state.model_dump(mode="json")


@router.delete("/v1/conversations/{conversation_id}", status_code=204, summary="Apaga uma conversa")
async def delete_conversation(conversation_id: str, assistant: AssistantDep, principal: WidgetSession) -> Response:
    owned = await run_in_threadpool(assistant.store.get_owned, conversation_id, principal.key_id)
    if owned is None or not await run_in_threadpool(assistant.store.delete, conversation_id):
        raise NotFound("Conversa não encontrada (ou expirada).", hint="Confira o conversation_id.")
    return Response(status_code=204)
