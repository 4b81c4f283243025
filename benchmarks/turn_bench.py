"""Chat turn latency on the embedded default (trained intent model, no LLM on the turn's path).

    .venv/bin/python benchmarks/turn_bench.py [--users 40] [--duration 60] [--turns 4]
        [--think 2 8] [--variants before,after] [--loads think,b2b] [--warm 20]

What runs: the real assistant on the real stack, built as the eval suite builds it (catalog
store with the spec registry, pvlib sizing engine, qdrant-edge knowledge index, MiniLM
embedder, credit lines; in-process cache), called **in process** from threads, as the
API's worker threads call it (no HTTP, no JSON; one process, so one GIL). The ingested
stack must exist (``helio ingest all``, or point ``VAR_DIR``, ``CATALOG__DB_PATH``,
``QDRANT__EDGE_PATH`` at a copy).

Turns (each a new conversation): half are a complete sizing request (consumption, city,
connection; consumption and city drawn at random, so the sizing *result* cache does not
answer); half a knowledge question drawn from the eval suite's ``dev`` knowledge questions
(so questions repeat, as people's do; the query cache is reported).

Load models (``--loads``):

* ``think`` — closed loop with think time: ``--users`` users each send a turn, wait for the
  answer, then wait a random ``--think`` 2–8 s (reading the answer, typing the next
  message), for ``--duration`` seconds; users start at random moments within the first
  8 s. This is how 40 people chatting at once load the service.
* ``b2b`` — the worst case: the same users send their next turn the moment the previous
  answer arrives (no think time), ``--turns`` turns each. In a closed loop latency is then
  users ÷ throughput (Little's law): it measures throughput, not what a person waits.
* ``embed`` — the question's embedding alone, ``--users`` threads back-to-back, every text
  distinct: the model's queue without the rest of the turn.

Variants (``--variants``), run one after the other in the same process:

* ``before`` — query embedding one text at a time under the model lock, no vector cache
  (the embedder itself), and the catalog-only part of a sizing (spec registry applied,
  kits' bills of materials read) recomputed every turn, as before this benchmark's change.
* ``nocache`` — micro-batching on, both vector caches off (what batching alone gives).
* ``after`` — as shipped: micro-batching + query/passage vector caches
  (``EMBEDDING__QUERY_BATCH_MAX``, ``EMBEDDING__QUERY_CACHE_SIZE``) + prepared stock.

Each phase prints p50/p95/max per kind, throughput, the machine's CPU count and load
average before and after: on a shared machine other work inflates the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

CITIES = ["Uberlândia-MG", "Campinas/SP", "Recife PE", "Goiânia GO", "Londrina PR", "Natal RN", "Cuiabá MT",
          "Belém PA", "Porto Alegre RS", "Fortaleza CE", "Teresina PI", "Maringá PR", "Sorocaba SP"]
PHASES = ["monofásico", "bifásico", "trifásico"]
ROOT = Path(__file__).resolve().parents[1]


def dev_questions() -> list[str]:
    """The eval suite's dev knowledge questions in Portuguese (never the frozen test split)."""
    data = yaml.safe_load((ROOT / "evals" / "datasets" / "knowledge" / "dev.yaml").read_text(encoding="utf-8"))
    return [q["question"] for q in data["questions"] if q.get("lang", "pt") == "pt"]


def sizing_message(rng: random.Random) -> str:
    return f"cliente em {rng.choice(CITIES)}, {rng.randrange(200, 2000, 10)} kWh por mês, {rng.choice(PHASES)}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def one_turn(assistant: Any, kind: str, rng: random.Random, n: int, questions: list[str]) -> tuple[str, float, str]:
    """One turn in a new conversation; ``assistant`` is the in-process assistant or an
    :class:`HTTPAssistant`."""
    message = sizing_message(rng) if kind == "sizing" else rng.choice(questions)
    conversation = f"bench-{kind}-{n}-{rng.random():.9f}"
    t0 = time.perf_counter()
    if isinstance(assistant, HTTPAssistant):
        reply = assistant.turn(conversation, message)
    else:
        from app.agent.assistant import collect

        reply = collect(assistant.turn(conversation, message))
    return kind, time.perf_counter() - t0, reply.get("intent") or ""


