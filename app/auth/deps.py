"""Moved: the FastAPI dependencies live in :mod:`app.api.auth`, ``make_key_store`` in
:mod:`app.auth.keys`. This name is kept (without importing FastAPI) so branches written
against it keep importing; new code imports from those modules. Remove once no caller is left.
"""

from __future__ import annotations

from typing import Any

from app.auth.keys import make_key_store  # noqa: F401 - re-exported

_MOVED = {"Admin", "SalesRep", "WidgetSession", "get_key_store", "get_oidc_verifier", "require_role"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from app.api import auth

        return getattr(auth, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
