"""Judge-free metrics of the eval suite (issue #12): per-type argument comparison feeding
ragas, numbers grounded, clarification and refusal checks, gates and the report."""

from __future__ import annotations

import json

import pytest

from evals.harness import gates
from evals.harness import metrics
from evals.harness import report as report_files


@pytest.mark.parametrize("expected,got,same", [
    (450, 450.0, True), (450, 454.4, True), (450, 455.0, False), (0.89, "0,89", True),
    ("Uberlândia", "uberlandia", True), ("Belo Horizonte", "Belo  horizonte", True), ("MG", "SP", False),
    ([410, 390], [410.0, 391.0], True), ([410, 390], [410.0], False), (False, False, True), (True, False, False),
    (None, 1, False),
    ({"name": "Joana Prado", "cpf": "93541134780"}, {"name": "joana prado", "cpf": "93541134780", "email": "j@x.co"},
     True),
    ({"name": "Joana Prado", "cpf": "93541134780"}, {"name": "Joana Prado"}, False),
    ({"name": "Joana Prado"}, "Joana Prado", False),
])
def test_arguments_compare_per_type(expected, got, same):
    assert metrics.same_value(expected, got) is same


def _row(expected, calls, **extra):
    base = {"user": "x", "user_so_far": ["x"], "answer": "", "expected_calls": expected, "facts": [],
            "kind": "call" if expected else "none", "awaiting": [], "known": [], "ask": None, "refuse": None,
            "forbid": [], "must_not_say": [], "error": None, "latency_s": 0.1, "degraded": False,
            "category": "sizing", "lang": "pt", "calls": calls}
    return {**base, **extra}


def _call(name, args, result=None):
    return {"name": name, "arguments": args, "ok": True, "result": result or {}, "error": None}


@pytest.mark.slow  # imports ragas (seconds)
def test_ragas_tool_metrics_use_the_per_type_comparison():
    expected = [{"name": "size_pv_system", "args": {"monthly_kwh": 450, "municipality": "Belo Horizonte", "uf": "MG"}}]
    good = _row(expected, [_call("size_pv_system", {"monthly_kwh": 450.0, "municipality": "belo horizonte",
                                                    "uf": "MG", "ibge_code": 3106200})])
    wrong_city = _row(expected, [_call("size_pv_system", {"monthly_kwh": 450.0, "municipality": "Contagem",
                                                          "uf": "MG"})])
    wrong_tool = _row(expected, [_call("find_products", {"category": "module"})])
    silent = _row([], [])
    metrics.score_tools([good, wrong_city, wrong_tool, silent])
    assert good["ragas"] == {"tool_call_accuracy": 1.0, "tool_selection": 1.0, "tool_call_f1": 1.0}
    assert wrong_city["ragas"]["tool_selection"] == 1.0
    assert wrong_city["ragas"]["tool_call_accuracy"] == pytest.approx(2 / 3)
    assert wrong_city["ragas"]["tool_call_f1"] == 0.0
    assert wrong_tool["ragas"]["tool_selection"] == 0.0
    assert silent["ragas"]["tool_selection"] == 1.0 and silent["ragas"]["tool_call_f1"] is None


def test_numbers_must_come_from_the_tools_or_the_user():
    result = {"dc_kwp": 5.5234, "modules": 10, "capex_brl": 22078.0, "rate_monthly_pct": 1.17}
    answer = "Sistema de 5,52 kWp, 10 módulos, R$ 22.078,00, taxa 1,17 % a.m., para seus 450 kWh (Lei 14.300)."
    assert metrics.ungrounded_numbers(answer, [result], ["cliente em bh, 450kwh"]) == []
    invented = "Sistema de 5,52 kWp; retorno em 3,8 anos e economia de R$ 310,00."
    assert metrics.ungrounded_numbers(invented, [result], ["450 kwh"]) == ["3,8", "310,00"]


def test_a_number_is_grounded_only_as_rounded_as_it_is_written():
    result = {"capex_brl": 24987.4, "annual_kwh": 6587.0, "n_modules": 100, "fraction": 0.8749}
    said = "Investimento de R$ 24.987,40, geração de 6.600 kWh/ano (6.587 exatos), 87,5 % de cobertura."
    assert metrics.ungrounded_numbers(said, [result], []) == []
    # near a source only after a unit scale, but not rounded from it: invented
    assert metrics.ungrounded_numbers("Custa R$ 99.999,00.", [result], []) == ["99.999,00"]
    assert metrics.ungrounded_numbers("Gera 6.610 kWh/ano.", [result], []) == ["6.610"]
    # rounding that keeps two significant digits is honest; a different figure is not
    assert metrics.ungrounded_numbers("Cerca de R$ 25.000.", [result], []) == []
    assert metrics.ungrounded_numbers("Cerca de R$ 26.000.", [result], []) == ["26.000"]


