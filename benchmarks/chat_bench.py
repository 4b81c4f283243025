"""Chat latency figures on the embedded backend (llama.cpp + SmolLM2-135M).

    .venv/bin/python benchmarks/chat_bench.py [--runs 5] [--concurrency 20]

In one process and run:
1. raw llama.cpp: the router's exact request (system prompt + tool grammar + message),
   streamed straight from ``llama_cpp.Llama``: time to first token, tokens/s;
2. through the API (uvicorn on 127.0.0.1, SSE): time to the first ``token`` event, and the
   model's tokens/s inside the turn (from the ``done`` event);
3. ``--concurrency`` simultaneous streamed chats: TTFT p50/p95/max and queue waits.

The sizing tool is a deterministic stand-in (no pvlib), so the figures isolate the chat
path. Answer text is templated: the API's first token comes after the model's routing
call and the tool, never from free generation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from app.agent.factory import build_assistant, system_prompt
from app.api.errors import install_error_handlers
from app.api.routes import chat, openai_compat
from app.core.cache import MemoryCache
from app.core.settings import LLMSettings, get_settings
from app.llm.llamacpp import LlamaCppBackend, tools_prompt, tools_schema
from evals.conversations.run_eval import EvalCatalog, StaticSearcher
from evals.fakes import FormulaSizing

MESSAGE = "Meu cliente em Uberlândia-MG gasta 650 kWh por mês, ligação trifásica. Qual kit?"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def raw_llamacpp(llm: LlamaCppBackend, specs: list[dict[str, Any]], runs: int) -> dict[str, Any]:
    llama = llm._model()
    messages = [{"role": "system", "content": system_prompt() + "\n\n" + tools_prompt(specs)},
                {"role": "user", "content": MESSAGE}]
    fmt = {"type": "json_object", "schema": tools_schema(specs)}
    ttfts, rates = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        first, n = None, 0
        for chunk in llama.create_chat_completion(messages=messages, response_format=fmt, max_tokens=96,
                                                  temperature=0.0, stream=True):
            if chunk["choices"][0]["delta"].get("content"):
                n += 1
                first = first or time.perf_counter()
        end = time.perf_counter()
        ttfts.append(first - t0)
        rates.append((n - 1) / (end - first) if n > 1 else 0.0)
    free_rates = []
    for _ in range(max(1, runs // 2)):
        t0, n, first = time.perf_counter(), 0, None
        for chunk in llama.create_chat_completion(
            messages=[{"role": "user", "content": "Explain in English what a solar inverter does."}],
            max_tokens=64, temperature=0.0, stream=True,
        ):
            if chunk["choices"][0]["delta"].get("content"):
                n += 1
                first = first or time.perf_counter()
        free_rates.append((n - 1) / (time.perf_counter() - first) if n > 1 else 0.0)
    return {"ttft_s_median": statistics.median(ttfts), "tokens_per_s_median": statistics.median(rates),
            "free_text_tokens_per_s_median": statistics.median(free_rates), "runs": runs}


def serve(app: FastAPI) -> tuple[uvicorn.Server, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


async def one_chat(client: httpx.AsyncClient, cid: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    ttft, done, event = None, {}, None
    async with client.stream("POST", "/v1/chat", json={"conversation_id": cid, "message": MESSAGE},
                             headers={"X-API-Key": cid}) as r:
        async for line in r.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                if event == "token" and ttft is None:
                    ttft = time.perf_counter() - t0
                if event == "done":
                    done = json.loads(line[5:])
    return {"ttft_s": ttft, "total_s": time.perf_counter() - t0, "done": done}


async def api_runs(base: str, runs: int, concurrency: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        single = [await one_chat(client, f"bench-seq-{i}") for i in range(runs)]
        t0 = time.perf_counter()
        burst = await asyncio.gather(*(one_chat(client, f"bench-conc-{i}") for i in range(concurrency)))
        wall = time.perf_counter() - t0
    llm_rates = []
    for r in single:
        u = r["done"]["llm"]
        gen = u["elapsed_s"] - (u["ttft_s"] or 0)
        if gen > 0 and u["completion_tokens"] > 1:
            llm_rates.append((u["completion_tokens"] - 1) / gen)
    ttfts = [r["ttft_s"] for r in burst if r["ttft_s"] is not None]
    waits = [r["done"]["llm"]["queue_wait_s"] for r in burst if r["done"]]
    return {
        "single": {"ttft_s_median": statistics.median(r["ttft_s"] for r in single),
                   "total_s_median": statistics.median(r["total_s"] for r in single),
                   "llm_tokens_per_s_median": statistics.median(llm_rates) if llm_rates else None,
                   "degraded": sum(r["done"].get("degraded", False) for r in single), "runs": runs},
        "concurrent": {"n": concurrency, "answered": len(ttfts), "ttft_s_p50": pct(ttfts, 0.5),
                       "ttft_s_p95": pct(ttfts, 0.95), "ttft_s_max": max(ttfts), "wall_s": wall,
                       "queue_wait_s_p95": pct(waits, 0.95) if waits else None,
                       "model_skipped_queue": sum(r["done"].get("llm", {}).get("skipped") == "queue" for r in burst),
                       "degraded": sum(r["done"].get("degraded", False) for r in burst)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--route-timeout", type=float, default=None,
                        help="model budget per turn incl. queueing [s]; default = the app's (20 s)")
    parser.add_argument("--no-shedding", action="store_true",
                        help="every turn queues for the model (no load shedding of sure turns)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    settings = get_settings()
    llm = LlamaCppBackend(LLMSettings().gguf_path, n_ctx=settings.llm.n_ctx, timeout_s=settings.llm.timeout_s)
    assistant = build_assistant(settings, MemoryCache(), EvalCatalog(), StaticSearcher(), llm=llm, sizing=FormulaSizing())
    assistant.consult_model = True  # this benchmark measures the model-routed turn (CHAT__ROUTE_WITH_MODEL=true)
    assistant.rate_limiter.per_minute = 10**6
    if args.no_shedding:
        assistant.shed_queue_depth = 10**6
    if args.route_timeout is not None:
        assistant.router.timeout_s = args.route_timeout
    raw = raw_llamacpp(llm, assistant.runner.specs, args.runs)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(chat.router)
    app.include_router(openai_compat.router)
    app.state.assistant = assistant
    server, base = serve(app)
    try:
        api = asyncio.run(api_runs(base, args.runs, args.concurrency))
    finally:
        server.should_exit = True
    report = {"model": llm.model, "n_threads": llm.n_threads, "shed_queue_depth": assistant.shed_queue_depth, "route_timeout_s": assistant.router.timeout_s,
              "load_avg_1m_at_end": __import__("os").getloadavg()[0], "message": MESSAGE, "raw_llamacpp": raw, "api": api,
              "queueing_policy": "one llama.cpp generation at a time, FIFO (ticket lock), at most "
                                 f"{llm.gate.max_waiting} waiting, then refused; waits beyond the route "
                                 "timeout give up their place and the turn is answered by rules (degraded); "
                                 f"turns the rules are sure of skip the model when >= {assistant.shed_queue_depth} "
                                 "already wait"}
    out = args.output or settings.var_dir / "reports" / f"chat_bench{'_no_shedding' if args.no_shedding else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
