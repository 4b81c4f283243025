"""Knowledge ingestion end to end on a small fixture corpus: real MiniLM embeddings, real
qdrant-edge and qdrant-client local mode, real SQLite catalog store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.catalog.models import Category, InverterSpecs, ModuleSpecs, Offer, Phase, Product
from app.core.settings import QdrantSettings
from app.retrieval.embed import SentenceTransformerEmbedder
from app.retrieval.search import KnowledgeSearcher
from app.retrieval.store_edge import EdgeStore
from app.retrieval.store_qdrant import QdrantClientStore
from app.retrieval.types import SearchFilters
from ingest.knowledge.chunk import Chunker
from ingest.knowledge.pipeline import run_knowledge_ingest

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"
KINDS = ("catalog", "datasheets", "financing", "regulation")

pytestmark = pytest.mark.slow


def catalog_products() -> list[Product]:
    return [
        Product(
            id="inverter-alfa-as-5k-t2", category=Category.INVERTER, name="Inversor Alfa Solar AS-5K-T2 5kW Monofásico",
            manufacturer="Alfa Solar", model="AS-5K-T2", power_w=5000, phase=Phase.SINGLE, price_brl=4321.0, in_stock=True,
            offers=[Offer(distributor="odex", source_id="fx_inverters_ALFA-5K", price_brl=4321.0, available=True)],
            inverter=InverterSpecs(ac_power_w=5000, mppt_count=2, phase=Phase.SINGLE, ac_voltage_v=230),
            provenance=["inverters_unified.json#0:fx_inverters_ALFA-5K"],
        ),
        Product(
            id="module-beta-bm-550", category=Category.MODULE, name="Módulo Beta Energia BM-550 550W",
            manufacturer="Beta Energia", model="BM-550", power_w=550, module=ModuleSpecs(pmax_w=550),
            provenance=["panels_unified.json#0:fx_panels_BETA-550", "panels_unified.json#1:fx_panels_BETA-550-B"],
        ),
        Product(
            id="structure-ceramico-4", category=Category.STRUCTURE, name="Estrutura para telhado cerâmico, 4 módulos",
            manufacturer="Fixa", provenance=["structures_unified.json#0:fx_structures_1"],
        ),
    ]


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(batch_size=16)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("*.py", "README.md"))
    return root


@pytest.fixture
def catalog(tmp_path: Path):
    from app.catalog.store import SQLiteCatalogStore

    store = SQLiteCatalogStore(tmp_path / "catalog.sqlite3")
    store.replace_all(catalog_products())
    return store


@pytest.fixture(params=["edge", "local"])
def store(request, tmp_path: Path):
    settings = QdrantSettings(path=tmp_path / "qdrant", edge_path=tmp_path / "edge", collection="test")
    s = EdgeStore(settings) if request.param == "edge" else QdrantClientStore.local(settings)
    yield s
    s.close()


@pytest.fixture
def edge_store(tmp_path: Path):
    s = EdgeStore(QdrantSettings(edge_path=tmp_path / "edge"))
    yield s
    s.close()


def ingest(corpus: Path, store, embedder, catalog=None, kinds=KINDS):
    return run_knowledge_ingest(kinds, source_dir=corpus, store=store, embedder=embedder,
                                chunker=Chunker(160, 32), catalog=catalog)


def ids_by_source(store) -> dict[str, set[str]]:
    return {src: st.ids for src, st in store.source_states().items()}


def test_reingest_changes_nothing(corpus, store, embedder, catalog):
    first = ingest(corpus, store, embedder, catalog)
    assert first.index.new == first.index.documents == 9  # 3 products, 3 datasheets, 2 credit lines, 1 note
    assert first.index.chunks_embedded == first.index.chunks > 0
    before = ids_by_source(store)

    second = ingest(corpus, store, embedder, catalog)

    assert second.index.skipped == 9
    assert (second.index.chunks_embedded, second.index.new, second.index.updated, second.index.deleted) == (0, 0, 0, 0)
    assert ids_by_source(store) == before
    assert store.count() == first.index.chunks


def test_editing_one_datasheet_replaces_exactly_its_chunks(corpus, store, embedder, catalog):
    ingest(corpus, store, embedder, catalog)
    before = ids_by_source(store)
    sheet = corpus / "datasheets" / "alfa-as-5k-t2.md"
    sheet.write_text(sheet.read_text().replace("detecção de falha de arco (AFCI) opcional",
                                               "proteção contra surtos DPS tipo II nas entradas CC"))

    report = ingest(corpus, store, embedder, catalog)

    after = ids_by_source(store)
    assert report.index.updated == 1 and report.index.skipped == 8
    changed = {src for src in before if before[src] != after.get(src)}
    assert changed == {"datasheets/alfa-as-5k-t2.md"}
    # only the edited section was re-embedded; the other chunks of the file kept their ids
    assert report.index.chunks_embedded == 1 and report.index.chunks_deleted == 1
    assert len(before["datasheets/alfa-as-5k-t2.md"] & after["datasheets/alfa-as-5k-t2.md"]) >= 2
    searcher = KnowledgeSearcher(store, embedder)
    texts = [h.text for h in searcher.search("proteção DPS surtos", k=3, filters=SearchFilters(doc_type=["datasheet"]))]
    assert any("DPS" in t for t in texts)
    assert not any("AFCI" in h.text for h in searcher.search("AFCI arco", k=20))


def test_deleting_one_source_removes_its_chunks(corpus, store, embedder, catalog):
    ingest(corpus, store, embedder, catalog)
    n_gama = len(ids_by_source(store)["datasheets/gama-gx-8k.pdf"])
    total = store.count()
    (corpus / "datasheets" / "gama-gx-8k.pdf").unlink()

    report = ingest(corpus, store, embedder, catalog)

    assert report.index.deleted == 1 and report.index.chunks_deleted == n_gama
    assert "datasheets/gama-gx-8k.pdf" not in ids_by_source(store)
    assert store.count() == total - n_gama


def test_ingesting_one_kind_leaves_the_others(corpus, store, embedder, catalog):
    ingest(corpus, store, embedder, catalog)
    before = ids_by_source(store)
    report = ingest(corpus, store, embedder, catalog, kinds=("financing",))
    assert report.index.documents == 2 and report.index.deleted == 0
    assert ids_by_source(store) == before


def test_corrupt_pdf_is_reported_and_the_rest_ingests(corpus, edge_store, embedder, catalog):
    (corpus / "datasheets" / "quebrado.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> garbage\n%%EOF")
    report = ingest(corpus, edge_store, embedder, catalog)
    assert [e.source for e in report.errors] == ["datasheets/quebrado.pdf"]
    assert report.index.documents == 9 and report.index.new == 9

    # a datasheet that indexed fine and then gets corrupted keeps serving its old chunks
    old = ids_by_source(edge_store)["datasheets/beta-bm-550.pdf"]
    (corpus / "datasheets" / "beta-bm-550.pdf").write_bytes(b"%PDF-1.7 truncated")
    report = ingest(corpus, edge_store, embedder, catalog)
    assert {e.source for e in report.errors} == {"datasheets/quebrado.pdf", "datasheets/beta-bm-550.pdf"}
    assert report.index.deleted == 0
    assert ids_by_source(edge_store)["datasheets/beta-bm-550.pdf"] == old


def test_filters_restrict_results(corpus, store, embedder, catalog):
    ingest(corpus, store, embedder, catalog)
    searcher = KnowledgeSearcher(store, embedder)
    query = "inversor 5 kW garantia financiamento"

    def sources(**f):
        return {h.citation.source for h in searcher.search(query, k=20, filters=SearchFilters(**f))}

    assert {s.split("#")[0] for s in sources(doc_type=["financing"])} == {"financing/credit_lines.yaml"}
    assert sources(lender=["bv"]) == {"financing/credit_lines.yaml#bv-solar"}
    assert sources(manufacturer=["Beta Energia"]) == {"datasheets/beta-bm-550.pdf", "catalog:module-beta-bm-550"}
    assert sources(category=["inverter"], doc_type=["datasheet"]) == {"datasheets/alfa-as-5k-t2.md", "datasheets/gama-gx-8k.pdf"}
    assert sources(min_power_w=4000, max_power_w=6000) == {"datasheets/alfa-as-5k-t2.md", "catalog:inverter-alfa-as-5k-t2"}
    for mode in ("dense", "sparse", "hybrid"):
        hits = searcher.search("bateria 48 V", k=10, filters=SearchFilters(doc_type=["regulation"]), mode=mode)
        assert all(h.citation.doc_type == "regulation" for h in hits)


def test_citations_point_to_the_right_page(corpus, edge_store, embedder, catalog):
    ingest(corpus, edge_store, embedder, catalog)
    searcher = KnowledgeSearcher(edge_store, embedder)

    top = searcher.search("garantia do quadro de alumínio anodizado", k=1)[0]
    assert (top.citation.source, top.citation.page, top.citation.section) == ("datasheets/beta-bm-550.pdf", 2, "Garantia")
    assert top.citation.product_ids == ["module-beta-bm-550"]
    assert "p. 2" in top.citation.label

    # the catalog document now also states Voc (filled from this sheet): ask the sheet itself
    top = searcher.search("tensão de circuito aberto Voc do módulo BM-550", k=1, filters=SearchFilters(doc_type=["datasheet"]))[0]
    assert (top.citation.source, top.citation.page) == ("datasheets/beta-bm-550.pdf", 1)

    top = searcher.search("validade dos créditos de energia", k=1)[0]
    assert (top.citation.source, top.citation.section, top.citation.page) == ("regulation/lei-14300.md", "Validade dos créditos", None)


def test_catalog_documents_are_found_by_upstream_row_ids(corpus, edge_store, embedder, catalog):
    ingest(corpus, edge_store, embedder, catalog)
    hit = KnowledgeSearcher(edge_store, embedder).search("módulo BM-550 preço", k=5, filters=SearchFilters(doc_type=["catalog"]))[0]
    assert hit.citation.source == "catalog:module-beta-bm-550"
    assert set(hit.doc_keys) == {"catalog:fx_panels_BETA-550", "catalog:fx_panels_BETA-550-B"}


def test_datasheet_specs_fill_missing_catalog_specs(corpus, edge_store, embedder, catalog):
    report = ingest(corpus, edge_store, embedder, catalog, kinds=("datasheets",))
    e = report.enrich
    assert e.matched == {"datasheets/alfa-as-5k-t2.md": ["inverter-alfa-as-5k-t2"],
                         "datasheets/beta-bm-550.pdf": ["module-beta-bm-550"]}
    assert e.unmatched == ["datasheets/gama-gx-8k.pdf"]
    # 230 V in the catalog vs 220 V on the sheet: reported, not overwritten
    assert [(c.product_id, c.field, c.existing, c.datasheet) for c in e.conflicts] == [
        ("inverter-alfa-as-5k-t2", "ac_voltage_v", 230.0, 220.0)]

    inv = catalog.get("inverter-alfa-as-5k-t2")
    assert inv.inverter.max_dc_voltage_v == 600 and (inv.inverter.mppt_min_v, inv.inverter.mppt_max_v) == (90, 550)
    assert inv.inverter.ac_voltage_v == 230
    assert inv.spec_sources["max_dc_voltage_v"] == "datasheet:datasheets/alfa-as-5k-t2.md"
    mod = catalog.get("module-beta-bm-550")
    assert mod.module.voc_v == 49.9 and mod.module.temp_coeff_voc_pct_per_c == -0.27
    assert mod.spec_sources["voc_v"] == "datasheet:datasheets/beta-bm-550.pdf#p1"
    assert mod.spec_sources["length_mm"] == "datasheet:datasheets/beta-bm-550.pdf#p2"
    assert "pmax_w" not in e.filled.get("module-beta-bm-550", [])  # already there, same value

    again = ingest(corpus, edge_store, embedder, catalog, kinds=("datasheets",))
    assert again.enrich.filled == {}  # idempotent: nothing left to fill
