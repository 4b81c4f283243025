"""The ``openai`` LLM backend (any OpenAI-compatible server) against a real local HTTP server
that speaks the chat-completions protocol (:mod:`fake_llm_servers`), and the assistant on a dead one."""

from __future__ import annotations

import pytest

from app.agent.assistant import collect
from app.core.settings import LLMSettings
from app.llm.base import LLMUnavailable
from app.llm.factory import make_llm
from app.llm.openai import OpenAICompatBackend
from fake_llm_servers import openai_server
from test_agent_support import FakeSizing, make_assistant

SPEC = {"type": "function", "function": {"name": "size_pv_system", "description": "Size a PV system.",
                                         "parameters": {"type": "object",
                                                        "properties": {"monthly_kwh": {"type": "number"}}}}}


@pytest.fixture
def server():
    with openai_server() as s:
        yield s


def test_settings_choose_the_openai_backend_with_its_key():
    llm = make_llm(LLMSettings(backend="openai", openai_base_url="http://vllm:8000/v1", openai_model="qwen",
                               openai_api_key="sk-test"))
    assert isinstance(llm, OpenAICompatBackend) and (llm.base_url, llm.model, llm.api_key) == (
        "http://vllm:8000/v1", "qwen", "sk-test")


def test_tool_calls_and_limits_reach_the_server(server):
    server.script = [{"tool_calls": [("size_pv_system", {"monthly_kwh": 650})]}]
    llm = OpenAICompatBackend(server.url + "/v1", server.model)
    reply = llm.chat([{"role": "user", "content": "650 kWh"}], tools=[SPEC], max_tokens=77)
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [("size_pv_system", {"monthly_kwh": 650})]
    sent = server.requests[-1]
    # llama.cpp's server reads max_tokens (not max_completion_tokens): the limit must arrive under that name.
    assert sent["max_tokens"] == 77 and sent["tools"][0]["function"]["name"] == "size_pv_system"


def test_json_mode_and_streaming(server):
    server.script = [{"text": '{"monthly_kwh": 450}'}, {"text": "Olá, tudo bem?"}]
    llm = OpenAICompatBackend(server.url + "/v1", server.model)
    reply = llm.chat([{"role": "user", "content": "450 kWh"}], json_schema={"type": "object"})
    assert reply.data == {"monthly_kwh": 450}
    assert server.requests[-1]["response_format"] == {"type": "json_object"}
    pieces = list(llm.stream([{"role": "user", "content": "oi"}]))
    assert len(pieces) > 1 and "".join(pieces) == "Olá, tudo bem?"


def test_status_and_a_dead_server(server):
    assert OpenAICompatBackend(server.url + "/v1", server.model).status()[0] == "ok"
    assert OpenAICompatBackend(server.url + "/v1", "other").status()[0] == "down"
    dead = OpenAICompatBackend("http://127.0.0.1:9/v1", "x", timeout_s=2)
    assert dead.status()[0] == "down"
    with pytest.raises(LLMUnavailable):
        dead.chat([{"role": "user", "content": "oi"}])
    with pytest.raises(LLMUnavailable):
        list(dead.stream([{"role": "user", "content": "oi"}]))


SIZING_MSG = "Cliente em Uberlândia-MG, 650 kWh/mês, trifásico: dimensione e simule o financiamento em 60x"


def test_a_dead_server_degrades_and_then_is_skipped_for_a_while():
    assistant = make_assistant(llm=OpenAICompatBackend("http://127.0.0.1:9/v1", "helio", timeout_s=2),
                               sizing=FakeSizing())
    replies = [collect(assistant.turn(f"dead-{i}", SIZING_MSG)) for i in range(3)]
    assert all(r["degraded"] and "5,42 kWp" in r["message"] for r in replies)
    assert replies[0]["llm"]["steps"] == 1 and replies[2]["llm"]["steps"] == 0  # the breaker skipped the call
    assert "em pausa" in replies[2]["degraded_reasons"][-1]
