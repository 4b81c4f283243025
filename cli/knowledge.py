"""Knowledge commands: ``helio ingest datasheets|financing|regulation|knowledge`` and
``helio search``. The lead wires them into the root CLI (see :func:`register`).

``run_knowledge(kinds)`` is the function ``helio ingest all`` calls after the catalog store
is built (kinds: catalog, datasheets, financing, regulation).
"""

from __future__ import annotations

import json
from contextlib import nullcontext
import os
from collections.abc import Iterable

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from cli.progress import staged_progress
from app.core.errors import HelioError
from app.core.metrics import record_ingest
from app.core.settings import get_settings

console = Console()
app = typer.Typer(help="Base de conhecimento: fichas técnicas, financiamento, regulação e busca.", no_args_is_help=True)

KNOWLEDGE_KINDS = ("catalog", "datasheets", "financing", "regulation")


def _open_catalog(settings):
    """The typed catalog store, or ``None`` when it is not built yet."""
    if not settings.catalog.db_path.exists():
        return None
    from app.catalog.store import SQLiteCatalogStore

    return SQLiteCatalogStore(settings.catalog.db_path)


def run_knowledge(kinds: Iterable[str] = KNOWLEDGE_KINDS, *, force: bool = False, quiet: bool = False):
    """Index ``kinds`` with a progress bar; prints and returns the report."""
    from ingest.knowledge.pipeline import ingest_with_settings

    settings = get_settings()
    # Batch embedding scales with cores (1 → 2 threads measured 9 → 16 chunks/s here); the
    # API keeps its single-thread default, which is what keeps query latency low.
    settings = settings.model_copy(update={"embedding": settings.embedding.model_copy(
        update={"torch_threads": os.cpu_count() or 1})})
    catalog = _open_catalog(settings)
    with staged_progress(console, quiet) as on_progress:
        status = console.status("Carregando o modelo de embeddings e lendo as fontes…", spinner="dots")
        with status if not quiet else nullcontext():
            report = ingest_with_settings(list(kinds), settings, catalog, force=force, progress=on_progress)
    index = report.index
    record_ingest("knowledge", {"documents": index.documents, "chunks_embedded": index.chunks_embedded,
                                "chunks_reused": index.chunks_reused, "chunks_deleted": index.chunks_deleted,
                                "errors": len(index.errors)})
    if not quiet:
        print_report(report)
    return report


def print_report(report) -> None:
    table = Table(title=f"Base de conhecimento: {', '.join(report.kinds)}")
    table.add_column("métrica")
    table.add_column("valor", justify="right")
    for key, value in report.index.summary().items():
        table.add_row(key, str(value))
    console.print(table)
    if report.enrich is not None:
        e = report.enrich
        et = Table(title="Fichas técnicas → catálogo")
        et.add_column("métrica")
        et.add_column("valor", justify="right")
        for key, value in e.summary().items():
            et.add_row(key, str(value))
        console.print(et)
        for c in e.conflicts[:20]:
            console.print(f"  [yellow]conflito[/yellow] {c.product_id}.{c.field}: catálogo={c.existing!r} ficha={c.datasheet!r} ({c.source})")
        if len(e.conflicts) > 20:
            console.print(f"  … e mais {len(e.conflicts) - 20} conflitos (ver relatório JSON)")
        for key in e.unmatched:
            console.print(f"  [dim]sem produto no catálogo:[/dim] {key}")
    for err in report.errors:
        console.print(f"[red]erro[/red] {escape(err.source)}: {escape(err.message)}")
    for note in report.notes:
        console.print(f"[yellow]aviso[/yellow] {note}")
    console.print(f"Relatório em [bold]{get_settings().catalog.report_dir / 'knowledge-ingest.json'}[/bold]")


def _run_or_exit(kinds: Iterable[str], force: bool) -> None:
    try:
        run_knowledge(kinds, force=force)
    except HelioError as exc:
        console.print(f"[red]{escape(exc.message)}[/red]" + (f"\n{escape(exc.hint)}" if exc.hint else ""))
        raise typer.Exit(1) from exc


