"""API keys: hashed storage, roles, widget origins, the no-key defaults, the CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.api.errors import install_error_handlers
from app.api.auth import Admin, SalesRep, WidgetSession, make_key_store
from app.auth.keys import hash_key
from app.core.settings import Settings


def settings_for(tmp_path: Path, **auth) -> Settings:
    return Settings(env=auth.pop("env", "test"), auth={"db_path": tmp_path / "auth.sqlite3", "pepper": "p3pper",
                                                       **auth})


def app_for(settings: Settings) -> TestClient:
    app = FastAPI()
    app.state.settings = settings
    install_error_handlers(app)

    @app.post("/chat")
    async def chat(p: WidgetSession):
        return {"role": p.role, "anonymous": p.anonymous}

    @app.post("/quote")
    async def quote(p: SalesRep):
        return {"role": p.role}

    @app.post("/ingest")
    async def ingest(p: Admin):
        return {"role": p.role}

    return TestClient(app)


def test_keys_are_stored_as_hmac_only(tmp_path):
    s = settings_for(tmp_path)
    issued = make_key_store(s).create("sales_rep", "Ana")
    assert issued.key.startswith("hl_sr_")
    with sqlite3.connect(s.auth.db_path) as conn:
        dump = " ".join(str(v) for row in conn.execute("SELECT * FROM api_keys") for v in row)
    assert issued.key not in dump and hash_key("p3pper", issued.key) in dump
    assert hash_key("other", issued.key) != hash_key("p3pper", issued.key)


def test_roles_nest_and_errors_are_house_json(tmp_path):
    s = settings_for(tmp_path)
    store = make_key_store(s)
    rep, admin = store.create("sales_rep").key, store.create("admin").key
    c = app_for(s)
    assert c.post("/quote", headers={"Authorization": f"Bearer {rep}"}).json() == {"role": "sales_rep"}
    r = c.post("/ingest", headers={"Authorization": f"Bearer {rep}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "acesso_negado" and r.json()["error"]["hint"]
    assert c.post("/ingest", headers={"X-API-Key": admin}).status_code == 200
    r = c.post("/quote")
    assert r.status_code == 401 and set(r.json()["error"]) >= {"code", "message", "hint"}


def test_revoked_key_is_unauthorized(tmp_path):
    s = settings_for(tmp_path)
    store = make_key_store(s)
    issued = store.create("sales_rep")
    assert store.revoke(issued.key_id)
    assert app_for(s).post("/quote", headers={"X-API-Key": issued.key}).status_code == 401


def test_widget_keys_are_bound_to_origins(tmp_path):
    s = settings_for(tmp_path)
    store = make_key_store(s)
    widget = store.create("widget", origins=["https://loja.ysh.com.br"]).key
    bare = store.create("widget").key
    c = app_for(s)
    ok = {"X-API-Key": widget, "Origin": "https://loja.ysh.com.br"}
    assert c.post("/chat", headers=ok).json() == {"role": "widget", "anonymous": False}
    assert c.post("/chat", headers={**ok, "Origin": "https://evil.example"}).status_code == 403
    assert c.post("/chat", headers={"X-API-Key": widget}).status_code == 403          # no Origin header
    assert c.post("/quote", headers=ok).status_code == 403                             # never a quote
    r = c.post("/chat", headers={"X-API-Key": bare, "Origin": "https://loja.ysh.com.br"})
    assert r.status_code == 403 and "--origin" in r.json()["error"]["hint"]


def test_settings_provided_hashes(tmp_path):
    key = "hl_sr_from-env-secret"
    s = settings_for(tmp_path, keys=[{"hash": hash_key("p3pper", key), "role": "sales_rep"}])
    assert app_for(s).post("/quote", headers={"X-API-Key": key}).status_code == 200


def test_no_key_defaults(tmp_path):
    c = app_for(settings_for(tmp_path))
    assert c.post("/chat").json() == {"role": "widget", "anonymous": True}             # public chat
    assert c.post("/quote").status_code == 401                                        # quotes always need a key
    c = app_for(settings_for(tmp_path, public_chat=False))
    assert c.post("/chat").status_code == 401
    c = app_for(settings_for(tmp_path, widget_origins=["https://loja.ysh.com.br"]))
    assert c.post("/chat", headers={"Origin": "https://evil.example"}).status_code == 403
    c = app_for(settings_for(tmp_path, dev_open=True))
    assert c.post("/ingest").json() == {"role": "admin"}                               # explicit dev opt-in
    c = app_for(settings_for(tmp_path, dev_open=True, env="prod"))
    assert c.post("/quote").status_code == 401                                        # ignored in prod


def test_prod_without_pepper_refuses(tmp_path):
    s = Settings(env="prod", auth={"db_path": tmp_path / "a.sqlite3"})
    r = app_for(s).post("/quote", headers={"X-API-Key": "hl_sr_x"})
    assert r.status_code == 503 and "AUTH__PEPPER" in r.json()["error"]["hint"]


def test_cli_creates_lists_and_revokes(tmp_path, monkeypatch):
    from cli import sales
    s = settings_for(tmp_path)
    monkeypatch.setattr(sales, "get_settings", lambda: s)
    runner = CliRunner()
    out = runner.invoke(sales.keys_app, ["create", "--role", "sales_rep", "--label", "Ana"])
    assert out.exit_code == 0, out.output
    key = next(w for w in out.output.split() if w.startswith("hl_sr_"))
    assert make_key_store(s).lookup(key).role == "sales_rep"
    listing = runner.invoke(sales.keys_app, ["list"])
    assert "sales_rep" in listing.output and key not in listing.output
    key_id = make_key_store(s).list_keys()[0]["id"]
    assert runner.invoke(sales.keys_app, ["revoke", key_id]).exit_code == 0
    assert make_key_store(s).lookup(key) is None
    sim = runner.invoke(sales.financing_app, ["simulate", "--amount", "30000", "--json"])
    assert sim.exit_code == 0 and "bv-solar" in sim.output
