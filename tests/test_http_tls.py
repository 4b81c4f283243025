"""Outbound clients share one TLS context (app/core/http.py) and still verify certificates."""

from __future__ import annotations

import ssl

from app.commerce.medusa_http import MedusaHTTP
from app.core import http


def _context(client) -> ssl.SSLContext:
    return client._transport._pool._ssl_context


def test_shared_context_verifies_hosts_and_certificates():
    ctx = http.tls_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert ctx.cert_store_stats()["x509_ca"] > 0  # a real trust store, not an empty one


def test_medusa_clients_reuse_the_one_context_instead_of_reading_the_bundle_again():
    a = MedusaHTTP("https://medusa.example.com")
    b = MedusaHTTP("https://other.example.com")
    try:
        assert _context(a.client) is _context(b.client) is http.tls_context()
    finally:
        a.close()
        b.close()
