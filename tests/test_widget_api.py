"""The widget's server side: serving widget.js, the key handshake, CORS per widget key,
the demo page, and turns of one conversation serialised across replicas (real Redis).

The browser behaviour (streaming, cards, history, accessibility) is in test_widget_browser.py.
"""

from __future__ import annotations

import gzip
import re
import threading
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.api.errors import install_error_handlers
from app.auth.keys import make_key_store
from app.core.cache import make_cache
from app.core.settings import Settings
from app.widget.assets import STATIC_DIR
from test_agent_support import FakeSizing, make_assistant, parse_sse

STORE = "https://loja.example"
BUDGET_GZIP_BYTES = 30 * 1024


def settings_for(tmp_path: Path, **widget) -> Settings:
    return Settings(_env_file=None, env="test", auth={"db_path": tmp_path / "auth.sqlite3", "pepper": "t-pepper"},
                    widget={"demo_origins": ["http://testserver"], **widget})


def widget_app(settings: Settings, assistant=None) -> FastAPI:
    """The routes a storefront touches, wired as ``create_app`` wires them (without the
    heavy stores): chat, widget, the CORS middleware and the demo key."""
    from app.api.routes import chat, quotes
    from app.api.routes import widget as widget_routes
    from app.widget.cors import WidgetCORS
    from app.widget.demo import setup_demo

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(chat.router)
    app.include_router(quotes.router)
    app.include_router(widget_routes.router)
    app.add_middleware(WidgetCORS)
    app.state.settings = settings
    app.state.assistant = assistant or make_assistant(settings=settings)
    app.state.cache, app.state.catalog, app.state.commerce = app.state.assistant.store.cache, None, None
    setup_demo(app)
    return app


@pytest.fixture
def env(tmp_path):
    settings = settings_for(tmp_path)
    client = TestClient(widget_app(settings))
    key = make_key_store(settings).create("widget", "Loja", [STORE]).key
    return client, key, settings


# -- widget.js ------------------------------------------------------------------------------

