"""Chat turn latency on the embedded default (trained intent model, no LLM on the turn's path).

    .venv/bin/python benchmarks/turn_bench.py [--users 40] [--turns 6] [--warm 20]

The assistant is the real one on the real stack, built as the eval suite builds it
(catalog store, sizing engine with pvlib, knowledge index, credit lines; in-process cache),
so the ingested stack must exist (``helio ingest all``; or point ``VAR_DIR``,
``CATALOG__DB_PATH``, ``QDRANT__EDGE_PATH`` at a copy). Each turn is a new conversation:
a complete sizing request (consumption, city, connection; consumption and city vary so the
sizing cache does not answer) or a knowledge question (the searcher embeds the question).

Prints p50/p95/max per kind for one user (sequential, after a warm-up) and for ``--users``
concurrent users (threads calling the in-process assistant, as the API's worker threads
do), with the machine's CPU count and load average before and after: on a shared machine
other work inflates the figures, so read them beside the load.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

CITIES = ["Uberlândia-MG", "Campinas/SP", "Recife PE", "Goiânia GO", "Londrina PR", "Natal RN", "Cuiabá MT",
          "Belém PA", "Porto Alegre RS", "Fortaleza CE", "Teresina PI", "Maringá PR", "Sorocaba SP"]
PHASES = ["monofásico", "bifásico", "trifásico"]
QUESTIONS = ["o que é o fio b?", "quanto tempo duram os créditos de energia?", "qual a garantia dos módulos?",
             "como funciona a compensação de energia?", "qual o custo de disponibilidade do trifásico?",
             "como calcular quantos módulos em série no inversor?", "quais linhas de financiamento existem?"]


def sizing_message(rng: random.Random) -> str:
    return f"cliente em {rng.choice(CITIES)}, {rng.randrange(200, 2000, 10)} kWh por mês, {rng.choice(PHASES)}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def one_turn(assistant: Any, kind: str, rng: random.Random, n: int) -> tuple[str, float, str]:
    from app.agent.assistant import collect

    message = sizing_message(rng) if kind == "sizing" else rng.choice(QUESTIONS)
    t0 = time.perf_counter()
    reply = collect(assistant.turn(f"bench-{kind}-{n}-{rng.random():.9f}", message))
    return kind, time.perf_counter() - t0, reply.get("intent") or ""


def intent_decision_ms(assistant: Any, rng: random.Random, n: int = 200) -> list[float]:
    from app.agent.decide import decide
    from app.agent.parsing import parse_message
    from app.agent.state import ConversationState

    out = []
    for i in range(n):
        message = sizing_message(rng) if i % 2 else rng.choice(QUESTIONS)
        parsed = parse_message(message, assistant.places, ())
        t0 = time.perf_counter()
        decide(message, parsed, ConversationState(id="bench"), model=assistant.intent_model)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def report(title: str, rows: list[tuple[str, float, str]]) -> None:
    print(title)
    for kind in ("sizing", "knowledge", "all"):
        xs = [s for k, s, _ in rows if kind in (k, "all")]
        if xs:
            print(f"  {kind:9s} n={len(xs):4d}  p50 {pct(xs, .5) * 1000:7.1f} ms  p95 {pct(xs, .95) * 1000:7.1f} ms  "
                  f"max {max(xs) * 1000:7.1f} ms  mean {statistics.fmean(xs) * 1000:7.1f} ms")
    wrong = [(k, i) for k, _, i in rows if i != ("size_pv_system" if k == "sizing" else "search_knowledge")]
    print(f"  turns routed elsewhere than expected: {len(wrong)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--turns", type=int, default=6, help="turns per concurrent user (half sizing, half knowledge)")
    ap.add_argument("--warm", type=int, default=20, help="sequential turns per kind for the one-user figures")
    opts = ap.parse_args()

    from app.core.settings import get_settings
    from evals.harness.runner import build_stack

    print(f"CPUs: {os.cpu_count()} (affinity {len(os.sched_getaffinity(0))}); load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    t0 = time.perf_counter()
    stack = build_stack(get_settings(), backend="rules")
    assistant = stack.assistant
    assert not assistant.consult_model
    rng = random.Random(17)
    for kind in ("sizing", "knowledge"):  # loads the intent model, the embedder, pvlib, the index
        one_turn(assistant, kind, rng, -1)
    print(f"stack built and warmed in {time.perf_counter() - t0:.1f} s")

    rows = [one_turn(assistant, kind, rng, i) for i in range(opts.warm) for kind in ("sizing", "knowledge")]
    report("1 user, warm (sequential)", rows)
    decide_ms = intent_decision_ms(assistant, rng)
    print(f"  the intent decision alone (rules + trained model): p50 {pct(decide_ms, .5):.2f} ms, "
          f"p95 {pct(decide_ms, .95):.2f} ms")

    def user(u: int) -> list[tuple[str, float, str]]:
        r = random.Random(u)
        return [one_turn(assistant, "sizing" if t % 2 == 0 else "knowledge", r, u * 1000 + t) for t in range(opts.turns)]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=opts.users) as pool:
        rows = [row for rows_ in pool.map(user, range(opts.users)) for row in rows_]
    wall = time.perf_counter() - t0
    report(f"{opts.users} concurrent users × {opts.turns} turns ({len(rows) / wall:.1f} turns/s)", rows)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    stack.close()


if __name__ == "__main__":
    main()
