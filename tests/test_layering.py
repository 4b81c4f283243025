"""Domain packages never import FastAPI/Starlette or LangChain (house rule 3): the API and the
agent are adapters around them. Checked in a fresh interpreter that imports every module."""

from __future__ import annotations

import json
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


def test_the_auth_package_keeps_its_old_import_path_without_fastapi():
    code = ("import sys, app.auth.deps as d; assert 'fastapi' not in sys.modules; "
            "print(d.make_key_store.__module__, d.require_role.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["app.auth.keys", "app.api.auth"]
