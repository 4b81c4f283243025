"""The MCP server at /mcp, driven by the MCP SDK's own client (streamable HTTP +
ClientSession) against a real uvicorn server on loopback: the tools are listed by role,
``size_pv_system`` answers with the engine's numbers, and a widget key is refused the
quote tool while a sales-rep key may use it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
import uvicorn
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from app.auth.keys import make_key_store
from app.commerce.local import LocalCommerce
from app.core.settings import Settings
from app.main import create_app
from test_metrics import samples, value
from test_quotes_flow import INVERTER, MODULE, stock  # the same CEC-based stock as the quote tests

SHOP = "https://loja.ysh.com.br"
pytestmark = pytest.mark.slow  # the whole app served by uvicorn, reached by the MCP client: integration tier


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[dict]:
    tmp: Path = tmp_path_factory.mktemp("mcp")
    settings = Settings(env="test", catalog={"db_path": tmp / "catalog.sqlite3"},
                        commerce={"db_path": tmp / "commerce.sqlite3", "quotes_db_path": tmp / "quotes.sqlite3"},
                        auth={"db_path": tmp / "auth.sqlite3", "pepper": "test-pepper"})
    app = create_app(settings)
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn não subiu em 60 s"
        assert thread.is_alive(), "uvicorn parou ao subir"
        time.sleep(0.05)
    app.state.catalog.replace_all(stock())
    app.state.commerce = LocalCommerce(settings.commerce.db_path, app.state.catalog)
    keys = make_key_store(settings)
    yield {
        "url": f"http://127.0.0.1:{port}/mcp",
        "rep": {"Authorization": f"Bearer {keys.create('sales_rep', 'Ana').key}"},
        "widget": {"Authorization": f"Bearer {keys.create('widget', origins=[SHOP]).key}", "Origin": SHOP},
        "app": app,
    }
    uv.should_exit = True
    thread.join(timeout=20)


async def _session_call(url: str, headers: dict, work):
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(120)) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)


def run(server: dict, who: str, work):
    return asyncio.run(_session_call(server["url"], server[who], work))


def _payload(result) -> dict:
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def test_tools_listed_by_role(server):
    async def names(session):
        return {t.name: t for t in (await session.list_tools()).tools}

    widget, rep = run(server, "widget", names), run(server, "rep", names)
    assert {"size_pv_system", "find_products", "search_knowledge", "simulate_financing"} <= set(widget)
    assert "create_draft_quote" not in widget
    assert "create_draft_quote" in rep
    # The role comes from the key, never from the arguments; the schema is the chat tool's schema.
    assert "role" not in rep["create_draft_quote"].input_schema["properties"]
    assert "monthly_kwh" in widget["size_pv_system"].input_schema["properties"]
    assert "Brazil" in widget["size_pv_system"].description


@pytest.mark.slow
def test_size_then_quote_over_mcp(server):
    """A widget key sizes a system; the widget key is refused the quote for it; a sales-rep
    key turns the same sizing into a draft quote (one quote, with the engine's totals)."""
    async def size(session):
        return await session.call_tool("size_pv_system", {"monthly_kwh": 650, "municipality": "Uberlândia",
                                                          "uf": "MG", "connection": "three_phase"})

    sized = run(server, "widget", size)
    assert not sized.is_error, sized.content
    body = _payload(sized)
    assert MODULE in json.dumps(body) and INVERTER in json.dumps(body)
    sizing_id = body["sizing_id"]
    company = server["app"].state.commerce.create_company("Solar Integradora Ltda")
    args = {"company_id": company.id, "sizing_id": sizing_id, "confirmed": True, "idempotency_key": "mcp-1"}

    async def quote(session):
        return await session.call_tool("create_draft_quote", args)

    refused = run(server, "widget", quote)
    assert refused.is_error
    assert "representante de vendas" in refused.content[0].text

    created = run(server, "rep", quote)
    assert not created.is_error, created.content
    draft = _payload(created)
    # created=True: the widget's refused attempt with the same idempotency key made nothing.
    assert draft["ok"] and draft["created"] and draft["quote_id"]
    assert draft["system_total_brl"] > 0
    # A retry with the same idempotency key is the same quote, not a second one.
    again = _payload(run(server, "rep", quote))
    assert again["quote_id"] == draft["quote_id"] and again["created"] is False
    # The MCP calls are counted like the chat's, labelled as coming from MCP.
    snapshot = samples(httpx.get(server["url"].removesuffix("/mcp") + "/metrics").text)
    for tool in ("size_pv_system", "create_draft_quote"):
        assert value(snapshot, "helio_tool_calls_total", tool=tool, via="mcp", outcome="ok") >= 1


def test_widget_key_refused_the_quote_tool(server):
    async def quote(session):
        return await session.call_tool("create_draft_quote", {"company_id": "cmp_1", "sizing_id": "sz_x",
                                                              "confirmed": True})

    result = run(server, "widget", quote)
    assert result.is_error
    assert "create_draft_quote" in result.content[0].text and "representante de vendas" in result.content[0].text


def test_tool_error_is_a_short_message(server):
    async def quote(session):
        return await session.call_tool("create_draft_quote", {"company_id": "cmp_inexistente",
                                                              "sizing_id": "sz_inexistente"})

    result = run(server, "rep", quote)
    # The sales-rep key passes the role gate; the quote service answers in Portuguese.
    assert result.is_error
    assert "representante de vendas" not in result.content[0].text
    assert "sz_inexistente" in result.content[0].text or "dimensionamento" in result.content[0].text.lower()


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({"Authorization": "Bearer hl_wg_chave-que-ninguem-emitiu"}, 401),
])
def test_mcp_needs_a_key(server, headers, status):
    response = httpx.post(server["url"], headers={**headers, "Accept": "application/json, text/event-stream"},
                          json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == status
    assert response.json()["error"]["code"] == "nao_autenticado"


def test_the_quote_tool_schema_takes_a_company_or_a_person(server):
    async def names(session):
        return {t.name: t for t in (await session.list_tools()).tools}

    schema = run(server, "rep", names)["create_draft_quote"].input_schema
    assert {"company_id", "customer"} <= set(schema["properties"]) and "company_id" not in schema.get("required", [])
    person = json.dumps(schema)
    assert all(f'"{field}"' in person for field in ("name", "cpf", "email", "phone"))


@pytest.mark.slow
def test_a_person_quote_over_mcp(server):
    """A rep's key quotes a sizing for a person without a company; a CPF whose check digits do
    not match is a tool error naming the field, and creates nobody."""
    async def size(session):
        return await session.call_tool("size_pv_system", {"monthly_kwh": 500, "municipality": "Uberlândia",
                                                          "uf": "MG", "connection": "three_phase"})

    sizing_id = _payload(run(server, "rep", size))["sizing_id"]

    def quote(customer: dict, key: str):
        async def call(session):
            return await session.call_tool("create_draft_quote", {"customer": customer, "sizing_id": sizing_id,
                                                                  "confirmed": True, "idempotency_key": key})
        return run(server, "rep", call)

    bad = quote({"name": "Maria Souza", "cpf": "529.982.247-24"}, "mcp-pf-bad")
    assert bad.is_error and "buyer.customer.cpf" in bad.content[0].text
    commerce = server["app"].state.commerce
    assert commerce.find_customer("Maria Souza", "52998224724") is None
    created = quote({"name": "Maria Souza", "cpf": "529.982.247-25"}, "mcp-pf-1")
    assert not created.is_error, created.content
    draft = _payload(created)
    assert draft["created"] and draft["customer"]["cpf_masked"] == "***.982.247-**"
    assert draft["customer"]["id"] == commerce.find_customer("Maria Souza", "52998224725").id
