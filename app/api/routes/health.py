"""Liveness and readiness. /readyz reports each dependency as ok / degraded / down with a reason."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.core.readiness import check_all

router = APIRouter(tags=["saúde"])

State = Literal["ok", "degraded", "down"]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class DependencyStatus(BaseModel):
    status: State
    detail: str


class Readiness(BaseModel):
    status: State
    dependencies: dict[str, DependencyStatus]


@router.get("/healthz", response_model=Health, summary="O processo está de pé")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Estado de cada dependência",
    responses={503: {"model": Readiness, "description": "alguma dependência essencial está fora"}},
)
async def readyz(request: Request) -> JSONResponse:
    deps = await run_in_threadpool(check_all, request.app.state)
    states = [d["status"] for d in deps.values()]
    # Only the catalog is essential: everything else has a fallback the assistant can use.
    overall: State = "down" if deps["catalog"]["status"] == "down" else ("ok" if all(s == "ok" for s in states) else "degraded")
    body = Readiness(status=overall, dependencies={k: DependencyStatus(**v) for k, v in deps.items()})
    return JSONResponse(status_code=503 if overall == "down" else 200, content=body.model_dump())
