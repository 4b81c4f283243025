"""NGINX in front of two API processes (uvicorn) on loopback, with the shipped configuration.

``nginx -t`` checks the shipped ``deploy/nginx`` files as they are (with this machine's
upstream file and a certificate made here); the running proxy uses the same files with the
listen addresses moved to free loopback ports and the per-client rate scaled down from
100 r/s (burst 100) to 5 r/s (burst 10), so that a Python client on a shared 2-core machine
exceeds it deterministically. Clients bind distinct 127.0.0.x source addresses, so
per-client limits see distinct clients.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "deploy" / "nginx"
TURN_DELAY_S = 1.5

pytestmark = [pytest.mark.slow, pytest.mark.redis]


# -- the API processes behind NGINX ------------------------------------------------------------

def api_app():
    """uvicorn factory (run in a child process): the chat routes with a sizing step that takes
    TURN_DELAY_S, conversations and rate limits in the Redis given by REDIS__URL."""
    from fastapi import FastAPI

    from app.agent.limits import RateLimiter
    from app.api.middleware import RequestContextMiddleware
    from app.api.routes import health
    from app.core.cache import make_cache
    from app.core.settings import Settings
    from app.core.telemetry import configure_logging
    from test_agent_support import FakeSizing, make_app, make_assistant

    class SlowSizing(FakeSizing):
        def size(self, args):
            time.sleep(TURN_DELAY_S)
            return super().size(args)

    settings = Settings(_env_file=None)
    cache = make_cache(settings.redis)
    assistant = make_assistant(cache=cache, sizing=SlowSizing(), settings=settings)
    # 3 chats per client per hour: small enough to hit, one window for the whole test.
    assistant.rate_limiter = RateLimiter(cache, per_minute=3, window_s=3600)
    app: FastAPI = make_app(assistant, settings)
    app.include_router(health.router)
    app.add_middleware(RequestContextMiddleware, trusted_proxies=settings.api.trusted_proxies,
                       max_body_bytes=settings.api.max_body_bytes)
    configure_logging()
    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} saiu com {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{what} não abriu a porta {port}")


def _self_signed(cert: Path, key: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "helio.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(private, hashes.SHA256()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))


def _nginx() -> str:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        pytest.fail("nginx não encontrado: rode 'bash scripts/ensure-nginx.sh'")
    return binary


def _prefix(tmp: Path, api_ports: list[int]) -> Path:
    """A prefix with the shipped files verbatim, this machine's upstream file and a certificate."""
    conf = tmp / "conf"
    conf.mkdir(parents=True)
    for name in ("nginx.conf", "helio.conf"):
        shutil.copy(SHIPPED / name, conf / name)
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n" for p in api_ports)
    (conf / "upstream.conf").write_text(f"upstream helio_api {{\n{servers}    keepalive 32;\n}}\n")
    (conf / "certs").mkdir()
    _self_signed(conf / "certs" / "tls.crt", conf / "certs" / "tls.key")
    (tmp / "logs").mkdir()
    return conf


def _nginx_argv(tmp: Path, conf: Path, *extra: str) -> list[str]:
    return [_nginx(), "-p", str(tmp), "-c", str(conf / "nginx.conf"), "-e", "stderr",
            "-g", f"pid {tmp / 'nginx.pid'};", *extra]


