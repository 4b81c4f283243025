"""Hélio's quote records and ``Idempotency-Key`` claims: in SQLite (one host, the embedded
default) or in Redis (``REDIS__URL`` set: every worker and replica shares them).

Idempotency: the first request with a key *claims* it (``INSERT`` on a primary key, so
exactly one concurrent request wins), creates the quote and *completes* the claim with the
quote id. Any other request with the same key gets that quote; one that arrives while the
first is still working waits for it. A key reused with a different body is a conflict. A
failed creation releases its claim so the client may retry.

In Redis the claim is ``SET NX`` with a lease (so a replica that dies mid-creation does not
block the key forever) and an owner token (so only the claimant completes or releases it):
two concurrent retries on two replicas create one quote. Quote records have no TTL there;
run Redis with persistence (docker-compose.yml: ``--appendonly yes``).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from app.core.errors import Conflict, NotFound, Unavailable
from app.quotes.models import DraftQuote

_KEY_REUSED = ("Idempotency-Key já usada com outro conteúdo.", "Use uma chave nova para um orçamento diferente.")
_STILL_CREATING = ("Um orçamento com esta Idempotency-Key ainda está sendo criado.",
                   "Repita a mesma requisição em alguns segundos.")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS quote_records (id TEXT PRIMARY KEY, data TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency_keys (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, quote_id TEXT,
    created_at TEXT NOT NULL);
"""


class QuoteRecordStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
            yield conn

    # -- records ------------------------------------------------------------------

    def save(self, quote: DraftQuote) -> None:
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO quote_records VALUES (?,?,?)",
                         (quote.id, quote.model_dump_json(), quote.created_at))

    def get(self, quote_id: str) -> DraftQuote:
        with self._connect() as conn:
            row = conn.execute("SELECT data FROM quote_records WHERE id = ?", (quote_id,)).fetchone()
        if row is None:
            raise NotFound(f"Orçamento '{quote_id}' não encontrado.", hint="Confira o id devolvido por POST /v1/quotes.")
        return DraftQuote.model_validate_json(row[0])

    def count(self) -> int:
        with self._connect() as conn:
            return conn.execute("SELECT count(*) FROM quote_records").fetchone()[0]

    # -- idempotency ----------------------------------------------------------------

    def claim(self, key: str, request_hash: str) -> str | None:
        """``None`` when this caller now owns ``key``; the quote id when it was already used."""
        with self._connect() as conn:
            try:
                conn.execute("INSERT INTO idempotency_keys VALUES (?,?,NULL,?)",
                             (key, request_hash, datetime.now(UTC).isoformat(timespec="seconds")))
                return None
            except sqlite3.IntegrityError:
                pass
        return self.wait(key, request_hash)

    def wait(self, key: str, request_hash: str, timeout_s: float = 30.0) -> str | None:
        deadline = time.monotonic() + timeout_s
        delay = 0.02
        while True:
            with self._connect() as conn:
                row = conn.execute("SELECT request_hash, quote_id FROM idempotency_keys WHERE key = ?",
                                   (key,)).fetchone()
            if row is None:  # the first attempt failed and released the key: try to own it
                return self.claim(key, request_hash)
            if row[0] != request_hash:
                raise Conflict(_KEY_REUSED[0], hint=_KEY_REUSED[1])
            if row[1] is not None:
                return row[1]
            if time.monotonic() > deadline:
                raise Conflict(_STILL_CREATING[0], hint=_STILL_CREATING[1])
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def complete(self, key: str, quote_id: str) -> None:
        with self._connect() as conn:
            conn.execute("UPDATE idempotency_keys SET quote_id = ? WHERE key = ?", (quote_id, key))

    def release(self, key: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE key = ? AND quote_id IS NULL", (key,))


# Delete / complete a claim only while it is still ours (the lease may have expired and
# another replica may hold the key now).
_RELEASE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local claim = cjson.decode(raw)
if claim['owner'] == ARGV[1] and claim['quote_id'] == cjson.null then return redis.call('DEL', KEYS[1]) end
return 0
"""
_COMPLETE = """
local raw = redis.call('GET', KEYS[1])
if raw then
  local claim = cjson.decode(raw)
  if claim['owner'] ~= ARGV[1] and claim['quote_id'] ~= cjson.null then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""


class RedisQuoteRecordStore:
    """The same interface as :class:`QuoteRecordStore`, in Redis, for several workers/replicas.

    ``lease_s``: how long a claim blocks the key while its quote is being created [s];
    ``keep_s``: how long a completed key replays its quote [s] (30 days).
    """

    def __init__(self, url: str, prefix: str = "helio:", lease_s: int = 120, keep_s: int = 30 * 24 * 3600,
                 timeout_s: float = 5.0) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                           decode_responses=True)
        self._prefix = prefix
        self.lease_s = lease_s
        self.keep_s = keep_s
        self._owners: dict[str, tuple[str, str]] = {}  # idempotency key -> (our claim token, request hash)
        self._release = self._redis.register_script(_RELEASE)
        self._complete = self._redis.register_script(_COMPLETE)

    def _call(self, fn, *args, **kwargs):
        import redis

        try:
            return fn(*args, **kwargs)
        except redis.RedisError as exc:
            raise Unavailable(f"Registro de orçamentos (Redis) indisponível: {exc}",
                              hint="Confira REDIS__URL e /readyz; repita a mesma requisição depois.") from exc

    def _quote_key(self, quote_id: str) -> str:
        return f"{self._prefix}quote:{quote_id}"

    def _idem_key(self, key: str) -> str:
        return f"{self._prefix}idem:{key}"

    # -- records ------------------------------------------------------------------

    def save(self, quote: DraftQuote) -> None:
        pipe = self._redis.pipeline()
        pipe.set(self._quote_key(quote.id), quote.model_dump_json())
        pipe.sadd(f"{self._prefix}quotes", quote.id)
        self._call(pipe.execute)

    def get(self, quote_id: str) -> DraftQuote:
        raw = self._call(self._redis.get, self._quote_key(quote_id))
        if raw is None:
            raise NotFound(f"Orçamento '{quote_id}' não encontrado.", hint="Confira o id devolvido por POST /v1/quotes.")
        return DraftQuote.model_validate_json(raw)

    def count(self) -> int:
        return int(self._call(self._redis.scard, f"{self._prefix}quotes"))

    # -- idempotency ----------------------------------------------------------------

    def claim(self, key: str, request_hash: str) -> str | None:
        """``None`` when this caller now owns ``key``; the quote id when it was already used."""
        token = uuid.uuid4().hex
        claim = json.dumps({"hash": request_hash, "quote_id": None, "owner": token})
        if self._call(self._redis.set, self._idem_key(key), claim, nx=True, ex=self.lease_s):
            self._owners[key] = (token, request_hash)
            return None
        return self.wait(key, request_hash)

    def wait(self, key: str, request_hash: str, timeout_s: float = 30.0) -> str | None:
        deadline = time.monotonic() + timeout_s
        delay = 0.02
        while True:
            raw = self._call(self._redis.get, self._idem_key(key))
            if raw is None:  # released after a failure, or the lease ran out: try to own it
                return self.claim(key, request_hash)
            claim = json.loads(raw)
            if claim["hash"] != request_hash:
                raise Conflict(_KEY_REUSED[0], hint=_KEY_REUSED[1])
            if claim["quote_id"] is not None:
                return claim["quote_id"]
            if time.monotonic() > deadline:
                raise Conflict(_STILL_CREATING[0], hint=_STILL_CREATING[1])
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def complete(self, key: str, quote_id: str) -> None:
        token, request_hash = self._owners.pop(key, ("", ""))
        done = json.dumps({"hash": request_hash, "quote_id": quote_id, "owner": token})
        self._call(self._complete, keys=[self._idem_key(key)], args=[token, done, self.keep_s])

    def release(self, key: str) -> None:
        token, _ = self._owners.pop(key, ("", ""))
        self._call(self._release, keys=[self._idem_key(key)], args=[token])

    def close(self) -> None:
        self._redis.close()


def make_quote_records(settings) -> QuoteRecordStore | RedisQuoteRecordStore:
    """Redis when ``REDIS__URL`` is set (shared by replicas), else the local SQLite file."""
    if settings.redis.url:
        return RedisQuoteRecordStore(settings.redis.url)
    return QuoteRecordStore(settings.commerce.quotes_db_path)
