"""Build the embedded knowledge index while the API already serves (first start).

On a fresh machine embedding the sample corpus takes from under a minute to several
(CPU-bound: see benchmarks/ingest_bench.py). Instead of making the first ``helio serve``
wait for it, the API opens with an empty index and :class:`BackgroundIndex` fills it in a
thread, in the same process (the embedded index is single-process). Until it is done,
:meth:`BackgroundIndex.search` refuses with :class:`~app.core.errors.Unavailable`, which the
chat turns into an answer without passages that says so, and ``/readyz`` reports the
progress (:meth:`BackgroundIndex.status`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from app.core.errors import Unavailable

log = logging.getLogger("helio.knowledge")


class BackgroundIndex:
    """A searcher whose index is being built; every other attribute is the searcher's."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.done = 0
        self.total = 0
        self.error: str | None = None
        self.seconds: float | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def __getattr__(self, name: str) -> Any:  # store, embedder, sparse, validate, close …
        return getattr(self.searcher, name)

    @property
    def building(self) -> bool:
        return not self._ready.is_set()

    def status(self) -> tuple[str, str]:
        """``(state, detail)`` for /readyz: ``degraded`` while building or after a failure."""
        if self.error is not None:
            return "degraded", f"falha ao indexar a base de conhecimento: {self.error}"
        if self.building:
            pct = f"{100 * self.done / self.total:.0f} %" if self.total else "lendo as fontes"
            return "degraded", f"indexando a base de conhecimento em segundo plano: {self.done}/{self.total} trechos ({pct})"
        return "ok", f"{self.searcher.store.count()} trechos indexados (em {self.seconds:.0f} s, em segundo plano)"

    def search(self, query: str, k: int = 5, filters: Any = None, *args: Any, **kwargs: Any) -> list[Any]:
        if self.building or self.error is not None:
            state, detail = self.status()
            raise Unavailable(f"Base de conhecimento ainda não disponível ({detail}).",
                              hint="Responda sem citações e avise o usuário; tente de novo em alguns minutos.")
        return self.searcher.search(query, k, filters, *args, **kwargs)

    def start(self, settings: Any, catalog: Any, kinds: tuple[str, ...]) -> BackgroundIndex:
        self._thread = threading.Thread(target=self._run, args=(settings, catalog, kinds),
                                        name="knowledge-index", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._ready.wait(timeout_s)

    def _progress(self, stage: str, done: int, total: int) -> None:
        if stage == "embeddings":
            self.done, self.total = done, total

    def _run(self, settings: Any, catalog: Any, kinds: tuple[str, ...]) -> None:
        from ingest.knowledge.pipeline import ingest_with_settings

        import torch

        started = time.perf_counter()
        serving_threads = torch.get_num_threads()
        # Batch embedding scales with cores; queries are served with the API's own setting again after.
        build = settings.model_copy(update={"embedding": settings.embedding.model_copy(
            update={"torch_threads": os.cpu_count() or 1})})
        try:
            report = ingest_with_settings(list(kinds), build, catalog, progress=self._progress,
                                          store=self.searcher.store)
            log.info("Base de conhecimento indexada em segundo plano: %s", report.index.summary())
        except Exception as exc:  # noqa: BLE001 - reported by /readyz and by every refused search
            log.exception("Falha ao indexar a base de conhecimento em segundo plano")
            self.error = str(exc)
        finally:
            # The API's query embedder wants its own setting back (1 thread keeps latency low).
            torch.set_num_threads(settings.embedding.torch_threads or serving_threads)
            self.seconds = time.perf_counter() - started
            self._ready.set()
