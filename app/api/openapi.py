"""The OpenAPI document says which errors each route answers, in the house error body.

FastAPI documents only its own 422 (``HTTPValidationError``, not the body the API sends).
Here every operation gets the statuses it can answer with ``{"error": {code, message,
hint}}`` (``ErrorBody``), derived from what the route takes: a key (401/403), a body
(413), path ids or referenced ids (404), state changes (409), the chat's rate limit (429),
a dependency that may be down (503); and 422 for input, always.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str = Field(description="código estável do erro (ex.: entrada_invalida, nao_encontrado)")
    message: str = Field(description="o que aconteceu, em português")
    hint: str | None = Field(description="o que fazer para resolver")


class ErrorBody(BaseModel):
    error: ErrorDetail


_DESCRIPTIONS = {
    "400": "Corpo ilegível (codificação ou formato)",
    "401": "Falta a chave de API ou ela é inválida",
    "403": "A chave não tem o papel exigido (ou a origem não é a da chave de widget)",
    "404": "Recurso não encontrado",
    "409": "Conflito com o estado atual (chave de idempotência com outro pedido, transição inválida, "
           "conversa ocupada)",
    "413": "Corpo da requisição grande demais",
    "422": "Entrada inválida: campos fora do esquema ('requisicao_invalida', com 'fields') ou fora das regras "
           "do domínio ('entrada_invalida')",
    "429": "Limite de requisições atingido",
    "503": "Dependência indisponível (catálogo, base de conhecimento, modelo, comércio)",
}
_PUBLIC = {"/healthz", "/readyz", "/widget/v1/widget.js"}


def _uses_auth(route: APIRoute) -> bool:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        call = dep.call
        if call is not None and getattr(call, "__module__", "").startswith("app.auth"):
            return True
        stack.extend(dep.dependencies)
    return False


def error_statuses(route: APIRoute) -> list[str]:
    """The error statuses ``route`` can answer (see the module docstring)."""
    if route.path in _PUBLIC:
        return []
    methods = route.methods or set()
    statuses = {"422", "503"}
    if _uses_auth(route):
        statuses |= {"401", "403"}
    if methods & {"POST", "PUT", "PATCH"}:
        statuses |= {"400", "413"}
    if "{" in route.path or route.path.startswith(("/v1/quotes", "/v1/financing", "/v1/companies")):
        statuses.add("404")
    if methods & {"POST", "DELETE"} and route.path.startswith(("/v1/quotes", "/v1/companies", "/v1/chat",
                                                               "/v1/conversations", "/v1/admin")):
        statuses.add("409")
    if route.path.startswith(("/v1/chat", "/widget")):
        statuses.add("429")
    if route.path.startswith("/widget"):  # the widget key and its origin
        statuses |= {"401", "403"}
    return sorted(statuses)


def install_openapi(app: FastAPI, routers: list[APIRouter]) -> None:
    """Replace ``app.openapi`` with one that documents the error responses of every route of
    ``routers`` (the routers ``app`` includes, with their prefixes)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        schemas["ErrorBody"] = body
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        for route in (r for router in routers for r in router.routes):
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            for method in route.methods or ():
                op = doc["paths"].get(route.path, {}).get(method.lower())
                if op is None:
                    continue
                if route.path == "/v1/chat" and "200" in op["responses"]:  # SSE when asked to stream
                    op["responses"]["200"].setdefault("content", {})["text/event-stream"] = {
                        "schema": {"description": "eventos SSE token/reply/error, cada um com um objeto JSON em 'data'"}}
                for status in error_statuses(route):
                    op["responses"][status] = {"description": _DESCRIPTIONS[status], **ref}
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