def test_shipped_config_passes_nginx_t(tmp_path):
    conf = _prefix(tmp_path, [8000, 8001])
    result = subprocess.run(_nginx_argv(tmp_path, conf, "-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_body_limit_matches_the_api():
    from app.core.settings import Settings

    text = (SHIPPED / "helio.conf").read_text()
    assert "client_max_body_size 1m;" in text
    assert Settings(_env_file=None).api.max_body_bytes == 1024 * 1024
    # weather-file uploads: a larger limit on their one route, the same on both sides
    upload = text[text.index("location = /v1/sizing"):]
    assert "client_max_body_size 8m;" in upload[:upload.index("}")]
    assert Settings(_env_file=None).api.max_upload_bytes == 8 * 1024 * 1024


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    tmp = tmp_path_factory.mktemp("nginx")
    api_ports = [_free_port(), _free_port()]
    conf = _prefix(tmp, api_ports)
    http_port, https_port = _free_port(), _free_port()
    site = (conf / "helio.conf").read_text()
    for shipped in ("listen 80;", "listen 443 ssl http2;", "rate=100r/s;", "burst=100 nodelay;"):
        assert shipped in site, shipped
    (conf / "helio.conf").write_text(site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
                                     .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
                                     .replace("rate=100r/s;", "rate=5r/s;").replace("burst=100 nodelay;",
                                                                                    "burst=10 nodelay;"))
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}", "REDIS__URL": redis_url,
           "API__TRUSTED_PROXIES": "127.0.0.1", "AUTH__PUBLIC_CHAT": "true"}
    procs, logs = [], []
    try:
        for i, port in enumerate(api_ports):
            log = open(tmp / f"api-{i}.log", "w")  # noqa: SIM115 - closed below
            logs.append(log)
            procs.append(subprocess.Popen(
                # --no-proxy-headers: only API__TRUSTED_PROXIES decides whom to believe (as `helio serve`).
                [sys.executable, "-m", "uvicorn", "--factory", "test_nginx:api_app", "--host", "127.0.0.1",
                 "--port", str(port), "--no-access-log", "--no-proxy-headers"], env=env, cwd=ROOT / "tests", stdout=log,
                stderr=subprocess.STDOUT))
        nginx = subprocess.Popen(_nginx_argv(tmp, conf, "-g", "daemon off;"), stdout=subprocess.DEVNULL,
                                 stderr=open(tmp / "nginx.err", "w"))  # noqa: SIM115
        procs.append(nginx)
        for port, proc in zip(api_ports, procs):
            _wait_port(port, proc, "API")
        _wait_port(https_port, nginx, "nginx")
        ctx = ssl.create_default_context(cafile=str(conf / "certs" / "tls.crt"))
        ns = type("Stack", (), {})()
        ns.url, ns.ssl, ns.tmp, ns.http_port = f"https://127.0.0.1:{https_port}", ctx, tmp, http_port
        ns.api_ports = api_ports
        yield ns
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


def client_from(stack, source: str, **kw) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source, verify=stack.ssl)
    return httpx.Client(base_url=stack.url, transport=transport, timeout=30, **kw)


def test_streamed_chat_first_event_arrives_before_the_turn_ends(stack):
    rid = "rid-" + uuid.uuid4().hex[:12]
    started = time.monotonic()
    arrivals: list[tuple[str, float]] = []
    with client_from(stack, "127.0.0.21") as client:
        with client.stream("POST", "/v1/chat", headers={"X-Request-ID": rid},
                           json={"message": "Cliente em Campinas/SP, 600 kWh por mês, trifásico"}) as r:
            assert r.status_code == 200 and r.headers["x-request-id"] == rid
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                if line.startswith("event:"):
                    arrivals.append((line[6:].strip(), time.monotonic() - started))
    names = [n for n, _ in arrivals]
    assert names[-1] == "done" and "card" in names
    first_at, done_at = arrivals[0][1], arrivals[-1][1]
    # The sizing step takes 1.5 s: an unbuffered proxy delivers the first event well before.
    assert done_at - first_at > TURN_DELAY_S * 0.8, arrivals


def test_the_api_limits_and_logs_by_the_real_client_address(stack):
    rid = "rid-" + uuid.uuid4().hex[:12]
    # A client trying to pass as someone else: NGINX overwrites X-Forwarded-For.
    with client_from(stack, "127.0.0.31", headers={"X-Forwarded-For": "198.51.100.7"}) as a:
        statuses = [a.post("/v1/chat", json={"message": "Olá", "stream": False},
                           headers={"X-Request-ID": f"{rid}-{i}"}).status_code for i in range(4)]
        last = a.post("/v1/chat", json={"message": "Olá", "stream": False})
    assert statuses == [200, 200, 200, 429], statuses
    assert last.status_code == 429 and last.json()["error"]["code"] == "limite_de_requisicoes"
    # Another client behind the same proxy is not affected: the API does not see one proxy address.
    with client_from(stack, "127.0.0.32") as b:
        assert b.post("/v1/chat", json={"message": "Olá", "stream": False}).status_code == 200
    # Straight to an API process from an address that is not a trusted proxy: the header is ignored.
    direct = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.33"), timeout=30)
    with direct:
        r = direct.get(f"http://127.0.0.1:{stack.api_ports[0]}/healthz",
                       headers={"X-Forwarded-For": "198.51.100.8", "X-Request-ID": f"{rid}-direct"})
    assert r.status_code == 200 and r.headers["x-request-id"] == f"{rid}-direct"
    deadline = time.monotonic() + 5  # each API process writes its access line after the response is sent
    while True:
        logs = "".join((stack.tmp / f"api-{i}.log").read_text() for i in range(2))
        mine = [line for line in logs.splitlines() if rid in line]
        if len(mine) >= 5 and any("-direct" in line for line in mine) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(mine) >= 5 and all("client=127.0.0.31" in line for line in mine if "-direct" not in line), mine
    assert any("client=127.0.0.33" in line for line in mine if "-direct" in line), mine
    assert "client=198.51.100.7" not in logs and "client=198.51.100.8" not in logs


