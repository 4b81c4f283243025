"""Hélio's quote records and ``Idempotency-Key`` claims, in SQLite.

Idempotency: the first request with a key *claims* it (``INSERT`` on a primary key, so
exactly one concurrent request wins), creates the quote and *completes* the claim with the
quote id. Any other request with the same key gets that quote; one that arrives while the
first is still working waits for it. A key reused with a different body is a conflict. A
failed creation releases its claim so the client may retry.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from app.core.errors import Conflict, NotFound
from app.quotes.models import DraftQuote

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
                raise Conflict("Idempotency-Key já usada com outro conteúdo.",
                               hint="Use uma chave nova para um orçamento diferente.")
            if row[1] is not None:
                return row[1]
            if time.monotonic() > deadline:
                raise Conflict("Um orçamento com esta Idempotency-Key ainda está sendo criado.",
                               hint="Repita a mesma requisição em alguns segundos.")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def complete(self, key: str, quote_id: str) -> None:
        with self._connect() as conn:
            conn.execute("UPDATE idempotency_keys SET quote_id = ? WHERE key = ?", (quote_id, key))

    def release(self, key: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE key = ? AND quote_id IS NULL", (key,))