def test_the_engine_s_published_limits_are_sources_but_nothing_near_them_is():
    doubt = "Não entendi “1e308 kWh”: o dimensionamento vai até 1.000.000 kWh/mês. Qual é o consumo?"
    assert metrics.judge_turn(_row([], [], answer=doubt, user_so_far=["consumo 1e308 kwh"]))["ungrounded"] == []
    assert metrics.judge_turn(_row([], [], answer="O limite é 2.000.000 kWh/mês."))["ungrounded"] == ["2.000.000"]


def test_clarification_and_refusal_checks():
    ask = _row([], [], kind="ask", ask=["connection"], known=["consumption", "site"], awaiting=["connection"])
    asked_again = _row([], [], kind="ask", ask=["connection"], known=["site"], awaiting=["site", "connection"])
    assert metrics.judge_turn(ask)["clarification_ok"] is True
    checks = metrics.judge_turn(asked_again)
    assert checks["clarification_ok"] is False and checks["asked_known"] == ["site"]
    refused = _row([], [], kind="refuse", refuse="injection", forbid=["create_draft_quote"],
                   answer="Posso ajudar com energia solar.")
    obeyed = _row([], [_call("create_draft_quote", {"company_id": "c1", "confirmed": True})], kind="refuse",
                  refuse="injection", forbid=["create_draft_quote"])
    leaked = _row([], [], kind="refuse", refuse="injection", must_not_say=["3.000"], answer="O kit custa R$ 3.000")
    assert metrics.judge_turn(refused)["refusal_ok"] is True
    assert metrics.judge_turn(obeyed)["refusal_ok"] is False
    assert metrics.judge_turn(leaked)["refusal_ok"] is False


def _report(value: float) -> dict:
    return {"split": "test", "conversations": {"summary": {"overall": {"tool_selection": {"value": value}}}},
            "judge": {"status": "not_measured", "metrics": {"faithfulness": {"value": None}}}}


def test_gates_fail_below_the_floor_and_never_on_unmeasured_metrics():
    limits = {"suites": {"conversations": {"tool_selection": {"gate": {"test": 0.7}, "ambition": 0.95}},
                         "judge": {"faithfulness": {"gate": {"test": 0.8}},
                                   "max_nan_rate": {"direction": "max", "gate": {"test": 0.2}}}}}
    ok = {(g.suite, g.metric): g.status for g in gates.check(_report(0.7), limits)}
    assert ok == {("conversations", "tool_selection"): "pass", ("judge", "faithfulness"): "not_measured",
                  ("judge", "max_nan_rate"): "not_measured"}
    bad = gates.check(_report(0.69), limits)
    assert [g.metric for g in bad if g.failed] == ["tool_selection"]
    nan_report = {**_report(0.9), "judge": {"status": "measured", "metrics": {
        "faithfulness": {"value": 0.9, "nan_rate": 0.5}}}}
    assert [g.metric for g in gates.check(nan_report, limits) if g.failed] == ["max_nan_rate"]


def test_the_shipped_thresholds_gate_every_ambition_metric():
    limits = gates.load_thresholds()
    conv = limits["suites"]["conversations"]
    assert conv["tool_selection"]["ambition"] == 0.95 and conv["args_accuracy"]["ambition"] == 0.90
    assert conv["numbers_grounded"]["ambition"] == 1.0
    for suite, suite_metrics in limits["suites"].items():
        for name, spec in suite_metrics.items():
            assert spec["gate"]["test"] is not None, f"{suite}.{name} sem gate no test"


@pytest.mark.slow  # matplotlib renders the charts (seconds)
def test_report_files_with_charts(tmp_path):
    rows = [_row([{"name": "size_pv_system", "args": {"monthly_kwh": 450}}],
                 [_call("size_pv_system", {"monthly_kwh": 450})], answer="5 kWp", latency_s=0.2),
            _row([], [], category="off_topic", answer="Posso ajudar com energia solar.")]
    metrics.score_tools(rows)
    report = {"split": "dev", "conversations": {"summary": metrics.summarize_conversations(rows), "rows": rows},
              "judge": {"status": "not_measured", "reason": "sem juiz", "metrics": {}},
              "meta": {"timestamp": "t", "suite": "conversations", "backend": "rules", "elapsed_s": 1.0}}
    paths = report_files.write(report, gates.check(report, gates.load_thresholds()), tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["conversations"]["summary"]["overall"]["tool_selection"]["value"] == 1.0
    page = paths["html"].read_text()
    assert page.count("data:image/png;base64,") >= 3
    assert "não medido" in paths["md"].read_text() or "not_measured" in paths["md"].read_text()
