"""The storefront widget in a real Chromium (Debian's /usr/bin/chromium driven by Playwright;
never a downloaded browser) against a real uvicorn server of the whole app, with the real
catalog, the embedded model and a real redis-server.

Screenshots and the axe report go to var/test-artifacts/. Setup: scripts/ensure-chromium.sh.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "var" / "test-artifacts"
AXE = ROOT / "tests" / "widget" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SIZING_MESSAGE = "Cliente em Uberlândia/MG, 650 kWh/mês, trifásico"
STOP_AS_SOON_AS_SENT = """async (text) => {
  const stop = [...document.querySelectorAll("*")].map(e => e.shadowRoot).filter(Boolean)
    .map(r => r.querySelector("button.stop")).find(Boolean);
  const sent = Helio.send(text);
  while (stop.hidden) await new Promise(r => setTimeout(r, 0));
  stop.click();
  await sent;
}"""
TURN_TIMEOUT_MS = 180_000

RECORDER = """
window.__helio = {events: [], csp: [], lengths: []};
for (const n of ["ready", "open", "close", "message"]) {
  window.addEventListener("helio:" + n, (e) => window.__helio.events.push({name: n, detail: e.detail}));
}
document.addEventListener("securitypolicyviolation",
  (e) => window.__helio.csp.push(e.violatedDirective + " " + e.blockedURI));
