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
