"""``POST /v1/sizing`` and ``GET /v1/sizing/{sizing_id}``. Thin: service (in a thread) → result."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import CacheDep, CatalogDep, SettingsDep
from app.sizing.models import SizingRequest, SizingResult
from app.sizing.service import load_stored, size_and_store

router = APIRouter(tags=["sizing"])


@router.post("/v1/sizing", response_model=SizingResult)
async def post_sizing(body: SizingRequest, catalog: CatalogDep, cache: CacheDep, settings: SettingsDep,
                      response: Response) -> SizingResult:
    """Dimensiona um sistema fotovoltaico conectado à rede com equipamentos em estoque.

    O resultado traz ``sizing_id`` (mesmo pedido + mesmo catálogo → mesmo id) e fica guardado
    por 30 dias: ``GET /v1/sizing/{sizing_id}`` o devolve. Erros de entrada (consumo ≤ 0, local
    fora do Brasil, município ambíguo, telhado pequeno, nenhum equipamento ou kit utilizável)
    voltam como 422 com uma dica.
    """
    result, hit = await run_in_threadpool(size_and_store, body, catalog, cache, settings.redis.sizing_cache_ttl_s)
    response.headers["X-Cache"] = "hit" if hit else "miss"
    return result


@router.get("/v1/sizing/{sizing_id}", response_model=SizingResult)
async def get_sizing(sizing_id: str, cache: CacheDep) -> SizingResult:
    """Um dimensionamento guardado, pelo ``sizing_id`` devolvido no POST (404 se expirou)."""
    return await run_in_threadpool(load_stored, sizing_id, cache)
