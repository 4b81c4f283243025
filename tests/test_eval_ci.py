"""The eval suite in CI (issue #12): the judge-free metrics of the frozen ``test`` split,
run through the real assistant on a freshly ingested stack, must meet the gates in
``evals/thresholds.yaml``; a gate set above today's value makes ``helio eval run`` exit 1.
Also executes every notebook so none can rot.

CI runs the ``rules`` backend: the same assistant without consulting the 135M embedded
model, which on a shared 2-core runner times out (20 s) and trips the router's breaker
after a few turns anyway — the turns would then depend on the runner's load. The model's
own figures come from ``helio eval run --backend auto`` (see evals/README.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _env(var: Path) -> dict[str, str]:
    return os.environ | {
        "PYTHONPATH": str(ROOT),
        "VAR_DIR": str(var),
        "CATALOG__DB_PATH": str(var / "catalog.sqlite3"),
        "CATALOG__REPORT_DIR": str(var / "reports"),
        "QDRANT__EDGE_PATH": str(var / "qdrant-edge"),
        "QDRANT__PATH": str(var / "qdrant"),
        "EVAL__JUDGE_URL": "",
        "RAGAS_DO_NOT_TRACK": "true",
        "HF_HUB_OFFLINE": "1",
    }


@pytest.fixture(scope="module")
def stack_var(tmp_path_factory) -> Path:
    """Catalog store and knowledge index built from the repository's data, in a scratch folder."""
    var = tmp_path_factory.mktemp("eval-var")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cli", "ingest", "all"], cwd=ROOT, env=_env(var),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"ingest all: {time.perf_counter() - t0:.0f} s")
    return var


def _eval(var: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "eval", "run", "--split", "test", "--backend", "rules",
                           "--no-judge", "--quiet", "--out", str(out), *extra],
                          cwd=ROOT, env=_env(var), capture_output=True, text=True)


@pytest.mark.slow
def test_the_frozen_test_split_meets_the_gates(stack_var, tmp_path):
    t0 = time.perf_counter()
    run = _eval(stack_var, tmp_path / "out", "--suite", "all")
    elapsed = time.perf_counter() - t0
    print(run.stdout[-4000:])
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    failed = [f"{g['suite']}.{g['metric']} = {g['value']} < {g['gate']}" for g in report["gates"] if g["status"] == "fail"]
    assert run.returncode == 0 and not failed, (failed, run.stderr[-2000:])
    conv = report["conversations"]["summary"]["overall"]
    assert conv["turns"] == report["conversations"]["dataset"]["turns"] >= 100
    assert conv["errors"] == 0
    assert report["knowledge"]["summary"]["overall"]["questions"] >= 40
    assert report["judge"]["status"] == "not_measured"
    assert (tmp_path / "out" / "report.html").read_text().count("data:image/png;base64,") >= 4
    print(f"helio eval run --split test --suite all (rules): {elapsed:.0f} s")


@pytest.mark.slow
def test_a_gate_above_todays_value_fails_the_run(stack_var, tmp_path):
    limits = yaml.safe_load((ROOT / "evals" / "thresholds.yaml").read_text())
    # a higher-is-better metric whose gate (today's value) is under 0.95, raised by 0.05 (still a
    # reachable score), as if a rule had just been broken
    metric, spec = next((name, spec) for name, spec in limits["suites"]["conversations"].items()
                        if spec.get("direction", "min") == "min" and spec["gate"]["test"] < 0.95)
    spec["gate"]["test"] = spec["gate"]["test"] + 0.05
    path = tmp_path / "thresholds.yaml"
    path.write_text(yaml.safe_dump(limits), encoding="utf-8")
    run = _eval(stack_var, tmp_path / "out", "--suite", "conversations", "--thresholds", str(path))
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert f"conversations.{metric}" in run.stdout


@pytest.mark.slow
def test_every_notebook_executes(stack_var, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    from evals.harness import gates
    from evals.harness import metrics
    from evals.harness import report as report_files

    # A small real report for evals.ipynb (the suite itself is exercised above).
    rows = [{"user": "cliente em bh, 450kwh, bifasico", "user_so_far": [], "answer": "5 kWp", "facts": ["kWp"],
             "expected_calls": [{"name": "size_pv_system", "args": {"monthly_kwh": 450}}], "kind": "call",
             "calls": [{"name": "size_pv_system", "arguments": {"monthly_kwh": 450}, "ok": True, "result": {"k": 5},
                        "error": None}], "awaiting": [], "known": [], "ask": None, "refuse": None, "forbid": [],
             "must_not_say": [], "error": None, "latency_s": 0.3, "degraded": False, "category": "sizing",
             "lang": "pt"}]
    metrics.score_tools(rows)
    report = {"split": "test", "conversations": {"summary": metrics.summarize_conversations(rows), "rows": rows},
              "judge": {"status": "not_measured", "reason": "sem juiz", "metrics": {}},
              "meta": {"timestamp": "t", "suite": "conversations", "backend": "rules", "elapsed_s": 1.0}}
    paths = report_files.write(report, gates.check(report, gates.load_thresholds()), tmp_path / "report")
    for key, value in _env(stack_var).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HELIO_EVAL_REPORT", str(paths["json"]))
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert {p.name for p in notebooks} >= {"evals.ipynb", "catalog_cleaning.ipynb"}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
        assert errors == [], (path.name, errors)
