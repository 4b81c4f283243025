"""``helio serve`` — run the API, ingesting the bundled sample data first if the stores are empty.

With ``--workers N`` (N > 1) every per-request state must be shared, so ``REDIS__URL`` is
required (conversations, rate limits, the sizing cache, quote records and idempotency keys
live there), and Prometheus runs in multiprocess mode: each worker writes its samples under
``PROMETHEUS_MULTIPROC_DIR`` (a fresh ``var/prometheus`` unless set) and any worker's
``/metrics`` merges them all.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from app.core.metrics import MULTIPROC_ENV
from app.core.settings import Settings, get_settings

console = Console()


def serve(
    host: str = typer.Option("127.0.0.1", help="Endereço de escuta."),
    port: int = typer.Option(8000, help="Porta HTTP."),
    ingest_if_empty: bool = typer.Option(True, help="Ingerir os dados de exemplo se o catálogo estiver vazio."),
    workers: int = typer.Option(1, min=1, help="Processos uvicorn (mais de 1 exige REDIS__URL)."),
) -> None:
    """Sobe a API em http://HOST:PORT (documentação em /docs)."""
    import uvicorn

    from app.main import open_catalog

    settings = get_settings()
    if workers > 1:
        check_multiworker(settings, workers)
        prepare_multiprocess_metrics(settings)
    if ingest_if_empty and open_catalog(settings).count() == 0:
        from cli.ingest import run_catalog

        console.print("[bold]Catálogo vazio:[/bold] ingerindo os dados de exemplo…")
        run_catalog()
    if ingest_if_empty and settings.qdrant.url is None and _knowledge_chunks(settings) == 0:
        if workers == 1:
            # Serve at once; the API process fills the embedded index in a thread (it is the
            # only process that may open it) and /readyz shows the progress.
            console.print("[bold]Base de conhecimento vazia:[/bold] a API indexa em segundo plano "
                          "(acompanhe em /readyz); o chat responde sem citações até terminar.")
            os.environ["KNOWLEDGE__BUILD_IN_BACKGROUND"] = "true"
            get_settings.cache_clear()
        else:
            from cli.knowledge import KNOWLEDGE_KINDS, run_knowledge

            # Several processes cannot share the embedded index: build it before they open it.
            console.print("[bold]Base de conhecimento vazia:[/bold] indexando fichas, financiamento e regulação…")
            run_knowledge(KNOWLEDGE_KINDS)
    console.print(f"Hélio em [bold]http://{host}:{port}[/bold] — docs em http://{host}:{port}/docs"
                  + (f" ({workers} processos)" if workers > 1 else ""))
    # Client addresses behind a proxy come from API__TRUSTED_PROXIES (app.api.middleware), and its
    # access log line carries the request id: uvicorn's own header handling and log stay off.
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=False, access_log=False)


def check_multiworker(settings: Settings, workers: int) -> None:
    """Refuse several workers without Redis: each would keep its own conversations and limits."""
    if not settings.redis.url:
        console.print(f"[red]--workers {workers} exige REDIS__URL[/red]: sem Redis cada processo teria as "
                      "próprias conversas, limites e chaves de idempotência. Defina REDIS__URL=redis://… "
                      "ou use --workers 1.")
        raise typer.Exit(2)
    if settings.qdrant.url is None:
        console.print("[yellow]Aviso:[/yellow] o índice embutido de conhecimento abre em um processo só; "
                      "os outros respondem sem trechos (e dizem isso). Para buscar em todos, use um servidor "
                      "Qdrant (QDRANT__URL).")


def prepare_multiprocess_metrics(settings: Settings) -> Path:
    """Point PROMETHEUS_MULTIPROC_DIR at an empty folder before any worker (or this process's
    ingest) writes a sample: files left by an earlier run would be counted again."""
    path = Path(os.environ.get(MULTIPROC_ENV) or settings.var_dir / "prometheus")
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # only prometheus_client's own files
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def _knowledge_chunks(settings) -> int:
    from app.retrieval.store import make_vector_store

    store = make_vector_store(settings.qdrant)
    try:
        return store.count()
    finally:
        store.close()
