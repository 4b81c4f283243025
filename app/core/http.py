"""Outbound HTTP clients that share one TLS context.

``httpx`` builds a new TLS context (and reads the whole CA bundle) for every client it
creates, ``httpx.get`` included: ~30 ms of CPU each time. The service creates clients for
Medusa, the OIDC provider, a remote embedder, and probes Ollama, Medusa and OpenAI-compatible
servers on every readiness check, so that cost was paid per check and per test. One context,
built the first time it is needed with httpx's own defaults (certifi, or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR`` when set), is shared by all of them; TLS verification is unchanged.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one verifying TLS context (httpx's default trust store)."""
    return httpx.create_ssl_context()


def client(**kwargs: Any) -> httpx.Client:
    """``httpx.Client(**kwargs)`` on the shared TLS context."""
    return httpx.Client(verify=tls_context(), **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    """``httpx.get`` on the shared TLS context."""
    return httpx.get(url, verify=tls_context(), **kwargs)
