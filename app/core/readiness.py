"""Readiness checks for each dependency, each returning ``{"status", "detail"}``.

A check never raises: a failing dependency is reported, not propagated. Checks are
quick (short timeouts) because load balancers poll /readyz.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from app.core import http

Check = dict[str, str]


def _ok(detail: str) -> Check:
    return {"status": "ok", "detail": detail}


def _degraded(detail: str) -> Check:
    return {"status": "degraded", "detail": detail}


def _down(detail: str) -> Check:
    return {"status": "down", "detail": detail}


def check_catalog(state: Any) -> Check:
    catalog = getattr(state, "catalog", None)
    if catalog is None:
        return _down(getattr(state, "catalog_error", None) or "catálogo não aberto")
    n = catalog.count()
    if n == 0:
        return _degraded("catálogo vazio: rode 'helio ingest catalog'")
    return _ok(f"{n} produtos")


def check_vector_store(state: Any) -> Check:
    searcher = getattr(state, "searcher", None)
    if searcher is None:
        return _down(getattr(state, "searcher_error", None) or "base de conhecimento não carregada")
    if getattr(searcher, "building", None) is not None:  # ingest.knowledge.background.BackgroundIndex
        status, detail = searcher.status()
        return {"status": status, "detail": detail}
    chunks = searcher.store.count()
    if chunks == 0:
        return _degraded("índice vazio: rode 'helio ingest all' (com a API parada no modo embutido)")
    return _ok(f"{chunks} trechos indexados")


def check_llm(state: Any) -> Check:
    llm = getattr(state, "llm", None)
    if llm is None:
        return _down(getattr(state, "llm_error", None) or "nenhum LLM configurado")
    status, reason = llm.status()
    return {"status": status, "detail": reason}


def check_redis(state: Any) -> Check:
    cache = state.cache
    if cache.backend == "memory":
        return _ok("em memória do processo (REDIS__URL não definido)")
    try:
        cache.ping()
    except Exception as exc:  # noqa: BLE001 - any failure is a readiness fact, not an error
        return _degraded(f"Redis fora do ar ({exc}); usando memória do processo")
    return _ok("redis respondendo")


def check_commerce(state: Any) -> Check:
    settings = state.settings
    if settings.commerce.backend == "local":
        return _ok("comércio local (SQLite, um único host) sobre o catálogo; réplicas em hosts distintos usam Medusa")
    if not settings.commerce.url:
        return _down("COMMERCE__BACKEND=medusa sem COMMERCE__URL")
    try:
        response = http.get(settings.commerce.url.rstrip("/") + "/health", timeout=2.0)
    except httpx.HTTPError as exc:
        return _down(f"Medusa inacessível: {exc}")
    if response.status_code != 200:
        return _degraded(f"Medusa respondeu {response.status_code}")
    return _ok("Medusa respondendo")


CHECKS: dict[str, Callable[[Any], Check]] = {
    "catalog": check_catalog,
    "vector_store": check_vector_store,
    "llm": check_llm,
    "redis": check_redis,
    "commerce": check_commerce,
}


def check_all(state: Any) -> dict[str, Check]:
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check(state)
        except Exception as exc:  # noqa: BLE001
            results[name] = _down(f"falha ao verificar: {exc}")
    return results
