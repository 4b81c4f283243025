"""Key/value cache with TTL: Redis when configured, in-process otherwise.

Used for sizing results, conversation memory and rate-limit counters. Values are JSON.
Both implementations share one small interface so callers never know which one runs.

With ``REDIS__SENTINELS`` + ``REDIS__SENTINEL_MASTER`` the master is found through Redis
Sentinel; while a failover is under way, calls are retried for ``failover_retry_s`` and
only then does the service fall back to process memory.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from app.core.settings import RedisSettings

from app.core.metrics import record_cache


class Cache(Protocol):
    backend: str
    # True when every call is a dict lookup in this process (no network, no disk): async code
    # may then call it on the event loop instead of hopping to a worker thread.
    in_process: bool

    def get_json(self, key: str) -> Any | None: ...

    def set_json(self, key: str, value: Any, ttl_s: int | None = None) -> None: ...

    def get_raw(self, key: str) -> str | None:
        """The stored JSON text as written, unparsed (a hot path that serves it as is)."""
        ...

    def set_raw(self, key: str, raw: str, ttl_s: int | None = None) -> None:
        """Store JSON text the caller already serialised."""
        ...

    def delete(self, key: str) -> bool: ...

    def incr(self, key: str, ttl_s: int) -> int:
        """Increment a counter, starting its TTL on first use (fixed-window rate limits)."""
        ...

    def ping(self) -> None:
        """Raise if the backend cannot serve."""
        ...


class _Utf8Memo:
    """UTF-8 bytes of the newest stored texts, by text, up to ``max_bytes`` of them."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: dict[str, bytes] = {}
        self._size = 0
        self._lock = threading.Lock()

    def encode(self, text: str) -> bytes:
        kept = self._items.get(text)
        if kept is not None:
            return kept
        data = text.encode()
        if len(data) <= self.max_bytes // 4:  # a rare huge text would flush every other entry
            with self._lock:
                if text not in self._items:
                    self._items[text] = data
                    self._size += len(data)
                    while self._size > self.max_bytes:
                        self._size -= len(self._items.pop(next(iter(self._items))))
        return data


_UTF8 = _Utf8Memo(16 * 1024 * 1024)


def utf8(text: str) -> bytes:
    """``text.encode()``, done once per distinct stored text (the newest 16 MB are kept).

    A stored sizing is ~18 KB of JSON with accented names: encoding it is ~13 µs, and the
    memory cache hands back the same ``str`` object on every hit, whose hash Python keeps,
    so the lookup is ~30 ns. The bytes returned are the same object too, so digests keyed
    by them (the ETag memo) are found as cheaply."""
    return _UTF8.encode(text)


class MemoryCache:
    """In-process cache for a single worker (the embedded default)."""

    backend = "memory"
    in_process = True

    def __init__(self, max_items: int = 10_000) -> None:
        self._data: dict[str, tuple[float | None, str]] = {}
        self._lock = threading.Lock()
        self._max_items = max_items

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, raw = item
        if expires is not None and expires < time.monotonic():
            del self._data[key]
            return None
        return raw

    def get_json(self, key: str) -> Any | None:
        raw = self.get_raw(key)
        return None if raw is None else json.loads(raw)

    def get_raw(self, key: str) -> str | None:
        with self._lock:
            raw = self._live(key)
        record_cache(key, raw is not None)
        return raw

    def set_json(self, key: str, value: Any, ttl_s: int | None = None) -> None:
        self.set_raw(key, json.dumps(value, ensure_ascii=False, separators=(",", ":")), ttl_s)

    def set_raw(self, key: str, raw: str, ttl_s: int | None = None) -> None:
        expires = time.monotonic() + ttl_s if ttl_s else None
        with self._lock:
            if len(self._data) >= self._max_items and key not in self._data:
                # Drop the oldest insertion: good enough for a bounded single-process cache.
                self._data.pop(next(iter(self._data)))
            self._data[key] = (expires, raw)

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._data.pop(key, None) is not None

    def incr(self, key: str, ttl_s: int) -> int:
        with self._lock:
            raw = self._live(key)
            count = (int(raw) if raw is not None else 0) + 1
            expires = self._data[key][0] if raw is not None else time.monotonic() + ttl_s
            self._data[key] = (expires, str(count))
            return count

    def ping(self) -> None:
        return None


