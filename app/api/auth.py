"""FastAPI dependencies for access control: ``require_role("sales_rep")`` and aliases (the web
adapter over :mod:`app.auth`, which knows nothing of FastAPI).

A bearer that looks like a JWT is an OIDC access token when ``AUTH__OIDC__ISSUER`` is set
(:mod:`app.auth.oidc`); anything else is one of our API keys.

The key store comes from ``app.state.auth_keys`` when the lifespan set it, else it is
built from settings on first use and kept there. 401/403 are raised as domain errors and
rendered by ``app.api.errors`` in the house JSON shape.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.auth.keys import ApiKeyStore, Principal, Role, authenticate, key_from_headers, make_key_store
from app.auth.oidc import OIDCVerifier, looks_like_jwt
from app.core.settings import Settings

_build_lock = threading.Lock()

__all__ = ["Admin", "SalesRep", "WidgetSession", "get_key_store", "get_oidc_verifier", "make_key_store",
           "require_role"]


def get_key_store(request: Request) -> ApiKeyStore:
    store = getattr(request.app.state, "auth_keys", None)
    if store is None:
        with _build_lock:
            store = getattr(request.app.state, "auth_keys", None)
            if store is None:
                store = request.app.state.auth_keys = make_key_store(request.app.state.settings)
    return store


def get_oidc_verifier(request: Request) -> OIDCVerifier:
    """``app.state.oidc``, built from ``settings.auth.oidc`` on first use (no network until a
    token arrives)."""
    verifier = getattr(request.app.state, "oidc", None)
    if verifier is None:
        with _build_lock:
            verifier = getattr(request.app.state, "oidc", None)
            if verifier is None:
                settings: Settings = request.app.state.settings
                verifier = request.app.state.oidc = OIDCVerifier(settings.auth.oidc, settings.env)
    return verifier
def _same_origin(request: Request) -> str | None:
    """Browsers send no ``Origin`` on same-origin GETs (the /demo page reading its history);
    they do send ``Sec-Fetch-Site``, and then the page's origin is this server's own."""
    if request.headers.get("sec-fetch-site") == "same-origin" and request.headers.get("host"):
        return f"{request.url.scheme}://{request.headers['host']}"
    return None


def require_role(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency admitting callers whose role includes ``role`` (admin ⊇ sales_rep ⊇ widget);
    widget keys must also come from one of their allowed origins."""

    async def dependency(request: Request) -> Principal:
        settings: Settings = request.app.state.settings
        key = key_from_headers(request.headers.get("authorization"), request.headers.get("x-api-key"))
        origin = request.headers.get("origin") or _same_origin(request)

        def check() -> Principal:
            if key is not None and settings.auth.oidc.issuer and looks_like_jwt(key):
                return get_oidc_verifier(request).authenticate(key, role)
            store = get_key_store(request) if key is not None else None
            return authenticate(store, key, role, origin, settings.auth, settings.env)  # type: ignore[arg-type]

        principal = await run_in_threadpool(check)
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


WidgetSession = Annotated[Principal, Depends(require_role("widget"))]
SalesRep = Annotated[Principal, Depends(require_role("sales_rep"))]
Admin = Annotated[Principal, Depends(require_role("admin"))]
