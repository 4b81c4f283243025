"""``helio ingest …`` — build the typed catalog and the knowledge index."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from cli.progress import staged_progress
from app.core.metrics import record_ingest
from app.core.settings import get_settings

app = typer.Typer(help="Ingestão: catálogo tipado, fichas técnicas, financiamento e regulação.", no_args_is_help=True)
console = Console()


def run_catalog(quiet: bool = False):
    """Clean the upstream export into the typed store; returns the report."""
    from app.main import open_catalog
    from ingest.catalog.pipeline import run_catalog_ingest

    settings = get_settings()
    store = open_catalog(settings)
    with staged_progress(console, quiet) as on_progress:
        report = run_catalog_ingest(settings.catalog.source_dir, store, settings.catalog.report_dir, progress=on_progress)
    reapply_datasheet_specs(store, quiet=quiet)
    from ingest.catalog.quality import recheck_store

    # Datasheet specs were added after the rules ran: check again, then write the quality report.
    quality, path = recheck_store(store, settings.catalog.report_dir)
    if not quiet:
        console.print(quality.summary_line(path), soft_wrap=True)
    record_ingest("catalog", {"rows_read": report.rows_in, "products": report.products_out,
                              "merged": report.merged, "dropped": report.dropped})
    return report


def reapply_datasheet_specs(store, quiet: bool = False) -> None:
    """A rebuilt catalog comes from the export alone: put back the specs the datasheets give
    (parsing only, no embedding), so `ingest catalog` never silently loses them."""
    from ingest.knowledge.enrich import enrich_catalog
    from ingest.knowledge.sources import load_sources

    loaded = load_sources(get_settings().knowledge.source_dir, ("datasheets",))
    enrich, _ = enrich_catalog(loaded.specs, store)
    if not quiet:
        summary = ", ".join(f"{k}: {v}" for k, v in enrich.summary().items())
        console.print(f"Fichas técnicas reaplicadas ao catálogo — {summary}")


@app.command("catalog")
def catalog() -> None:
    """Limpa o export do catálogo (data/catalog) e grava os produtos tipados no SQLite."""
    report = run_catalog()
    table = Table(title="Catálogo: relatório de limpeza")
    table.add_column("métrica")
    table.add_column("valor", justify="right")
    rows = {
        "linhas lidas": report.rows_in,
        "produtos gerados": report.products_out,
        "mesclados (ofertas)": report.merged,
        "descartados": report.dropped,
        "recategorizados": report.recategorised,
        "com especificações": report.with_specs,
        "com parâmetros CEC": report.with_cec,
        **{f"prontos p/ strings: {k}": v for k, v in report.string_sizing_ready.items()},
        **{f"categoria {k}": v for k, v in sorted(report.per_category.items())},
    }
    for key, value in rows.items():
        table.add_row(key, str(value))
    console.print(table)
    console.print(f"Relatório completo em [bold]{get_settings().catalog.report_dir}[/bold]")


@app.command("all")
def ingest_all(force: bool = typer.Option(False, "--force", help="Re-embeda tudo, mesmo o que não mudou.")) -> None:
    """Catálogo tipado primeiro, depois a base de conhecimento (produtos, fichas, financiamento, regulação)."""
    from cli.knowledge import KNOWLEDGE_KINDS, run_knowledge

    catalog()
    run_knowledge(KNOWLEDGE_KINDS, force=force)


@app.command("export-onnx")
def export_onnx(
    int8: bool = typer.Option(False, "--int8", help="Também a versão int8 (sem isto, só se EMBEDDING__QUANTIZE=int8)."),
    force: bool = typer.Option(False, "--force", help="Refaz mesmo se o arquivo já existe."),
) -> None:
    """Exporta o modelo de embeddings local para ONNX (offline, segundos; `make install` roda isto)."""
    from app.retrieval.embed import default_model_path
    from app.retrieval.embed_onnx import export_onnx as build, exportable

    settings = get_settings().embedding
    model = settings.model or default_model_path()
    if settings.backend != "sentence_transformers" or not exportable(model):
        console.print(f"Nada a exportar: o modelo '{model}' ({settings.backend}) não é um diretório local exportável.")
        return
    for quantize in (None, "int8") if int8 or settings.quantize == "int8" else (None,):
        try:
            path = build(model, quantize, settings.onnx_dir, force=force)
        except OSError as exc:  # an unwritable or missing EMBEDDING__ONNX_DIR: say which, no traceback
            console.print(f"[red]erro:[/red] não foi possível gravar o ONNX em {settings.onnx_dir or 'share/helio-onnx'}: "
                          f"{exc.strerror or exc}. Aponte EMBEDDING__ONNX_DIR para uma pasta gravável.")
            raise typer.Exit(2) from exc
        console.print(f"ONNX {quantize or 'fp32'}: [bold]{path}[/bold]", soft_wrap=True)
