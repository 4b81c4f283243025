"""``helio serve --workers 2``: two real uvicorn worker processes; whichever worker answers
a scrape, /metrics counts the requests of both (prometheus_client multiprocess mode)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from test_metrics import samples, value

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_several_workers_need_redis(monkeypatch, tmp_path):
    from cli.root import build_cli
    from app.core.settings import get_settings

    monkeypatch.delenv("REDIS__URL", raising=False)
    monkeypatch.setenv("CATALOG__DB_PATH", str(tmp_path / "catalog.sqlite3"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(build_cli(), ["serve", "--workers", "2", "--no-ingest-if-empty"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "REDIS__URL" in result.output


@pytest.mark.redis
@pytest.mark.slow
def test_metrics_merge_every_worker(redis_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ENV": "test", "REDIS__URL": redis_url,
           "VAR_DIR": str(tmp_path / "var"), "CATALOG__DB_PATH": str(tmp_path / "catalog.sqlite3"),
           "AUTH__DB_PATH": str(tmp_path / "auth.sqlite3"), "QDRANT__EDGE_PATH": str(tmp_path / "edge"),
           "QDRANT__PATH": str(tmp_path / "qdrant"), "EMBEDDING__PRELOAD": "false",
           "LLM__BACKEND": "ollama", "LLM__OLLAMA_URL": "http://127.0.0.1:9"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--workers", "2", "--port", str(port),
                             "--no-ingest-if-empty"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "helio serve não subiu em 120 s"
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        # New connections each time, so the kernel spreads them over both workers.
        for _ in range(40):
            with httpx.Client(base_url=base, timeout=10) as c:
                assert c.get("/healthz").status_code == 200
        def healthz_count() -> float:
            with httpx.Client(base_url=base, timeout=10) as c:
                text = c.get("/metrics").text
            return value(samples(text), "helio_http_requests_total", method="GET", route="/healthz", status="200")

        # A worker records a request just after its last byte: let the last one land.
        settle = time.monotonic() + 5
        while healthz_count() != 41 and time.monotonic() < settle:
            time.sleep(0.1)
        # The startup probe that succeeded plus our 40, whichever worker answers the scrape.
        assert [healthz_count() for _ in range(6)] == [41] * 6
        worker_files = {p.name.rsplit("_", 1)[-1] for p in (tmp_path / "var" / "prometheus").glob("counter_*.db")}
        assert len(worker_files) >= 2, f"só um processo respondeu: {worker_files}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
