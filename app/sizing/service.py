"""Sizing as a cached service: stable ``sizing_id``, stored results, lookup by id.

``sizing_id`` = sha256(engine version + canonical request JSON + catalog fingerprint),
shortened. Same request on the same catalog → same id → the stored result (what a quote
or a financing simulation refers to); a re-ingest that changes any price, stock flag or
spec changes the fingerprint and so the id. Results live under ``sizing:<sizing_id>`` (the
full result: quotes and financing read it) and ``sizing-summary:<sizing_id>`` (what the API
sends by default), both as JSON text that a cache hit sends as stored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from app.catalog.repository import CatalogRepository
from app.core.cache import Cache, utf8
from app.core.errors import NotFound
from app.core.telemetry import span
from app.core.text import format_number
from app.sizing.engine import size_system
from app.sizing.models import SizingRequest, SizingResult

# Bump when the engine's models or defaults change, so stored results are not reused.
ENGINE_CACHE_VERSION = "sizing-v6"  # v6: pt-BR numbers in texts, roof area said for kits; v5: station field with altitude/GLDAS covariates (v4: kit checks, roof modes, station resource, ANEEL tariffs)
SIZING_ID_HEX = 24  # 96 bits: collisions are not a practical concern at any catalog/request volume
_ID_RE = re.compile(rf"^[0-9a-f]{{{SIZING_ID_HEX}}}$")


def catalog_fingerprint(catalog: CatalogRepository) -> str:
    """The store's content fingerprint; its product count for a store that has none."""
    fingerprint = getattr(catalog, "fingerprint", None)
    if callable(fingerprint):
        return str(fingerprint())
    return f"count:{catalog.count()}"  # weaker: misses same-size re-ingests


def sizing_id(request: SizingRequest, fingerprint: str) -> str:
    """Stable id of ``request`` sized on the catalog with ``fingerprint`` [hex, 24 chars]."""
    payload = f"{ENGINE_CACHE_VERSION}\n{fingerprint}\n{request.model_dump_json()}"
    return hashlib.sha256(payload.encode()).hexdigest()[:SIZING_ID_HEX]


def cache_key(sid: str) -> str:
    return f"sizing:{sid}"


def summary_key(sid: str) -> str:
    return f"sizing-summary:{sid}"


Detail = Literal["summary", "full"]


@dataclass(frozen=True)
class SizingJSON:
    """A sized result as the stored JSON bytes of one detail level, ready to send."""

    sizing_id: str
    body: bytes
    hit: bool

    @property
    def etag(self) -> str:
        """Weak validator of these bytes (weak: a proxy may gzip the same representation)."""
        return f'W/"{hashlib.blake2b(self.body, digest_size=12).hexdigest()}"'


def _store(cache: Cache, sid: str, result: SizingResult, ttl_s: int) -> dict[str, str]:
    """Store the full result and its summary; the summary first, so it never outlives the
    full result (FIFO eviction and TTL both drop the older key first): a summary served
    always has the full result a quote or ``?detail=full`` reads behind it."""
    from app.sizing.summary import summarize

    texts = {"summary": summarize(result).model_dump_json(), "full": result.model_dump_json()}
    cache.set_raw(summary_key(sid), texts["summary"], ttl_s)
    cache.set_raw(cache_key(sid), texts["full"], ttl_s)
    return texts


def _stored(cache: Cache, sid: str, detail: Detail) -> SizingJSON | None:
    raw = cache.get_raw(summary_key(sid) if detail == "summary" else cache_key(sid))
    return SizingJSON(sid, utf8(raw), True) if raw is not None else None


def _stored_or_sized(cache: Cache, sid: str, ttl_s: int, detail: Detail,
                     compute: Callable[[], SizingResult] | None, *, looked: bool = False) -> SizingJSON | None:
    """The stored bytes of ``detail`` for ``sid``; else size with ``compute`` (None: only look).
    ``looked``: the caller already found that key missing (so the miss is counted once)."""
    if not looked and (out := _stored(cache, sid, detail)) is not None:
        return out
    if detail == "summary":  # stored by a version before summaries: rebuild both keys once
        full = cache.get_raw(cache_key(sid))
        if full is not None:
            texts = _store(cache, sid, SizingResult.model_validate_json(full), ttl_s)
            return SizingJSON(sid, texts[detail].encode(), True)
    if compute is None:
        return None
    with span("sizing.engine"):
        result = compute()
    with span("sizing.store"):
        texts = _store(cache, sid, result, ttl_s)
    return SizingJSON(sid, texts[detail].encode(), False)


def size_and_store(request: SizingRequest, catalog: CatalogRepository, cache: Cache,
                   ttl_s: int) -> tuple[SizingResult, bool]:
    """Sized result for ``request`` (from the cache when there), and whether it was a hit.

    Blocking (SQLite, Redis, numpy): call it from a worker thread in async code.
    """
    with span("sizing") as current:
        with span("sizing.cache_lookup"):
            sid = sizing_id(request, catalog_fingerprint(catalog))
            cached = cache.get_raw(cache_key(sid))
        if current is not None:
            current.set_attribute("helio.sizing.cache_hit", cached is not None)
        if cached is not None:
            return SizingResult.model_validate_json(cached), True
        with span("sizing.engine"):
            result = size_system(request, catalog).model_copy(update={"sizing_id": sid})
        with span("sizing.store"):
            _store(cache, sid, result, ttl_s)
        return result, False


@dataclass(frozen=True)
class SizingLookup:
    """The cache lookup of one request: its id, and its stored bytes when they are there."""

    sizing_id: str
    found: SizingJSON | None


