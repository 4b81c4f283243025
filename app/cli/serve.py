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
    console.print(f"Hélio em [bold]http://{host}:{port}[/bold] — docs em http://{host}:{port}/docs")
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers)
