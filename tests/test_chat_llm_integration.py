"""End-to-end chat on the real embedded model (llama.cpp + SmolLM2-135M), marker ``llm``.

The sizing engine is the deterministic fake from ``test_agent_support`` so these tests
measure the chat path (model, rules, state, SSE), not pvlib; ``test_chat_api`` and the
sizing team's tests cover the rest.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.core.settings import LLMSettings
from app.llm.factory import make_llm
from test_agent_support import FakeSizing, make_app, make_assistant, parse_sse

pytestmark = [pytest.mark.llm]


@pytest.fixture(scope="module")
def real_llm():
    from app.agent.factory import system_prompt

    from app.agent.tools import ToolDeps, ToolRunner, make_tools

    specs = ToolRunner(make_tools(ToolDeps(sizing=None, catalog=None, searcher=None))).specs
    llm = make_llm(LLMSettings(backend="llamacpp"))
    # Load the GGUF and evaluate the shared system prompt once, as a warm server would have:
    # on 2 shared cores the cold prompt alone can exceed the 20 s routing budget.
    llm.chat([{"role": "system", "content": system_prompt()}, {"role": "user", "content": "oi"}], tools=specs,
             max_tokens=1, timeout_s=120)
    return llm


@pytest.fixture
def chat(real_llm):
    sizing = FakeSizing()
    assistant = make_assistant(llm=real_llm, sizing=sizing)
    assistant.router.timeout_s = 60.0  # tolerate a busy CI machine; degraded turns fail the asserts below
    with TestClient(make_app(assistant)) as client:
        def send(cid: str, message: str):
            with client.stream("POST", "/v1/chat", json={"conversation_id": cid, "message": message}) as r:
                assert r.status_code == 200
                return parse_sse(r.read().decode())
        send.sizing = sizing
        yield send


def _done(events):
    return events[-1][1]


def test_full_streamed_turn_ends_in_a_sizing_card(chat):
    events = chat("it-1", "Meu cliente em Uberlândia-MG gasta 650 kWh por mês, ligação trifásica. Qual kit?")
    names = [e for e, _ in events]
    assert names[-1] == "done" and "token" in names
    done = _done(events)
    assert done["llm"]["backend"] == "llamacpp" and done["llm"]["completion_tokens"] > 0  # the model ran
    assert done["degraded"] is False
    card = next(d for e, d in events if e == "card" and d["type"] == "sizing")
    assert card["data"]["inputs"]["monthly_kwh"] == 650.0 and card["data"]["inputs"]["connection"] == "three_phase"
    text = "".join(d["text"] for e, d in events if e == "token")
    assert card["data"]["facts"]["system_kwp"] in text


def test_multi_turn_slot_filling(chat):
    first = chat("it-2", "Preciso dimensionar um sistema fotovoltaico para um cliente")
    assert _done(first)["awaiting"] == ["consumption", "site", "connection"]
    second = chat("it-2", "Ele fica em Campinas/SP e consome 800 kWh por mês")
    assert _done(second)["awaiting"] == ["connection"]
    third = chat("it-2", "bifásico")
    assert any(e == "card" and d["type"] == "sizing" for e, d in third)
    assert chat.sizing.calls[-1] == {"monthly_kwh": 800.0, "municipality": "Campinas", "uf": "SP",
                                     "ibge_code": 3509502, "connection": "two_phase"}


def test_correction(chat):
    chat("it-3", "Cliente em Recife, 500 kWh/mês, monofásico")
    events = chat("it-3", "na verdade são 700 kWh")
    assert [c["monthly_kwh"] for c in chat.sizing.calls] == [500.0, 700.0]
    text = "".join(d["text"] for e, d in events if e == "token")
    assert "Atualizei" in text and "700 kWh" in text
