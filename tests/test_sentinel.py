"""Redis that survives a failover: a real master + replica and three Sentinels (quorum 2) on
loopback, a conversation held across a SIGKILL of the master."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from app.agent.limits import RateLimiter
from app.core.cache import make_cache
from app.core.settings import RedisSettings
from test_agent_support import FakeSizing, make_assistant, run_turn

pytestmark = [pytest.mark.redis, pytest.mark.slow]

MASTER = "helio"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"timeout: {what}")


class Cluster:
    """master + replica + 3 sentinels, each a child process of the test."""

    def __init__(self, tmp: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server não encontrado: rode 'bash scripts/ensure-redis.sh'")
        self.procs: dict[str, subprocess.Popen] = {}
        self.master_port, self.replica_port = _free_port(), _free_port()
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp)]
        self._start("master", [binary, "--port", str(self.master_port), *common])
        self._start("replica", [binary, "--port", str(self.replica_port), *common,
                                "--replicaof", "127.0.0.1", str(self.master_port)])
        self.sentinel_ports = [_free_port() for _ in range(3)]
        for i, port in enumerate(self.sentinel_ports):
            conf = tmp / f"sentinel-{i}.conf"  # Sentinel rewrites its own file: one each
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {tmp}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.master_port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 5000\n"
                f"sentinel parallel-syncs {MASTER} 1\n")
            self._start(f"sentinel-{i}", [binary, str(conf), "--sentinel"])
        replica = redis.Redis(port=self.replica_port)
        _wait(lambda: replica.info("replication").get("master_link_status") == "up", 15, "replica in sync")
        for port in self.sentinel_ports:
            s = redis.Redis(port=port, decode_responses=True)
            # Every Sentinel knows the replica and the two other Sentinels (needed to elect a leader).
            _wait(lambda s=s: s.execute_command("SENTINEL", "REPLICAS", MASTER)
                  and len(s.execute_command("SENTINEL", "SENTINELS", MASTER)) == 2, 30, "sentinels discovered")

    def _start(self, name: str, argv: list[str]) -> None:
        self.procs[name] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if "--sentinel" not in argv:
            port = int(argv[argv.index("--port") + 1])
            _wait(lambda: socket.create_connection(("127.0.0.1", port), timeout=0.2).close() or True, 10,
                  f"{name} listening")

    def master_addr(self) -> tuple[str, int]:
        s = redis.Redis(port=self.sentinel_ports[0], decode_responses=True)
        host, port = s.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
        return host, int(port)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    yield c
    c.stop()


def test_conversation_and_rate_limits_survive_a_master_kill(cluster):
    settings = RedisSettings(sentinels=[f"127.0.0.1:{p}" for p in cluster.sentinel_ports],
                             sentinel_master=MASTER, failover_retry_s=20)
    cache = make_cache(settings)
    sizing = FakeSizing()
    assistant = make_assistant(cache=cache, sizing=sizing)
    limiter = RateLimiter(cache, per_minute=1000, window_s=3600)  # one window for the whole test
    reply = run_turn(assistant, "failover-1", "Cliente em Campinas/SP, 600 kWh por mês")
    assert not reply["cards"] and cache.degraded_reason is None  # asks for the connection type
    assert [limiter.hit("ip:203.0.113.9") for _ in range(3)] == [1, 2, 3]

    # Replication is asynchronous: make sure the replica has the writes before the crash (the
    # README says what an unsynced replica can lose and how min-replicas-to-write bounds it).
    assert redis.Redis(port=cluster.master_port).wait(1, 2000) == 1
    killed_at = time.monotonic()
    cluster.procs["master"].send_signal(signal.SIGKILL)
    cluster.procs["master"].wait(timeout=5)

    # The very next turn blocks while the Sentinels fail over, then goes on on the new master.
    reply = run_turn(assistant, "failover-1", "trifásico")
    unavailable_s = time.monotonic() - killed_at
    print(f"\nchat indisponível durante o failover: {unavailable_s:.2f} s")
    assert cache.degraded_reason is None, "fell back to memory instead of waiting for the failover"
    assert reply["cards"][0]["type"] == "sizing"
    assert sizing.calls[-1]["municipality"] == "Campinas" and sizing.calls[-1]["monthly_kwh"] == 600
    assert limiter.hit("ip:203.0.113.9") == 4
    assert cluster.master_addr() == ("127.0.0.1", cluster.replica_port)
    promoted = redis.Redis(port=cluster.replica_port)
    assert promoted.info("replication")["role"] == "master" and promoted.exists("helio:conv:failover-1")
    assert unavailable_s < settings.failover_retry_s


def test_a_failover_longer_than_the_retry_window_degrades_to_memory(cluster):
    """With nobody to promote in time, the service falls back as it does without Sentinel."""
    settings = RedisSettings(sentinels=[f"127.0.0.1:{p}" for p in cluster.sentinel_ports],
                             sentinel_master=MASTER, failover_retry_s=0.3)
    cache = make_cache(settings)
    assistant = make_assistant(cache=cache)
    run_turn(assistant, "short-1", "Olá")
    cluster.procs["master"].send_signal(signal.SIGKILL)
    cluster.procs["master"].wait(timeout=5)
    started = time.monotonic()
    reply = run_turn(assistant, "short-2", "Cliente em Natal/RN, 400 kWh por mês, monofásico")
    assert cache.degraded_reason is not None and reply["cards"][0]["type"] == "sizing"
    assert time.monotonic() - started < 5  # one retry window, then memory: not one window per call
