"""``POST /v1/sizing`` and ``GET /v1/sizing/{sizing_id}``. Thin: a hit in an in-process cache is
answered on the event loop, anything else by the service in a worker thread."""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.api.compression import json_response
from app.api.errors import describe_errors
from app.api.deps import (
    CacheDep, CatalogDep, GzipMemoDep, SettingsDep, get_cache, get_catalog, get_gzip_memo, get_settings_dep,
)
from app.api.shortcut import ShortcutRoute, remember
from app.core.errors import InvalidInput
from app.sizing.models import SizingRequest, SizingResult
from app.sizing.service import (
    SizingJSON, find_stored_json, load_stored_json, lookup_json, size_json, size_with_weather_file_json,
)
from app.sizing.summary import SizingSummary
from app.sizing.weather import MAX_BYTES

router = APIRouter(tags=["sizing"])

DetailQuery = Annotated[Literal["summary", "full"], Query(
    description="summary (padrão): melhor projeto, alternativas em números de manchete, economia e premissas; "
                "full: o resultado completo (todas as alternativas e os produtos descartados com o motivo)")]


def _json(out: SizingJSON, request: Request, settings, gzip_memo, **headers: str) -> Response:
    """The stored bytes as they are: nothing is parsed or validated on the way out; gzipped
    once per ETag for clients that accept it."""
    return json_response(out.body, request, gzip_memo, settings.api.gzip_min_bytes, headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` with weak comparison (RFC 9110 §13.1.2): ``*`` or any listed tag."""
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in {t.removeprefix("W/") for t in tags}

def _inline_schema(model: type[SizingRequest]) -> dict:
    """The model's JSON schema with its ``$defs`` resolved in place (the body is no longer a
    parameter, so FastAPI does not put the model in ``components``)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": _inline_schema(SizingRequest)},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["request", "weather"],
            "properties": {
                "request": {"type": "string", "description": "o pedido (SizingRequest) em JSON; 'site' pode faltar: "
                                                             "vale o local do cabeçalho do arquivo"},
                "weather": {"type": "string", "format": "binary",
                            "description": "arquivo horário EPW, TMY2, TMY3 ou CSV do SAM (UTF-8 ou ISO-8859-1)"},
            }}},
    },
}


def _parse(raw: bytes | str, *, site_optional: bool = False) -> SizingRequest:
    if site_optional:  # with a weather file the site may come from the file's header
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and "site" not in obj:
            raw = json.dumps({**obj, "site": {}})
    try:
        return SizingRequest.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        if not site_optional:
            raise RequestValidationError(errors) from None
        # multipart: the document can only say "a string" of 'request'; what is wrong is its content
        fields = describe_errors(errors)
        raise InvalidInput(f"Campo 'request', {fields[0]['field']}: {fields[0]['message']}",
                           hint='Envie em \'request\' o pedido em JSON, ex.: {"consumption": {"monthly_kwh": 500}, '
                                '"connection": "single_phase"}.', field="request", fields=fields) from None


async def post_sizing(request: Request, catalog: CatalogDep, cache: CacheDep, settings: SettingsDep,
                      gzip_memo: GzipMemoDep, detail: DetailQuery = "summary") -> Response:
    """Dimensiona um sistema fotovoltaico conectado à rede com equipamentos em estoque.

    JSON: o recurso solar embutido (MERRA-2 calibrado em estações). ``multipart/form-data``
    com ``request`` (o mesmo JSON) e ``weather`` (um arquivo EPW/TMY2/TMY3/CSV do SAM): o clima
    do arquivo, e o local do cabeçalho quando o pedido não traz ``site``. Um arquivo com
    defeito volta como 422 dizendo linha e campo, e nada é calculado nem guardado.

    O resultado traz ``sizing_id`` (mesmo pedido + mesmo catálogo [+ mesmo arquivo] → mesmo
    id) e fica guardado por 30 dias: ``GET /v1/sizing/{sizing_id}`` o devolve. Erros de
    entrada (consumo ≤ 0, local fora do Brasil, município ambíguo, telhado pequeno, nenhum
    equipamento ou kit utilizável) voltam como 422 com uma dica.

    Por padrão volta o resumo (``SizingSummary``); ``?detail=full`` devolve o resultado
    completo (``SizingResult``). Respostas acima de ~1 KB vão comprimidas (gzip) a quem aceita.
    """
    remember(request, detail)  # a valid query string: _CachedSizing may take the next one like it
    if not _is_json(request):
        ttl = settings.redis.sizing_cache_ttl_s
        async with request.form(max_files=1, max_fields=4, max_part_size=MAX_BYTES) as form:
            upload, raw = form.get("weather"), form.get("request")
            if not isinstance(upload, UploadFile):
                raise InvalidInput("Falta o arquivo de clima no campo 'weather'.",
                                   hint="Envie multipart/form-data com 'request' (JSON) e 'weather' (arquivo).",
                                   field="weather")
            if raw is None:
                raise InvalidInput("Falta o pedido no campo 'request'.", hint='Ex.: {"consumption": {"monthly_kwh": '
                                   '500}, "connection": "single_phase"}.', field="request")
            body = _parse(raw if isinstance(raw, str) else await raw.read(), site_optional=True)
            data = await upload.read(MAX_BYTES + 1)
            name = upload.filename or "arquivo"
        out = await run_in_threadpool(size_with_weather_file_json, body, catalog, cache, ttl, data, name, detail)
        return _json(out, request, settings, gzip_memo, **{"X-Cache": "hit" if out.hit else "miss"})
    return await _sized(request, _parse(await request.body()), catalog, cache, settings, gzip_memo, detail)


def _is_json(request: Request) -> bool:
    """Everything but multipart is read as the JSON body (as it always was)."""
    return not request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def _sized(request: Request, body: SizingRequest, catalog, cache, settings, gzip_memo, detail) -> Response:
    # A hit in an in-process cache is served right here; a thread hop per request (16 at
    # once) cost more than the whole lookup and queued requests behind the GIL.
    lookup = lookup_json(body, catalog, cache, detail) if getattr(cache, "in_process", False) else None
    out = (lookup.found if lookup is not None else None) or await run_in_threadpool(
        size_json, body, catalog, cache, settings.redis.sizing_cache_ttl_s, detail, lookup)
    return _json(out, request, settings, gzip_memo, **{"X-Cache": "hit" if out.hit else "miss"})


class _CachedSizing(ShortcutRoute):
    """A JSON sizing with a query string validated before: parsed and answered (the cache, or
    a sizing in a thread) without FastAPI's pass over dependencies and parameters. A body
    that does not parse goes the normal way, which answers the same 422."""

    async def shortcut(self, request: Request, detail: str) -> Response | None:
        if not _is_json(request):
            return None
        try:
            body = _parse(await request.body())
        except RequestValidationError:
            return None
        return await _sized(request, body, await get_catalog(request), await get_cache(request),
                            await get_settings_dep(request), await get_gzip_memo(request), detail)


# Declared here rather than with a decorator: only this route gets the route class.
router.add_api_route("/v1/sizing", post_sizing, methods=["POST"], response_model=SizingSummary | SizingResult,
                     openapi_extra={"requestBody": _REQUEST_BODY}, route_class_override=_CachedSizing)


@router.get("/v1/sizing/{sizing_id}", response_model=SizingSummary | SizingResult,
            responses={304: {"description": "Não mudou desde o ETag enviado em If-None-Match (sem corpo)"}})
async def get_sizing(sizing_id: str, cache: CacheDep, settings: SettingsDep, request: Request,
                     gzip_memo: GzipMemoDep, detail: DetailQuery = "summary") -> Response:
    """Um dimensionamento guardado, pelo ``sizing_id`` devolvido no POST (404 se expirou).

    Resumo por padrão, ``?detail=full`` para o completo. A resposta traz ``ETag``; com
    ``If-None-Match`` igual volta 304 sem corpo.
    """
    looked = getattr(cache, "in_process", False)  # then looked up here, on the loop (see _sized)
    out = (find_stored_json(sizing_id, cache, detail) if looked else None) or await run_in_threadpool(
        partial(load_stored_json, sizing_id, cache, detail, ttl_s=settings.redis.sizing_cache_ttl_s, looked=looked))
    etag = gzip_memo.etag(out.body)  # = out.etag, digested once per stored body
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    return _json(out, request, settings, gzip_memo, **{"Cache-Control": "no-cache"})
