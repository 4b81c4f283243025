"""``POST /v1/financing/simulate`` and ``GET /v1/financing/lines`` (sales reps)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import CacheDep, SettingsDep
from app.api.auth import SalesRep
from app.core.errors import InvalidInput
from app.core.settings import Settings
from app.financing.rules import CreditLine, CreditLineBook, cached_book
from app.financing.simulate import FinancingComparison, FinancingRequest, simulate_financing
from app.quotes.sizing_link import cache_sizing_lookup, load_sizing, pick_design

router = APIRouter(prefix="/v1/financing", tags=["financiamento"])


def credit_book(settings: Settings) -> CreditLineBook:
    return cached_book(settings.financing.credit_lines_path, settings.financing.iof_rates_path)


class SimulateBody(BaseModel):
    amount_brl: float | None = Field(None, gt=0, description="valor do sistema [R$]; ou sizing_id")
    sizing_id: str | None = Field(None, description="usa o investimento (capex) do dimensionamento")
    design: str = Field("best", description="'best' ou rótulo de uma alternativa")
    down_payment_brl: float = Field(0.0, ge=0)
    term_months: int = Field(60, ge=1, le=480, description="número de parcelas mensais")
    grace_months: int = Field(0, ge=0, le=24, description="carência em meses (juros capitalizados)")
    system: Literal["price", "sac"] = "price"
    customer_type: Literal["pf", "pj"] = "pf"
    line_ids: list[str] | None = Field(None, description="linhas a comparar; vazio = todas")
    include_iof: bool = True
    iof_financed: bool = True
    rate_overrides_pct: dict[str, float] = Field(default_factory=dict, description="id da linha → % a.m.")
    bank_accounts: list[str] | None = Field(None, description="bancos em que o cliente tem conta")
    include_schedule: bool = True


@router.post("/simulate", response_model=FinancingComparison, summary="Compara linhas de crédito")
async def simulate(body: SimulateBody, settings: SettingsDep, cache: CacheDep, _: SalesRep) -> FinancingComparison:
    """Uma tabela (Price ou SAC) por linha elegível, ordenadas pelo CET; as inelegíveis vêm com o motivo.
    Taxas efetivas mensais; anual = (1 + i)^12 − 1."""
    def run() -> FinancingComparison:
        amount = body.amount_brl
        if amount is None:
            if not body.sizing_id:
                raise InvalidInput("Informe amount_brl ou sizing_id.", hint="Ex.: {\"amount_brl\": 30000}.")
            sizing = load_sizing(cache_sizing_lookup(cache), body.sizing_id)
            amount = pick_design(sizing, body.design).economics.capex_brl
        fields = body.model_dump(exclude={"amount_brl", "sizing_id", "design"})
        return simulate_financing(FinancingRequest(amount_brl=amount, **fields), credit_book(settings))

    return await run_in_threadpool(run)


@router.get("/lines", response_model=list[CreditLine], summary="Linhas de crédito cadastradas (regras)")
async def lines(settings: SettingsDep, _: SalesRep) -> list[CreditLine]:
    return list((await run_in_threadpool(credit_book, settings)).lines)
