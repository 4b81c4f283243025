"""B2B buyers: companies and their employees (with spending limits), admin only.

A sales rep quotes *for* a company; these routes create what a quote needs in the
configured commerce backend (local SQLite or Medusa B2B)."""

from __future__ import annotations


from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import CommerceDep
from app.api.auth import Admin
from app.commerce.models import Company, Employee

router = APIRouter(prefix="/v1/companies", tags=["empresas"])


class CompanyIn(BaseModel):
    name: str = Field(min_length=2, max_length=200, examples=["Solar Triângulo Ltda"])
    email: str | None = Field(None, max_length=200)
    requires_admin_approval: bool = Field(False, description="toda compra precisa de aprovação de um admin")


class EmployeeIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=128, description="cliente (comprador) no backend de comércio")
    spending_limit_brl: float | None = Field(None, ge=0, description="limite por pedido [R$]; nulo = sem limite")
    is_admin: bool = False


@router.post("", response_model=Company, status_code=201, summary="Cadastra uma empresa compradora")
async def create_company(body: CompanyIn, _: Admin, commerce: CommerceDep) -> Company:
    return await run_in_threadpool(commerce.create_company, body.name, body.email, body.requires_admin_approval)


@router.get("/{company_id}", response_model=Company, summary="Uma empresa")
async def get_company(company_id: str, _: Admin, commerce: CommerceDep) -> Company:
    return await run_in_threadpool(commerce.get_company, company_id)


@router.post("/{company_id}/employees", response_model=Employee, status_code=201,
             summary="Cadastra um comprador da empresa, com limite de gastos")
async def create_employee(company_id: str, body: EmployeeIn, _: Admin, commerce: CommerceDep) -> Employee:
    await run_in_threadpool(commerce.get_company, company_id)  # 404 with a hint when unknown
    return await run_in_threadpool(
        commerce.create_employee, company_id, body.customer_id, body.spending_limit_brl, body.is_admin
    )
