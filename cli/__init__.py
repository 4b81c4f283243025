"""The ``helio`` command. Sub-commands live in their own modules and are registered here."""

from __future__ import annotations


def main() -> None:
    from cli.root import build_cli

    build_cli()()
