"""One eval run: load the split, run it through the real assistant, score, gate, report.

    from evals.harness.suite import run_suite
    report, gates, paths = run_suite(settings, suite="all", split="test", backend="auto")
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.harness import datasets, gates as G, metrics, report as R, runner
from evals.harness.judge import judge_config, not_measured, run_judge

SUITES = ("conversations", "knowledge", "all")
ROOT = Path(__file__).resolve().parents[2]


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def run_suite(settings: Any, *, suite: str = "all", split: str = "dev", backend: str = "auto",
              out_dir: Path | None = None, thresholds: Path | None = None, judge: bool = True,
              progress: runner.Progress | None = None, datasets_dir: Path | None = None):
    """Run, score, gate and write the report; returns ``(report, gate results, paths)``."""
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    if suite not in SUITES:
        raise ValueError(f"suite desconhecida '{suite}' (use: {', '.join(SUITES)})")
    if split not in datasets.SPLITS:
        raise ValueError(f"split desconhecido '{split}' (use: {', '.join(datasets.SPLITS)})")
    root = datasets_dir or datasets.DATASETS_DIR
    conv_set = datasets.load_conversations(datasets.conversation_path(split, root)) if suite != "knowledge" else None
    qa_set = datasets.load_questions(datasets.knowledge_path(split, root)) if suite != "conversations" else None
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = out_dir or settings.var_dir / "evals" / stamp
    stack = runner.build_stack(settings, backend, scratch=out_dir / "scratch")
    report: dict[str, Any] = {"split": split}
    try:
        if conv_set is not None:
            rows = runner.run_conversations(stack, conv_set, progress, run_id=stamp)
            metrics.score_tools(rows)
            report["conversations"] = {"summary": metrics.summarize_conversations(rows), "rows": rows,
                                       "dataset": {"path": str(conv_set.path.relative_to(ROOT))
                                                   if conv_set.path.is_relative_to(ROOT) else str(conv_set.path),
                                                   "version": conv_set.version,
                                                   "conversations": len(conv_set.conversations),
                                                   "turns": conv_set.n_turns}}
        if qa_set is not None:
            rows = runner.run_questions(stack, qa_set, progress, run_id=stamp)
            report["knowledge"] = {"summary": metrics.summarize_knowledge(rows), "rows": rows,
                                   "dataset": {"version": qa_set.version, "questions": len(qa_set.questions)}}
            cfg = judge_config(settings) if judge else None
            report["judge"] = run_judge(cfg, rows, progress) if cfg else not_measured(
                "EVAL__JUDGE_URL / EVAL__JUDGE_MODEL não configurados" if judge else "juiz desligado (--no-judge)")
        else:
            report["judge"] = not_measured("suite sem perguntas de conhecimento")
    finally:
        stack.close()
    report["meta"] = {"timestamp": stamp, "suite": suite, "backend": stack.backend, "model": stack.model,
                      "elapsed_s": round(time.perf_counter() - started, 2), "commit": _commit(),
                      "requested_backend": backend}
    limits = G.load_thresholds(thresholds or G.THRESHOLDS)
    results = G.check(report, limits)
    paths = R.write(report, results, out_dir)
    return report, results, paths


def latest_report(var_dir: Path) -> Path | None:
    """The newest ``var/evals/<timestamp>/report.json``."""
    found = sorted((var_dir / "evals").glob("*/report.json"))
    return found[-1] if found else None


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, float | None, float | None, float | None]]:
    """(suite, metric, value in A, value in B, B − A) for every overall metric either report has."""
    rows = []
    for suite, names in (("conversations", R.CONV_METRICS + ("ungrounded_numbers", "asked_known_slot", "degraded")),
                         ("knowledge", R.KNOW_METRICS)):
        for name in names:
            va, vb = G.metric_value(a, suite, name), G.metric_value(b, suite, name)
            if va is None and vb is None:
                continue
            rows.append((suite, name, va, vb, None if va is None or vb is None else round(vb - va, 4)))
    for name in ("faithfulness", "response_relevancy", "factual_correctness"):
        va, vb = G.metric_value(a, "judge", name), G.metric_value(b, "judge", name)
        rows.append(("judge", name, va, vb, None if va is None or vb is None else round(vb - va, 4)))
    for suite in ("conversations", "knowledge"):
        la = (((a.get(suite) or {}).get("summary") or {}).get("latency") or {}).get("p50_s")
        lb = (((b.get(suite) or {}).get("summary") or {}).get("latency") or {}).get("p50_s")
        if la is not None or lb is not None:
            rows.append((suite, "latency_p50_s", la, lb, None if la is None or lb is None else round(lb - la, 4)))
    return rows
