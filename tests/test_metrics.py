"""GET /metrics: what an operator reads after real requests through the real app, and a
Prometheus config / exposition that Prometheus' own checker (promtool) accepts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.core.settings import Settings
from app.main import create_app
from test_agent_support import make_assistant

ROOT = Path(__file__).resolve().parents[1]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(snapshot: dict, name: str, **labels: str) -> float:
    return snapshot.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def client(tmp_path):
    settings = Settings(_env_file=None, env="test", catalog={"db_path": tmp_path / "catalog.sqlite3"},
                        auth={"db_path": tmp_path / "auth.sqlite3", "pepper": "p"})
    app = create_app(settings)
    with TestClient(app) as c:
        app.state.assistant = make_assistant()  # scripted model, fake sizing: fast and deterministic
        yield c


@pytest.mark.slow  # the whole app (create_app and its lifespan): integration tier
def test_requests_turns_tools_and_cache_are_counted(client):
    before = samples(client.get("/metrics").text)
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/products/nao-existe").status_code == 404
    assert client.get("/v1/products/outro-que-nao-existe").status_code == 404
    r = client.post("/v1/chat", json={"conversation_id": "m-1", "stream": False,
                                      "message": "Cliente em Uberlândia-MG, 650 kWh/mês, trifásico"})
    assert r.status_code == 200
    body = client.get("/metrics")
    assert body.headers["content-type"].startswith("text/plain")
    after = samples(body.text)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("helio_http_requests_total", method="GET", route="/healthz", status="200") == 1
    # Routes by template: two different ids are one series, not two.
    assert delta("helio_http_requests_total", method="GET", route="/v1/products/{product_id}", status="404") == 2
    assert delta("helio_http_request_duration_seconds_count", method="GET", route="/healthz") == 1
    assert delta("helio_http_request_duration_seconds_bucket", method="GET", route="/healthz", le="+Inf") == 1
    assert delta("helio_http_requests_total", method="POST", route="/v1/chat", status="200") == 1
    intent = r.json()["intent"]
    assert delta("helio_chat_turns_total", intent=intent, degraded="false") == 1
    assert delta("helio_tool_calls_total", tool="size_pv_system", via="chat", outcome="ok") == 1
    # A new conversation is a cache miss; its next turn reads it back: a hit.
    assert delta("helio_cache_lookups_total", family="conv", result="miss") >= 1
    assert delta("helio_cache_lookups_total", family="conv", result="hit") == 0
    client.post("/v1/chat", json={"conversation_id": "m-1", "stream": False, "message": "obrigado"})
    again = samples(client.get("/metrics").text)
    assert value(again, "helio_cache_lookups_total", family="conv", result="hit") > \
        value(after, "helio_cache_lookups_total", family="conv", result="hit")


@pytest.mark.slow
def test_failed_tool_calls_are_counted_by_code(client):
    runner = client.app.state.assistant.runner
    before = samples(client.get("/metrics").text)
    outcome = runner.run("get_product", {"product_id": "nao-existe"})
    assert not outcome.ok
    after = samples(client.get("/metrics").text)
    labels = dict(tool="get_product", via="chat", outcome="error")
    assert value(after, "helio_tool_calls_total", **labels) - value(before, "helio_tool_calls_total", **labels) == 1
    code = dict(tool="get_product", code=outcome.error_code)
    assert value(after, "helio_tool_errors_total", **code) - value(before, "helio_tool_errors_total", **code) == 1


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool não encontrado: rode 'bash scripts/ensure-promtool.sh'")
    return path


@pytest.mark.promtool
def test_prometheus_config_passes_promtool():
    config = ROOT / "deploy" / "prometheus" / "prometheus.yml"
    run = subprocess.run([_promtool(), "check", "config", str(config)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 rule files found" in run.stdout + run.stderr


@pytest.mark.promtool
def test_exposition_passes_promtool_lint(client):
    client.get("/healthz")
    text = client.get("/metrics").text
    run = subprocess.run([_promtool(), "check", "metrics"], input=text, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_compose_scrapes_the_api():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    prom = compose["services"]["prometheus"]
    assert any(v.startswith("./deploy/prometheus:") for v in prom["volumes"])
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "helio-api")
    assert job["metrics_path"] == "/metrics"
    assert job["dns_sd_configs"][0]["names"] == ["api"] and job["dns_sd_configs"][0]["port"] == 8000

