"""``helio eval run`` and ``helio eval compare``: the engineers' eval suite (issue #12).

The work lives in :mod:`evals.harness`; this module parses options, shows progress and
turns gate failures into the exit code.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cli.progress import staged_progress

console = Console()
app = typer.Typer(help="Avaliação do assistente: conversas, conhecimento (RAG), juiz, gates.", no_args_is_help=True)


@app.command("run")
def run(
    suite: str = typer.Option("all", "--suite", help="conversations | knowledge | all"),
    split: str = typer.Option("dev", "--split", help="dev (pode ajustar) | test (congelado)"),
    backend: str = typer.Option("auto", "--backend",
                                help="auto | llamacpp | ollama | openai (como LLM__BACKEND) | rules (sem modelo)"),
    out: Path = typer.Option(None, "--out", help="pasta do relatório (padrão var/evals/<timestamp>)"),
    thresholds: Path = typer.Option(None, "--thresholds", help="outro thresholds.yaml"),
    no_judge: bool = typer.Option(False, "--no-judge", help="não chama o juiz mesmo se configurado"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="sem barra de progresso"),
    datasets_dir: Path = typer.Option(None, "--datasets", file_okay=False,
                                      help="outra pasta de conjuntos (conversations/<split>.yaml, "
                                           "knowledge/<split>.yaml), p.ex. um conjunto de sondagem fora do repo"),
) -> None:
    """Roda o conjunto no assistente real, escreve report.json/.md/.html e sai ≠ 0 se um gate falhar."""
    from app.core.errors import HelioError
    from app.core.settings import get_settings
    from evals.harness.datasets import DatasetError
    from evals.harness.runner import StackNotReady
    from evals.harness.suite import run_suite

    try:
        with staged_progress(console, quiet) as on_progress:
            report, gates, paths = run_suite(get_settings(), suite=suite, split=split, backend=backend, out_dir=out,
                                             thresholds=thresholds, judge=not no_judge, progress=on_progress,
                                             datasets_dir=datasets_dir)
    except (DatasetError, StackNotReady, HelioError, ValueError) as exc:
        console.print(f"[red]erro:[/red] {exc}")
        raise typer.Exit(2) from exc
    table = Table(title=f"gates — split {split}, backend {report['meta']['backend']}")
    for col in ("suite", "métrica", "valor", "gate", "ambição", "status"):
        table.add_column(col)
    style = {"pass": "green", "fail": "bold red", "not_measured": "yellow", "no_gate": "dim"}
    for g in gates:
        table.add_row(g.suite, g.metric, _fmt(g.value), _fmt(g.gate), _fmt(g.ambition),
                      f"[{style[g.status]}]{g.status}[/]")
    console.print(table)
    console.print(f"relatório: {paths['html']}")
    failed = [g for g in gates if g.failed]
    if failed:
        console.print(f"[bold red]{len(failed)} gate(s) falharam:[/] " + ", ".join(f"{g.suite}.{g.metric}" for g in failed))
        raise typer.Exit(1)


@app.command("compare")
def compare(a: Path = typer.Argument(..., help="relatório A (report.json ou sua pasta)"),
            b: Path = typer.Argument(..., help="relatório B")) -> None:
    """Mostra as diferenças B − A por métrica."""
    from evals.harness.suite import compare as diff

    def load(p: Path) -> dict:
        p = p / "report.json" if p.is_dir() else p
        if not p.exists():
            console.print(f"[red]erro:[/red] {p} não existe")
            raise typer.Exit(2)
        return json.loads(p.read_text(encoding="utf-8"))

    ra, rb = load(a), load(b)
    table = Table(title=f"A = {ra['meta']['timestamp']} ({ra['split']}, {ra['meta']['backend']})  "
                        f"B = {rb['meta']['timestamp']} ({rb['split']}, {rb['meta']['backend']})")
    for col in ("suite", "métrica", "A", "B", "B − A"):
        table.add_column(col, justify="right" if col in ("A", "B", "B − A") else "left")
    for suite, metric, va, vb, delta in diff(ra, rb):
        color = "" if delta in (None, 0) else ("green" if (delta > 0) != _lower_is_better(metric) else "red")
        table.add_row(suite, metric, _fmt(va), _fmt(vb), f"[{color}]{delta:+.4f}[/]" if color else _fmt(delta))
    console.print(table)


def _lower_is_better(metric: str) -> bool:
    return metric in ("ungrounded_numbers", "asked_known_slot", "degraded", "latency_p50_s")


def _fmt(value) -> str:
    if value is None:
        return "não medido"
    return f"{value:.4f}" if isinstance(value, float) else str(value)
