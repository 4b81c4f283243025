"""``POST /v1/sizing``: size a PV system from stock. Thin: cache → engine (in a thread) → result."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.api.deps import CacheDep, CatalogDep, SettingsDep
from app.sizing.engine import size_system
from app.sizing.models import SizingRequest, SizingResult

router = APIRouter(tags=["sizing"])

# Bump when the engine's models or defaults change, so cached results are not reused.
ENGINE_CACHE_VERSION = "sizing-v1"


def sizing_cache_key(request: SizingRequest, catalog_products: int) -> str:
    """Key from the canonical request JSON plus the catalog size (a cheap change detector)."""
    digest = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
    return f"{ENGINE_CACHE_VERSION}:{catalog_products}:{digest}"


@router.post("/v1/sizing", response_model=SizingResult)
async def post_sizing(body: SizingRequest, catalog: CatalogDep, cache: CacheDep, settings: SettingsDep) -> SizingResult:
    """Dimensiona um sistema fotovoltaico conectado à rede com equipamentos em estoque.

    Erros de entrada (consumo ≤ 0, local fora do Brasil, município ambíguo, telhado pequeno,
    nenhum equipamento com especificações completas) voltam como 422 com uma dica.
    """
    key = sizing_cache_key(body, await run_in_threadpool(catalog.count))
    cached = cache.get_json(key)
    if cached is not None:
        return SizingResult.model_validate(cached)
    result = await run_in_threadpool(size_system, body, catalog)
    cache.set_json(key, result.model_dump(mode="json"), settings.redis.sizing_cache_ttl_s)
    return result
