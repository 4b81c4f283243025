"""People signed in with the identity provider: OIDC access tokens against a real issuer.

A loopback HTTP server publishes the discovery document and a JWKS for RSA keys generated
here; tokens are signed with them (PyJWT). The API verifies them through the same
dependencies the quote and chat routes use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.agent.limits import RateLimiter
from app.api.errors import install_error_handlers
from app.api.routes import quotes as quote_routes
from app.auth.oidc import OIDCVerifier, check_issuer_url
from app.catalog.models import Category, Product
from app.catalog.store import SQLiteCatalogStore
from app.commerce.local import LocalCommerce
from app.core.cache import MemoryCache
from app.core.errors import Unavailable
from app.core.settings import OIDCSettings, Settings
from test_agent_support import make_app, make_assistant, parse_sse
from test_chat_sales import catalog_db  # noqa: F401 - fixture used by sales_env
from test_chat_sales import env as sales_env  # noqa: F401 - the chat-with-real-catalog fixture

AUDIENCE = "helio-api"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_RSA_KEYS: list[rsa.RSAPrivateKey] = []


def _rsa_key(n: int) -> rsa.RSAPrivateKey:
    """The n-th of a few RSA keys made once per test process (each takes ~40 ms to generate)."""
    while len(_RSA_KEYS) <= n:
        _RSA_KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _RSA_KEYS[n]


class Issuer:
    """A minimal OpenID provider on 127.0.0.1: discovery + JWKS, keys made in the test."""

    def __init__(self) -> None:
        self.private: dict[str, rsa.RSAPrivateKey] = {}
        self.published: list[str] = []
        self.hits: Counter[str] = Counter()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                issuer.hits[self.path] += 1
                if self.path == "/realms/ysh/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/protocol/openid-connect/certs"}
                elif self.path == "/realms/ysh/protocol/openid-connect/certs":
                    body = {"keys": [issuer.jwk(kid) for kid in issuer.published]}
                else:
                    self.send_error(404)
                    return
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/realms/ysh"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True)
        self.thread.start()

    def new_key(self, publish: bool = True) -> str:
        kid = uuid.uuid4().hex[:8]
        self.private[kid] = _rsa_key(len(self.private))  # a key this issuer has not used yet
        if publish:
            self.published.append(kid)
        return kid

    def jwk(self, kid: str) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private[kid].public_key(), as_dict=True)
        return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}

    def public_pem(self, kid: str) -> bytes:
        return self.private[kid].public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)

    def claims(self, roles=("sales_rep",), **over) -> dict:
        now = int(time.time())
        base = {"iss": self.url, "aud": AUDIENCE, "sub": "f3a1-ana", "iat": now, "exp": now + 300,
                "name": "Ana Lima", "email": "ana.lima@ysh.com.br", "realm_access": {"roles": list(roles)},
                "jti": uuid.uuid4().hex}
        base.update(over)
        return base

    def token(self, kid: str, roles=("sales_rep",), **over) -> str:
        return jwt.encode(self.claims(roles, **over), self.private[kid], algorithm="RS256", headers={"kid": kid})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def issuer():
    server = Issuer()
    yield server
    server.stop()


def oidc_settings(tmp_path: Path, issuer: Issuer, **oidc) -> Settings:
    return Settings(_env_file=None, env="test", auth={
        "db_path": tmp_path / "auth.sqlite3", "pepper": "p", "public_chat": False,
        "oidc": {"issuer": issuer.url, "audience": AUDIENCE, **oidc}},
        commerce={"db_path": tmp_path / "commerce.sqlite3", "quotes_db_path": tmp_path / "quotes.sqlite3"})


def quotes_app(settings: Settings, tmp_path: Path) -> tuple[TestClient, str]:
    """The real quote routes on the local commerce backend, with one priced product."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(quote_routes.router)
    app.state.settings = settings
    app.state.cache = MemoryCache()
    catalog = SQLiteCatalogStore(tmp_path / "catalog.sqlite3")
    catalog.replace_all([Product(id="mod-550", category=Category.MODULE, name="Módulo 550 W", power_w=550,
                                 price_brl=789.0, in_stock=True)])
    app.state.catalog = catalog
    app.state.commerce = LocalCommerce(settings.commerce.db_path, catalog)
    from app.agent.factory import quote_service_factory  # what the lifespan wires

    app.state.quotes = quote_service_factory(settings, app.state.cache, lambda: app.state.commerce)
    company = app.state.commerce.create_company("Solar Triângulo Ltda", "compras@solartri.com.br")
    return TestClient(app), company.id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def quote_body(company_id: str) -> dict:
    return {"items": [{"sku": "mod-550", "quantity": 10}], "buyer": {"company_id": company_id}, "financing": None}


