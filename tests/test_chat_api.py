"""The chat API: SSE and JSON turns, conversation resource, limits, OpenAI compatibility."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from test_agent_support import FakeSizing, ScriptedLLM, make_app, make_assistant, parse_sse


@pytest.fixture
def client():
    with TestClient(make_app(make_assistant())) as c:
        yield c


def test_streamed_turn_emits_tool_card_tokens_and_done(client):
    body = {"conversation_id": "api-1", "message": "Cliente em Uberlândia-MG, 650 kWh/mês, trifásico"}
    with client.stream("POST", "/v1/chat", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.read().decode())
    names = [e for e, _ in events]
    assert names.index("tool_call") < names.index("tool_result") < names.index("card") < names.index("done")
    assert names[-1] == "done" and "token" in names
    card = next(d for e, d in events if e == "card")
    assert card["type"] == "sizing" and card["data"]["facts"]["system_kwp"] == "5,42 kWp"
    text = "".join(d["text"] for e, d in events if e == "token")
    assert "5,42 kWp" in text
    assert events[-1][1]["conversation_id"] == "api-1" and events[-1][1]["degraded"] is False


def test_json_turn_and_conversation_resource(client):
    r = client.post("/v1/chat", json={"conversation_id": "api-2", "message": "Quero dimensionar", "stream": False})
    assert r.status_code == 200 and r.json()["awaiting"] == ["consumption", "site", "connection"]
    r = client.post("/v1/chat", json={"conversation_id": "api-2", "message": "500 kWh em Recife, monofásico",
                                      "stream": False})
    assert r.json()["cards"][0]["type"] == "sizing"
    state = client.get("/v1/conversations/api-2").json()
    assert state["slots"]["municipality"] == "Recife" and len(state["transcript"]) == 4
    assert client.delete("/v1/conversations/api-2").status_code == 204
    missing = client.get("/v1/conversations/api-2")
    assert missing.status_code == 404 and missing.json()["error"]["hint"]


def test_new_conversation_gets_an_id(client):
    r = client.post("/v1/chat", json={"message": "oi", "stream": False})
    assert r.status_code == 200 and len(r.json()["conversation_id"]) == 32


def test_oversized_message_is_413_with_hint(client):
    r = client.post("/v1/chat", json={"message": "a" * 3000})
    assert r.status_code == 413
    error = r.json()["error"]
    assert error["code"] == "mensagem_grande_demais" and "Resuma" in error["hint"]


def test_huge_or_empty_message_is_422(client):
    assert client.post("/v1/chat", json={"message": "a" * 30_000}).status_code == 422
    assert client.post("/v1/chat", json={"message": ""}).status_code == 422
    bad_id = client.post("/v1/chat", json={"message": "oi", "conversation_id": "../etc"})
    assert bad_id.status_code == 422 and bad_id.json()["error"]["hint"]


def test_rate_limit_per_api_key(tmp_path):
    from app.auth.keys import make_key_store
    from app.core.settings import Settings

    settings = Settings(_env_file=None, env="test", auth={"db_path": tmp_path / "auth.sqlite3", "pepper": "p"})
    keys = make_key_store(settings)
    first, second = keys.create("sales_rep", "Ana").key, keys.create("sales_rep", "Bia").key
    assistant = make_assistant()
    assistant.rate_limiter.per_minute = 2
    with TestClient(make_app(assistant, settings)) as c:
        headers = {"X-API-Key": first}
        codes = [c.post("/v1/chat", json={"message": "oi", "stream": False}, headers=headers).status_code
                 for _ in range(3)]
        other = c.post("/v1/chat", json={"message": "oi", "stream": False}, headers={"X-API-Key": second})
        forged = c.post("/v1/chat", json={"message": "oi", "stream": False}, headers={"X-API-Key": "hl_sr_forged"})
    assert codes == [200, 200, 429] and other.status_code == 200
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "nao_autenticado"


def test_model_down_gives_degraded_sizing_over_the_api():
    with TestClient(make_app(make_assistant(llm=ScriptedLLM(down=True)))) as c:
        r = c.post("/v1/chat", json={"message": "650 kWh em BH, trifásico", "stream": False})
    assert r.status_code == 200 and r.json()["degraded"] is True
    assert r.json()["cards"][0]["type"] == "sizing"


def test_openai_compatible_non_streaming_replays_history_for_stateless_clients():
    sizing = FakeSizing()
    with TestClient(make_app(make_assistant(sizing=sizing))) as c:
        r = c.post("/v1/chat/completions", json={"model": "helio", "messages": [
            {"role": "user", "content": "Meu cliente em Campinas/SP gasta 600 kWh"},
            {"role": "assistant", "content": "Ainda falta: o tipo de ligação"},
            {"role": "user", "content": "bifásico"},
        ]})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["role"] == "assistant"
    assert "5,00 kWp" in body["choices"][0]["message"]["content"]
    assert sizing.calls[-1]["municipality"] == "Campinas"
    assert body["helio"]["cards"][0]["type"] == "sizing"


def test_openai_compatible_streaming():
    with TestClient(make_app(make_assistant())) as c:
        with c.stream("POST", "/v1/chat/completions", json={
            "stream": True, "messages": [{"role": "user", "content": "How many panels for 900 kWh/month in Recife, single-phase?"}],
        }) as r:
            lines = [line for line in r.read().decode().split("\n") if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks)
    assert "7.50 kWp" in text and chunks[-1]["choices"][0]["finish_reason"] == "stop"
