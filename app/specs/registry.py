"""The spec registry: shipped rows (``data/specs/*.csv``) overlaid by rows YSH engineers
import (``helio specs import``, ``POST /v1/admin/specs``), kept in a small SQLite file.

An imported row replaces the shipped row of the same category + manufacturer + model. The
registry's fingerprint (sha256 of its rows) enters the sizing id, so a corrected spec gives
new sizings instead of stale cached ones.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.core.errors import InvalidInput
from app.specs.match import alternatives, match_strength, tokens
from app.specs.models import CATEGORIES, SpecRow
from app.specs.validate import RowError, parse_csv

SEED_FILES = {"module": "modules.csv", "string_inverter": "string_inverters.csv", "microinverter": "microinverters.csv"}
POWER_TOLERANCE = 0.01  # a matched module must have the catalog line's power within 1 %


@dataclass(frozen=True)
class Lookup:
    row: SpecRow | None
    reason: str | None = None  # why nothing was matched (Portuguese)


def _raise_errors(errors: list[RowError], what: str) -> None:
    shown = "; ".join(str(e) for e in errors[:10])
    more = f" (e mais {len(errors) - 10})" if len(errors) > 10 else ""
    raise InvalidInput(f"{what}: {len(errors)} problema(s) — {shown}{more}.",
                       hint="Corrija as linhas indicadas e envie de novo; nada foi gravado.",
                       errors=[{"line": e.line, "field": e.field, "message": e.message} for e in errors[:200]])


def load_seed(spec_dir: Path) -> list[SpecRow]:
    """The shipped rows; a broken shipped file is a bug, so it raises with the lines."""
    rows: list[SpecRow] = []
    for category, name in SEED_FILES.items():
        path = spec_dir / name
        if not path.exists():
            continue
        parsed, errors = parse_csv(path.read_text(encoding="utf-8"))
        if errors:
            _raise_errors(errors, f"Registro de specs {path}")
        rows += [r for r in parsed if r.category == category]
    return rows


class SpecOverrides:
    """Imported rows in SQLite (``var/specs.sqlite3``): one row per key, last import wins."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path)) as conn, conn:
            conn.execute("CREATE TABLE IF NOT EXISTS spec_rows (category TEXT, manufacturer TEXT, model TEXT, "
                         "data TEXT NOT NULL, imported_at TEXT NOT NULL, imported_by TEXT, "
                         "PRIMARY KEY (category, manufacturer, model))")

    def upsert(self, rows: Iterable[SpecRow], imported_by: str | None) -> int:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        n = 0
        with closing(sqlite3.connect(self.path, timeout=30)) as conn, conn:
            for r in rows:
                conn.execute("INSERT OR REPLACE INTO spec_rows VALUES (?,?,?,?,?,?)",
                             (*r.key, r.model_dump_json(), now, imported_by))
                n += 1
        return n

    def rows(self) -> list[SpecRow]:
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            data = conn.execute("SELECT data FROM spec_rows ORDER BY category, manufacturer, model").fetchall()
        return [SpecRow.model_validate_json(d) for (d,) in data]


class SpecRegistry:
    """Shipped rows + imported overrides, with catalog matching. Thread-safe reload."""

    def __init__(self, seed: list[SpecRow], overrides: SpecOverrides | None = None) -> None:
        self._seed = seed
        self.overrides = overrides
        self._lock = threading.Lock()
        self._build()

    def _build(self) -> None:
        by_key = {r.key: r for r in self._seed}
        imported = self.overrides.rows() if self.overrides else []
        by_key.update({r.key: r for r in imported})
        rows = sorted(by_key.values(), key=lambda r: r.key)
        compiled = [(r, alternatives(r.match, r.manufacturer, r.model)) for r in rows]
        digest = hashlib.sha256(json.dumps([r.model_dump(mode="json") for r in rows], sort_keys=True).encode())
        with self._lock:
            self.rows, self._compiled, self.imported_count = rows, compiled, len(imported)
            self._fingerprint = digest.hexdigest()

    def fingerprint(self) -> str:
        return self._fingerprint

    def import_csv(self, content: str, imported_by: str | None = None) -> list[SpecRow]:
        """Validate a whole CSV and store it; InvalidInput (422) naming line and field otherwise."""
        rows, errors = parse_csv(content)
        if errors:
            _raise_errors(errors, "Specs rejeitadas")
        if not rows:
            raise InvalidInput("Nenhuma linha de specs no arquivo.", hint="Use o cabeçalho de data/specs/modules.csv.")
        return self.store(rows, imported_by)

    def store(self, rows: list[SpecRow], imported_by: str | None = None) -> list[SpecRow]:
        if self.overrides is None:
            raise InvalidInput("Registro de specs sem armazenamento de importações.", hint="Configure o var/.")
        self.overrides.upsert(rows, imported_by)
        self._build()
        return rows

    def lookup(self, categories: Iterable[str], text: str, power_w: float | None = None) -> Lookup:
        """The row whose ``match`` is found in ``text`` (most specific wins; a tie is no match)."""
        cats = set(categories)
        toks = tokens(text)
        scored: list[tuple[int, SpecRow]] = []
        power_mismatch: SpecRow | None = None
        for row, alts in self._compiled:
            if row.category not in cats:
                continue
            strength = match_strength(toks, alts)
            if not strength:
                continue
            ref = row.pmax_w if row.category == "module" else None
            if ref and power_w and abs(ref - power_w) > POWER_TOLERANCE * ref:
                power_mismatch = row
                continue
            scored.append((strength, row))
        if not scored:
            if power_mismatch is not None:
                return Lookup(None, f"{power_mismatch.label()} está no registro com outra potência")
            return Lookup(None, "modelo não está no registro de specs")
        scored.sort(key=lambda x: -x[0])
        if len(scored) > 1 and scored[0][0] == scored[1][0] and scored[0][1].key != scored[1][1].key:
            return Lookup(None, f"ambíguo no registro ({scored[0][1].label()} ou {scored[1][1].label()})")
        return Lookup(scored[0][1])

    def counts(self) -> dict[str, int]:
        return {c: sum(1 for r in self.rows if r.category == c) for c in CATEGORIES}


def open_registry(spec_dir: Path, overrides_path: Path | None) -> SpecRegistry:
    """The registry a process serves: shipped rows from ``spec_dir`` + imports at ``overrides_path``."""
    return SpecRegistry(load_seed(spec_dir), SpecOverrides(overrides_path) if overrides_path else None)


def make_spec_registry(settings) -> SpecRegistry:
    """From settings: shipped rows in ``<data_dir>/specs``, imports in ``<var_dir>/specs.sqlite3``."""
    return open_registry(Path(settings.data_dir) / "specs", Path(settings.var_dir) / "specs.sqlite3")
