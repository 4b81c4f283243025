"""Typed domain errors. Each carries a Portuguese message and a hint of what to change.

Domain packages raise these; the API maps them to ``{"error": {code, message, hint}}`` in
one place (``app.api.errors``); tools turn them into short messages for the model.
"""

from __future__ import annotations


class HelioError(Exception):
    """Base of every error a user can fix. ``status`` is the HTTP status it maps to."""

    code = "erro"
    status = 400

    def __init__(self, message: str, hint: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details


class NotFound(HelioError):
    code = "nao_encontrado"
    status = 404


class InvalidInput(HelioError):
    """Input that parses but makes no sense (min > max, consumption <= 0, site abroad…)."""

    code = "entrada_invalida"
    status = 422


class Conflict(HelioError):
    code = "conflito"
    status = 409


class Unavailable(HelioError):
    """A dependency (vector store, LLM, commerce backend) cannot serve right now."""

    code = "indisponivel"
    status = 503
