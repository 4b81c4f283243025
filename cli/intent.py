"""``helio intent``: train and measure the intent model (app/agent/classifier.py)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="Modelo de intenção do chat (qual ferramenta cada mensagem pede).", no_args_is_help=True)


@app.command("train")
def train(out: Path = typer.Option(None, "--out", help="arquivo do modelo; padrão data/intent/model.npz")) -> None:
    """Treina com data/intent/train.yaml + o split dev do eval e grava o modelo (determinístico)."""
    from app.agent import classifier_train as T

    model = T.train(out or T.MODEL_PATH)
    Console().print(f"modelo: {out or T.MODEL_PATH} — {model.meta['examples']} exemplos, "
                    f"{len(model.terms)} termos, dados sha256 {model.meta['data_sha256'][:12]}")


@app.command("eval")
def evaluate(folds: int = typer.Option(5, help="dobras da validação cruzada")) -> None:
    """Acurácia: treino só em train.yaml (+ train.d/) medido no split dev, e validação cruzada em tudo."""
    from app.agent import classifier_train as T

    console = Console()
    train_set, dev = [ex for f in T.train_files() for ex in T.train_examples(f)], T.dev_examples()
    acc, wrong = T.accuracy(T.fit(train_set), dev)
    console.print(f"train.yaml → dev: {acc:.3f} ({len(dev) - len(wrong)}/{len(dev)})")
    for ex, got in wrong:
        console.print(f"  [red]{ex.label}[/red] ≠ {got} (depois de {ex.after}): {ex.text}", markup=True)
    console.print(f"validação cruzada ({folds} dobras, train.yaml + dev): "
                  f"{T.cross_validate(T.all_examples(), folds):.3f}")


@app.command("report")
def report(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="report.json de `helio eval run`")) -> None:
    """Acurácia da decisão de intenção num relatório do eval (a tarefa escolhida vs a esperada),
    por categoria: separa erros de decisão de erros de argumentos (a ferramenta certa que pediu um dado)."""
    import json
    from collections import defaultdict

    from app.agent.classifier import GREET, OFF, QUOTE
    from app.agent.classifier_train import dev_label

    rows = json.loads(path.read_text(encoding="utf-8"))["conversations"]["rows"]
    by_cat: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        turn = {"calls": [{"tool": c["name"]} for c in row["expected_calls"]], **(
            {"ask": row["ask"]} if row["kind"] == "ask" else {}), **(
            {"refuse": row["refuse"]} if row["kind"] == "refuse" else {})}
        if row["kind"] == "none" and row.get("intent") == QUOTE:
            continue  # a "não" to a quote summary (decided before the model)
        expected = dev_label(turn)
        got = row.get("intent")
        # No tool is the decision for a greeting or a refusal, whichever template answers it (an
        # injection that asks for a quote is refused by the quote turn's role gate).
        ok = got == expected or (expected in (GREET, OFF) and not row["calls"]
                                 and (got in (GREET, OFF) or row["kind"] == "refuse"))
        by_cat[row["category"]].append(ok)
    every = [x for v in by_cat.values() for x in v]
    console = Console()
    console.print(f"decisão de intenção: {sum(every) / len(every):.3f} ({sum(every)}/{len(every)})")
    for cat, flags in sorted(by_cat.items()):
        console.print(f"  {cat:14s} {sum(flags) / len(flags):.2f} ({sum(flags)}/{len(flags)})")