def test_sales_rep_token_creates_a_quote_that_records_the_person(tmp_path, issuer):
    kid = issuer.new_key()
    client, company = quotes_app(oidc_settings(tmp_path, issuer), tmp_path)
    r = client.post("/v1/quotes", json=quote_body(company), headers=bearer(issuer.token(kid)))
    assert r.status_code == 201, r.text
    quote = r.json()
    assert quote["created_by"] == {"kind": "oidc", "sub": "f3a1-ana", "name": "Ana Lima",
                                   "email": "ana.lima@ysh.com.br"}
    again = client.get(f"/v1/quotes/{quote['id']}", headers=bearer(issuer.token(kid)))
    assert again.status_code == 200 and again.json()["created_by"]["sub"] == "f3a1-ana"


def test_widget_role_token_is_forbidden_on_quotes(tmp_path, issuer):
    kid = issuer.new_key()
    client, company = quotes_app(oidc_settings(tmp_path, issuer), tmp_path)
    token = issuer.token(kid, roles=("widget",))
    r = client.post("/v1/quotes", json=quote_body(company), headers=bearer(token))
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "papel_sem_permissao" and "papel sem permissão" in err["message"].lower()
    assert err["hint"] and token not in r.text
    # A token with no role the map knows is refused the same way.
    r = client.post("/v1/quotes", json=quote_body(company), headers=bearer(issuer.token(kid, roles=("offline",))))
    assert r.status_code == 403 and r.json()["error"]["code"] == "papel_sem_permissao"


def _forge_none(issuer: Issuer, kid: str) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(issuer.claims(roles=("admin",))).encode())
    return f"{header}.{payload}."


