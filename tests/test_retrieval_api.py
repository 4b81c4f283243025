"""``POST /v1/search`` over a real (small) qdrant-edge index with the real embedding model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.errors import install_error_handlers
from app.api.routes import search as search_route
from app.core.settings import QdrantSettings
from app.retrieval.embed import SentenceTransformerEmbedder
from app.retrieval.search import KnowledgeSearcher
from app.retrieval.store_edge import EdgeStore
from ingest.knowledge.chunk import Chunker
from ingest.knowledge.pipeline import run_knowledge_ingest

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    tmp = tmp_path_factory.mktemp("search-api")
    shutil.copytree(FIXTURES, tmp / "knowledge", ignore=shutil.ignore_patterns("*.py", "README.md"))
    store = EdgeStore(QdrantSettings(edge_path=tmp / "edge"))
    embedder = SentenceTransformerEmbedder(batch_size=16)
    run_knowledge_ingest(("datasheets", "financing", "regulation"), source_dir=tmp / "knowledge", store=store,
                         embedder=embedder, chunker=Chunker(160, 32))
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(search_route.router)
    app.state.searcher = KnowledgeSearcher(store, embedder)
    with TestClient(app) as c:
        yield c
    store.close()


def test_search_returns_hits_with_citations(client):
    resp = client.post("/v1/search", json={"query": "garantia de desempenho do módulo", "k": 3})
    assert resp.status_code == 200
    hits = resp.json()["hits"]
    assert 1 <= len(hits) <= 3
    top = hits[0]
    assert top["citation"]["source"] == "datasheets/beta-bm-550.pdf" and top["citation"]["page"] == 2
    assert top["text"] and top["score"] > 0


def test_filters_in_the_body_restrict_results(client):
    resp = client.post("/v1/search", json={"query": "taxa de juros", "k": 5, "filters": {"lender": ["santander"]}})
    assert resp.status_code == 200
    assert {h["citation"]["source"] for h in resp.json()["hits"]} == {"financing/credit_lines.yaml#santander-solar"}


@pytest.mark.parametrize("query", ["", "   ", "inversor " * 200])
def test_empty_or_oversized_query_is_422(client, query):
    resp = client.post("/v1/search", json={"query": query})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "entrada_invalida"


def test_k_out_of_range_is_422(client):
    assert client.post("/v1/search", json={"query": "inversor", "k": 500}).status_code == 422