class HTTPAssistant:
    """Turns through ``POST /v1/chat`` (``stream: false``) of a running API (``--http URL``):
    each user thread has its own connection, as browsers do."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._local = threading.local()

    def turn(self, conversation_id: str, message: str) -> dict:
        import httpx

        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(base_url=self.url, timeout=120)
        r = client.post("/v1/chat", json={"conversation_id": conversation_id.replace(" ", ""), "message": message,
                                          "stream": False})
        r.raise_for_status()
        return r.json()


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def summary(rows: list[tuple[str, float, str]]) -> dict[str, tuple[float, float, float, int]]:
    out = {}
    for kind in ("sizing", "knowledge", "embed", "all"):
        xs = [s * 1000 for k, s, _ in rows if kind in (k, "all")]
        if xs:
            out[kind] = (pct(xs, .5), pct(xs, .95), max(xs), len(xs))
    return out


def report(title: str, rows: list[tuple[str, float, str]]) -> None:
    print(title)
    for kind, (p50, p95, mx, n) in summary(rows).items():
        xs = [s * 1000 for k, s, _ in rows if kind in (k, "all")]
        print(f"  {kind:9s} n={n:4d}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {mx:7.1f} ms  "
              f"mean {statistics.fmean(xs):7.1f} ms")
    wrong = [(k, i) for k, _, i in rows if i != ("size_pv_system" if k == "sizing" else "search_knowledge")]
    if all(k == "embed" for k, _, _ in rows):
        return
    print(f"  turns routed elsewhere than expected: {len(wrong)}")


class Variants:
    """Switches the stack between the variants without rebuilding it (a rebuild takes ~30 s)."""

    def __init__(self, stack: Any) -> None:
        from app.retrieval.query_embed import QueryEmbedder

        self.stack = stack
        self.searcher = getattr(stack.searcher, "inner", stack.searcher)
        wrapped = self.searcher.embedder
        self.raw = wrapped.inner if isinstance(wrapped, QueryEmbedder) else wrapped
        settings = stack.settings.embedding
        self.cache_size, self.batch_max = settings.query_cache_size, settings.query_batch_max
        self.embedder: Any = wrapped

    def use(self, name: str) -> None:
        from app.retrieval.query_embed import QueryEmbedder
        from app.sizing import prepared, stages

        prepared.forget()
        if name == "before":
            self.embedder = self.raw
            stages.prepared_stock = _fresh_stock
        else:  # a fresh wrapper: every phase starts with cold caches
            self.embedder = QueryEmbedder(self.raw, cache_size=0 if name == "nocache" else self.cache_size,
                                          max_batch=self.batch_max)
            stages.prepared_stock = prepared.prepared_stock
        self.searcher.embedder = self.embedder
        self.stack.assistant.knowledge_embedder = self.embedder

    def stats(self) -> str:
        stats = getattr(self.embedder, "stats", None)
        if stats is None:
            return "query embedding: one text per encode, no cache"
        s = stats()
        q, p = s["query_cache"], s["passage_cache"]
        per = lambda n, b: f"{n / b:.1f}" if b else "-"  # noqa: E731
        return (f"query cache {q['hits']}/{q['hits'] + q['misses']} hits, passage cache {p['hits']}/"
                f"{p['hits'] + p['misses']} hits; encodes: {s['query_batches']} query batches "
                f"(mean {per(s['queries_encoded'], s['query_batches'])} texts), {s['passage_batches']} passage "
                f"batches (mean {per(s['passages_encoded'], s['passage_batches'])} texts)")


def _fresh_stock(source, registry, build):
    from app.sizing.prepared import PreparedStock

    products = build()  # every turn, as before app.sizing.prepared
    return PreparedStock(products, {p.id: p for p in products}, registry)


def run_think(assistant: Any, users: int, duration_s: float, think: tuple[float, float], questions: list[str],
              seed: int) -> tuple[list[tuple[str, float, str]], float]:
    rows: list[tuple[str, float, str]] = []
    lock = threading.Lock()
    t_end = time.perf_counter() + duration_s

    def user(u: int) -> None:
        r = random.Random(seed * 1000 + u)
        time.sleep(r.uniform(0, think[1]))  # people do not all press "send" at the same instant
        t = 0
        while time.perf_counter() < t_end:
            row = one_turn(assistant, "sizing" if (u + t) % 2 == 0 else "knowledge", r, u * 1000 + t, questions)
            with lock:
                rows.append(row)
            t += 1
            time.sleep(r.uniform(*think))

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(user, range(users)))
    return rows, time.perf_counter() - t0


def run_b2b(assistant: Any, users: int, turns: int, questions: list[str],
            seed: int) -> tuple[list[tuple[str, float, str]], float]:
    def user(u: int) -> list[tuple[str, float, str]]:
        r = random.Random(seed * 1000 + u)
        return [one_turn(assistant, "sizing" if (u + t) % 2 == 0 else "knowledge", r, u * 1000 + t, questions)
                for t in range(turns)]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        rows = [row for rows_ in pool.map(user, range(users)) for row in rows_]
    return rows, time.perf_counter() - t0


def run_embed(embedder: Any, users: int, turns: int, questions: list[str],
              seed: int) -> tuple[list[tuple[str, float, str]], float]:
    """Only the question's embedding, ``users`` threads back-to-back, every text distinct
    (no cache can answer): what the micro-batcher alone does to the model's queue."""
    def user(u: int) -> list[tuple[str, float, str]]:
        r, out = random.Random(seed * 1000 + u), []
        for t in range(turns):
            text = f"{r.choice(questions)} ({u}.{t})"
            t0 = time.perf_counter()
            embedder.embed_query(text)
            out.append(("embed", time.perf_counter() - t0, "search_knowledge"))
        return out

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        rows = [row for rows_ in pool.map(user, range(users)) for row in rows_]
    return rows, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of the think-time phase")
    ap.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN_S", "MAX_S"))
    ap.add_argument("--turns", type=int, default=4, help="turns per user in the back-to-back phase")
    ap.add_argument("--warm", type=int, default=20, help="sequential turns per kind for the one-user figures")
    ap.add_argument("--variants", default="before,after", help="before, nocache, after (comma-separated)")
    ap.add_argument("--loads", default="think,b2b", help="think, b2b, embed (comma-separated)")
    ap.add_argument("--http", metavar="URL", help="send the turns to a running API instead (its own settings and "
                    "--workers decide the variant; start it with CHAT__RATE_PER_MINUTE high enough)")
    ap.add_argument("--switch-interval-ms", type=float, help="sys.setswitchinterval for this process (default 5 ms): "
                    "how long a busy thread keeps the GIL before a waiting one (e.g. back from a torch op) gets it")
    opts = ap.parse_args()
    if opts.switch_interval_ms:
        sys.setswitchinterval(opts.switch_interval_ms / 1000)
    if opts.http:
        return main_http(opts)

    import torch

    from app.core.settings import get_settings
    from evals.harness.runner import build_stack

    print(f"CPUs: {os.cpu_count()} (affinity {len(os.sched_getaffinity(0))}); load average before: {load_avg()}")
    t0 = time.perf_counter()
    stack = build_stack(get_settings(), backend="rules")
    assistant = stack.assistant
    assert not assistant.consult_model
    questions = dev_questions()
    variants = Variants(stack)
    rng = random.Random(17)
    for kind in ("sizing", "knowledge"):  # loads the intent model, the embedder, pvlib, the index
        one_turn(assistant, kind, rng, -1, questions)
    print(f"stack built and warmed in {time.perf_counter() - t0:.1f} s; GIL switch interval "
          f"{sys.getswitchinterval() * 1000:g} ms; torch intra-op threads "
          f"{torch.get_num_threads()}; in-process turns from threads (no HTTP); "
          f"{len(questions)} dev knowledge questions")

    results: dict[tuple[str, str], dict] = {}
    names = [v.strip() for v in opts.variants.split(",") if v.strip()]
    for name in names:
        variants.use(name)
        rows = [one_turn(assistant, kind, rng, i, questions) for i in range(opts.warm)
                for kind in ("sizing", "knowledge")]
        report(f"[{name}] 1 user, warm (sequential)", rows)
        results[(name, "1 user")] = summary(rows)
    for load in [x.strip() for x in opts.loads.split(",") if x.strip()]:
        for i, name in enumerate(names):
            variants.use(name)
            seed = 3 + 100 * i  # other sizing messages per variant: the sizing result cache must not answer
            before = load_avg()
            if load == "think":
                rows, wall = run_think(assistant, opts.users, opts.duration, tuple(opts.think), questions, seed)
                title = (f"[{name}] {opts.users} users, think time {opts.think[0]:g}–{opts.think[1]:g} s, "
                         f"{opts.duration:g} s")
            elif load == "embed":
                rows, wall = run_embed(variants.embedder, opts.users, opts.turns, questions, seed + 2)
                title = f"[{name}] query embedding only, {opts.users} threads back-to-back × {opts.turns} distinct texts"
            else:
                rows, wall = run_b2b(assistant, opts.users, opts.turns, questions, seed + 1)
                title = f"[{name}] {opts.users} users back-to-back (no think time) × {opts.turns} turns"
            report(f"{title}: {len(rows) / wall:.1f} turns/s; load average {before} → {load_avg()}", rows)
            print(f"  {variants.stats()}")
            results[(name, load)] = {**summary(rows), "rate": len(rows) / wall}

    print("\nside by side, p50 / p95 ms (sizing | knowledge | all), turns/s")
    for phase in ("1 user", *[x.strip() for x in opts.loads.split(",") if x.strip()]):
        for name in names:
            s = results.get((name, phase))
            if s:
                cells = " | ".join(f"{s[k][0]:7.0f} / {s[k][1]:7.0f}" if k in s else "-"
                                   for k in ("sizing", "knowledge", "all"))
                rate = f"  {s['rate']:5.1f}/s" if "rate" in s else ""
                print(f"  {phase:7s} {name:8s} {cells}{rate}")
    print(f"load average after: {load_avg()}")
    stack.close()


