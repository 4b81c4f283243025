"""``helio`` — the command line. Each sub-command module stays small; this file wires them."""

from __future__ import annotations

import logging

import typer

from cli import assistant as assistant_cli
from cli import eval as eval_cli
from cli import ingest as ingest_cli
from cli import intent as intent_cli
from cli import knowledge as knowledge_cli
from cli import sales as sales_cli
from cli import serve as serve_cli
from cli import size as size_cli
from cli import specs as specs_cli


def build_cli() -> typer.Typer:
    cli = typer.Typer(
        name="helio",
        help="Hélio: dimensionamento fotovoltaico, catálogo e orçamentos da YSH.",
        no_args_is_help=True,
        rich_markup_mode="rich",
        pretty_exceptions_show_locals=False,
    )
    cli.add_typer(ingest_cli.app, name="ingest")
    knowledge_cli.register(ingest_cli.app, cli)
    cli.command("serve")(serve_cli.serve)
    cli.command("size")(size_cli.size)
    cli.add_typer(specs_cli.app, name="specs")
    cli.add_typer(sales_cli.financing_app, name="financing")
    cli.add_typer(sales_cli.keys_app, name="keys")
    cli.add_typer(sales_cli.companies_app, name="companies")
    cli.command("chat")(assistant_cli.chat)
    cli.command("modelfile")(assistant_cli.modelfile)
    cli.add_typer(eval_cli.app, name="eval")
    cli.add_typer(intent_cli.app, name="intent")

    @cli.callback()
    def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Logs detalhados.")) -> None:
        logging.basicConfig(
            level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )

    return cli
