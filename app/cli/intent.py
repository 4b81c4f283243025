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
    """Acurácia: treino só em train.yaml medido no split dev, e validação cruzada em tudo."""
    from app.agent import classifier_train as T

    console = Console()
    train_set, dev = T.train_examples(), T.dev_examples()
    acc, wrong = T.accuracy(T.fit(train_set), dev)
    console.print(f"train.yaml → dev: {acc:.3f} ({len(dev) - len(wrong)}/{len(dev)})")
    for ex, got in wrong:
        console.print(f"  [red]{ex.label}[/red] ≠ {got} (depois de {ex.after}): {ex.text}", markup=True)
    console.print(f"validação cruzada ({folds} dobras, train.yaml + dev): "
                  f"{T.cross_validate(T.all_examples(), folds):.3f}")
