"""``/v1/admin/specs``: YSH engineers add or correct electrical specs (admin API key).

``POST`` takes the CSV of ``helio specs import`` (``Content-Type: text/csv``) or JSON
``{"rows": [{column: value, …}]}`` with the same columns; every row is validated and a
request with any error is refused whole (422 listing line and field). Accepted rows replace
the registry's row of the same model at once: later sizings use them (new ``sizing_id``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.api.deps import SpecsDep
from app.api.auth import Admin
from app.core.errors import InvalidInput
from app.specs.models import SpecRow
from app.specs.registry import _raise_errors
from app.specs.validate import row_from_dict

router = APIRouter(prefix="/v1/admin/specs", tags=["specs"])
MAX_BODY_BYTES = 2_000_000




class SpecImportOut(BaseModel):
    imported: int
    models: list[str]
    registry: dict[str, int]
    fingerprint: str


@router.post("", response_model=SpecImportOut, summary="Importa ou corrige specs (CSV ou JSON)")
async def post_specs(request: Request, principal: Admin, registry: SpecsDep) -> SpecImportOut:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInput("Arquivo de specs grande demais.", hint="Envie até 2 MB por requisição.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("O corpo não está em UTF-8.", hint="Salve o CSV como UTF-8.") from None
    by = getattr(principal, "label", None) or getattr(principal, "key_id", None) or "api"
    if "json" in (request.headers.get("content-type") or ""):
        rows = _json_rows(text)
        stored = await run_in_threadpool(registry.store, rows, str(by))
    else:
        stored = await run_in_threadpool(registry.import_csv, text, str(by))
    return SpecImportOut(imported=len(stored), models=[r.label() for r in stored], registry=registry.counts(),
                         fingerprint=registry.fingerprint())


def _json_rows(text: str) -> list[SpecRow]:
    import json

    try:
        data: Any = json.loads(text)
    except ValueError:
        raise InvalidInput("JSON inválido.", hint='Envie {"rows": [{"category": "module", …}]} ou um CSV.') from None
    items = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidInput("Campo 'rows' ausente ou vazio.", hint='Envie {"rows": [{"category": "module", …}]}.')
    rows, errors = [], []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(f"rows[{i - 1}] deve ser um objeto.", hint="Cada linha é um objeto coluna → valor.")
        row, errs = row_from_dict({k: ("" if v is None else str(v)) for k, v in item.items()}, i)
        errors.extend(errs)
        if row is not None:
            rows.append(row)
    if errors:
        _raise_errors(errors, "Specs rejeitadas")
    return rows


@router.get("", summary="Modelos no registro de specs, com a fonte de cada linha")
async def list_specs(_: Admin, registry: SpecsDep, category: str | None = None) -> list[dict]:
    return [r.model_dump(mode="json", exclude_none=True) for r in registry.rows
            if category is None or r.category == category]