def test_widget_js_is_versioned_cached_gzipped_and_within_budget(env, capsys):
    client, _, _ = env
    r = client.get("/widget/v1/widget.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["content-encoding"] == "gzip"
    assert re.fullmatch(r'"[0-9a-f]{20}"', r.headers["etag"])
    assert "max-age=" in r.headers["cache-control"] and "public" in r.headers["cache-control"]
    source = (STATIC_DIR / "widget.js").read_bytes()
    assert r.content == source  # httpx decoded the gzip body: the same file as checked in
    gzipped = len(gzip.compress(source, 9))
    with capsys.disabled():
        print(f"\nwidget.js: {len(source):,} bytes, {gzipped:,} bytes gzipped (budget {BUDGET_GZIP_BYTES:,})")
    assert gzipped <= BUDGET_GZIP_BYTES

    again = client.get("/widget/v1/widget.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == r.headers["etag"]
    stale = client.get("/widget/v1/widget.js", headers={"If-None-Match": '"0000"', "Accept-Encoding": "identity"})
    assert stale.status_code == 200 and "content-encoding" not in stale.headers and stale.content == source


def test_widget_js_never_writes_html_from_strings():
    """Untrusted text (answers, product names) must only reach the page as text nodes, and
    nothing may need 'unsafe-inline' or 'unsafe-eval' from the store's CSP."""
    source = (STATIC_DIR / "widget.js").read_text()
    for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                   'setAttribute("style"', "createElement(\"style\")", "javascript:"):
        assert banned not in source, banned
    assert "adoptedStyleSheets" in source and "attachShadow" in source


# -- handshake and CORS ----------------------------------------------------------------------

def test_handshake_says_why_a_key_is_refused_on_an_origin(env):
    client, key, settings = env
    ok = client.get("/widget/v1/session", params={"key": key}, headers={"Origin": STORE})
    assert ok.status_code == 200 and ok.json()["origin"] == STORE
    assert ok.headers["access-control-allow-origin"] == STORE

    other = client.get("/widget/v1/session", params={"key": key}, headers={"Origin": "https://outra.example"})
    assert other.status_code == 403
    assert "https://outra.example" in other.json()["error"]["message"]
    # Readable by the refused page, so the widget can say why in the console.
    assert other.headers["access-control-allow-origin"] == "https://outra.example"

    rep = make_key_store(settings).create("sales_rep", "Ana").key
    refused = client.get("/widget/v1/session", params={"key": rep}, headers={"Origin": STORE})
    assert refused.status_code == 403 and "não é de widget" in refused.json()["error"]["message"]
    bogus = client.get("/widget/v1/session", params={"key": "hl_wg_nope"}, headers={"Origin": STORE})
    assert bogus.status_code == 401


def test_cors_answers_only_origins_of_widget_keys(env):
    client, key, _ = env
    pre = client.options("/v1/chat", headers={"Origin": STORE, "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type, x-api-key"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == STORE
    assert "x-api-key" in pre.headers["access-control-allow-headers"]

    evil = client.options("/v1/chat", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers

    body = {"message": "Olá", "stream": False}
    allowed = client.post("/v1/chat", json=body, headers={"Origin": STORE, "X-API-Key": key})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == STORE
    # The key itself only works from its own origins, even where another key's origin is allowed.
    denied = client.post("/v1/chat", json=body, headers={"Origin": "https://evil.example", "X-API-Key": key})
    assert denied.status_code == 403 and "access-control-allow-origin" not in denied.headers
    assert denied.json()["error"]["code"] == "acesso_negado"


def test_cli_widget_key_with_origin_works_from_that_origin_only(tmp_path, monkeypatch):
    from cli import sales

    settings = settings_for(tmp_path)
    monkeypatch.setattr(sales, "get_settings", lambda: settings)
    out = CliRunner().invoke(sales.keys_app, ["create", "--role", "widget", "--origin", "https://loja.example/"])
    assert out.exit_code == 0, out.output
    key = next(w for w in out.output.split() if w.startswith("hl_wg_"))
    client = TestClient(widget_app(settings))
    assert client.get("/widget/v1/session", params={"key": key}, headers={"Origin": STORE}).status_code == 200
    assert client.get("/widget/v1/session", params={"key": key},
                      headers={"Origin": "http://loja.example"}).status_code == 403


def test_a_widget_key_never_reaches_sales_tools(env):
    client, key, _ = env
    h = {"Origin": STORE, "X-API-Key": key}
    client.post("/v1/chat", json={"conversation_id": "wg-sales", "message": "Cliente em Uberlândia/MG, 650 kWh/mês, "
                                  "trifásico", "stream": False}, headers=h)
    r = client.post("/v1/chat", json={"conversation_id": "wg-sales", "message": "gerar orçamento para a empresa "
                                      "comp_1", "stream": False}, headers=h)
    assert r.status_code == 200
    tools = {t["name"] for t in r.json()["tools"]}
    assert "create_draft_quote" not in tools and not any(c["type"].startswith("quote") for c in r.json()["cards"])
    assert client.post("/v1/quotes", json={}, headers=h).status_code == 403


# -- demo ------------------------------------------------------------------------------------

def test_demo_page_embeds_the_widget_with_its_demo_key_under_a_strict_csp(env):
    client, _, settings = env
    page = client.get("/demo")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'lang="pt-BR"' in page.text and "Kit Solar" in page.text
    key = client.app.state.demo_widget_key
    assert f'<script src="/widget/v1/widget.js" data-key="{key}"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-inline" not in csp
    assert "aviso" not in page.text  # opened from an allowed origin: no warning
    # The same key again after a restart (no pile of demo keys), usable from the demo origin only.
    assert TestClient(widget_app(settings)).app.state.demo_widget_key == key
    assert client.get("/widget/v1/session", params={"key": key}, headers={"Origin": "http://testserver"}).status_code == 200
    assert client.get("/widget/v1/session", params={"key": key}, headers={"Origin": STORE}).status_code == 403
    assert client.get("/demo/loja.css").status_code == 200 and client.get("/demo/x.js").status_code == 404


def test_demo_is_off_in_prod(tmp_path):
    settings = Settings(_env_file=None, env="prod", auth={"db_path": tmp_path / "a.sqlite3", "pepper": "x" * 32})
    assert TestClient(widget_app(settings)).get("/demo").status_code == 404


# -- two tabs, one conversation --------------------------------------------------------------

class SlowSizing(FakeSizing):
    """The engine takes a while, so concurrent turns overlap between load and save."""

    def size(self, args):
        time.sleep(0.3)
        return super().size(args)


@pytest.mark.redis
def test_concurrent_turns_of_one_conversation_lose_no_history(tmp_path, redis_url):
    """Four turns at once in one conversation over two replicas sharing Redis: every user
    message and every answer is in the stored history (without the lock: one survives)."""
    settings = settings_for(tmp_path)
    replicas = [TestClient(widget_app(settings, make_assistant(cache=make_cache(redis_url), sizing=SlowSizing(),
                                                                settings=settings))) for _ in range(2)]
    cid = f"tabs-{time.time_ns()}"
    messages = [f"Cliente em Campinas/SP, {kwh} kWh por mês, trifásico" for kwh in (400, 500, 600, 700)]
    results: list[list] = []

    def post(i: int) -> None:
        with replicas[i % 2].stream("POST", "/v1/chat", json={"conversation_id": cid, "message": messages[i]}) as r:
            assert r.status_code == 200
            results.append(parse_sse(r.read().decode()))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 4 and all(events[-1][0] == "done" for events in results)
    history = replicas[0].get(f"/v1/conversations/{cid}").json()["transcript"]
    users = [t["content"] for t in history if t["role"] == "user"]
    assert sorted(users) == sorted(messages)
    assert [t["role"] for t in history] == ["user", "assistant"] * 4
    import redis

    assert redis.Redis.from_url(redis_url).exists(f"helio:lock:conv:{cid}") == 0  # released


def test_the_turn_lock_also_holds_in_process_without_redis():
    """No Redis configured (one worker): the same lock over the in-process cache; a holder that
    never lets go makes the next caller give up with a clear 409, not hang."""
    from app.core.cache import MemoryCache
    from app.core.locks import Busy, CacheLock

    lock = CacheLock(MemoryCache(), ttl_s=30, wait_s=0.3, poll_s=0.01)
    order: list[str] = []

    def second() -> None:
        with lock.hold("c1"):
            order.append("second")

    with lock.hold("c1"):
        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.1)
        order.append("first done")
    t.join(5)
    assert order == ["first done", "second"]

    lock.acquire("c2")
    with pytest.raises(Busy) as info:
        lock.acquire("c2")
    assert info.value.status == 409 and "Aguarde" in info.value.hint
    lock.release("c2")
    lock.acquire("c2")  # free again
