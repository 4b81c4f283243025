"""``helio ingest …`` knowledge commands and ``helio search`` through Typer, on the fixture corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli import knowledge as knowledge_cli
from app.core.settings import get_settings

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(tmp_path, monkeypatch) -> typer.Typer:
    shutil.copytree(FIXTURES, tmp_path / "knowledge", ignore=shutil.ignore_patterns("*.py", "README.md"))
    monkeypatch.setenv("KNOWLEDGE__SOURCE_DIR", str(tmp_path / "knowledge"))
    monkeypatch.setenv("QDRANT__EDGE_PATH", str(tmp_path / "edge"))
    monkeypatch.setenv("CATALOG__DB_PATH", str(tmp_path / "no-catalog.sqlite3"))
    monkeypatch.setenv("CATALOG__REPORT_DIR", str(tmp_path / "reports"))
    get_settings.cache_clear()
    root = typer.Typer()
    ingest = typer.Typer()
    root.add_typer(ingest, name="ingest")
    knowledge_cli.register(ingest, root)
    yield root
    get_settings.cache_clear()


def test_ingest_then_search_prints_citations(cli, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", "knowledge"])
    assert result.exit_code == 0, result.output
    assert "chunks/s" in result.output and "catálogo tipado indisponível" in result.output
    report = json.loads((tmp_path / "reports" / "knowledge-ingest.json").read_text())
    assert report["index"]["novos"] == 6 and report["errors"] == []

    again = runner.invoke(cli, ["ingest", "datasheets"])
    assert again.exit_code == 0 and "inalterados (pulados) │     3" in again.output

    found = runner.invoke(cli, ["search", "garantia do quadro de alumínio", "-k", "1", "--json"])
    assert found.exit_code == 0, found.output
    hit = json.loads(found.output)[0]
    assert (hit["citation"]["source"], hit["citation"]["page"]) == ("datasheets/beta-bm-550.pdf", 2)

    empty = runner.invoke(cli, ["search", "   "])
    assert empty.exit_code == 2 and "vazia" in empty.output
