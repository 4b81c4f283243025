"""docker-compose.yml cannot run here (no Docker engine), so validate what it promises."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_has_the_four_services_with_healthchecks(compose):
    services = compose["services"]
    for name in ("api", "redis", "qdrant", "ollama"):
        assert name in services, f"service {name} missing"
        check = services[name].get("healthcheck", {})
        assert check.get("test"), f"{name} has no healthcheck"


def test_ports_are_the_documented_ones(compose):
    ports = {name: [str(p).split(":")[-1] for p in svc.get("ports", [])] for name, svc in compose["services"].items()}
    assert "8000" in ports["api"]
    assert "6379" in ports["redis"]
    assert "6333" in ports["qdrant"]
    assert "11434" in ports["ollama"]


def test_named_volumes_are_declared(compose):
    declared = set(compose.get("volumes", {}))
    for name, svc in compose["services"].items():
        for vol in svc.get("volumes", []):
            source = vol.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_api_waits_for_healthy_dependencies(compose):
    depends = compose["services"]["api"]["depends_on"]
    for dep in ("redis", "qdrant", "ollama"):
        assert depends[dep]["condition"] == "service_healthy"


def _settings_env_names() -> set[str]:
    names = set()
    for field, info in Settings.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and hasattr(sub, "model_fields"):
            names |= {f"{field}__{f}".upper() for f in sub.model_fields}
        else:
            names.add(field.upper())
    return names


def test_api_environment_matches_settings(compose, monkeypatch):
    env = compose["services"]["api"]["environment"]
    known = _settings_env_names() | {"HF_HUB_OFFLINE"}
    unknown = set(env) - known
    assert not unknown, f"env names the settings do not read: {unknown}"
    # And the values actually land where the app reads them.
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    settings = Settings(_env_file=None)
    assert settings.redis.url == "redis://redis:6379/0"
    assert settings.qdrant.url == "http://qdrant:6333"
    assert settings.llm.backend == "ollama"
    assert settings.llm.ollama_url == "http://ollama:11434"


def test_ollama_init_builds_the_model_the_api_asks_for(compose):
    init = compose["services"]["ollama-init"]
    assert "create" in init["entrypoint"] and compose["services"]["api"]["environment"]["LLM__OLLAMA_MODEL"] in init["entrypoint"]
    assert any("Modelfile" in v for v in init["volumes"])