def test_over_the_proxy_limit_is_429_in_the_house_shape(stack):
    async def blast(source: str, n: int) -> list[httpx.Response]:
        transport = httpx.AsyncHTTPTransport(local_address=source, verify=stack.ssl)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=stack.url, transport=transport, limits=limits, timeout=30) as c:
            return await asyncio.gather(*(c.get("/healthz") for _ in range(n)))

    started = time.monotonic()
    responses = asyncio.run(blast("127.0.0.41", 80))
    elapsed = time.monotonic() - started
    limited = [r for r in responses if r.status_code == 429]
    ok = [r for r in responses if r.status_code == 200]
    print(f"\n80 requisições em {elapsed:.2f} s: {len(ok)} ok, {len(limited)} 429")
    assert len(ok) + len(limited) == 80
    # burst 10 + 5 r/s: about 11 + 5 per second of the run get through, the rest are refused.
    assert 11 <= len(ok) <= 11 + 5 * elapsed + 1 and len(limited) >= 80 - (11 + 5 * elapsed + 1)
    body = limited[0].json()
    assert set(body["error"]) == {"code", "message", "hint"} and body["error"]["code"] == "limite_de_requisicoes"
    assert limited[0].headers["retry-after"] and limited[0].headers["x-request-id"]
    # Per client address: someone else gets through at the same moment.
    with client_from(stack, "127.0.0.42") as other:
        assert other.get("/healthz").status_code == 200


def test_metrics_is_not_public_and_http_redirects(stack):
    with client_from(stack, "127.0.0.51") as client:
        r = client.get("/metrics")
        assert r.status_code == 404 and r.json()["error"]["code"] == "nao_encontrado"
        big = client.post("/v1/chat", content=b"x" * (1024 * 1024 + 10), headers={"Content-Type": "application/json"})
        assert big.status_code == 413 and big.json()["error"]["code"] == "payload_grande_demais"
    r = httpx.get(f"http://127.0.0.1:{stack.http_port}/v1/chat", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"].startswith("https://")


def test_api_ignores_forwarded_for_from_untrusted_peers():
    from app.api.middleware import parse_networks, real_client

    trusted = parse_networks(["127.0.0.1", "10.0.0.0/8"])
    assert real_client("127.0.0.1", "203.0.113.5", trusted) == "203.0.113.5"
    assert real_client("127.0.0.1", "198.51.100.7, 203.0.113.5, 10.1.2.3", trusted) == "203.0.113.5"
    assert real_client("203.0.113.9", "198.51.100.7", trusted) == "203.0.113.9"  # not a proxy we trust
    assert real_client("127.0.0.1", "not-an-ip", trusted) == "127.0.0.1"
    assert real_client("127.0.0.1", None, trusted) == "127.0.0.1"
    assert real_client("127.0.0.1", "203.0.113.5", ()) == "127.0.0.1"


def test_request_id_is_accepted_or_made_and_echoed():
    from fastapi.testclient import TestClient

    from app.core.settings import Settings
    from app.main import create_app

    client = TestClient(create_app(Settings(_env_file=None, env="test")))
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert made != "bad id with spaces" and len(made) == 32
    assert client.get("/healthz").headers["x-request-id"] != made
    big = client.post("/v1/chat", content=json.dumps({"message": "x" * 2_000_000}))
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_grande_demais"
