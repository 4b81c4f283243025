"""``size_system``: site → weather → target → stock → candidates → score → economics → results.

Each stage is a function of the stages before it (:mod:`app.sizing.stages`,
:mod:`app.sizing.outcome`) returning a small typed object, so it can be read, tested and
replaced on its own; :class:`Stages` names them and ``size_system(..., stages=…)`` runs
another implementation of any of them.

The site's plane-of-array irradiance and cell temperature are computed once; each module
type then gets one normalised DC profile [W/W], and every (module, inverter, layout)
candidate is evaluated from it with array arithmetic. Catalog kits are candidates too
(:mod:`app.sizing.kits`): one PVWatts profile per temperature coefficient, one AC row per
DC/AC ratio, scaled to each kit. Component designs (strings verified) rank first; kits,
whose strings the catalog does not let us verify, fill the remaining places.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.catalog.models import Product
from app.catalog.repository import CatalogRepository
from app.sizing import models
from app.sizing.outcome import (  # noqa: F401 - re-exported: the engine's public names
    INTERANNUAL_VARIABILITY_PCT, MICROGENERATION_LIMIT_KW, MINIGENERATION_NOTE, MODEL_UNCERTAINTY_PCT,
    economics_stage, results_stage,
)
from app.sizing.resource import WeatherYear
from app.sizing.stages import (  # noqa: F401 - re-exported: the engine's public names
    CEC_KEYS, ENGINE_LOSSES, assumed_consumption, KIT_UNVERIFIED_PENALTY, candidates_stage, monthly_consumption_kwh, score_stage,
    site_stage, stock_stage, target_stage, weather_stage,
)
from app.sizing.stages import kit_check as _kit_check  # noqa: F401 - kept for callers of the old name


@dataclass(frozen=True)
class Stages:
    """The stage functions ``size_system`` runs, in order; swap one with ``dataclasses.replace``."""

    site: Callable = site_stage
    weather: Callable = weather_stage
    target: Callable = target_stage
    stock: Callable = stock_stage
    candidates: Callable = candidates_stage
    score: Callable = score_stage
    economics: Callable = economics_stage
    results: Callable = results_stage


DEFAULT_STAGES = Stages()


def size_system(request: models.SizingRequest, products: Iterable[Product] | CatalogRepository, *,
                weather: WeatherYear | None = None, specs=None, stages: Stages = DEFAULT_STAGES) -> models.SizingResult:
    """Size a grid-tied system for ``request`` from in-stock ``products``.

    ``weather``: an hourly year to use instead of the built-in synthetic resource (e.g.
    :func:`app.sizing.resource.load_weather_file`). Raises InvalidInput (422) with a hint for
    every input the engine cannot honour.
    """
    inputs = stages.site(request)
    array = stages.weather(inputs, weather)
    inputs = assumed_consumption(inputs, array)
    target = stages.target(inputs, array)
    stock = stages.stock(inputs, products, specs)
    pool = stages.candidates(inputs, array, target, stock)
    ranked = stages.score(inputs, target, pool)
    priced = stages.economics(inputs, array, target, stock, pool, ranked)
    return stages.results(inputs, array, target, stock, pool, ranked, priced)