def lookup_json(request: SizingRequest, catalog: CatalogRepository, cache: Cache,
                detail: Detail = "summary") -> SizingLookup:
    """Only the lookup part of :func:`size_json`: no sizing, no rebuild of an old entry.

    As blocking as the catalog fingerprint (one SQLite row) and ``cache.get_raw``: with an
    in-process cache (``cache.in_process``) that is a few microseconds, so the API calls it
    on the event loop and only a miss goes to a worker thread (:func:`size_json` with this
    lookup). Under 16 concurrent requests the thread hop, not the lookup, was what a cached
    sizing cost."""
    with span("sizing.cache_lookup") as current:
        sid = sizing_id(request, catalog_fingerprint(catalog))
        found = _stored(cache, sid, detail)
        if current is not None:
            current.set_attribute("helio.sizing.cache_hit", found is not None)
        return SizingLookup(sid, found)


def size_json(request: SizingRequest, catalog: CatalogRepository, cache: Cache, ttl_s: int,
              detail: Detail = "summary", lookup: SizingLookup | None = None) -> SizingJSON:
    """Like :func:`size_and_store`, as the stored JSON bytes of ``detail``: a cache hit is
    served as stored, never parsed or re-validated. ``lookup``: :func:`lookup_json` already
    done by the caller (not repeated). Blocking: call it from a worker thread."""
    with span("sizing") as current:
        if lookup is None:
            lookup = lookup_json(request, catalog, cache, detail)
        sid = lookup.sizing_id

        def compute() -> SizingResult:
            return size_system(request, catalog).model_copy(update={"sizing_id": sid})

        out = lookup.found or _stored_or_sized(cache, sid, ttl_s, detail, compute, looked=True)
        if current is not None:
            current.set_attribute("helio.sizing.cache_hit", out.hit)
        return out


_NOT_FOUND_HINT = ("Dimensionamentos ficam guardados por 30 dias e mudam de id quando o catálogo é reingerido; "
                   "refaça o POST /v1/sizing com o mesmo pedido para obter o resultado atual.")


def load_stored(sid: str, cache: Cache) -> SizingResult:
    """A stored result by id; NotFound (404) with a hint when unknown or expired."""
    return SizingResult.model_validate_json(load_stored_json(sid, cache, "full", ttl_s=0).body)


def find_stored_json(sid: str, cache: Cache, detail: Detail = "summary") -> SizingJSON | None:
    """The stored bytes of ``detail`` for ``sid`` if they are there (None otherwise, and for a
    malformed id); as blocking as ``cache.get_raw``."""
    return _stored(cache, sid, detail) if _ID_RE.match(sid) else None


def load_stored_json(sid: str, cache: Cache, detail: Detail = "summary", *, ttl_s: int,
                     looked: bool = False) -> SizingJSON:
    """A stored result by id as its stored bytes; NotFound (404) with a hint when unknown or
    expired. ``ttl_s``: lifetime of the summary when it has to be rebuilt from the full result.
    ``looked``: :func:`find_stored_json` already came back empty (not repeated)."""
    if not _ID_RE.match(sid):
        raise NotFound(f"Id de dimensionamento inválido: {sid!r}.", hint=_NOT_FOUND_HINT)
    out = _stored_or_sized(cache, sid, ttl_s, detail, None, looked=looked)
    if out is None:
        raise NotFound(f"Dimensionamento {sid} não encontrado ou expirado.", hint=_NOT_FOUND_HINT)
    return out


def size_with_weather_file(request: SizingRequest, catalog: CatalogRepository, cache: Cache, ttl_s: int,
                           data: bytes, filename: str) -> tuple[SizingResult, bool]:
    """Sizing on a user's weather file (EPW/TMY2/TMY3/SAM CSV bytes) instead of the built-in resource.

    The file is read and checked in full first: a malformed file raises a 422 naming line
    and field and nothing is computed or stored. Without a site in the request, the site is
    the file header's location. The id covers the file's content (sha256), so the same
    request on another file is another sizing.
    """
    out = size_with_weather_file_json(request, catalog, cache, ttl_s, data, filename, "full")
    return SizingResult.model_validate_json(out.body), out.hit


def size_with_weather_file_json(request: SizingRequest, catalog: CatalogRepository, cache: Cache, ttl_s: int,
                                data: bytes, filename: str, detail: Detail = "summary") -> SizingJSON:
    """:func:`size_with_weather_file` as the stored JSON bytes of ``detail``."""
    from app.sizing.models import SiteInput
    from app.sizing.sites import _haversine_km, resolve_site
    from app.sizing.weather import read_weather

    weather = read_weather(data, filename)
    warnings: list[str] = []
    if request.site == SiteInput():
        request = request.model_copy(update={"site": SiteInput(lat=weather.latitude_deg, lon=weather.longitude_deg)})
    else:
        s = request.site
        site = resolve_site(municipality=s.municipality, uf=s.uf, ibge_code=s.ibge_code, latitude_deg=s.lat,
                            longitude_deg=s.lon)
        km = float(_haversine_km(site.latitude_deg, site.longitude_deg, weather.latitude_deg,
                                 weather.longitude_deg))
        if km > 50:
            warnings.append(f"O arquivo de clima {filename} é de um local a {format_number(km)} km de {site.label}: a geração "
                            "calculada vale para o clima do arquivo.")
    file_hash = hashlib.sha256(data).hexdigest()
    sid = sizing_id(request, f"{catalog_fingerprint(catalog)}\nweather:{file_hash}")

    def compute() -> SizingResult:
        result = size_system(request, catalog, weather=weather)
        return result.model_copy(update={"sizing_id": sid, "warnings": [*result.warnings, *warnings]})

    return _stored_or_sized(cache, sid, ttl_s, detail, compute)
