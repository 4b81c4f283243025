"""The real ``openai`` Python SDK against Hélio served by uvicorn: what an integrator (or Open
WebUI, which lists models first) does with the README's instructions."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import openai
import pytest
import uvicorn

from app.auth.keys import make_key_store
from app.core.settings import Settings
from test_agent_support import FakeSizing, make_app, make_assistant

MESSAGE = "Meu cliente em Uberlândia-MG gasta 650 kWh por mês, trifásico. Qual kit?"
pytestmark = pytest.mark.slow  # a real uvicorn server on a port, driven by the SDK: integration tier


@pytest.fixture(scope="module")
def helio(tmp_path_factory):
    settings = Settings(_env_file=None, auth={"db_path": tmp_path_factory.mktemp("sdk") / "auth.sqlite3"})
    key = make_key_store(settings).create("sales_rep", "Open WebUI").key
    app = make_app(make_assistant(sizing=FakeSizing(), settings=settings), settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0, timeout=30)
    server.should_exit = True
    thread.join(10)


def test_models_are_listed_as_open_webui_expects(helio):
    models = helio.models.list()
    assert [m.id for m in models.data] == ["helio"]


def test_chat_completion_answers_with_the_engines_figures(helio):
    reply = helio.chat.completions.create(model="helio", messages=[{"role": "user", "content": MESSAGE}])
    content = reply.choices[0].message.content
    assert "5,42 kWp" in content and reply.choices[0].finish_reason == "stop"


def test_streamed_completion_arrives_in_pieces(helio):
    stream = helio.chat.completions.create(model="helio", stream=True,
                                           messages=[{"role": "user", "content": MESSAGE}])
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1 and "5,42 kWp" in "".join(pieces)


def test_a_wrong_key_is_a_clear_401_not_a_crash(helio):
    bad = openai.OpenAI(base_url=str(helio.base_url), api_key="wrong", max_retries=0,
                        http_client=httpx.Client(timeout=10))
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
