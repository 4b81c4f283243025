"""Regression gates from ``evals/thresholds.yaml``: each gate is today's measured value on a
split (a floor a change must not go below), the ambition is written beside it.

A metric that was not measured (``None``: no judge, no samples) is reported as such and
never passes or fails a gate by accident; the judge's NaN rate has its own budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.yamlfile import load_yaml

THRESHOLDS = Path(__file__).resolve().parents[1] / "thresholds.yaml"


@dataclass(frozen=True)
class GateResult:
    suite: str
    metric: str
    value: float | None
    gate: float | None
    ambition: float | None
    direction: str  # "min" (higher is better) or "max"
    status: str  # pass | fail | not_measured | no_gate

    @property
    def failed(self) -> bool:
        return self.status == "fail"


def load_thresholds(path: Path = THRESHOLDS) -> dict[str, Any]:
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data.get("suites"), dict):
        raise ValueError(f"{path}: 'suites' ausente (veja o cabeçalho do arquivo)")
    return data


def metric_value(report: dict[str, Any], suite: str, metric: str) -> float | None:
    """``report[suite]["summary"]["overall"][metric]`` as a number (``{"value": …}`` or a count)."""
    if suite == "judge":
        judge = report.get("judge") or {}
        if metric == "max_nan_rate":
            rates = [m.get("nan_rate") for m in (judge.get("metrics") or {}).values() if m.get("nan_rate") is not None]
            return max(rates) if rates else None
        return ((judge.get("metrics") or {}).get(metric) or {}).get("value")
    block = ((report.get(suite) or {}).get("summary") or {}).get("overall") or {}
    value = block.get(metric)
    if isinstance(value, dict):
        value = value.get("value")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def check(report: dict[str, Any], thresholds: dict[str, Any]) -> list[GateResult]:
    split = report.get("split", "test")
    results = []
    for suite, metrics in thresholds["suites"].items():
        if suite != "judge" and suite not in report:
            continue
        for metric, spec in metrics.items():
            direction = spec.get("direction", "min")
            gate = (spec.get("gate") or {}).get(split)
            value = metric_value(report, suite, metric)
            if value is None:
                status = "not_measured"
            elif gate is None:
                status = "no_gate"
            elif direction == "min":
                status = "pass" if value >= gate - 1e-9 else "fail"
            else:
                status = "pass" if value <= gate + 1e-9 else "fail"
            results.append(GateResult(suite, metric, value, gate, spec.get("ambition"), direction, status))
    return results
