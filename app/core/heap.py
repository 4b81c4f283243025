"""Keep the garbage collector's full passes off the request path.

After startup the API process holds ~280,000 container objects (FastAPI, pydantic, pvlib,
pandas, LangChain, the catalog memo). CPython's oldest-generation collection walks all of
them, and it runs whenever enough young objects have survived: under 16 concurrent
connections, requests in flight get promoted and a full pass follows every few seconds.
Measured on a 2-core box, one such pass takes 100–600 ms and stops the event loop for all of
it, which was the p99 of every cached route (p50 7 ms, p99 150 ms).

:func:`freeze_heap` moves everything alive at that moment into the permanent generation,
which the collector never walks again: full passes then only visit what was created since.
Reference counting still frees those objects as usual; only a reference cycle made
entirely of frozen objects would stay, and startup objects live as long as the process.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger("helio.heap")


_frozen: set[str] = set()  # stages already frozen in this process


def freeze_heap(stage: str = "startup") -> int:
    """Collect once, then freeze every surviving object; returns how many objects are frozen
    (0 when ``stage`` was already frozen in this process).

    Call it when startup is done (the lifespan, before serving) and after a large one-off
    load such as the embedding model, never per request. Each ``stage`` freezes once per
    process: a process that builds many apps (the test suite) freezes the first one's heap
    and not every later app's, whose cycles could then never be collected.
    """
    if stage in _frozen:
        return 0
    _frozen.add(stage)
    started = time.perf_counter()
    gc.collect()  # garbage from startup must not be frozen with the rest
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("heap congelado (%s): %d objetos em %.0f ms", stage, frozen, (time.perf_counter() - started) * 1000)
    return frozen