def main_http(opts: argparse.Namespace) -> None:
    print(f"CPUs: {os.cpu_count()}; load average before: {load_avg()}; turns through HTTP {opts.http}/v1/chat "
          f"(the server's settings and worker count decide the variant)")
    api, questions, rng = HTTPAssistant(opts.http), dev_questions(), random.Random(17)
    for i in range(4):  # every worker process loads its models on its first turns
        one_turn(api, "sizing" if i % 2 else "knowledge", rng, -1 - i, questions)
    rows = [one_turn(api, kind, rng, i, questions) for i in range(opts.warm) for kind in ("sizing", "knowledge")]
    report("[http] 1 user, warm (sequential)", rows)
    for load in [x.strip() for x in opts.loads.split(",") if x.strip()]:
        before = load_avg()
        if load == "think":
            rows, wall = run_think(api, opts.users, opts.duration, tuple(opts.think), questions, 3)
            title = f"[http] {opts.users} users, think time {opts.think[0]:g}–{opts.think[1]:g} s, {opts.duration:g} s"
        else:
            rows, wall = run_b2b(api, opts.users, opts.turns, questions, 4)
            title = f"[http] {opts.users} users back-to-back (no think time) × {opts.turns} turns"
        report(f"{title}: {len(rows) / wall:.1f} turns/s; load average {before} → {load_avg()}", rows)


if __name__ == "__main__":
    main()
