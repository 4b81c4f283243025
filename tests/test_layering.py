"""Domain packages never import FastAPI/Starlette or LangChain (house rule 3): the API and the
agent are adapters around them. Checked in a fresh interpreter that imports every module.

The command line (cli/) and the ingest pipelines (ingest/) sit on top of app/: app never imports them."""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ("app.auth", "app.catalog", "app.commerce", "app.core", "app.financing", "app.quotes", "app.retrieval",
          "app.sizing", "app.specs")
ADAPTERS = ("fastapi", "starlette", "langchain", "langchain_core")

_PROBE = """
import importlib, json, pkgutil, sys
found = {}
for name in sys.argv[1:]:
    package = importlib.import_module(name)
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        before = {m for m in ("fastapi", "starlette", "langchain", "langchain_core") if m in sys.modules}
        importlib.import_module(info.name)
        after = {m for m in ("fastapi", "starlette", "langchain", "langchain_core") if m in sys.modules}
        if after - before:
            found[info.name] = sorted(after - before)
print(json.dumps(found))
"""


@pytest.mark.slow  # a fresh interpreter importing every domain module (pvlib, qdrant-client…): seconds
def test_domain_packages_import_no_web_framework_and_no_langchain():
    out = subprocess.run([sys.executable, "-c", _PROBE, *DOMAIN], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    assert json.loads(out.stdout) == {}, f"módulos de domínio importam {ADAPTERS}: {out.stdout}"


_WATCHED = re.compile(r"\b(?:import|from)\s+(?:cli|ingest|fastapi|starlette|langchain)")


@functools.cache
def _imports(path: Path) -> frozenset[str]:
    """Every absolute module a file imports, at the top or inside a function."""
    text = path.read_text(encoding="utf-8")
    found: set[str] = set()
    if not _WATCHED.search(text):  # parsing all of app/ costs about a second; most files import none of these
        return frozenset()
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return frozenset(found)


def _app_importers(*roots: str) -> dict[str, list[str]]:
    """``{file under app/: [modules it imports from the given top-level packages]}``."""
    hits: dict[str, list[str]] = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        bad = sorted(m for m in _imports(path) if m.split(".")[0] in roots)
        if bad:
            hits[path.relative_to(ROOT).as_posix()] = bad
    return hits


# The API's own composition root fills an empty embedded index on first start (issue #11 follow-up:
# hand it the indexer instead). Nothing else under app/ may reach into ingest/.
INGEST_ALLOWED = {"app/main.py": ["ingest.knowledge.background"]}


def test_the_command_line_lives_outside_app_and_app_never_imports_it():
    assert not (ROOT / "app" / "cli").exists(), "a linha de comando mora em cli/, fora do pacote app"
    assert (ROOT / "cli" / "__main__.py").exists()
    assert _app_importers("cli") == {}


def test_app_does_not_import_the_ingest_pipelines():
    assert _app_importers("ingest") == INGEST_ALLOWED


def test_the_auth_package_imports_no_web_framework():
    hits = {path.name: sorted(m for m in _imports(path) if m.split(".")[0] in ADAPTERS)
            for path in (ROOT / "app" / "auth").rglob("*.py")}
    assert {name: mods for name, mods in hits.items() if mods} == {}
    assert not (ROOT / "app" / "auth" / "deps.py").exists()  # the FastAPI dependencies are in app/api/auth.py


@pytest.mark.slow  # a fresh interpreter loading the whole command line
def test_python_dash_m_cli_runs_the_helio_command():
    out = subprocess.run([sys.executable, "-m", "cli", "--help"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert "Usage:" in out.stdout and "ingest" in out.stdout and "serve" in out.stdout
