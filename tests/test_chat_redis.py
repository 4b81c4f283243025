"""Conversation memory and rate limits in a real Redis, shared by two API replicas."""

from __future__ import annotations

import pytest

from app.core.cache import make_cache
from test_agent_support import FakeSizing, make_assistant, run_turn

pytestmark = pytest.mark.redis


def test_two_replicas_continue_the_same_conversation(redis_url):
    sizing = FakeSizing()
    replica_a = make_assistant(cache=make_cache(redis_url), sizing=sizing)
    replica_b = make_assistant(cache=make_cache(redis_url), sizing=sizing)
    run_turn(replica_a, "redis-1", "Cliente em Campinas/SP, 600 kWh por mês")
    reply = run_turn(replica_b, "redis-1", "trifásico")
    assert reply["cards"][0]["type"] == "sizing" and sizing.calls[-1]["municipality"] == "Campinas"

    import redis

    client = redis.Redis.from_url(redis_url)
    ttl = client.ttl("helio:conv:redis-1")
    assert 0 < ttl <= replica_a.store.ttl_s


def test_rate_limit_is_shared_between_replicas(redis_url):
    from app.agent.limits import RateLimited

    a = make_assistant(cache=make_cache(redis_url))
    b = make_assistant(cache=make_cache(redis_url))
    a.rate_limiter.per_minute = b.rate_limiter.per_minute = 3
    a.rate_limiter.hit("key:shared")
    b.rate_limiter.hit("key:shared")
    a.rate_limiter.hit("key:shared")
    with pytest.raises(RateLimited) as info:
        b.rate_limiter.hit("key:shared")
    assert info.value.status == 429


def test_a_redis_outage_mid_conversation_falls_back_and_recovers():
    """A real redis-server dies between two turns: the chat keeps answering from process
    memory (degraded, logged) and uses Redis again once it is back."""
    import shutil
    import socket
    import subprocess
    import time

    def start(port: int) -> subprocess.Popen:
        proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return proc
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start(port)
    cache = make_cache(f"redis://127.0.0.1:{port}/0")
    sizing = FakeSizing()
    a = make_assistant(cache=cache, sizing=sizing)
    try:
        run_turn(a, "outage-1", "Cliente em Recife/PE, 500 kWh por mês")
        assert cache.degraded_reason is None
        server.terminate()
        server.wait(timeout=10)
        reply = run_turn(a, "outage-2", "Cliente em Natal/RN, 400 kWh por mês, monofásico")
        assert cache.degraded_reason is not None and cache.backend.startswith("memory")
        assert reply["cards"][0]["type"] == "sizing"
        server = start(port)
        run_turn(a, "outage-3", "Olá")
        assert cache.degraded_reason is None and cache.backend == "redis"
    finally:
        server.terminate()
        server.wait(timeout=10)
