"""Key/value cache with TTL: Redis when configured, in-process otherwise.

Used for sizing results, conversation memory and rate-limit counters. Values are JSON.
Both implementations share one small interface so callers never know which one runs.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Protocol

from app.core.metrics import record_cache


class Cache(Protocol):
    backend: str

    def get_json(self, key: str) -> Any | None: ...

    def set_json(self, key: str, value: Any, ttl_s: int | None = None) -> None: ...

    def delete(self, key: str) -> bool: ...

    def incr(self, key: str, ttl_s: int) -> int:
        """Increment a counter, starting its TTL on first use (fixed-window rate limits)."""
        ...

    def ping(self) -> None:
        """Raise if the backend cannot serve."""
        ...


class MemoryCache:
    """In-process cache for a single worker (the embedded default)."""

    backend = "memory"

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
        with self._lock:
            raw = self._live(key)
        record_cache(key, raw is not None)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl_s: int | None = None) -> None:
        raw = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
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

    def __init__(self, url: str, prefix: str = "helio:", timeout_s: float = 2.0) -> None:
        import redis

        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True
        )
        self._prefix = prefix
        self.url = url

    def _k(self, key: str) -> str:
        return self._prefix + key

    def get_json(self, key: str) -> Any | None:
        raw = self._redis.get(self._k(key))
        record_cache(key, raw is not None)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl_s: int | None = None) -> None:
        raw = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
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

    def __init__(self, primary: RedisCache, fallback: MemoryCache | None = None) -> None:
        import logging

        import redis

        self.primary = primary
        self.fallback = fallback or MemoryCache()
        self._errors = (redis.RedisError, OSError)
        self._log = logging.getLogger("helio.cache")
        self.degraded_reason: str | None = None

    @property
    def backend(self) -> str:
        return "redis" if self.degraded_reason is None else "memory (redis fora do ar)"

    def _call(self, name: str, *args: Any) -> Any:
        try:
            result = getattr(self.primary, name)(*args)
        except self._errors as exc:
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

    def delete(self, key: str) -> bool:
        return self._call("delete", key)

    def incr(self, key: str, ttl_s: int) -> int:
        return self._call("incr", key, ttl_s)

    def ping(self) -> None:
        self.primary.ping()


def make_cache(redis_url: str | None) -> Cache:
    if not redis_url:
        return MemoryCache()
    return FallbackCache(RedisCache(redis_url))
