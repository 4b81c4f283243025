"""Time to first token when a model leads the chat (``LLM__BACKEND=openai``), against a local
OpenAI-compatible server, beside the template default.

    # a server (any OpenAI-compatible one; here the embedded GGUF through llama.cpp's):
    .venv/bin/python -m llama_cpp.server --model <gguf> --model_alias helio --port 8765 \\
        --n_threads 2 --chat_format chatml-function-calling &
    .venv/bin/python benchmarks/model_ttft_bench.py --base-url http://127.0.0.1:8765/v1 [--runs 5]

Measured, in one process and run:
1. the server alone: the loop's exact first request (system prompt, tools, message),
   streamed with ``ChatOpenAI``: time to the first content token;
2. through Hélio's API (uvicorn, SSE ``POST /v1/chat``, model-led turn): time to the first
   ``token`` event at the client, the turn's total, and what ``done`` reports (the model's
   first token, steps, grounding fallbacks);
3. the same request on the template default (rules, no model): its first ``token`` event.
The sizing tool is a deterministic stand-in (no pvlib), so the figures isolate the chat path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from app.agent.factory import build_assistant
from app.api.errors import install_error_handlers
from app.api.routes import chat, openai_compat
from app.core.cache import MemoryCache
from app.core.settings import get_settings
from app.llm.openai import OpenAICompatBackend
from benchmarks.chat_bench import MESSAGE, serve
from evals.conversations.run_eval import EvalCatalog, StaticSearcher
from evals.fakes import FormulaSizing

# A different message each run: a server reuses the common prompt prefix (system prompt,
# tools), as a warm server does, but never a whole cached prompt.
CLIENTS = ("Meu cliente em Uberlândia-MG", "Um cliente de Campinas/SP", "Cliente em Recife-PE", "Minha cliente em Natal-RN",
           "Um galpão em Sorocaba-SP", "Cliente de Goiânia-GO", "Cliente em Londrina-PR")


def message(i: int) -> str:
    return MESSAGE.replace("Meu cliente em Uberlândia-MG", CLIENTS[i % len(CLIENTS)]).replace("650", str(450 + 37 * i))


def server_alone(assistant: Any, runs: int) -> dict[str, Any]:
    """The model's own TTFT on the loop's first request (no Hélio in between)."""
    model = assistant.chat_model().bind_tools(assistant.runner.specs_for("widget"))
    ttfts, totals = [], []
    for i in range(runs):
        messages = assistant._messages(_ctx(assistant, message(100 + i)))
        t0, first = time.perf_counter(), None
        for chunk in model.stream(messages):
            if first is None and (chunk.content or getattr(chunk, "tool_call_chunks", None)):
                first = time.perf_counter() - t0
        ttfts.append(first)
        totals.append(time.perf_counter() - t0)
    got = [t for t in ttfts if t is not None]
    return {"first_piece_s_median": statistics.median(got) if got else None,
            "total_s_median": statistics.median(totals), "runs": runs}


def _ctx(assistant: Any, text: str) -> Any:
    from app.agent.parsing import parse_message
    from app.agent.state import ConversationState
    from app.agent.turn import TurnContext

    return TurnContext(state=ConversationState(id="bench"), message=text, lang="pt-BR",
                       parsed=parse_message(text, assistant.places, ()))


async def one_chat(client: httpx.AsyncClient, cid: str, text: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    ttft, done, event = None, {}, None
    async with client.stream("POST", "/v1/chat", json={"conversation_id": cid, "message": text}) as r:
        async for line in r.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                if event == "token" and ttft is None:
                    ttft = time.perf_counter() - t0
                if event == "done":
                    done = json.loads(line[5:])
    return {"ttft_s": ttft, "total_s": time.perf_counter() - t0, "done": done}


def app_for(assistant: Any) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(chat.router)
    app.include_router(openai_compat.router)
    app.state.assistant = assistant
    app.state.settings = get_settings()
    return app


async def api_runs(base: str, runs: int, tag: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        return [await one_chat(client, f"bench-{tag}-{i}", message(i)) for i in range(runs)]


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ttfts = [r["ttft_s"] for r in rows if r["ttft_s"] is not None]
    llm = [r["done"].get("llm", {}) for r in rows]
    model_first = [u.get("model_first_token_s") for u in llm if u.get("model_first_token_s") is not None]
    return {"client_ttft_s_median": statistics.median(ttfts) if ttfts else None,
            "client_ttft_s_max": max(ttfts) if ttfts else None,
            "total_s_median": statistics.median(r["total_s"] for r in rows),
            "model_first_token_s_median": statistics.median(model_first) if model_first else None,
            "speaker": sorted({u.get("speaker") or "template" for u in llm}),
            "steps": [u.get("steps") for u in llm],
            "grounding_fallbacks": sum(bool(r["done"].get("grounding_fallback")) for r in rows),
            "degraded": sum(bool(r["done"].get("degraded")) for r in rows), "runs": len(rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8765/v1")
    parser.add_argument("--model", default="helio")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    settings = get_settings()
    llm = OpenAICompatBackend(args.base_url, args.model, timeout_s=settings.llm.timeout_s)
    led = build_assistant(settings, MemoryCache(), EvalCatalog(), StaticSearcher(), llm=llm, sizing=FormulaSizing())
    template = build_assistant(settings, MemoryCache(), EvalCatalog(), StaticSearcher(), llm=None,
                               sizing=FormulaSizing())
    template.consult_model = False
    for a in (led, template):
        a.rate_limiter.per_minute = 10**6
    alone = server_alone(led, args.runs)
    results = {}
    for tag, assistant in (("model", led), ("template", template)):
        server, base = serve(app_for(assistant))
        try:
            results[tag] = summary(asyncio.run(api_runs(base, args.runs, tag)))
        finally:
            server.should_exit = True
    report = {"base_url": args.base_url, "model": args.model, "message": MESSAGE,
              "loop_max_tokens": settings.llm.loop_max_tokens, "load_avg_1m_at_end": os.getloadavg()[0],
              "server_alone": alone, "api_model_led": results["model"], "api_template": results["template"]}
    out = args.output or settings.var_dir / "reports" / "model_ttft_bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
