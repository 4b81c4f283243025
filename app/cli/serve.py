"""``helio serve`` — run the API, ingesting the bundled sample data first if the stores are empty."""

from __future__ import annotations

import typer
from rich.console import Console

from app.core.settings import get_settings

console = Console()


def serve(
    host: str = typer.Option("127.0.0.1", help="Endereço de escuta."),
    port: int = typer.Option(8000, help="Porta HTTP."),
    ingest_if_empty: bool = typer.Option(True, help="Ingerir os dados de exemplo se o catálogo estiver vazio."),
    workers: int = typer.Option(1, help="Processos uvicorn (com Redis configurado, pode ser > 1)."),
) -> None:
    """Sobe a API em http://HOST:PORT (documentação em /docs)."""
    import uvicorn

    from app.main import open_catalog

    settings = get_settings()
    if ingest_if_empty and open_catalog(settings).count() == 0:
        from app.cli.ingest import run_catalog

        console.print("[bold]Catálogo vazio:[/bold] ingerindo os dados de exemplo…")
        run_catalog()
    if ingest_if_empty and settings.qdrant.url is None and _knowledge_chunks(settings) == 0:
        from app.cli.knowledge import KNOWLEDGE_KINDS, run_knowledge

        # The embedded index is single-process: build it before the API opens it.
        console.print("[bold]Base de conhecimento vazia:[/bold] indexando fichas, financiamento e regulação…")
        run_knowledge(KNOWLEDGE_KINDS)
    console.print(f"Hélio em [bold]http://{host}:{port}[/bold] — docs em http://{host}:{port}/docs")
    # Client addresses behind a proxy come from API__TRUSTED_PROXIES (app.api.middleware), and its
    # access log line carries the request id: uvicorn's own header handling and log stay off.
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=False, access_log=False)


def _knowledge_chunks(settings) -> int:
    from app.retrieval.store import make_vector_store

    store = make_vector_store(settings.qdrant)
    try:
        return store.count()
    finally:
        store.close()
