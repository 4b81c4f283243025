"""Shared fixtures. Real services only: a real redis-server is started for the session
(or REDIS_TEST_URL is used); a missing redis-server fails loudly instead of skipping."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
# Apps built with default settings must not open (and lock) the developer's own embedded
# index in var/: point the vector store at a throwaway folder for the test session.
_TEST_VAR = tempfile.mkdtemp(prefix="helio-tests-")
os.environ.setdefault("QDRANT__PATH", os.path.join(_TEST_VAR, "qdrant"))
os.environ.setdefault("QDRANT__EDGE_PATH", os.path.join(_TEST_VAR, "qdrant-edge"))
# Apps built by tests load the embedding model only when a test searches (the fast tier
# never loads a model); the API warms it at start-up in production.
os.environ.setdefault("EMBEDDING__PRELOAD", "false")

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis: REDIS_TEST_URL, or a redis-server started here."""
    if url := os.environ.get("REDIS_TEST_URL"):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server não encontrado: rode 'bash scripts/ensure-redis.sh' (ou 'make test')")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server não subiu em 10 s")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass(frozen=True)
class IngestedCatalog:
    """The real export (data/catalog) cleaned into SQLite once per session: ``db``, the
    ``reports`` folder, the ingest ``report`` and the progress ``stages`` it went through.

    Tests read it as is; a test that writes to the catalog takes :meth:`copy`.
    """

    db: Path
    reports: Path
    report: object  # ingest.catalog.report.CatalogReport
    stages: tuple[str, ...]

    def copy(self, folder: Path) -> Path:
        """A private copy of the store (and its reports) in ``folder``; returns the db path."""
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.reports, folder / "reports", dirs_exist_ok=True)
        for part in self.db.parent.glob(self.db.name + "*"):  # the db and any WAL left beside it
            shutil.copy2(part, folder / part.name)
        return folder / self.db.name


@pytest.fixture(scope="session")
def real_catalog(tmp_path_factory) -> IngestedCatalog:
    """One ingest of the real catalog export for the whole session (about a second each)."""
    from app.catalog.store import SQLiteCatalogStore
    from ingest.catalog.pipeline import run_catalog_ingest

    tmp = tmp_path_factory.mktemp("real-catalog")
    stages: list[str] = []
    report = run_catalog_ingest(ROOT / "data" / "catalog", SQLiteCatalogStore(tmp / "catalog.sqlite3"),
                                tmp / "reports", progress=lambda stage, done, total: stages.append(stage))
    return IngestedCatalog(tmp / "catalog.sqlite3", tmp / "reports", report, tuple(stages))