def _kind_command(kind: str):
    def command(force: bool = typer.Option(False, "--force", help="Re-embeda tudo, mesmo o que não mudou.")) -> None:
        _run_or_exit((kind,), force)

    command.__doc__ = {
        "datasheets": "Indexa as fichas técnicas (PDF/MD) e completa specs faltantes no catálogo.",
        "financing": "Indexa as linhas de crédito (YAML) e os textos de financiamento.",
        "regulation": "Indexa os textos de regulação (Lei 14.300, REN 1.000…).",
        "catalog": "Indexa um documento por produto do catálogo tipado (rode antes 'helio ingest catalog').",
    }[kind]
    return command


@app.command("knowledge")
def knowledge(force: bool = typer.Option(False, "--force", help="Re-embeda tudo, mesmo o que não mudou.")) -> None:
    """Indexa todas as fontes de conhecimento (produtos do catálogo, fichas, financiamento, regulação)."""
    _run_or_exit(KNOWLEDGE_KINDS, force)


for _kind in ("datasheets", "financing", "regulation"):
    app.command(_kind)(_kind_command(_kind))
app.command("catalog-docs")(_kind_command("catalog"))


def search(
    query: str = typer.Argument(..., help="Pergunta ou termos, ex.: 'inversor trifásico 10 kW com 2 MPPT'"),
    k: int = typer.Option(5, "--k", "-k", min=1, max=50, help="Quantos trechos."),
    mode: str = typer.Option("hybrid", help="hybrid | dense | sparse"),
    doc_type: list[str] = typer.Option(None, "--type", help="catalog, datasheet, financing, regulation"),
    category: list[str] = typer.Option(None, help="inverter, module, battery…"),
    manufacturer: list[str] = typer.Option(None),
    lender: list[str] = typer.Option(None, help="bv, santander, solfacil, bnb…"),
    min_power_w: float = typer.Option(None, "--min-power-w"),
    max_power_w: float = typer.Option(None, "--max-power-w"),
    as_json: bool = typer.Option(False, "--json", help="Saída JSON."),
) -> None:
    """Busca na base de conhecimento (híbrida: semântica + termos) com citações."""
    from app.retrieval.search import make_searcher
    from app.retrieval.types import SearchFilters

    try:
        filters = SearchFilters(doc_type=doc_type or None, category=category or None, manufacturer=manufacturer or None,
                                lender=lender or None, min_power_w=min_power_w, max_power_w=max_power_w)
    except ValueError as exc:
        console.print(f"[red]Filtro inválido:[/red] {exc}")
        raise typer.Exit(2) from exc
    searcher = make_searcher(get_settings())
    try:
        hits = searcher.search(query, k=k, filters=filters, mode=mode)  # type: ignore[arg-type]
    except HelioError as exc:
        console.print(f"[red]{exc.message}[/red]" + (f"\n{exc.hint}" if exc.hint else ""))
        raise typer.Exit(2) from exc
    finally:
        searcher.close()
    if as_json:
        console.print_json(json.dumps([h.model_dump() for h in hits], ensure_ascii=False))
        return
    if not hits:
        console.print("Nada encontrado. Rode 'helio ingest all' se o índice estiver vazio.")
    for rank, hit in enumerate(hits, start=1):
        c = hit.citation
        cite = escape(c.label) + f"\n[dim]{escape(c.source)}" + (f" · produtos: {', '.join(c.product_ids)}" if c.product_ids else "") + "[/dim]"
        console.print(Panel(escape(hit.text), title=f"[bold]{rank}. {escape(c.title)}[/bold]  [dim]{c.doc_type} · score {hit.score:.4f}[/dim]",
                            subtitle=cite, subtitle_align="left"))


def register(ingest_app: typer.Typer, root: typer.Typer) -> None:
    """Wire the commands: ``helio ingest datasheets|financing|regulation|knowledge|catalog-docs``
    under the existing ``ingest`` group and ``helio search`` at the root."""
    for command in app.registered_commands:
        ingest_app.registered_commands.append(command)
    root.command("search")(search)
