"""Draft quotes for sales reps: create (idempotent), read, move through the quote states,
approve, and download the customer proposal (PDF)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.api.deps import QuoteServiceDep
from app.api.auth import Admin, SalesRep
from app.auth.oidc import creator_of
from app.commerce.states import QuoteAction
from app.proposal.render import render_proposal
from app.quotes.models import CreateQuoteRequest, DraftQuote, QuotePreview

router = APIRouter(prefix="/v1/quotes", tags=["orçamentos"])
ServiceDep = QuoteServiceDep
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255,
                                              description="repetir com a mesma chave devolve o mesmo orçamento")]


@router.post("", response_model=DraftQuote, status_code=201, summary="Cria um orçamento rascunho")
async def create_quote(body: CreateQuoteRequest, principal: SalesRep, service: ServiceDep, response: Response,
                       idempotency_key: IdempotencyKey = None) -> DraftQuote:
    """A partir de um `sizing_id` (ou de itens explícitos) e do comprador. Acima do limite de
    gastos do comprador, o orçamento é criado aguardando aprovação. Guarda quem o criou."""
    quote, created = await run_in_threadpool(service.create, body, idempotency_key, creator_of(principal))
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/quotes/{quote.id}"
    return quote


@router.post("/preview", response_model=QuotePreview, summary="Prévia do orçamento (nada é criado)")
async def preview_quote(body: CreateQuoteRequest, _: SalesRep, service: ServiceDep) -> QuotePreview:
    return await run_in_threadpool(service.preview, body)


@router.get("/{quote_id}", response_model=DraftQuote, summary="Um orçamento, com a situação atual")
async def get_quote(quote_id: str, _: SalesRep, service: ServiceDep) -> DraftQuote:
    return await run_in_threadpool(service.get, quote_id)


class TransitionBody(BaseModel):
    action: Literal["send", "accept", "reject", "merchant_reject"]


@router.post("/{quote_id}/transitions", response_model=DraftQuote, summary="Muda a situação do orçamento")
async def transition(quote_id: str, body: TransitionBody, _: SalesRep, service: ServiceDep) -> DraftQuote:
    """`send` (YSH → cliente), `accept` / `reject` (cliente), `merchant_reject` (YSH).
    Transições fora de ordem → 409."""
    return await run_in_threadpool(service.transition, quote_id, QuoteAction(body.action))


def _action_route(action: QuoteAction, path: str, summary: str) -> None:
    async def endpoint(quote_id: str, _: SalesRep, service: ServiceDep) -> DraftQuote:
        return await run_in_threadpool(service.transition, quote_id, action)

    endpoint.__name__ = f"quote_{action.value}"
    router.add_api_route(f"/{{quote_id}}/{path}", endpoint, methods=["POST"], response_model=DraftQuote,
                         summary=summary)


_action_route(QuoteAction.SEND, "send", "Envia ao cliente (pending_merchant → pending_customer)")
_action_route(QuoteAction.ACCEPT, "accept", "Cliente aceita (pending_customer → accepted)")
_action_route(QuoteAction.REJECT, "reject", "Cliente recusa (pending_customer → customer_rejected)")
_action_route(QuoteAction.MERCHANT_REJECT, "merchant-reject", "YSH recusa (→ merchant_rejected)")


class ApprovalBody(BaseModel):
    approve: bool


@router.post("/{quote_id}/approval", response_model=DraftQuote, summary="Aprova ou reprova a compra (admin)")
async def decide_approval(quote_id: str, body: ApprovalBody, principal: Admin, service: ServiceDep) -> DraftQuote:
    return await run_in_threadpool(service.decide_approval, quote_id, body.approve, principal.key_id)


@router.get("/{quote_id}/proposal.pdf", summary="Proposta em PDF para o cliente final",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
async def proposal_pdf(quote_id: str, _: SalesRep, service: ServiceDep) -> Response:
    def build() -> bytes:
        return render_proposal(service.get(quote_id))

    pdf = await run_in_threadpool(build)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="proposta-{quote_id}.pdf"'})