"""
FOCUSED = """() => {
  const h = document.activeElement;
  if (h && h.id === "helio-widget") {
    const a = h.shadowRoot.activeElement;
    if (!a) return "host";
    return (a.closest(".panel") ? "panel:" : "") + (a.className || a.tagName.toLowerCase() + (a.id ? "#" + a.id : ""));
  }
  return h ? h.tagName.toLowerCase() : null;
}"""
BURST = """async ([api, key]) => {
  const statuses = [];
  for (let i = 0; i < 80 && !statuses.includes(429); i++) {
    const r = await fetch(api + "/v1/chat", {method: "POST", headers: {"Content-Type": "application/json",
      "X-API-Key": key}, body: JSON.stringify({message: "Olá", stream: false})});
    statuses.push(r.status);
  }
  return statuses;
}"""
WATCH_STREAM = """() => {
  const root = document.getElementById("helio-widget").shadowRoot;
  new MutationObserver(() => {
    const bots = root.querySelectorAll(".msg.bot");
    const last = bots[bots.length - 1];
    if (last) window.__helio.lengths.push([last.classList.contains("streaming"),
                                           last.querySelector(".bubble").textContent.length]);
  }).observe(root, {subtree: true, childList: true, characterData: true});
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"o servidor saiu com código {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} não respondeu em {timeout_s} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory, redis_url, real_catalog) -> Iterator[dict]:
    """uvicorn serving app.main:create_app on a free port, on the real sample catalog."""
    tmp = tmp_path_factory.mktemp("widget-server")
    real_catalog.copy(tmp)  # catalog.sqlite3 (+ reports) from conftest's session-wide ingest
    port, store_port = _free_port(), _free_port()
    api = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ENV": "test", "AUTH__PEPPER": "browser-test-pepper",
           "AUTH__DB_PATH": str(tmp / "auth.sqlite3"), "CATALOG__DB_PATH": str(tmp / "catalog.sqlite3"),
           "COMMERCE__DB_PATH": str(tmp / "commerce.sqlite3"), "COMMERCE__QUOTES_DB_PATH": str(tmp / "quotes.sqlite3"),
           "REDIS__URL": redis_url, "WIDGET__DEMO_ORIGINS": json.dumps([api])}
    log = open(tmp / "uvicorn.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        _wait_http(f"{api}/healthz", proc, 180)
        from app.auth.keys import ApiKeyStore

        store_key = ApiKeyStore(tmp / "auth.sqlite3", "browser-test-pepper").create(
            "widget", "Loja de teste", [f"http://localhost:{store_port}"]).key
        yield {"api": api, "store_port": store_port, "store_key": store_key, "log": tmp / "uvicorn.log"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def storefront(server) -> Iterator[str]:
    """Another origin: a store page that embeds the widget under a strict CSP allowing only
    the API origin in script-src and connect-src (the lines README gives integrators)."""
    api, key = server["api"], server["store_key"]
    csp = f"default-src 'none'; script-src {api}; connect-src {api}; base-uri 'none'; form-action 'none'"
    page = (f'<!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><title>Loja parceira</title></head>'
            f"<body><h1>Loja parceira</h1><p>Inversores e kits solares.</p>"
            f'<script src="{api}/widget/v1/widget.js" data-key="{key}" data-lang="pt-BR" data-position="left" '
            f'data-accent="#1f6feb" async></script></body></html>').encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", server["store_port"]), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True).start()
    yield csp
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} não encontrado: rode 'bash scripts/ensure-chromium.sh'")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def new_page(browser, **context):
    ctx = browser.new_context(locale="pt-BR", **context)
    ctx.add_init_script(RECORDER)
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    return ctx, page


def events(page, name: str) -> list:
    return [e["detail"] for e in page.evaluate("window.__helio.events") if e["name"] == name]


def wait_event(page, name: str, count: int = 1, timeout_ms: int = TURN_TIMEOUT_MS) -> None:
    # A function, not a string: a string is eval'd in the page, which a strict CSP forbids.
    page.wait_for_function("([n, c]) => window.__helio.events.filter(e => e.name === n).length >= c",
                           arg=[name, count], timeout=timeout_ms)


def test_demo_keyboard_streaming_cards_axe_and_history_after_reload(browser, server):
    ctx, page = new_page(browser, viewport={"width": 1280, "height": 860}, bypass_csp=True)  # axe is injected
    page.goto(f"{server['api']}/demo")
    wait_event(page, "ready")
    assert page.title().startswith("Kit Solar")

    # Keyboard only: Tab reaches the launcher (a named button), Enter opens the dialog with focus inside.
    launcher = page.get_by_role("button", name="Abrir chat com o Hélio, assistente solar")
    assert launcher.count() == 1
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED) == "launcher":
            break
    else:
        pytest.fail("o lançador não recebe foco pelo teclado")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Hélio · assistente solar")
    dialog.wait_for(state="visible")
    assert page.evaluate(FOCUSED) == "panel:textarea#helio-input"
    for _ in range(12):  # focus is trapped in the dialog
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED).startswith("panel:")

    # Send a sizing request on a slow link, so the answer arrives in pieces as a phone would get it.
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 40, "downloadThroughput": 12 * 1024,
                                                  "uploadThroughput": -1})
    page.evaluate(WATCH_STREAM)
    page.get_by_label("Sua mensagem").fill(SIZING_MESSAGE)
    page.keyboard.press("Enter")
    wait_event(page, "message", 2)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    lengths = page.evaluate("window.__helio.lengths")
    growing = sorted({n for streaming, n in lengths if streaming and n > 0})
    final = events(page, "message")[-1]
    assert len(growing) >= 2 and growing[0] < len(final["text"]), f"texto não chegou aos poucos: {growing[:5]}"
    kwp = page.locator("[data-kind=sizing] .kwp").first.text_content()
    assert kwp.endswith("kWp") and kwp[0].isdigit(), kwp
    assert kwp in final["text"] and any(c["type"] == "sizing" for c in final["cards"])
    sizing = page.locator("[data-kind=sizing]").first
    for label in ("Módulos", "Inversor", "Geração anual", "Cobertura do consumo", "Verificação das strings"):
        assert sizing.get_by_text(label, exact=True).count() == 1, label
    assert page.locator("[data-kind=products] .price").count() >= 1
    live = page.locator("[aria-live=polite]").first.text_content()
    assert kwp in live  # announced once, whole, to screen readers

    # Quick reply → financing table from the same sizing.
    page.get_by_role("button", name="Simular financiamento").click()
    wait_event(page, "message", 4)
    table = page.locator("[data-kind=financing] table")
    table.wait_for()
    assert table.locator("tbody tr").count() >= 1 and "R$" in table.text_content()
    page.screenshot(path=str(ARTIFACTS / "widget-demo-desktop.png"), animations="disabled")

    page.add_script_tag(path=str(AXE))
    report = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    (ARTIFACTS / "axe-demo.json").write_text(json.dumps(report["violations"], ensure_ascii=False, indent=1))
    serious = [(v["id"], v["impact"], len(v["nodes"])) for v in report["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == [], serious

    # ESC closes and gives focus back to the launcher.
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate(FOCUSED) == "launcher"

    # Reload: the same conversation comes back from the server, sizing card included.
    page.reload()
    wait_event(page, "ready")
    launcher.click()
    page.locator(".msg.user").nth(1).wait_for()
    users = page.locator(".msg.user .bubble").all_text_contents()
    assert users == [SIZING_MESSAGE, "Simular financiamento"]
    assert page.locator("[data-kind=sizing] .kwp").first.text_content() == kwp
    assert page.get_by_text("Conversa anterior restaurada.").is_visible()
    page.screenshot(path=str(ARTIFACTS / "widget-demo-after-reload.png"), animations="disabled")

    # "Nova conversa" forgets it.
    page.get_by_role("button", name="Nova conversa").click()
    assert page.locator(".msg.user").count() == 0
    ctx.close()


def test_mobile_viewport_full_screen_panel(browser, server):
    ctx, page = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                         device_scale_factor=2, reduced_motion="reduce")
    page.goto(f"{server['api']}/demo")
    wait_event(page, "ready")
    page.screenshot(path=str(ARTIFACTS / "widget-mobile-closed.png"), animations="disabled")
    # A conversation id the server no longer knows (expired): a fresh start, with a note.
    page.evaluate("""() => { const key = document.querySelector("script[data-key]").dataset.key;
        localStorage.setItem(`helio:v1:conversation:${key}:${location.origin}`, "w-expired0000"); }""")
    page.get_by_role("button", name="Abrir chat com o Hélio, assistente solar").tap()
    panel = page.get_by_role("dialog")
    panel.wait_for(state="visible")
    page.get_by_text("Sua conversa anterior expirou; começamos uma nova.").wait_for()
    assert panel.evaluate("p => getComputedStyle(p).animationName") == "none"  # prefers-reduced-motion
    assert panel.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 844}
    page.get_by_label("Sua mensagem").fill(SIZING_MESSAGE)
    page.get_by_role("button", name="Enviar").tap()
    page.locator("[data-kind=sizing] .kwp").first.wait_for(timeout=TURN_TIMEOUT_MS)
    wait_event(page, "message", 2)
    send = page.get_by_role("button", name="Enviar").bounding_box()
    assert send["y"] + send["height"] <= 844 and send["height"] >= 44  # reachable, finger-sized
    page.screenshot(path=str(ARTIFACTS / "widget-mobile-open.png"), animations="disabled")
    page.get_by_role("button", name="Fechar chat").tap()
    panel.wait_for(state="hidden")
    ctx.close()