class RedisCache:
    """Redis-backed cache; shared by every API replica."""

    backend = "redis"
    in_process = False

    def __init__(self, url: str | None = None, prefix: str = "helio:", timeout_s: float = 2.0, *,
                 sentinels: list[str] | None = None, master: str | None = None, db: int = 0) -> None:
        import redis

        if sentinels:
            from redis.sentinel import Sentinel

            if not master:
                raise ValueError("REDIS__SENTINEL_MASTER is required with REDIS__SENTINELS")
            addresses = [(h, int(p)) for h, _, p in (a.strip().rpartition(":") for a in sentinels)]
            sentinel = Sentinel(addresses, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
            # A pool that asks the Sentinels for the master on every new connection, so a
            # promoted replica is found after a failover.
            self._redis = sentinel.master_for(master, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                              decode_responses=True, db=db)
            self.url = f"sentinel://{','.join(sentinels)}/{master}"
        else:
            self._redis = redis.Redis.from_url(
                url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True
            )
            self.url = url
        self._prefix = prefix

    def _k(self, key: str) -> str:
        return self._prefix + key

    def get_json(self, key: str) -> Any | None:
        raw = self.get_raw(key)
        return None if raw is None else json.loads(raw)

    def get_raw(self, key: str) -> str | None:
        raw = self._redis.get(self._k(key))
        record_cache(key, raw is not None)
        return raw

    def set_json(self, key: str, value: Any, ttl_s: int | None = None) -> None:
        self.set_raw(key, json.dumps(value, ensure_ascii=False, separators=(",", ":")), ttl_s)

    def set_raw(self, key: str, raw: str, ttl_s: int | None = None) -> None:
        self._redis.set(self._k(key), raw, ex=ttl_s or None)

    def delete(self, key: str) -> bool:
        return bool(self._redis.delete(self._k(key)))

    def incr(self, key: str, ttl_s: int) -> int:
        pipe = self._redis.pipeline()
        pipe.incr(self._k(key))
        pipe.expire(self._k(key), ttl_s, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        self._redis.close()


class FallbackCache:
    """Redis first; when Redis is down, serve from process memory instead of failing.

    Sizing stays available and conversations keep working on this replica; ``degraded``
    tells /readyz (and the logs) that state is no longer shared.
    """

    def __init__(self, primary: RedisCache, fallback: MemoryCache | None = None, retry_s: float = 0.0) -> None:
        import logging

        import redis

        self.primary = primary
        self.fallback = fallback or MemoryCache()
        self.retry_s = retry_s
        self._errors = (redis.RedisError, OSError)
        self._log = logging.getLogger("helio.cache")
        self.degraded_reason: str | None = None

    in_process = False  # Redis first, always: even degraded, each call tries it once

    @property
    def backend(self) -> str:
        return "redis" if self.degraded_reason is None else "memory (redis fora do ar)"

    def _call(self, name: str, *args: Any) -> Any:
        # Retry (a failover takes seconds) only while healthy: once degraded, each call makes
        # one attempt, so a long outage does not cost every request the whole retry window.
        deadline = time.monotonic() + (self.retry_s if self.degraded_reason is None else 0.0)
        delay = 0.05
        while True:
            try:
                result = getattr(self.primary, name)(*args)
                break
            except self._errors as exc:
                if time.monotonic() + delay < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.5)
                    continue
                if self.degraded_reason is None:
                    self._log.warning("Redis indisponível (%s); usando memória do processo", exc)
                self.degraded_reason = str(exc) or type(exc).__name__
                return getattr(self.fallback, name)(*args)
        self.degraded_reason = None
        return result

    def get_json(self, key: str) -> Any | None:
        return self._call("get_json", key)

    def set_json(self, key: str, value: Any, ttl_s: int | None = None) -> None:
        self._call("set_json", key, value, ttl_s)

    def get_raw(self, key: str) -> str | None:
        return self._call("get_raw", key)

    def set_raw(self, key: str, raw: str, ttl_s: int | None = None) -> None:
        self._call("set_raw", key, raw, ttl_s)

    def delete(self, key: str) -> bool:
        return self._call("delete", key)

    def incr(self, key: str, ttl_s: int) -> int:
        return self._call("incr", key, ttl_s)

    def ping(self) -> None:
        self.primary.ping()


def make_cache(redis: RedisSettings | str | None) -> Cache:
    """Process memory without Redis settings; else Redis (by URL or through Sentinel) with the
    in-memory fallback. A plain string is a Redis URL."""
    if isinstance(redis, str) or redis is None:
        return FallbackCache(RedisCache(redis)) if redis else MemoryCache()
    if redis.sentinels:
        primary = RedisCache(sentinels=redis.sentinels, master=redis.sentinel_master, db=redis.db)
        return FallbackCache(primary, retry_s=redis.failover_retry_s)
    return FallbackCache(RedisCache(redis.url)) if redis.url else MemoryCache()
