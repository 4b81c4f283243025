"""Query-time embedding for many concurrent users: a micro-batcher and an LRU cache.

A chat turn embeds its question (the search) and a few short passages (the answer step
orders near-tie sentences by similarity). The model is one object behind a lock, so 40
users asking at once queue behind one another, one text at a time. Two things remove
most of that wait:

* **Micro-batching.** Callers that arrive while an encode is running wait for it, and the
  next free caller encodes everything that queued in one call (a leader/follower scheme:
  no background thread, no timer). One user alone is never delayed; under load one encode
  of 16 short texts costs a few single encodes, so the queue drains much faster.
* **LRU cache.** The same text gives the same vector: people repeat questions (quick-reply
  buttons, FAQs), and the answer step embeds the same corpus sentences again and again.
  Keys are the text with runs of whitespace collapsed (the tokenizers split on whitespace,
  so the vector does not change); the text embedded is the key itself.

Queries and passages keep their own precision and prefixes: queries go through the
embedder's ``embed_queries`` (or ``embed_query`` one at a time when it has none), passages
through its ``embed_documents``. Ingestion is not touched: a long ``embed_documents`` call
(more than ``max_batch`` texts, i.e. indexing) goes straight to the embedder, uncached.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_SPACES = re.compile(r"\s+")


def cache_key(text: str) -> str:
    """The text a vector is computed for and cached under: stripped, whitespace runs → one space."""
    return _SPACES.sub(" ", text).strip()


class VectorCache:
    """Thread-safe LRU map text → vector (numpy, as the model returned it); ``size`` 0 keeps nothing."""

    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> np.ndarray | None:
        if not self.size:
            return None
        with self._lock:
            vec = self._data.get(key)
            if vec is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return vec

    def put(self, key: str, vec: np.ndarray) -> None:
        if not self.size:
            return
        with self._lock:
            self._data[key] = vec
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class _Request:
    texts: list[str]
    vectors: list[np.ndarray] | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class MicroBatcher:
    """Gathers concurrent ``run(texts)`` calls into one ``encode`` call of at most
    ``max_batch`` texts (a single request larger than that still goes whole).

    The first caller that finds no encode running becomes the leader: it takes every queued
    request (up to ``max_batch`` texts), encodes them outside the lock and hands each caller
    its vectors; callers that arrive meanwhile queue for the next leader. ``batches`` and
    ``texts`` count what was encoded (the mean batch size tells whether batching happens).
    """

    encode: Callable[[list[str]], Sequence[Any]]
    max_batch: int = 16
    batches: int = 0
    texts: int = 0
    _cv: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _pending: list[_Request] = field(default_factory=list, repr=False)
    _busy: bool = field(default=False, repr=False)

    def run(self, texts: list[str]) -> list[np.ndarray]:
        req = _Request(list(texts))
        with self._cv:
            self._pending.append(req)
        while True:
            with self._cv:
                while self._busy and not req.done:
                    self._cv.wait()
                if req.done:
                    break
                self._busy = True
                batch = self._take()
            self._encode(batch)
        if req.error is not None:
            raise req.error
        assert req.vectors is not None
        return req.vectors

    def _take(self) -> list[_Request]:
        batch, n = [], 0
        while self._pending and (not batch or n + len(self._pending[0].texts) <= self.max_batch):
            req = self._pending.pop(0)
            batch.append(req)
            n += len(req.texts)
        return batch

    def _encode(self, batch: list[_Request]) -> None:
        texts = [t for req in batch for t in req.texts]
        try:
            vecs = [np.asarray(v) for v in self.encode(texts)]  # float32 from the models, kept exact
            if len(vecs) != len(texts):
                raise RuntimeError(f"encode returned {len(vecs)} vectors for {len(texts)} texts")
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch, then re-raised there
            error, vecs = exc, []
        else:
            error = None
        with self._cv:
            start = 0
            for req in batch:
                if error is None:
                    req.vectors = vecs[start : start + len(req.texts)]
                    start += len(req.texts)
                req.error, req.done = error, True
            self.batches += 1
            self.texts += len(texts)
            self._busy = False
            self._cv.notify_all()


class QueryEmbedder:
    """An :class:`~app.retrieval.embed.Embedder` for the query side: ``embed_query`` and short
    ``embed_documents`` calls are cached and micro-batched; everything else is the wrapped
    embedder's (``name``, ``dim``, ``load``, long ``embed_documents`` calls for indexing).

    ``cache_size`` 0 and ``max_batch`` 1 make it a plain pass-through (the "before" of the
    turn benchmark)."""

    def __init__(self, inner: Any, *, cache_size: int = 2048, max_batch: int = 16) -> None:
        self.inner = inner
        self.max_batch = max(1, int(max_batch))
        self.query_cache = VectorCache(cache_size)
        self.passage_cache = VectorCache(cache_size)
        queries = getattr(inner, "embed_queries", None)
        self.queries = MicroBatcher(queries or (lambda texts: [inner.embed_query(t) for t in texts]),
                                    self.max_batch if queries else 1)
        self.passages = MicroBatcher(lambda texts: inner.embed_documents(texts), self.max_batch)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def batch_size(self) -> int:
        return self.inner.batch_size

    def load(self) -> None:
        load = getattr(self.inner, "load", None)
        if load is not None:
            load()

    @property
    def passthrough(self) -> bool:
        return self.max_batch == 1 and not self.query_cache.size

    def embed_query(self, text: str) -> list[float]:
        if self.passthrough:
            return self.inner.embed_query(text)
        return self._cached([text], self.query_cache, self.queries)[0]

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts] if self.passthrough else \
            self._cached(list(texts), self.query_cache, self.queries)

    def embed_documents(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> list[list[float]]:
        if self.passthrough or len(texts) > self.max_batch or on_batch is not None:
            return self.inner.embed_documents(texts, on_batch=on_batch)
        return self._cached(list(texts), self.passage_cache, self.passages)

    def _cached(self, texts: list[str], cache: VectorCache, batcher: MicroBatcher) -> list[list[float]]:
        keys = [cache_key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for key in keys:
            if key not in found and (vec := cache.get(key)) is not None:
                found[key] = vec
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            for key, vec in zip(missing, batcher.run(missing), strict=True):
                cache.put(key, vec)
                found[key] = vec
        return [found[k].tolist() for k in keys]

    def stats(self) -> dict[str, Any]:
        """Cache hits/misses and encode batches so far (for benchmarks and logs)."""
        return {"query_cache": {"hits": self.query_cache.hits, "misses": self.query_cache.misses,
                                "size": len(self.query_cache)},
                "passage_cache": {"hits": self.passage_cache.hits, "misses": self.passage_cache.misses,
                                  "size": len(self.passage_cache)},
                "query_batches": self.queries.batches, "queries_encoded": self.queries.texts,
                "passage_batches": self.passages.batches, "passages_encoded": self.passages.texts}


def query_embedder(inner: Any, *, cache_size: int, max_batch: int) -> Any:
    """``inner`` wrapped for the query side, or ``inner`` itself when both are off."""
    if cache_size <= 0 and max_batch <= 1:
        return inner
    return QueryEmbedder(inner, cache_size=cache_size, max_batch=max_batch)