def test_strict_csp_store_on_another_origin_streams_and_recovers_offline(browser, server, storefront):
    ctx, page = new_page(browser, viewport={"width": 1100, "height": 760})
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.goto(f"http://localhost:{server['store_port']}/loja")
    wait_event(page, "ready")
    launcher = page.get_by_role("button", name="Abrir chat com o Hélio, assistente solar")
    # The adopted stylesheet applied under the CSP: fixed, bottom-left, the store's accent.
    style = launcher.evaluate("b => { const s = getComputedStyle(b); return [s.position, s.backgroundColor]; }")
    assert style == ["fixed", "rgb(31, 111, 235)"]
    assert launcher.bounding_box()["x"] < 100
    page.evaluate("Helio.open()")
    page.evaluate("Helio.send('Olá')")
    wait_event(page, "message", 2)
    assert "Hélio" in events(page, "message")[-1]["text"]

    ctx.set_offline(True)
    page.evaluate("Helio.send('Quero dimensionar um sistema')")
    note = page.get_by_text("Sem conexão com o Hélio")
    note.wait_for()
    ctx.set_offline(False)
    page.get_by_role("button", name="Tentar de novo").click()
    wait_event(page, "message", 4)
    assert not note.is_visible()
    page.screenshot(path=str(ARTIFACTS / "widget-store-strict-csp.png"), animations="disabled")
    assert page.evaluate("window.__helio.csp") == [], "violações de CSP"
    assert not [c for c in console if "Content Security Policy" in c], console

    # Stop: the answer is cut, the form is back, and the conversation is free at once for the next
    # message (the stopped turn released its lock on the server).
    # "Parar" is pressed as soon as it shows (the request is on its way): a sizing turn can now finish in less time
    # than a Playwright click takes to find the button, which made this step a race.
    page.evaluate(STOP_AS_SOON_AS_SENT, "Cliente em Campinas/SP, 500 kWh/mês, monofásico")
    page.get_by_text("(resposta interrompida)", exact=True).wait_for()
    assert page.get_by_role("button", name="Enviar").is_visible()
    seen, started = len(events(page, "message")), time.monotonic()
    page.evaluate("() => { Helio.send('Olá'); }")
    wait_event(page, "message", seen + 2, timeout_ms=90_000)
    assert time.monotonic() - started < 60  # not the lock's 180 s expiry
    assert "Hélio" in events(page, "message")[-1]["text"]

    # Past the key's rate limit the buyer reads "muitas mensagens, aguarde", not an error code.
    for _attempt in range(2):  # a fixed window may roll over between the burst and the widget's send
        statuses = page.evaluate(BURST, [server["api"], server["store_key"]])
        assert 429 in statuses, statuses
        page.evaluate("Helio.send('Olá mais uma vez')")
        busy = page.get_by_text("Muitas mensagens, aguarde")
        try:
            busy.wait_for(timeout=10_000)
            break
        except Exception:  # noqa: BLE001 - answered in a new window: try once more
            continue
    assert busy.is_visible()
    page.screenshot(path=str(ARTIFACTS / "widget-store-429.png"), animations="disabled")
    ctx.close()