def _forge_hs256_with_public_key(issuer: Issuer, kid: str) -> str:
    """Algorithm confusion: HMAC keyed with the (public) RSA key the JWKS publishes."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(issuer.claims(roles=("admin",))).encode())
    signing_input = f"{header}.{payload}".encode()
    sig = hmac.new(issuer.public_pem(kid), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(sig)}"


def _tamper(token: str) -> str:
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["realm_access"]["roles"] = ["admin"]
    return f"{header}.{_b64(json.dumps(claims).encode())}.{sig}"


def test_bad_tokens_get_401_in_portuguese_without_echoing_the_token(tmp_path, issuer):
    kid = issuer.new_key()
    stranger = issuer.new_key(publish=False)
    client, company = quotes_app(oidc_settings(tmp_path, issuer), tmp_path)
    now = int(time.time())
    cases = {
        "expirado": (issuer.token(kid, exp=now - 120, iat=now - 600), "token_expirado", "token expirado"),
        "audiência": (issuer.token(kid, aud="outro-sistema"), "audiencia_invalida", "audiência inválida"),
        "emissor": (issuer.token(kid, iss="http://127.0.0.1:1/realms/outro"), "emissor_invalido", "emissor inválido"),
        "kid": (issuer.token(stranger), "chave_desconhecida", "chave desconhecida"),
        "none": (_forge_none(issuer, kid), "algoritmo_nao_permitido", "algoritmo"),
        "hs256": (_forge_hs256_with_public_key(issuer, kid), "algoritmo_nao_permitido", "algoritmo"),
        "adulterado": (_tamper(issuer.token(kid)), "assinatura_invalida", "assinatura"),
        "nbf": (issuer.token(kid, nbf=now + 600), "token_ainda_nao_valido", "ainda não é válido"),
    }
    for name, (token, code, words) in cases.items():
        r = client.post("/v1/quotes", json=quote_body(company), headers=bearer(token))
        assert r.status_code == 401, (name, r.text)
        err = r.json()["error"]
        assert err["code"] == code and words in err["message"].lower(), (name, err)
        assert err["hint"] and token not in r.text and token.split(".")[1] not in r.text, name
    # Within the leeway (30 s) a just-expired token still works: clocks drift a little.
    r = client.post("/v1/quotes", json=quote_body(company), headers=bearer(issuer.token(kid, exp=now - 5)))
    assert r.status_code == 201


def test_rotated_key_is_accepted_without_restart_and_unknown_kids_are_rate_limited(tmp_path, issuer):
    old = issuer.new_key()
    client, company = quotes_app(oidc_settings(tmp_path, issuer, jwks_min_refresh_s=0.5), tmp_path)
    assert client.post("/v1/quotes/preview", json=quote_body(company), headers=bearer(issuer.token(old))).status_code == 200
    certs = "/realms/ysh/protocol/openid-connect/certs"
    assert issuer.hits[certs] == 1
    # A flood of made-up kids costs at most one fetch per interval.
    stranger = issuer.private[issuer.new_key(publish=False)]
    started = time.monotonic()
    for _ in range(20):
        token = jwt.encode(issuer.claims(), stranger, algorithm="RS256", headers={"kid": uuid.uuid4().hex[:8]})
        assert client.post("/v1/quotes/preview", json=quote_body(company), headers=bearer(token)).status_code == 401
    intervals = (time.monotonic() - started) / 0.5
    assert issuer.hits[certs] <= 2 + intervals and issuer.hits[certs] < 10
    # The provider rotates: a new key is published and the old one withdrawn.
    time.sleep(0.6)
    new = issuer.new_key()
    issuer.published.remove(old)
    r = client.post("/v1/quotes/preview", json=quote_body(company), headers=bearer(issuer.token(new)))
    assert r.status_code == 200, r.text


def test_cached_keys_keep_verifying_while_the_issuer_is_down(tmp_path, issuer):
    kid = issuer.new_key()
    # max age 0: every request wants a fresh key set, so the outage is really hit.
    client, company = quotes_app(oidc_settings(tmp_path, issuer, jwks_max_age_s=0, jwks_min_refresh_s=0), tmp_path)
    assert client.post("/v1/quotes/preview", json=quote_body(company),
                       headers=bearer(issuer.token(kid))).status_code == 200
    token = issuer.token(kid)
    issuer.stop()
    r = client.post("/v1/quotes/preview", json=quote_body(company), headers=bearer(token))
    assert r.status_code == 200, r.text
    # An unknown key still cannot get in while the issuer is away.
    other = Issuer()
    try:
        stranger = other.new_key()
        forged = jwt.encode(issuer.claims(), other.private[stranger], algorithm="RS256", headers={"kid": stranger})
    finally:
        other.stop()
    assert client.post("/v1/quotes/preview", json=quote_body(company), headers=bearer(forged)).status_code == 401


def test_issuer_unreachable_before_any_key_is_503_not_500(tmp_path, issuer):
    kid = issuer.new_key()
    token = issuer.token(kid)
    client, company = quotes_app(oidc_settings(tmp_path, issuer), tmp_path)
    issuer.stop()
    r = client.post("/v1/quotes/preview", json=quote_body(company), headers=bearer(token))
    assert r.status_code == 503 and r.json()["error"]["code"] == "indisponivel" and token not in r.text


def test_client_roles_claim_and_role_map(tmp_path, issuer):
    kid = issuer.new_key()
    settings = oidc_settings(tmp_path, issuer, roles_claim="resource_access.helio-api.roles",
                             role_map={"vendedor": "sales_rep", "loja": "widget"})
    client, company = quotes_app(settings, tmp_path)
    token = issuer.token(kid, roles=(), resource_access={"helio-api": {"roles": ["vendedor"]}})
    assert client.post("/v1/quotes/preview", json=quote_body(company), headers=bearer(token)).status_code == 200
    # The realm role "sales_rep" is not read from this claim nor in this map.
    r = client.post("/v1/quotes/preview", json=quote_body(company), headers=bearer(issuer.token(kid)))
    assert r.status_code == 403


def test_a_persons_conversations_belong_to_that_person(tmp_path, issuer):
    kid = issuer.new_key()
    settings = oidc_settings(tmp_path, issuer)
    client = TestClient(make_app(make_assistant(), settings))
    ana = issuer.token(kid)
    r = client.post("/v1/chat", json={"message": "Cliente em Campinas/SP, 600 kWh por mês", "stream": False},
                    headers=bearer(ana))
    assert r.status_code == 200, r.text
    cid = r.json()["conversation_id"]
    # Ana again, with a fresh token (new jti, new iat): still hers.
    assert client.get(f"/v1/conversations/{cid}", headers=bearer(issuer.token(kid))).status_code == 200
    bruno = issuer.token(kid, sub="77b2-bruno", name="Bruno")
    assert client.get(f"/v1/conversations/{cid}", headers=bearer(bruno)).status_code == 404
    r = client.post("/v1/chat", json={"conversation_id": cid, "message": "trifásico"}, headers=bearer(bruno))
    assert r.status_code == 404
    events = parse_sse(client.post("/v1/chat", json={"conversation_id": cid, "message": "trifásico"},
                                   headers=bearer(ana)).text)
    assert events[-1][0] == "done"


def test_plain_http_issuer_only_on_loopback_or_dev():
    assert check_issuer_url("http://127.0.0.1:8080/realms/ysh/", "prod") == "http://127.0.0.1:8080/realms/ysh"
    assert check_issuer_url("http://localhost/realms/ysh", "prod")
    assert check_issuer_url("http://keycloak:8080/realms/ysh", "dev")
    assert check_issuer_url("https://sso.ysh.com.br/realms/ysh", "prod")
    with pytest.raises(Unavailable, match="http sem TLS"):
        check_issuer_url("http://sso.ysh.com.br/realms/ysh", "prod")
    with pytest.raises(Unavailable, match="Algoritmos não permitidos"):
        OIDCVerifier(OIDCSettings(issuer="https://sso.ysh.com.br/realms/ysh", audience="a",
                                  algorithms=["RS256", "HS256"]), "prod")


def test_oidc_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("AUTH__OIDC__ISSUER", "https://sso.ysh.com.br/realms/ysh")
    monkeypatch.setenv("AUTH__OIDC__AUDIENCE", AUDIENCE)
    monkeypatch.setenv("AUTH__OIDC__ROLE_MAP", '{"vendedor": "sales_rep"}')
    s = Settings(_env_file=None)
    assert s.auth.oidc.issuer.endswith("/realms/ysh") and s.auth.oidc.audience == AUDIENCE
    assert s.auth.oidc.role_map == {"vendedor": "sales_rep"} and s.auth.oidc.roles_claim == "realm_access.roles"


def test_a_persons_rate_limit_follows_the_person_not_the_token(tmp_path, issuer):
    kid = issuer.new_key()
    assistant = make_assistant()
    assistant.rate_limiter = RateLimiter(assistant.rate_limiter.cache, per_minute=2, window_s=3600)
    client = TestClient(make_app(assistant, oidc_settings(tmp_path, issuer)))
    statuses = [client.post("/v1/chat", json={"message": "Olá", "stream": False},
                            headers=bearer(issuer.token(kid))).status_code for _ in range(3)]  # a new token each
    assert statuses == [200, 200, 429]
    other = issuer.token(kid, sub="77b2-bruno")
    assert client.post("/v1/chat", json={"message": "Olá", "stream": False}, headers=bearer(other)).status_code == 200


@pytest.mark.slow
@pytest.mark.slow  # the whole app over the real catalog (test_chat_sales' fixture)
def test_a_quote_made_in_chat_records_the_signed_in_person(sales_env, issuer):  # noqa: F811 - the fixture
    """The chat's quote flow (summary, then "sim") run by a person signed in with the provider."""
    from app.core.settings import OIDCSettings

    kid = issuer.new_key()
    sales_env.app.state.settings.auth.oidc = OIDCSettings(issuer=issuer.url, audience=AUDIENCE)
    ana = bearer(issuer.token(kid))
    sales_env.chat("oidc-1", "Cliente em Uberlândia MG, 650 kWh por mês, trifásico", ana)
    sales_env.chat("oidc-1", f"gerar orçamento para a empresa {sales_env.company_id}", bearer(issuer.token(kid)))
    done = sales_env.chat("oidc-1", "sim", bearer(issuer.token(kid)))
    quote_id = next(c["data"]["quote_id"] for c in done["cards"] if c["type"] == "quote")
    quote = sales_env.client.get(f"/v1/quotes/{quote_id}", headers=ana).json()
    assert quote["created_by"] == {"kind": "oidc", "sub": "f3a1-ana", "name": "Ana Lima",
                                   "email": "ana.lima@ysh.com.br"}
