"""The one place where errors become HTTP responses: ``{"error": {code, message, hint}}``.

Request-validation errors are rewritten in Portuguese and name the offending field, so a
widget or integrator can fix the request without reading a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import HelioError

log = logging.getLogger("helio.api")

# pydantic error types → Portuguese phrasing. Anything unlisted falls back to pydantic's text.
_PT_MESSAGES = {
    "missing": "campo obrigatório ausente",
    "extra_forbidden": "campo não reconhecido",
    "int_parsing": "deve ser um número inteiro",
    "int_type": "deve ser um número inteiro",
    "float_parsing": "deve ser um número",
    "float_type": "deve ser um número",
    "bool_parsing": "deve ser true ou false",
    "string_type": "deve ser um texto",
    "enum": "valor não permitido",
    "literal_error": "valor não permitido",
    "greater_than": "deve ser maior que {gt}",
    "greater_than_equal": "deve ser maior ou igual a {ge}",
    "less_than": "deve ser menor que {lt}",
    "less_than_equal": "deve ser menor ou igual a {le}",
    "string_too_short": "texto curto demais (mínimo {min_length} caracteres)",
    "string_too_long": "texto longo demais (máximo {max_length} caracteres)",
    "too_short": "lista curta demais (mínimo {min_length} itens)",
    "too_long": "lista longa demais (máximo {max_length} itens)",
    "json_invalid": "JSON inválido",
    "model_attributes_type": "deve ser um objeto JSON",
    "dict_type": "deve ser um objeto JSON",
    "list_type": "deve ser uma lista",
}


def error_body(code: str, message: str, hint: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "hint": hint}
    body.update({k: v for k, v in extra.items() if v is not None})
    return {"error": body}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "corpo da requisição"


def _describe(err: dict[str, Any]) -> str:
    template = _PT_MESSAGES.get(err.get("type", ""))
    if template is None:
        return str(err.get("msg", "valor inválido"))
    try:
        return template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        return template


def describe_errors(errors) -> list[dict[str, str]]:
    """Pydantic/FastAPI validation errors as ``{"field", "message"}`` in Portuguese."""
    fields = []
    for err in errors:
        allowed = (err.get("ctx") or {}).get("expected")
        if isinstance(allowed, str):
            allowed = allowed.replace(" or ", " ou ")
        fields.append(
            {
                "field": _field_name(tuple(err.get("loc", ()))),
                "message": _describe(err) + (f" (aceitos: {allowed})" if allowed else ""),
            }
        )
    return fields


def _validation_handler(_: Request, exc: RequestValidationError) -> JSONResponse:
    fields = describe_errors(exc.errors())
    first = fields[0] if fields else {"field": "?", "message": "requisição inválida"}
    message = f"Campo '{first['field']}': {first['message']}"
    if len(fields) > 1:
        message += f" (e mais {len(fields) - 1} problema(s))"
    return JSONResponse(
        status_code=422,
        content=error_body(
            "requisicao_invalida",
            message,
            "Corrija os campos listados em 'fields' e envie de novo; a documentação está em /docs.",
            fields=fields,
        ),
    )


def _helio_handler(_: Request, exc: HelioError) -> JSONResponse:
    extra = {k: v for k, v in exc.details.items() if _jsonable(v)}
    return JSONResponse(status_code=exc.status, content=error_body(exc.code, exc.message, exc.hint, **extra))


def _http_handler(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    messages = {
        404: ("nao_encontrado", "Rota não encontrada.", "Veja as rotas disponíveis em /docs."),
        405: ("metodo_nao_permitido", "Método HTTP não permitido nesta rota.", "Veja /docs."),
        413: ("payload_grande_demais", "Requisição grande demais.", "Envie uma mensagem menor."),
        400: ("requisicao_invalida", "Corpo da requisição ilegível (codificação ou formato).",
              "Envie JSON em UTF-8 com o Content-Type certo; a documentação está em /docs."),
    }
    code, message, hint = messages.get(exc.status_code, ("erro_http", str(exc.detail), None))
    if exc.status_code not in messages and isinstance(exc.detail, str):
        message = exc.detail
    return JSONResponse(
        status_code=exc.status_code, content=error_body(code, message, hint), headers=getattr(exc, "headers", None)
    )


def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("Erro inesperado em %s %s", request.method, request.url.path)
    return JSONResponse(
        status_code=500,
        content=error_body(
            "erro_interno",
            "Erro interno inesperado; a equipe foi notificada pelos logs.",
            "Tente de novo em instantes; se persistir, informe o horário da requisição ao suporte.",
        ),
    )


def _jsonable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, list, dict, type(None)))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(HelioError, _helio_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
