"""Tool adapters: schemas from signatures, the real SizingRequest shape, error mapping."""

from __future__ import annotations

import pytest

from app.agent.ports import normalize_hit, sizing_request_payload
from app.agent.tools import ToolDeps, ToolRunner, make_tools
from test_agent_support import FakeCatalog, FakeSearcher, FakeSizing


@pytest.fixture
def runner():
    return ToolRunner(make_tools(ToolDeps(sizing=FakeSizing(), catalog=FakeCatalog(), searcher=FakeSearcher([]))))


def test_tool_schemas_come_from_signatures_and_docstrings(runner):
    specs = {s["function"]["name"]: s["function"] for s in runner.specs}
    assert set(specs) == {"size_pv_system", "find_products", "get_product", "search_knowledge", "simulate_financing",
                          "create_draft_quote"}
    size = specs["size_pv_system"]
    assert "Size an on-grid PV system" in size["description"]
    assert {"monthly_kwh", "bill_brl", "municipality", "uf", "connection"} <= set(size["parameters"]["properties"])
    assert specs["get_product"]["parameters"]["required"] == ["product_id"]


def test_schemas_inferred_once_per_process_are_what_langchain_infers_and_each_assistant_keeps_its_own_services():
    from langchain_core.tools import tool
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from app.agent.tools import tool_functions

    first, second = FakeSizing(), FakeSizing()
    fresh = [convert_to_openai_tool(tool(fn)) for fn in tool_functions(ToolDeps(sizing=first, catalog=None,
                                                                                searcher=None))]
    a = ToolRunner(make_tools(ToolDeps(sizing=first, catalog=None, searcher=None)))
    b = ToolRunner(make_tools(ToolDeps(sizing=second, catalog=None, searcher=None)))
    assert a.specs == fresh and b.specs == fresh
    assert a.injected["create_draft_quote"] == {"role", "sizing_id", "idempotency_key", "created_by"}
    a.specs[0]["function"]["description"] = "mudado"  # one runner's specs are its own
    assert b.specs == fresh
    args = {"monthly_kwh": 650.0, "municipality": "Uberlândia", "uf": "MG", "connection": "three_phase"}
    assert b.run("size_pv_system", args).ok
    assert len(second.calls) == 1 and not first.calls  # the tool runs on its own assistant's services


@pytest.mark.parametrize(
    "args",
    [
        {"monthly_kwh": 650.0, "municipality": "Uberlândia", "uf": "MG", "connection": "three_phase"},
        {"monthly_kwh_list": [400.0] * 12, "ibge_code": 3170206, "connection": "single_phase"},
        {"bill_brl": 450.0, "tariff_brl_per_kwh": 0.95, "lat": -19.9, "lon": -43.9, "connection": "two_phase"},
    ],
)
def test_arguments_build_a_valid_engine_request(args):
    from app.sizing import models
    request = models.SizingRequest.model_validate(sizing_request_payload(args))
    assert request.connection.value == args["connection"]


def test_validation_error_is_a_short_message_for_the_model(runner):
    outcome = runner.run("find_products", {"category": "geladeira"})
    assert not outcome.ok and outcome.error_code == "argumento_invalido" and "category" in outcome.error


def test_domain_error_is_returned_with_its_hint(runner):
    outcome = runner.run("get_product", {"product_id": "nao-existe"})
    assert not outcome.ok and outcome.error_code == "nao_encontrado" and "find_products" in outcome.error


def test_unknown_tool_and_unexpected_crash_do_not_raise(runner):
    assert runner.run("draft_quote", {}).error_code == "ferramenta_desconhecida"

    class Boom:
        def size(self, args):
            raise RuntimeError("bug")

    broken = ToolRunner(make_tools(ToolDeps(sizing=Boom(), catalog=None, searcher=None)))
    outcome = broken.run("size_pv_system", {"monthly_kwh": 1.0})
    assert not outcome.ok and outcome.error_code == "erro_interno"


