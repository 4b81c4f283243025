"""SQLite catalog store: each product as JSON plus indexed columns and a free-text index.

- Reads: one connection per thread, kept open (opening one costs ~0.5 ms, more than a
  read), so FastAPI worker threads never share one; autocommit, so each read sees the last
  committed catalog, also one another process wrote. Writes: a connection of their own, so
  a read during a write (a product iterable that reads the store) sees the old catalog.
- WAL journal: readers keep serving the old catalog while :meth:`replace_all` writes.
- ``replace_all`` runs in one transaction: if the product iterable raises half-way, the
  transaction is rolled back and the previous catalog is still there.
- Every write recomputes the catalog's content fingerprint in the same transaction and
  keeps it in ``meta``, so :meth:`fingerprint` is one indexed read (caches key on it).
- Free text uses FTS5 (``unicode61 remove_diacritics 2``) over an accent-folded copy of
  name/model/manufacturer/description, so "trifasico" finds "Trifásico"; without FTS5 it
  falls back to ``LIKE`` on the same folded text.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from app.catalog.models import Category, Product, ProductPage, ProductQuery
from app.core.text import fold

_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    subtype TEXT,
    manufacturer TEXT,
    manufacturer_fold TEXT,
    power_w REAL,
    phase TEXT,
    price_brl REAL,
    in_stock INTEGER NOT NULL,
    search_text TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_products_category ON products(category, subtype);
CREATE INDEX IF NOT EXISTS ix_products_power ON products(power_w);
CREATE INDEX IF NOT EXISTS ix_products_price ON products(price_brl);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_FTS = "CREATE VIRTUAL TABLE IF NOT EXISTS products_fts USING fts5(id UNINDEXED, search_text, " \
       "tokenize='unicode61 remove_diacritics 2')"


def _subtype(p: Product) -> str | None:
    if p.inverter and p.inverter.inverter_type:
        return p.inverter.inverter_type.value
    if p.structure and p.structure.roof_type:
        return p.structure.roof_type.value
    return None


def _search_text(p: Product) -> str:
    parts = [p.name, p.model or "", p.manufacturer or "", p.description or "", p.category.value]
    parts += [c.description for c in p.components]
    return fold(" ".join(parts))


class SQLiteCatalogStore:
    """:class:`~app.catalog.repository.CatalogRepository` on one SQLite file at ``path``."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._memo: dict[str | None, tuple[str, list[Product]]] = {}
        self._memo_lock = threading.Lock()
        self._local = threading.local()
        self._pages: dict[str, tuple[str, bytes]] = {}
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            try:
                conn.execute(_FTS)
                self.has_fts = True
            except sqlite3.OperationalError:  # SQLite built without FTS5
                self.has_fts = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
            yield conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:  # closed when its thread ends (the thread-local is dropped)
            conn = self._local.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        return conn

    # -- writes ---------------------------------------------------------------

    def _write(self, conn: sqlite3.Connection, products: Iterable[Product]) -> int:
        n = 0
        for p in products:
            conn.execute(
                "INSERT OR REPLACE INTO products VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (p.id, p.category.value, _subtype(p), p.manufacturer, fold(p.manufacturer or ""), p.power_w,
                 p.phase.value if p.phase else None, p.price_brl, int(p.in_stock), _search_text(p),
                 p.model_dump_json()),
            )
            if self.has_fts:
                conn.execute("DELETE FROM products_fts WHERE id = ?", (p.id,))
                conn.execute("INSERT INTO products_fts(id, search_text) VALUES (?, ?)", (p.id, _search_text(p)))
            n += 1
        return n

    @staticmethod
    def _store_fingerprint(conn: sqlite3.Connection) -> str:
        # Over each product's full JSON (price, stock, offers, specs) in id order: any change
        # a sizing or a quote could see changes it; the same export re-ingested does not.
        h = hashlib.sha256()
        for pid, data in conn.execute("SELECT id, data FROM products ORDER BY id"):
            h.update(pid.encode())
            h.update(b"\x00")
            h.update(data.encode())
            h.update(b"\x00")
        value = h.hexdigest()
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('fingerprint', ?)", (value,))
        return value

    def replace_all(self, products: Iterable[Product]) -> int:
        """Atomically replace the whole catalog; on any error the old one stays."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM products")
                if self.has_fts:
                    conn.execute("DELETE FROM products_fts")
                n = self._write(conn, products)
                self._store_fingerprint(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return n

    def upsert(self, products: Iterable[Product]) -> int:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                n = self._write(conn, products)
                self._store_fingerprint(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return n

    # -- reads ----------------------------------------------------------------

    def fingerprint(self) -> str:
        """sha256 [hex] of the catalog's content, as of the last write (cheap: one row read).

        A store written before fingerprints existed gets one computed and kept on first call.
        """
        row = self._reader().execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
        if row:
            return row[0]
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                value = self._store_fingerprint(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return value

    def get(self, product_id: str) -> Product | None:
        row = self._reader().execute("SELECT data FROM products WHERE id = ?", (product_id,)).fetchone()
        return Product.model_validate_json(row[0]) if row else None

    def count(self, category: Category | None = None) -> int:
        conn = self._reader()
        if category is None:
            return conn.execute("SELECT count(*) FROM products").fetchone()[0]
        return conn.execute("SELECT count(*) FROM products WHERE category = ?", (category.value,)).fetchone()[0]

    def iter_products(self, category: Category | None = None) -> Iterator[Product]:
        """Products in id order. Treat them as read-only: parsed lists are memoised per
        catalog fingerprint, since every sizing scans the stock (parsing 682 rows ≈ 60 ms)."""
        fingerprint = self.fingerprint()
        key = category.value if category is not None else None
        with self._memo_lock:
            memo = self._memo.get(key)
        if memo is None or memo[0] != fingerprint:
            sql, args = "SELECT data FROM products", ()
            if category is not None:
                sql, args = sql + " WHERE category = ?", (category.value,)
            rows = self._reader().execute(sql + " ORDER BY id", args).fetchall()
            memo = (fingerprint, [Product.model_validate_json(data) for (data,) in rows])
            with self._memo_lock:
                self._memo[key] = memo
        return iter(memo[1])

    def search_json(self, query: ProductQuery) -> bytes:
        """:meth:`search` as its JSON, memoised per catalog fingerprint: a storefront asks for
        the same pages over and over, and parsing + dumping a 20-product page costs ~1 ms
        more than the query. The newest 256 pages are kept."""
        kept = self.kept_search_json(query)
        if kept is not None:
            return kept
        key = query.model_dump_json()
        fingerprint = self.fingerprint()
        body = self.search(query).model_dump_json().encode()
        with self._memo_lock:
            if key not in self._pages and len(self._pages) >= 256:
                self._pages.pop(next(iter(self._pages)))
            self._pages[key] = (fingerprint, body)
        return body

    def kept_search_json(self, query: ProductQuery) -> bytes | None:
        """The memoised page of :meth:`search_json` if it is current, else None (no search).
        A dict lookup and one indexed SQLite row (the fingerprint), ~20 µs: the API calls it
        on the event loop and sends only a miss to a worker thread."""
        key = query.model_dump_json()
        fingerprint = self.fingerprint()
        with self._memo_lock:
            kept = self._pages.get(key)
        return kept[1] if kept is not None and kept[0] == fingerprint else None

    def _where(self, q: ProductQuery) -> tuple[str, list[object]]:
        clauses: list[str] = []
        args: list[object] = []
        if q.category is not None:
            clauses.append("category = ?")
            args.append(q.category.value)
        if q.subtype:
            clauses.append("subtype = ?")
            args.append(q.subtype)
        if q.manufacturer:
            clauses.append("manufacturer_fold = ?")
            args.append(fold(q.manufacturer.strip()))
        for col, op, val in (("power_w", ">=", q.min_power_w), ("power_w", "<=", q.max_power_w),
                             ("price_brl", ">=", q.min_price_brl), ("price_brl", "<=", q.max_price_brl)):
            if val is not None:
                clauses.append(f"{col} {op} ?")
                args.append(val)
        # Battery specs live in the product JSON: few rows, no column needed.
        for path, op, val in (("$.battery.capacity_kwh", ">=", q.min_capacity_kwh),
                              ("$.battery.capacity_kwh", "<=", q.max_capacity_kwh),
                              ("$.battery.nominal_voltage_v", ">=", q.min_voltage_v),
                              ("$.battery.nominal_voltage_v", "<=", q.max_voltage_v)):
            if val is not None:
                clauses.append(f"json_extract(data, '{path}') {op} ?")
                args.append(val)
        if q.phase is not None:
            clauses.append("phase = ?")
            args.append(q.phase.value)
        if q.in_stock is not None:
            clauses.append("in_stock = ?")
            args.append(int(q.in_stock))
        tokens = re.findall(r"\w+", fold(q.q or ""))
        if tokens:
            if self.has_fts:
                match = " ".join(f'"{t}"*' for t in tokens)
                clauses.append("id IN (SELECT id FROM products_fts WHERE products_fts MATCH ?)")
                args.append(match)
            else:
                for t in tokens:
                    clauses.append("search_text LIKE ?")
                    args.append(f"%{t}%")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def search(self, query: ProductQuery) -> ProductPage:
        """Filtered page ordered by price (unknown prices last), then id; ``total`` ignores paging."""
        where, args = self._where(query)
        limit, offset = max(0, query.limit), max(0, query.offset)
        conn = self._reader()
        total = conn.execute(f"SELECT count(*) FROM products{where}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT data FROM products{where} ORDER BY price_brl IS NULL, price_brl, id LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return ProductPage(items=[Product.model_validate_json(r[0]) for r in rows], total=total, limit=limit,
                           offset=offset)
