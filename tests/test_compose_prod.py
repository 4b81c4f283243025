"""docker-compose.yml's "prod" profile (Keycloak, Redis + Sentinel, NGINX, Jaeger): no Docker
engine here, so check that the pieces point at each other and at settings the API reads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from app.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PROD = {"keycloak", "redis-primary", "redis-replica", "sentinel-1", "sentinel-2", "sentinel-3", "api-prod",
        "nginx-cert", "nginx", "jaeger"}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def _env_names(model: type[BaseModel], prefix: str = "") -> set[str]:
    names = set()
    for field, info in model.model_fields.items():
        sub = info.annotation
        name = f"{prefix}{field.upper()}"
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            names |= _env_names(sub, name + "__")
        else:
            names.add(name)
    return names


def test_prod_services_exist_only_in_the_profile(services):
    assert PROD <= set(services)
    for name in PROD:
        assert services[name].get("profiles") == ["prod"], name
    for name in ("api", "redis", "qdrant", "ollama"):  # the default stack is unchanged
        assert "profiles" not in services[name]


def test_api_prod_environment_lands_in_settings(services, monkeypatch):
    env = services["api-prod"]["environment"]
    known = _env_names(Settings) | {"HF_HUB_OFFLINE", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"}
    assert not set(env) - known, set(env) - known
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    s = Settings(_env_file=None)
    assert s.redis.url is None and s.redis.sentinel_master == "helio"
    assert sorted(s.redis.sentinels) == ["sentinel-1:26379", "sentinel-2:26379", "sentinel-3:26379"]
    assert s.auth.oidc.issuer == "http://keycloak:8080/realms/ysh" and s.auth.oidc.audience == "helio-api"
    assert "172.16.0.0/12" in s.api.trusted_proxies  # Docker's default bridge networks: NGINX's address
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert services["api-prod"]["deploy"]["replicas"] >= 2


def test_sentinels_watch_the_primary_with_quorum_two(services):
    sentinels = [n for n in services if n.startswith("sentinel-")]
    assert len(sentinels) == 3
    for name in sentinels:
        script = " ".join(services[name]["entrypoint"])
        assert "sentinel monitor helio redis-primary 6379 2" in script and "--sentinel" in script
        assert "resolve-hostnames yes" in script
    assert services["redis-replica"]["command"][-3:] == ["--replicaof", "redis-primary", "6379"]
    primary = services["redis-primary"]["command"]
    assert primary[primary.index("--min-replicas-to-write") + 1] == "1"


def test_nginx_uses_the_shipped_files_and_reaches_the_api(services):
    nginx = services["nginx"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in nginx["volumes"]}
    for inside, outside in mounts.items():
        assert (ROOT / outside).exists(), outside
    assert mounts["/etc/nginx/nginx.conf"] == "./deploy/nginx/nginx.conf"
    assert mounts["/etc/nginx/helio.conf"] == "./deploy/nginx/helio.conf"
    upstream = (ROOT / mounts["/etc/nginx/upstream.conf"]).read_text()
    assert re.search(r"server\s+api-prod:8000\b", upstream)
    assert {"80", "443"} <= {str(p).split(":")[-1] for p in nginx["ports"]}
    cert = services["nginx-cert"]
    assert cert["volumes"] == ["./deploy/nginx/certs:/certs"] and "/certs/tls.crt" in " ".join(cert["entrypoint"])


def test_keycloak_realm_has_the_roles_and_the_api_client(services):
    kc = services["keycloak"]
    assert "--import-realm" in kc["command"]
    mount = next(v for v in kc["volumes"] if "/opt/keycloak/data/import/" in v)
    realm = json.loads((ROOT / mount.split(":")[0]).read_text())
    env = services["api-prod"]["environment"]
    assert env["AUTH__OIDC__ISSUER"].rstrip("/").endswith(f"/realms/{realm['realm']}")
    assert env["AUTH__OIDC__ISSUER"].startswith(kc["environment"]["KC_HOSTNAME"])  # tokens' iss = the issuer
    assert {r["name"] for r in realm["roles"]["realm"]} == {"widget", "sales_rep", "admin"}
    clients = {c["clientId"]: c for c in realm["clients"]}
    assert env["AUTH__OIDC__AUDIENCE"] in clients
    # Tokens from the sales tools carry the API as audience (else every call is "audiência inválida").
    mappers = [m for c in clients.values() for m in c.get("protocolMappers", [])
               if m["protocolMapper"] == "oidc-audience-mapper"]
    assert any(m["config"]["included.client.audience"] == env["AUTH__OIDC__AUDIENCE"] for m in mappers)
    # Role names match the API's default role map (realm_access.roles → widget/sales_rep/admin).
    assert Settings(_env_file=None).auth.oidc.roles_claim == "realm_access.roles"


def test_api_prod_waits_for_its_dependencies(services):
    depends = services["api-prod"]["depends_on"]
    for dep in ("sentinel-1", "redis-replica", "keycloak", "qdrant", "ollama"):
        assert depends[dep]["condition"] == "service_healthy", dep
    assert services["nginx"]["depends_on"]["api-prod"]["condition"] == "service_healthy"
    assert "4318" in {str(p).split(":")[-1] for p in services["jaeger"]["ports"]}
