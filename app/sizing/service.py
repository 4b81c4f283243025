"""Sizing as a cached service: stable ``sizing_id``, stored results, lookup by id.

``sizing_id`` = sha256(engine version + canonical request JSON + catalog fingerprint),
shortened. Same request on the same catalog → same id → the stored result (what a quote
or a financing simulation refers to); a re-ingest that changes any price, stock flag or
spec changes the fingerprint and so the id. Results live under ``sizing:<sizing_id>``.
"""

from __future__ import annotations

import hashlib
import re

from app.catalog.repository import CatalogRepository
from app.core.cache import Cache
from app.core.errors import NotFound
from app.core.telemetry import span
from app.sizing.engine import size_system
from app.sizing.models import SizingRequest, SizingResult

# Bump when the engine's models or defaults change, so stored results are not reused.
ENGINE_CACHE_VERSION = "sizing-v5"  # v5: station field with altitude/GLDAS covariates (v4: kit checks, roof modes, station resource, ANEEL tariffs)
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


def size_and_store(request: SizingRequest, catalog: CatalogRepository, cache: Cache,
                   ttl_s: int) -> tuple[SizingResult, bool]:
    """Sized result for ``request`` (from the cache when there), and whether it was a hit.

    Blocking (SQLite, Redis, numpy): call it from a worker thread in async code.
    """
    with span("sizing") as current:
        with span("sizing.cache_lookup"):
            sid = sizing_id(request, catalog_fingerprint(catalog))
            cached = cache.get_json(cache_key(sid))
        if current is not None:
            current.set_attribute("helio.sizing.cache_hit", cached is not None)
        if cached is not None:
            return SizingResult.model_validate(cached), True
        with span("sizing.engine"):
            result = size_system(request, catalog).model_copy(update={"sizing_id": sid})
        with span("sizing.store"):
            cache.set_json(cache_key(sid), result.model_dump(mode="json"), ttl_s)
        return result, False


def load_stored(sid: str, cache: Cache) -> SizingResult:
    """A stored result by id; NotFound (404) with a hint when unknown or expired."""
    hint = ("Dimensionamentos ficam guardados por 30 dias e mudam de id quando o catálogo é reingerido; "
            "refaça o POST /v1/sizing com o mesmo pedido para obter o resultado atual.")
    if not _ID_RE.match(sid):
        raise NotFound(f"Id de dimensionamento inválido: {sid!r}.", hint=hint)
    cached = cache.get_json(cache_key(sid))
    if cached is None:
        raise NotFound(f"Dimensionamento {sid} não encontrado ou expirado.", hint=hint)
    return SizingResult.model_validate(cached)


def size_with_weather_file(request: SizingRequest, catalog: CatalogRepository, cache: Cache, ttl_s: int,
                           data: bytes, filename: str) -> tuple[SizingResult, bool]:
    """Sizing on a user's weather file (EPW/TMY2/TMY3/SAM CSV bytes) instead of the built-in resource.

    The file is read and checked in full first: a malformed file raises a 422 naming line
    and field and nothing is computed or stored. Without a site in the request, the site is
    the file header's location. The id covers the file's content (sha256), so the same
    request on another file is another sizing.
    """
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
            warnings.append(f"O arquivo de clima {filename} é de um local a {km:.0f} km de {site.label}: a geração "
                            "calculada vale para o clima do arquivo.")
    file_hash = hashlib.sha256(data).hexdigest()
    sid = sizing_id(request, f"{catalog_fingerprint(catalog)}\nweather:{file_hash}")
    cached = cache.get_json(cache_key(sid))
    if cached is not None:
        return SizingResult.model_validate(cached), True
    result = size_system(request, catalog, weather=weather)
    result = result.model_copy(update={"sizing_id": sid, "warnings": [*result.warnings, *warnings]})
    cache.set_json(cache_key(sid), result.model_dump(mode="json"), ttl_s)
    return result, False
