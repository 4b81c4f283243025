"""Two real API processes (uvicorn) on one real redis-server, as two replicas behind a load
balancer: a quote retried on the other replica is the same quote (also when the retries
race), a conversation continues on the other replica, and rate limits are shared.

The replicas share nothing but Redis and the local commerce file (the single-host commerce
backend; production uses Medusa): each has its own quote-record SQLite path, its own API
key store (keys come as hashes in AUTH__KEYS) and its own embedded knowledge index path
(empty, so searches degrade; the index is single-process).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from app.auth.keys import hash_key
from app.catalog.store import SQLiteCatalogStore
from app.commerce.local import LocalCommerce
from app.core.cache import RedisCache
from app.quotes.store import RedisQuoteRecordStore
from test_quotes_flow import SIZING_ID, sizing_result, stock

ROOT = Path(__file__).resolve().parents[1]
PEPPER = "replicas-pepper"
REP_KEY = "hl_sr_" + "replicas-test-key-0123456789abcdef"
RATE_PER_MINUTE = 5

pytestmark = [pytest.mark.redis, pytest.mark.slow]  # two API processes start (~30 s on 2 cores)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _replica_db(redis_url: str) -> str:
    """The session's Redis, on a database of its own (db 5) so no other test sees these keys."""
    return redis_url.rsplit("/", 1)[0] + "/5"


@pytest.fixture(scope="module")
def replicas(redis_url, tmp_path_factory) -> Iterator[dict]:
    tmp: Path = tmp_path_factory.mktemp("replicas")
    url = _replica_db(redis_url)
    catalog = SQLiteCatalogStore(tmp / "catalog.sqlite3")
    catalog.replace_all(stock())
    company = LocalCommerce(tmp / "commerce.sqlite3", catalog).create_company("Solar Triângulo Ltda")
    sizing = sizing_result().model_dump(mode="json")
    RedisCache(url).set_json(f"sizing:{SIZING_ID}", sizing, ttl_s=3600)
    procs, urls = [], []
    for name in ("a", "b"):
        port = _free_port()
        env = {
            **os.environ, "PYTHONPATH": str(ROOT), "ENV": "test", "REDIS__URL": url,
            "CATALOG__DB_PATH": str(tmp / "catalog.sqlite3"), "COMMERCE__DB_PATH": str(tmp / "commerce.sqlite3"),
            "COMMERCE__QUOTES_DB_PATH": str(tmp / f"quotes-{name}.sqlite3"),
            "AUTH__DB_PATH": str(tmp / f"auth-{name}.sqlite3"), "AUTH__PEPPER": PEPPER,
            "AUTH__KEYS": json.dumps([{"hash": hash_key(PEPPER, REP_KEY), "role": "sales_rep", "label": "Ana"}]),
            "QDRANT__EDGE_PATH": str(tmp / f"edge-{name}"), "QDRANT__PATH": str(tmp / f"qdrant-{name}"),
            "EMBEDDING__PRELOAD": "false", "LLM__BACKEND": "ollama", "LLM__OLLAMA_URL": "http://127.0.0.1:9",
            "CHAT__RATE_PER_MINUTE": str(RATE_PER_MINUTE),
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        log = open(tmp / f"replica-{name}.log", "wb")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 120
        for proc, base in zip(procs, urls):
            while True:
                assert proc.poll() is None, (tmp / "replica-a.log").read_text() + (tmp / "replica-b.log").read_text()
                assert time.monotonic() < deadline, "réplica não subiu em 120 s"
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
        yield {"a": urls[0], "b": urls[1], "company_id": company.id, "sizing_id": SIZING_ID,
               "rep": {"Authorization": f"Bearer {REP_KEY}"}, "commerce_db": tmp / "commerce.sqlite3",
               "redis": url}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)


def _quote_body(r: dict) -> dict:
    return {"sizing_id": r["sizing_id"], "buyer": {"company_id": r["company_id"], "end_customer_name": "Maria"}}


def _commerce_quotes(r: dict) -> int:
    import sqlite3

    with sqlite3.connect(r["commerce_db"]) as conn:
        return conn.execute("SELECT count(*) FROM quotes").fetchone()[0]


