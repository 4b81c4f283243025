"""The storefront widget: ``GET /widget/v1/widget.js``, the key handshake, and ``GET /demo``.

``widget.js`` is plain JavaScript checked in under ``app/widget/static`` (no build step),
served with a content-hash ETag (``If-None-Match`` → 304), ``Cache-Control`` and gzip.
The path carries the embed contract's version (``v1``: the data-* attributes, ``window.Helio``
and the ``helio:*`` events); a breaking change gets ``/widget/v2/``.
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app.api.auth import get_key_store
from app.auth.errors import Forbidden
from app.auth.keys import authenticate
from app.core.errors import NotFound
from app.widget.assets import accepts_gzip, etag_matches, load_asset

router = APIRouter(tags=["widget"])

DEMO_CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _static(request: Request, name: str, cache_control: str, extra: dict[str, str] | None = None) -> Response:
    asset = load_asset(name)
    headers = {"ETag": asset.etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding",
               "X-Content-Type-Options": "nosniff", **(extra or {})}
    if etag_matches(request.headers.get("if-none-match"), asset.etag):
        return Response(status_code=304, headers=headers)
    if accepts_gzip(request.headers.get("accept-encoding")):
        return Response(asset.gzipped, media_type=asset.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/widget/v1/widget.js", summary="O widget de chat para lojas (uma tag <script>)",
            response_class=Response)
def widget_js(request: Request) -> Response:
    max_age = request.app.state.settings.widget.cache_max_age_s
    # Short max-age + ETag: a new release reaches every store within minutes, revalidation is a 304.
    return _static(request, "widget.js", f"public, max-age={max_age}, stale-while-revalidate=86400",
                   {"Cross-Origin-Resource-Policy": "cross-origin"})


@router.get("/widget/v1/session", summary="O widget pode rodar nesta origem com esta chave?")
async def widget_session(request: Request, key: Annotated[str | None, Query(max_length=200)] = None) -> dict:
    """Answers every origin (see ``app.widget.cors``): 200 when ``key`` works from the
    caller's ``Origin``, else 401/403 with the reason the widget prints in the console."""
    settings = request.app.state.settings
    origin = request.headers.get("origin") or f"{request.url.scheme}://{request.headers.get('host', '')}"

    def check():
        store = get_key_store(request) if key else None
        return authenticate(store, key, "widget", origin, settings.auth, settings.env)  # type: ignore[arg-type]

    principal = await run_in_threadpool(check)
    if principal.role != "widget":
        raise Forbidden("Esta chave não é de widget: chaves de representante ou administrador não podem ficar "
                        "numa página pública.", hint="Crie uma com 'helio keys create --role widget --origin <loja>'.")
    return {"ok": True, "role": principal.role, "origin": principal.origin or origin}


@router.get("/demo", summary="Página de loja de exemplo com o widget", response_class=Response, include_in_schema=False)
def demo(request: Request) -> Response:
    key = getattr(request.app.state, "demo_widget_key", None)
    if not key:
        raise NotFound("Demonstração desativada.", hint="Ative com WIDGET__DEMO=true (fora de produção).")
    settings = request.app.state.settings
    here = f"{request.url.scheme}://{request.headers.get('host', '')}"
    warning = ""
    if here not in {o.rstrip("/") for o in settings.widget.demo_origins}:
        warning = (f'<p class="aviso" role="alert">Esta página foi aberta em {html.escape(here)}, origem que a chave de '
                   f"demonstração não aceita: o chat não aparecerá. Abra "
                   f"{html.escape(settings.widget.demo_origins[0])}/demo ou defina "
                   f"WIDGET__DEMO_ORIGINS='[\"{html.escape(here)}\"]'.</p>")
    page = load_asset("demo.html").body.decode().replace("{{WIDGET_KEY}}", html.escape(key)).replace("{{AVISO}}", warning)
    return Response(page, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": DEMO_CSP, "Cache-Control": "no-store",
                             "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


@router.get("/demo/{name}", include_in_schema=False, response_class=Response)
def demo_asset(request: Request, name: str) -> Response:
    if name not in ("loja.css", "painel.svg"):
        raise NotFound("Arquivo não encontrado.", hint="A demonstração está em /demo.")
    return _static(request, name, "public, max-age=300")
