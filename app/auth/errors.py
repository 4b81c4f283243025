"""Authentication errors, in the house JSON shape (``app.api.errors`` maps HelioError)."""

from __future__ import annotations

from app.core.errors import HelioError


class Unauthorized(HelioError):
    """No key, or a key nobody issued (or one that was revoked)."""

    code = "nao_autenticado"
    status = 401


class Forbidden(HelioError):
    """A valid key whose role or origin does not allow this route."""

    code = "acesso_negado"
    status = 403
