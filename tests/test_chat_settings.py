"""CHAT__* variables reach the assistant (limits, circuit breaker, load shedding)."""

from __future__ import annotations

from app.core.settings import Settings
from test_agent_support import make_assistant


def test_chat_settings_come_from_chat_variables(monkeypatch):
    from app.agent.factory import chat_limits

    monkeypatch.setenv("CHAT__RATE_PER_MINUTE", "7")
    monkeypatch.setenv("CHAT__SHED_QUEUE_DEPTH", "5")
    monkeypatch.setenv("CHAT__BREAKER_COOLDOWN_S", "12.5")
    limits = chat_limits(Settings(_env_file=None))
    assert (limits.rate_per_minute, limits.shed_queue_depth, limits.breaker_cooldown_s) == (7, 5, 12.5)
    assistant = make_assistant(settings=Settings(_env_file=None))
    assert assistant.rate_limiter.per_minute == 7 and assistant.shed_queue_depth == 5
