"""``helio specs``: the electrical-spec registry (import a CSV of datasheet values, list it)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="Registro de specs elétricas (módulos, inversores string, microinversores).",
                  no_args_is_help=True)


def _registry():
    from app.core.settings import get_settings
    from app.specs.registry import make_spec_registry

    return make_spec_registry(get_settings())


@app.command("import")
def import_specs(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV com o cabeçalho de data/specs/modules.csv"),
    by: str = typer.Option(None, "--by", help="quem importa (fica registrado)"),
) -> None:
    """Valida e importa specs; um arquivo com qualquer erro é recusado inteiro (linha e campo na mensagem)."""
    from app.core.errors import HelioError

    console = Console()
    try:
        registry = _registry()
        rows = registry.import_csv(file.read_text(encoding="utf-8"), imported_by=by or "cli")
    except HelioError as exc:
        console.print(f"[red]{exc.message}[/red]")
        for e in exc.details.get("errors", []):
            console.print(f"  linha {e['line']}, campo '{e['field']}': {e['message']}")
        if exc.hint:
            console.print(exc.hint)
        raise typer.Exit(2) from None
    except UnicodeDecodeError:
        console.print("[red]O arquivo não está em UTF-8.[/red] Salve o CSV como UTF-8 e tente de novo.")
        raise typer.Exit(2) from None
    console.print(f"{len(rows)} linha(s) importada(s): " + ", ".join(r.label() for r in rows))
    console.print(f"Registro: {registry.counts()}; impressão digital {registry.fingerprint()[:12]}.")


@app.command("list")
def list_specs(category: str = typer.Option(None, "--category", help="module | string_inverter | microinverter")) -> None:
    """Modelos no registro, com a fonte de cada linha."""
    console = Console()
    for r in _registry().rows:
        if category and r.category != category:
            continue
        console.print(f"{r.category:16} {r.label():40} {r.source.kind:12} {r.source.title[:70]}")
