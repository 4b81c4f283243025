"""Fast, hermetic tests of the pure parts: tokenizer, sparse encoder, chunker, parsers,
spec extraction, metrics, query validation. No model, no vector store."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import InvalidInput
from app.retrieval.search import KnowledgeSearcher
from app.retrieval.sparse import SparseEncoder, term_id
from app.retrieval.text import parse_number, tokenize
from app.retrieval.types import SearchFilters
from evals.retrieval.metrics import document_ranking, mrr_at_k, ndcg_at_k, recall_at_k
from ingest.knowledge.chunk import Chunker
from ingest.knowledge.documents import Block, SourceDoc
from ingest.knowledge.parse_financing import parse_credit_lines
from ingest.knowledge.parse_markdown import parse_markdown
from ingest.knowledge.parse_pdf import PdfError, parse_pdf
from ingest.knowledge.specs import extract_specs

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"


@pytest.mark.parametrize(("raw", "value"), [("10", 10), ("10,5", 10.5), ("10.000", 10000), ("1.234,5", 1234.5), ("2.25", 2.25)])
def test_parse_number_reads_brazilian_and_english_numbers(raw, value):
    assert parse_number(raw) == value


def test_quantities_match_across_spacing_and_unit_prefix():
    assert {"10kw", "10000w"} <= set(tokenize("Inversor 10 kW")) & set(tokenize("potência de 10.000 W"))
    assert "10kw" in tokenize("10kW") and "120meses" in tokenize("financiamento em 10 anos")


def test_accents_plurals_and_pt_en_synonyms_fold_to_one_term():
    assert tokenize("Inversores trifásicos") == tokenize("inversor trifasico")
    assert "trifasico" in tokenize("three-phase inverter") and "inversor" in tokenize("three-phase inverter")
    assert tokenize("painéis") == tokenize("placas") == ["modulo"]


def test_model_numbers_keep_the_whole_code_and_its_parts():
    toks = tokenize("GW10K-MS-G40")
    assert {"gw10k-ms-g40", "gw10k", "ms", "g40"} <= set(toks)


def test_sparse_vectors_are_sorted_and_saturate_repeats():
    enc = SparseEncoder()
    doc = enc.encode_document("inversor inversor inversor inversor trifásico")
    assert doc.indices == sorted(doc.indices) and len(set(doc.indices)) == len(doc.indices)
    weights = dict(zip(doc.indices, doc.values, strict=True))
    assert weights[term_id("inversor")] < 4 * weights[term_id("trifasico")]
    q = enc.encode_query("inversor trifásico trifásico")
    assert q.values == [1.0, 1.0]


def test_markdown_keeps_heading_path_and_whole_tables():
    _, h1, blocks = parse_markdown((FIXTURES / "datasheets" / "alfa-as-5k-t2.md").read_text())
    assert h1 == "Alfa Solar AS-5K-T2 — Folha de dados"
    tables = [b for b in blocks if b.kind == "table"]
    assert [t.section for t in tables] == ["Entrada CC / MPPT", "Saída CA"]
    assert tables[0].text.count("\n") == 5  # header, separator and 4 rows in one block


def test_credit_line_amounts_read_as_reais_and_rates_as_written():
    text = """credit_lines:
  - id: x-solar
    lender: Banco X
    line_name: Solar
    rate_monthly_pct: 1.49
    term_months: {min: 12, max: 96}
    amount_brl: {min: 5000, max: 100000}
