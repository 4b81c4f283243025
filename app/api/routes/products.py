"""Product catalog: list with filters, and one product by id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app.api.compression import json_response
from app.api.deps import CatalogDep, GzipMemoDep, SettingsDep, get_catalog, get_gzip_memo, get_settings_dep
from app.api.shortcut import ShortcutRoute, remember
from app.catalog.models import Category, Phase, Product, ProductPage, ProductQuery
from app.core.errors import InvalidInput, NotFound

router = APIRouter(prefix="/v1/products", tags=["produtos"])


def _check_range(name: str, low: float | None, high: float | None) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidInput(
            f"Faixa inválida em '{name}': mínimo ({low:g}) maior que o máximo ({high:g}).",
            hint=f"Envie min_{name} ≤ max_{name}.",
        )


async def list_products(
    request: Request,
    catalog: CatalogDep,
    settings: SettingsDep,
    gzip_memo: GzipMemoDep,
    category: Category | None = None,
    subtype: Annotated[str | None, Query(description="tipo de inversor (grid_tie, hybrid, off_grid, micro) ou de telhado (ceramic, fiber_cement, metal, slab, ground)")] = None,
    manufacturer: Annotated[str | None, Query(max_length=100)] = None,
    min_power_w: Annotated[float | None, Query(ge=0)] = None,
    max_power_w: Annotated[float | None, Query(ge=0)] = None,
    phase: Phase | None = None,
    min_price_brl: Annotated[float | None, Query(ge=0)] = None,
    max_price_brl: Annotated[float | None, Query(ge=0)] = None,
    min_capacity_kwh: Annotated[float | None, Query(ge=0, description="capacidade da bateria [kWh], mínimo")] = None,
    max_capacity_kwh: Annotated[float | None, Query(ge=0, description="capacidade da bateria [kWh], máximo")] = None,
    min_voltage_v: Annotated[float | None, Query(ge=0, description="tensão nominal da bateria [V], mínimo")] = None,
    max_voltage_v: Annotated[float | None, Query(ge=0, description="tensão nominal da bateria [V], máximo")] = None,
    in_stock: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="texto livre: nome, modelo, fabricante")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    _check_range("power_w", min_power_w, max_power_w)
    _check_range("price_brl", min_price_brl, max_price_brl)
    _check_range("capacity_kwh", min_capacity_kwh, max_capacity_kwh)
    _check_range("voltage_v", min_voltage_v, max_voltage_v)
    query = ProductQuery(
        category=category,
        subtype=subtype,
        manufacturer=manufacturer,
        min_power_w=min_power_w,
        max_power_w=max_power_w,
        phase=phase,
        min_price_brl=min_price_brl,
        max_price_brl=max_price_brl,
        min_capacity_kwh=min_capacity_kwh,
        max_capacity_kwh=max_capacity_kwh,
        min_voltage_v=min_voltage_v,
        max_voltage_v=max_voltage_v,
        in_stock=in_stock,
        q=q,
        limit=limit,
        offset=offset,
    )
    # The page as JSON straight from the store (memoised per catalog version there); a store
    # without that gives its page, dumped once here instead of re-validated by FastAPI. A
    # memoised page is sent from the event loop: a thread hop per request cost more than the
    # lookup itself. Only a miss is searched in a worker thread.
    kept = getattr(catalog, "kept_search_json", None)
    body = kept(query) if kept is not None else None
    if body is None:
        search_json = getattr(catalog, "search_json", None)
        if search_json is not None:
            body = await run_in_threadpool(search_json, query)
        else:
            body = (await run_in_threadpool(catalog.search, query)).model_dump_json().encode()
    remember(request, query)  # a valid query string: _KeptPage may answer it next time
    return json_response(body, request, gzip_memo, settings.api.gzip_min_bytes)


class _KeptPage(ShortcutRoute):
    """A query string answered before: its page from the catalog's memo (which checks the
    catalog fingerprint), without FastAPI's pass over the 18 parameters."""

    async def shortcut(self, request: Request, query: ProductQuery) -> Response | None:
        kept = getattr(await get_catalog(request), "kept_search_json", None)
        body = kept(query) if kept is not None else None
        if body is None:
            return None
        settings = await get_settings_dep(request)
        return json_response(body, request, await get_gzip_memo(request), settings.api.gzip_min_bytes)


# Declared here rather than with a decorator: only the listing gets the route class.
router.add_api_route("", list_products, methods=["GET"], response_model=ProductPage,
                     summary="Lista produtos do catálogo com filtros", route_class_override=_KeptPage)


@router.get("/{product_id}", response_model=Product, summary="Um produto pelo id")
async def get_product(product_id: str, catalog: CatalogDep) -> Product:
    product = await run_in_threadpool(catalog.get, product_id)
    if product is None:
        raise NotFound(
            f"Produto '{product_id}' não encontrado no catálogo.",
            hint="Use GET /v1/products?q=<nome ou modelo> para achar o id certo.",
        )
    return product