def test_searcher_hits_become_citations():
    from app.retrieval import search as retrieval
    hit = retrieval.Hit(text="Fio B…", score=0.5, citation=retrieval.Citation(
        title="Lei 14.300", source="regulation/lei.md", doc_type="regulation", page=2, section="Art. 27"))
    out = normalize_hit(hit)
    assert out.citation["title"] == "Lei 14.300" and out.citation["section"] == "Art. 27"
    assert normalize_hit({"text": "x", "score": 1, "citation": "Manual"}).citation["title"] == "Manual"


def test_search_knowledge_returns_typed_passages_and_the_same_json():
    """The handlers read attributes; the model, cards, eval records and MCP get the JSON they always had."""
    from app.retrieval import search as retrieval
    from app.retrieval.types import KnowledgeHits

    hit = retrieval.Hit(text="Fio B…", score=0.5, metadata={"lender": "bv"}, citation=retrieval.Citation(
        title="Lei 14.300", source="regulation/lei.md", doc_type="regulation", page=2, section="Art. 27"))
    runner = ToolRunner(make_tools(ToolDeps(sizing=FakeSizing(), catalog=None, searcher=FakeSearcher([hit]))))
    outcome = runner.run("search_knowledge", {"query": "fio b"})
    assert isinstance(outcome.result, KnowledgeHits) and outcome.result.hits[0].text == "Fio B…"
    assert outcome.data == {"hits": [{"text": "Fio B…", "score": 0.5, "citation": {
        "title": "Lei 14.300", "source": "regulation/lei.md", "doc_type": "regulation", "page": 2,
        "section": "Art. 27", "product_ids": []}}]}
    assert list(outcome.data["hits"][0]) == ["text", "score", "citation"]

@pytest.mark.slow
def test_real_engine_and_catalog_through_the_assistant(tmp_path, real_catalog):
    """The adapter against the real engine on the real catalog (the session's ingest, copied)."""
    from test_agent_support import ScriptedLLM, make_assistant, run_turn

    from app.agent.ports import EngineSizing
    from app.catalog.store import SQLiteCatalogStore

    catalog = SQLiteCatalogStore(real_catalog.copy(tmp_path / "catalog"))
    a = make_assistant(llm=ScriptedLLM(down=True), sizing=EngineSizing(catalog), catalog=catalog)
    reply = run_turn(a, "real-1", "Cliente em Belo Horizonte/MG, 650 kWh por mês, trifásico")
    results = [t for t in reply["tools"] if t["event"] == "tool_result"]
    assert results[0]["ok"], results[0]
    sizing = next(c for c in reply["cards"] if c["type"] == "sizing")
    best = sizing["data"]["result"]["best"]
    assert sizing["data"]["facts"]["system_kwp"] == f"{best['dc_kwp']:.2f}".replace(".", ",") + " kWp"
    assert sizing["data"]["facts"]["system_kwp"] in reply["message"]
    products = next(c for c in reply["cards"] if c["type"] == "products")["data"]["items"]
    assert {p["id"] for p in products} == {line["product_id"] for line in best["lines"]}
    assert all(p["price_brl"] is not None for p in products), "the card shows what would be quoted, priced"
    if best["string_check"] == "not_verifiable":
        assert "não verificável" in reply["message"], "an unchecked kit must say so in the answer"


def test_a_search_hit_keeps_what_its_document_is_for_the_answer_step():
    hit = {"text": "Garantia de 12 anos.", "score": 0.8, "citation": {"title": "Ficha Astronergy 600 W"},
           "metadata": {"manufacturer": "Astronergy", "power_w": 600}}
    passage = normalize_hit(hit)
    assert passage.metadata == {"manufacturer": "Astronergy", "power_w": 600}
    assert "metadata" not in passage.model_dump(mode="json")  # not part of the tool's JSON