"""
    doc = parse_credit_lines(text, "financing/x.yaml")[0]
    summary, table = (b.text for b in doc.blocks)
    assert summary == "Banco X — Solar: taxa 1,49 % a.m., prazo até 96 meses, valor até R$ 100.000,00."
    assert "| Valor financiável (R$) | mínimo: R$ 5.000,00; máximo: R$ 100.000,00 |" in table
    assert "| Prazo (meses, term) | mínimo: 12; máximo: 96 |" in table  # months are not money


def test_pdf_blocks_carry_page_and_section():
    meta, blocks, pages = parse_pdf((FIXTURES / "datasheets" / "beta-bm-550.pdf").read_bytes())
    assert pages == 2 and meta["manufacturer"] == "Beta Energia" and meta["upstream_ids"] == ["fx_panels_BETA-550"]
    where = {(b.page, b.section) for b in blocks}
    assert (1, "Características elétricas (STC)") in where and (2, "Garantia") in where
    table = next(b for b in blocks if b.section == "Características elétricas (STC)")
    assert "| Tensão de circuito aberto (Voc) | 49,9 V |" in table.text


def test_corrupt_pdf_raises_a_typed_error():
    with pytest.raises(PdfError, match="PDF"):
        parse_pdf(b"%PDF-1.4 not really")


def test_spec_extraction_reads_units_and_skips_missing_values():
    blocks = [Block("| Parâmetro | Valor |\n|---|---|\n| Potência nominal CA | 10 kW |\n| Faixa de tensão MPPT | 140–1000 V |\n"
                    "| Tensão CC máxima (Vdcmax) | não informado pela fonte |\n| Fases | trifásico |", kind="table", page=1)]
    specs = {s.field: s.value for s in extract_specs(blocks, "inverter")}
    assert specs == {"ac_power_w": 10000, "mppt_min_v": 140, "mppt_max_v": 1000, "phase": "three_phase"}
    assert extract_specs(blocks, "structure") == []


def _doc(blocks: list[Block]) -> SourceDoc:
    return SourceDoc("x.md", "datasheet", "Produto X — Folha de dados", blocks, "h")


def test_chunks_respect_size_sections_and_pages():
    chunker = Chunker(64, 8)
    long_text = " ".join(f"Frase número {i} sobre o inversor e sua instalação." for i in range(40))
    blocks = [Block(long_text, section="A", page=1), Block("Curto.", section="A", page=2), Block("Outro.", section="B", page=2)]
    chunks = chunker.chunk(_doc(blocks))
    assert all(c.tokens <= 64 for c in chunks)
    assert [(c.section, c.page) for c in chunks][-2:] == [("A", 2), ("B", 2)]
    assert all(c.text.startswith("Produto X — Folha de dados — ") for c in chunks)
    assert len({(c.section, c.page) for c in chunks}) == 3


def test_a_table_that_fits_stays_whole_and_a_big_one_repeats_its_header():
    chunker = Chunker(80, 8)
    small = "| Parâmetro | Valor |\n|---|---|\n| Voc | 49 V |\n| Isc | 14 A |"
    rows = "\n".join(f"| Parâmetro número {i} | {i} V |" for i in range(30))
    big = "| Parâmetro | Valor |\n|---|---|\n" + rows
    chunks = chunker.chunk(_doc([Block(small, "table", "S"), Block(big, "table", "T")]))
    assert chunks[0].body == small
    big_parts = [c for c in chunks if c.section == "T"]
    assert len(big_parts) > 1 and all(c.body.startswith("| Parâmetro | Valor |\n|---|---|") for c in big_parts)
    assert all(c.tokens <= 80 for c in chunks)


def test_metrics_on_a_document_ranking():
    ranking = document_ranking([("a", ["k:a"]), ("a", ["k:a"]), ("b", ["k:b1", "k:b2"]), ("c", ["k:c"])])
    assert ranking == [{"k:a"}, {"k:b1", "k:b2"}, {"k:c"}]
    rel = {"k:b2": 2, "k:c": 1}
    assert recall_at_k(ranking, rel, 1) == 0 and recall_at_k(ranking, rel, 2) == 0.5 and recall_at_k(ranking, rel, 3) == 1
    assert mrr_at_k(ranking, rel, 10) == 0.5
    assert 0 < ndcg_at_k(ranking, rel, 10) < 1
    assert ndcg_at_k([{"k:b2"}, {"k:c"}], rel, 10) == pytest.approx(1.0)


class _NoStore:
    def query(self, **kw):  # pragma: no cover - validation fails before
        raise AssertionError("store must not be called")


class _NoEmbed:
    name, dim = "none", 3

    def embed_query(self, text):  # pragma: no cover
        raise AssertionError("embedder must not be called")


@pytest.mark.parametrize("query", ["", "   ", "x" * 1001])
def test_empty_or_oversized_queries_are_invalid_input(query):
    searcher = KnowledgeSearcher(_NoStore(), _NoEmbed(), max_query_chars=1000)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        searcher.search(query)


def test_bad_k_mode_and_filters_are_rejected():
    searcher = KnowledgeSearcher(_NoStore(), _NoEmbed())  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="k=0"):
        searcher.search("inversor", k=0)
    with pytest.raises(InvalidInput, match="Modo"):
        searcher.search("inversor", mode="bm25")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_power_w > max_power_w"):
        SearchFilters(min_power_w=10, max_power_w=5)