def test_origin_not_allowed_for_the_key_renders_nothing_and_says_why(browser, server, storefront):
    ctx, page = new_page(browser)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.goto(f"http://127.0.0.1:{server['store_port']}/loja")  # the key allows http://localhost:<port> only
    page.wait_for_function("() => typeof window.Helio === 'object'")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any("widget não exibido" in c for c in console):
        page.wait_for_timeout(100)
    refusal = [c for c in console if "widget não exibido" in c]
    assert refusal and refusal[0].startswith("error:") and "não permitida" in refusal[0], console
    assert page.locator("#helio-widget").count() == 0 and page.get_by_role("button").count() == 0
    assert events(page, "ready") == [] and page.evaluate("Helio.open()") is False
    # And the browser cannot read the chat API from there either (CORS answers allowed origins only).
    blocked = page.evaluate("""async ([api, key]) => {
        try { await fetch(api + '/v1/chat', {method: 'POST', headers: {'Content-Type': 'application/json',
              'X-API-Key': key}, body: JSON.stringify({message: 'Olá'})}); return 'read'; }
        catch (e) { return 'blocked'; } }""", [server["api"], server["store_key"]])
    assert blocked == "blocked"
    ctx.close()



def test_answers_render_a_safe_markdown_subset_and_never_html(browser, server):
    """The widget's renderer, fed a crafted stream in a real Chromium: bold, lists, https links
    and line breaks become elements; markup, script URLs and http links stay inert text."""
    hostile = ("**Kit 5 kWp**\n- item <img src=x onerror=\"window.__pwned=1\">\n- [ficha](https://ysh.example/f.pdf)\n"
               "linha 2 [x](javascript:window.__pwned=2) http://inseguro.example\nlinha 3 <script>window.__pwned=3</script>")
    events_ = [("token", {"text": piece}) for piece in hostile.split(" ")]
    body = "".join(f"event: {name}\ndata: {json.dumps({'text': d['text'] + ' '})}\n\n" for name, d in events_)
    body += ": ping\n\n" + f"event: done\ndata: {json.dumps({'conversation_id': 'w-safe', 'awaiting': []})}\n\n"
    ctx, page = new_page(browser)
    page.route("**/v1/chat", lambda route: route.fulfill(status=200, body=body,
                                                         headers={"Content-Type": "text/event-stream"}))
    page.goto(f"{server['api']}/demo")
    wait_event(page, "ready")
    page.evaluate("Helio.send('teste')")
    bubble = page.locator(".msg.bot .bubble").last
    assert bubble.locator("strong").all_text_contents() == ["Kit 5 kWp"]
    assert bubble.locator("li").count() == 2
    links = bubble.locator("a")
    assert links.count() == 1 and links.first.get_attribute("href") == "https://ysh.example/f.pdf"
    assert links.first.get_attribute("rel") == "noopener noreferrer"
    assert bubble.locator("img, script").count() == 0 and bubble.locator("br").count() >= 1
    text = bubble.text_content()
    assert "<img src=x" in text and "javascript:" not in links.first.get_attribute("href")
    assert "http://inseguro.example" in text
    assert page.evaluate("window.__pwned") is None
    ctx.close()


def test_a_withdrawn_model_answer_is_replaced_text_and_cards(browser, server):
    """A model-led turn whose answer carried an unchecked number: the server sends ``reset``
    and then the template answer (app.agent.loop); the widget shows only the replacement."""
    item = {"id": "kit-x", "name": "Kit X", "price_brl": 9999.0, "in_stock": True}
    stream = [("token", {"text": "Para 650 kWh/mês o sistema ideal tem "}),
              ("card", {"type": "products", "data": {"items": [item]}}),
              ("reset", {"reason": "grounding", "ungrounded": ["9,75"]}),
              ("token", {"text": "Dimensionamento para Uberlândia/MG:\n"}),
              ("token", {"text": "- potência do sistema: 5,42 kWp\n"}),
              ("done", {"conversation_id": "w-reset", "awaiting": [], "grounding_fallback": True})]
    body = "".join(f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n" for name, data in stream)
    ctx, page = new_page(browser)
    page.route("**/v1/chat", lambda route: route.fulfill(status=200, body=body.encode(),
                                                         headers={"Content-Type": "text/event-stream"}))
    page.goto(f"{server['api']}/demo")
    wait_event(page, "ready")
    page.evaluate("Helio.send('teste')")
    wait_event(page, "message", 2)
    bubble = page.locator(".msg.bot .bubble").last
    text = bubble.text_content()
    assert "5,42 kWp" in text and "ideal tem" not in text
    assert page.locator(".msg.bot").last.locator("[data-kind=products]").count() == 0
    ctx.close()