def test_quote_retried_on_the_other_replica_is_the_same_quote(replicas):
    r = replicas
    headers = {**r["rep"], "Idempotency-Key": f"retry-{uuid.uuid4().hex}"}
    before = _commerce_quotes(r)
    first = httpx.post(r["a"] + "/v1/quotes", json=_quote_body(r), headers=headers, timeout=60)
    assert first.status_code == 201, first.text
    retry = httpx.post(r["b"] + "/v1/quotes", json=_quote_body(r), headers=headers, timeout=60)
    assert retry.status_code == 200, retry.text
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["system_total_brl"] == first.json()["system_total_brl"]
    # The record is readable on either replica (it lives in Redis, not in A's SQLite file).
    got = httpx.get(f"{r['b']}/v1/quotes/{first.json()['id']}", headers=r["rep"], timeout=30)
    assert got.status_code == 200 and got.json()["id"] == first.json()["id"]
    assert _commerce_quotes(r) == before + 1
    # The same key with another body is a conflict on the other replica too.
    other = {**_quote_body(r), "note": "outro pedido"}
    assert httpx.post(r["b"] + "/v1/quotes", json=other, headers=headers, timeout=60).status_code == 409


def test_concurrent_retries_on_two_replicas_create_one_quote(replicas):
    r = replicas
    headers = {**r["rep"], "Idempotency-Key": f"race-{uuid.uuid4().hex}"}
    before = _commerce_quotes(r)
    targets = [r["a"], r["b"]] * 4
    with ThreadPoolExecutor(len(targets)) as pool:
        responses = list(pool.map(
            lambda base: httpx.post(base + "/v1/quotes", json=_quote_body(r), headers=headers, timeout=60), targets))
    assert sorted(x.status_code for x in responses) == [200] * 7 + [201], [x.text for x in responses]
    assert len({x.json()["id"] for x in responses}) == 1
    assert _commerce_quotes(r) == before + 1


def test_conversation_continues_on_the_other_replica(replicas):
    r = replicas
    cid = uuid.uuid4().hex
    turn1 = httpx.post(r["a"] + "/v1/chat", headers=r["rep"], timeout=60, json={
        "conversation_id": cid, "message": "Quero dimensionar um sistema, 650 kWh/mês", "stream": False})
    assert turn1.status_code == 200, turn1.text
    assert "consumption" not in turn1.json()["awaiting"] and "site" in turn1.json()["awaiting"]
    turn2 = httpx.post(r["b"] + "/v1/chat", headers=r["rep"], timeout=60, json={
        "conversation_id": cid, "message": "Fica em Uberlândia-MG", "stream": False})
    assert turn2.status_code == 200, turn2.text
    # B knew the consumption A heard: only the connection is still missing.
    assert turn2.json()["awaiting"] == ["connection"]
    state = httpx.get(f"{r['a']}/v1/conversations/{cid}", headers=r["rep"], timeout=30).json()
    assert len(state["transcript"]) == 4 and state["slots"]["municipality"] == "Uberlândia"


def test_rate_limits_are_shared(replicas):
    r = replicas
    # A source address of its own (all of 127/8 is loopback): this test's anonymous window.
    source = f"127.0.{os.getpid() % 200 + 1}.{int(time.time()) % 200 + 20}"
    if time.time() % 60 > 50:  # do not straddle a one-minute window
        time.sleep(61 - time.time() % 60)
    statuses = []
    clients = [httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address=source), timeout=60)
               for base in (r["a"], r["b"])]
    try:
        for i in range(RATE_PER_MINUTE + 1):
            statuses.append(clients[i % 2].post("/v1/chat", json={"message": "oi", "stream": False}).status_code)
        last = clients[RATE_PER_MINUTE % 2].post("/v1/chat", json={"message": "oi", "stream": False})
    finally:
        for c in clients:
            c.close()
    # Each replica alone saw about half the limit; together they refuse the (limit+1)-th turn.
    assert statuses == [200] * RATE_PER_MINUTE + [429]
    assert last.status_code == 429 and last.json()["error"]["hint"]


def test_redis_claims_let_one_of_many_racing_creators_win(replicas):
    """The store itself, two instances (as two replicas) racing on one key."""
    from threading import Barrier

    stores = [RedisQuoteRecordStore(replicas["redis"]) for _ in range(2)]
    key, winners, barrier = f"unit-{uuid.uuid4().hex}", [], Barrier(8)

    def attempt(i: int) -> str | None:
        store = stores[i % 2]
        barrier.wait()
        owned = store.claim(key, "hash-1")
        if owned is None:
            winners.append(i)
            time.sleep(0.2)
            store.complete(key, "qt_1")
            return "qt_1"
        return owned

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert len(winners) == 1 and results == ["qt_1"] * 8
