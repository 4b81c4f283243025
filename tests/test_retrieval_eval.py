"""The retrieval quality gate on the real corpus: index everything in a scratch folder, run
the labelled query set (evals/retrieval/queries.yaml), and hold hybrid search to the bar the
issue sets (recall@5 ≥ 0.85, better than dense-only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_hybrid_retrieval_meets_the_quality_bar(tmp_path, real_catalog):
    env = os.environ | {
        "CATALOG__DB_PATH": str(real_catalog.copy(tmp_path)),  # the session's ingest of the export
        "CATALOG__REPORT_DIR": str(tmp_path / "reports"),
        "QDRANT__EDGE_PATH": str(tmp_path / "qdrant-edge"),
        "QDRANT__PATH": str(tmp_path / "qdrant"),
    }
    out = tmp_path / "eval.json"
    run = subprocess.run([sys.executable, "-m", "evals.retrieval.run", "--ingest", "--out", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    overall = json.loads(out.read_text())["overall"]["all"]
    print(run.stdout)
    assert overall["hybrid"]["recall@5"] >= 0.85
    assert overall["hybrid"]["recall@5"] > overall["dense"]["recall@5"]
    assert overall["hybrid"]["ndcg@10"] > overall["dense"]["ndcg@10"]
