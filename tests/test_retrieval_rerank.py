"""Query side of knowledge search: shorthand expansion, product-name matching and the re-rank of
the fused pool (hermetic: a store that returns fixed candidates, no model)."""

from __future__ import annotations

from app.retrieval.search import KnowledgeSearcher
from app.retrieval.sparse import term_id
from app.retrieval.text import expand_query, name_match, name_terms, tokenize
from app.retrieval.types import StoredHit

NOTES = ("Para o dimensionamento de strings são necessários a tensão CC máxima, a faixa de tensão MPPT e a "
         "corrente máxima por entrada.")


def _hit(score: float, source: str, text: str, *, model: str | None = None, maker: str | None = None,
         doc_type: str = "datasheet", product: str | None = None, power_w: float | None = None) -> StoredHit:
    payload = {"body": text, "title": source, "source": source, "doc_type": doc_type, "doc_keys": [source],
               "product_ids": [product] if product else [], "manufacturer": maker, "model": model, "power_w": power_w}
    return StoredHit(id=f"{source}:{score}", score=score, payload=payload)


class _Store:
    def __init__(self, hits: list[StoredHit]) -> None:
        self.hits, self.calls = hits, []

    def query(self, *, dense, sparse, limit, filters, mode):
        self.calls.append({"sparse": sparse, "limit": limit, "mode": mode})
        return self.hits[:limit]


class _Embed:
    name, dim = "fake", 3

    def embed_query(self, text):
        return [0.0, 0.0, 1.0]


def _searcher(hits: list[StoredHit]) -> tuple[KnowledgeSearcher, _Store]:
    store = _Store(hits)
    return KnowledgeSearcher(store, _Embed()), store  # type: ignore[arg-type]


def test_chat_shorthand_adds_the_sheets_words_and_keeps_the_typed_ones():
    terms = set(tokenize(expand_query("chint nxi 5k é mono ou tri")))
    assert {"monofasico", "trifasico", "mono", "tri", "nxi-5"} <= terms
    assert "peso" in tokenize(expand_query("quanto pesa o sofar?"))
    assert "fase" in tokenize(expand_query("SAJ R5-15K-T2 phases and voltage"))
    assert expand_query("fio b 2027") == "fio b 2027"


def test_a_model_code_matches_by_prefix_and_a_zero_decimal_is_dropped():
    names = ["Livoltek GT1-10KT2 livoltek-gt1-10kt2", "SAJ R5-10K-T2 saj-r5-10k-t2"]
    wanted = name_terms("tensao maxima de entrada do livoltek 10k", names)
    assert set(wanted) == {"livoltek", "10k"}
    assert name_match(wanted, names[0]) == 1.0 and name_match(wanted, names[1]) == 0.5
    assert name_match(name_terms("chint nxi 5k", ["Chint NXI-5.0K-T2"]), "Chint NXI-5.0K-T2") == 1.0
    assert name_terms("qual o prazo do bv", names) == []  # no product named


def test_the_named_product_outranks_a_better_worded_chunk_of_another_model():
    searcher, store = _searcher([
        _hit(5.0, "datasheets/saj-r5-10k-t2.md", "SAJ: tensão máxima de entrada por MPPT…", model="R5-10K-T2",
             maker="SAJ", product="saj10"),
        _hit(1.25, "datasheets/livoltek-gt1-10kt2.pdf", "| Tensão máxima (texto do catálogo) | 600 V |",
             model="GT1-10KT2", maker="Livoltek", product="liv10"),
    ])
    hits = searcher.search("tensao maxima de entrada do livoltek 10k", k=1)
    assert hits[0].citation.source == "datasheets/livoltek-gt1-10kt2.pdf"
    assert store.calls[0]["limit"] >= 20  # a deeper pool than the k asked, cut after the re-rank


def test_template_prose_shared_by_several_products_gives_way_to_the_rule_itself():
    searcher, _ = _searcher([
        _hit(5.0, "datasheets/a.md", NOTES, model="A-1", maker="Acme", product="a"),
        _hit(2.5, "regulation/dimensionamento-de-strings.md", "Isc × 1,25 × strings em paralelo ≤ corrente máxima"),
        _hit(2.0, "datasheets/b.md", NOTES, model="B-2", maker="Bcme", product="b"),
    ])
    hits = searcher.search("como confiro a corrente da string", k=3)
    assert hits[0].citation.source == "regulation/dimensionamento-de-strings.md"


def test_the_catalog_entry_gives_way_to_the_datasheet_of_the_same_product():
    searcher, _ = _searcher([
        _hit(5.0, "catalog:x", "ENPHASE IQ8P. Potência 475 W.", doc_type="catalog", model="IQ8P-72-2-BR",
             maker="Enphase", product="iq8p"),
        _hit(4.0, "datasheets/enphase-iq8p-72-2-br.pdf", "| Potência nominal CA | 475 W |", model="IQ8P-72-2-BR",
             maker="Enphase", product="iq8p"),
    ])
    assert [h.citation.source for h in searcher.search("enphase iq8p potencia", k=2)] == [
        "datasheets/enphase-iq8p-72-2-br.pdf", "catalog:x"]


def test_rules_and_credit_lines_keep_the_fused_order_when_no_product_is_named():
    searcher, store = _searcher([
        _hit(5.0, "regulation/fio-b-transicao.md", "2027: 75 %"),
        _hit(2.5, "regulation/lei-14300-2022.md", "2027 | 75 %"),
    ])
    assert [h.citation.source for h in searcher.search("fio b 2027", k=2)] == [
        "regulation/fio-b-transicao.md", "regulation/lei-14300-2022.md"]
    assert term_id("monofasico") not in store.calls[0]["sparse"].indices


def test_sparse_and_dense_modes_are_not_re_ranked():
    searcher, store = _searcher([_hit(1.0, "datasheets/a.md", NOTES), _hit(0.5, "datasheets/b.md", NOTES)])
    assert len(searcher.search("tensao", k=1, mode="sparse")) == 1
    assert store.calls[0]["limit"] == 1
