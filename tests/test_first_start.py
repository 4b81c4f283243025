"""A first start serves at once: the embedded knowledge index is built in the API process,
in the background, while /readyz reports its progress and the chat answers without
passages and says so; once built, searches use it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

DOC = """# Custo de disponibilidade

## Mínimo faturável

Consumidores trifásicos pagam no mínimo 100 kWh por mês de custo de disponibilidade,
bifásicos 50 kWh e monofásicos 30 kWh (REN ANEEL 1.000/2021, art. 291).
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fresh_serve_answers_chat_within_60_s_while_indexing(tmp_path):
    """`helio serve` on empty stores: the catalog is ingested, then the API answers at once;
    the knowledge index fills in the background (not awaited here: minutes on a slow CPU)."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ENV": "test", "VAR_DIR": str(tmp_path / "var"),
           "CATALOG__DB_PATH": str(tmp_path / "catalog.sqlite3"), "CATALOG__REPORT_DIR": str(tmp_path / "reports"),
           "COMMERCE__DB_PATH": str(tmp_path / "commerce.sqlite3"), "AUTH__DB_PATH": str(tmp_path / "auth.sqlite3"),
           "QDRANT__EDGE_PATH": str(tmp_path / "edge"), "QDRANT__PATH": str(tmp_path / "qdrant"),
           "LLM__BACKEND": "ollama", "LLM__OLLAMA_URL": "http://127.0.0.1:9"}
    for name in ("REDIS__URL", "PROMETHEUS_MULTIPROC_DIR", "EMBEDDING__PRELOAD", "KNOWLEDGE__BUILD_IN_BACKGROUND"):
        env.pop(name, None)
    started = time.monotonic()
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() - started < 60, "a API não respondeu /v1/chat em 60 s"
            try:
                r = httpx.post(base + "/v1/chat", json={"message": "oi", "stream": False}, timeout=10)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        first_answer_s = time.monotonic() - started
        ready = httpx.get(base + "/readyz", timeout=10).json()
        vector = ready["dependencies"]["vector_store"]
        assert vector["status"] == "degraded" and "segundo plano" in vector["detail"], vector
        assert ready["dependencies"]["catalog"]["status"] == "ok"
        turn = httpx.post(base + "/v1/chat", timeout=30, json={
            "message": "O que diz a Lei 14.300 sobre o Fio B?", "stream": False}).json()
        assert turn["degraded"] is True and any(r.startswith("knowledge") for r in turn["degraded_reasons"])
        assert "base de conhecimento" in json.dumps(turn, ensure_ascii=False).lower()
        print(f"first /v1/chat answer {first_answer_s:.1f} s after start; index: {vector['detail']}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_background_index_serves_searches_once_built(tmp_path):
    source = tmp_path / "knowledge"
    (source / "regulation").mkdir(parents=True)
    (source / "regulation" / "custo-de-disponibilidade.md").write_text(DOC, encoding="utf-8")
    settings = Settings(_env_file=None, env="test", catalog={"db_path": tmp_path / "catalog.sqlite3",
                                                             "report_dir": tmp_path / "reports"},
                        qdrant={"edge_path": tmp_path / "edge", "path": tmp_path / "qdrant"},
                        knowledge={"source_dir": source, "build_in_background": True},
                        embedding={"preload": False}, auth={"db_path": tmp_path / "auth.sqlite3"})
    app = create_app(settings)
    with TestClient(app) as client:
        searcher = app.state.searcher
        assert getattr(searcher, "building", None) is not None, "o índice vazio deveria ser montado em segundo plano"
        early = client.post("/v1/search", json={"query": "custo de disponibilidade trifásico"})
        if searcher.building:  # usually: the model is still loading
            assert early.status_code == 503 and early.json()["error"]["hint"]
        assert searcher.wait(120), "índice não ficou pronto em 120 s"
        ready = client.get("/readyz").json()["dependencies"]["vector_store"]
        assert ready["status"] == "ok" and "trechos indexados" in ready["detail"], ready
        hits = client.post("/v1/search", json={"query": "custo de disponibilidade trifásico"}).json()["hits"]
        assert hits and "100 kWh" in hits[0]["text"]
