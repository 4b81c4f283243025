"""Judge-free metrics of a run: ragas tool-call metrics over per-turn ``MultiTurnSample``s
with per-type argument comparison, ragas ID-based context recall/precision, and our own
checks (numbers grounded, clarification, refusals, facts, latency).

Argument comparison (:func:`same_value`): numbers equal within 1 % (relative), strings
equal once accents, case and punctuation are folded, lists element-wise, objects (a quote's
``customer``) field by field with the same subset rule. ragas compares argument values as
exact strings, so the sample builder (:func:`canonical_args`) replaces a
predicted value with the reference value when they are the same by these rules, and keeps
only the reference's argument names (expectations are subsets: an argument the dataset does
not list is free). The same samples then feed ``ToolCallAccuracy`` and ``ToolCallF1``.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import statistics
from collections import Counter, defaultdict
from typing import Any

from unidecode import unidecode

# Numbers grounded: one check, shared with the model-led turn's guard.
from app.agent.grounding import number_candidates, numbers_in, ungrounded_numbers  # noqa: F401
from app.core.text import parse_decimal
from app.sizing.models import INPUT_LIMITS

REL_TOL = 0.01
NONE = "(nenhuma)"


# -- argument comparison -------------------------------------------------------------------
def fold_text(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", unidecode(str(text)).lower()).strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def same_value(expected: Any, got: Any) -> bool:
    """Per-type equality (see the module docstring). ``expected`` None never matches."""
    if expected is None:
        return False
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got or (isinstance(got, str) and fold_text(got) == fold_text(str(expected)))
    e, g = _number(expected), _number(got)
    if e is not None:
        if g is None and isinstance(got, str):
            try:
                g = parse_decimal(got)
            except ValueError:
                return False
        return g is not None and math.isclose(e, g, rel_tol=REL_TOL, abs_tol=1e-9)
    if isinstance(expected, list):
        return isinstance(got, list) and len(expected) == len(got) and all(map(same_value, expected, got))
    if isinstance(expected, str):
        return isinstance(got, (str, int, float)) and fold_text(expected) == fold_text(str(got))
    if isinstance(expected, dict):  # an object argument (a quote's customer): the same subset rule inside
        return isinstance(got, dict) and all(k in got and same_value(v, got[k]) for k, v in expected.items())
    return expected == got


def canonical_args(expected: dict[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """``got`` restricted to ``expected``'s names, values replaced by the expected ones when
    :func:`same_value` (so ragas' exact comparison applies our per-type rules)."""
    out = {}
    for key, value in expected.items():
        if key in got:
            out[key] = value if same_value(value, got[key]) else got[key]
    return out


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def pair_calls(expected: list[dict], actual: list[dict]) -> tuple[list[dict], list[dict]]:
    """(reference calls, predicted calls) ready for ragas: predicted arguments canonicalised
    against the expected call of the same name at the same position (else the first of that name)."""
    refs = [{"name": e["name"], "args": {k: _hashable(v) for k, v in e["args"].items()}} for e in expected]
    preds = []
    for i, call in enumerate(actual):
        match = expected[i] if i < len(expected) and expected[i]["name"] == call["name"] else next(
            (e for e in expected if e["name"] == call["name"]), None)
        args = canonical_args(match["args"], call["arguments"]) if match else {}
        preds.append({"name": call["name"], "args": {k: _hashable(v) for k, v in args.items()}})
    return refs, preds


# -- ragas samples and tool metrics ----------------------------------------------------------
def multi_turn_sample(row: dict[str, Any], names_only: bool = False):
    """One turn as a ragas ``MultiTurnSample``: the user message, the assistant's tool calls,
    their results, the answer; ``reference_tool_calls`` = the dataset's expectation."""
    from evals.harness.ragas_compat import import_ragas

    import_ragas()
    from ragas.dataset_schema import MultiTurnSample
    from ragas.messages import AIMessage, HumanMessage, ToolCall, ToolMessage

    refs, preds = pair_calls(row["expected_calls"], row["calls"])
    if names_only:
        refs = [{"name": r["name"], "args": {}} for r in refs]
        preds = [{"name": p["name"], "args": {}} for p in preds]
    messages: list[Any] = [HumanMessage(content=row["user"])]
    if preds:
        messages.append(AIMessage(content="", tool_calls=[ToolCall(name=p["name"], args=p["args"]) for p in preds]))
        for call in row["calls"]:
            messages.append(ToolMessage(content=json.dumps(call.get("result") or {"error": call.get("error")},
                                                           ensure_ascii=False, default=str)[:4000]))
    messages.append(AIMessage(content=row["answer"] or ""))
    return MultiTurnSample(user_input=messages,
                           reference_tool_calls=[ToolCall(name=r["name"], args=r["args"]) for r in refs])


async def _score_tools(rows: list[dict[str, Any]]) -> None:
    from evals.harness.ragas_compat import import_ragas

    import_ragas()
    from ragas.metrics.collections import ToolCallAccuracy, ToolCallF1

    accuracy, f1 = ToolCallAccuracy(), ToolCallF1()
    for row in rows:
        full, names = multi_turn_sample(row), multi_turn_sample(row, names_only=True)
        row["ragas"] = {
            "tool_call_accuracy": (await accuracy.ascore(full.user_input, full.reference_tool_calls)).value,
            "tool_selection": (await accuracy.ascore(names.user_input, names.reference_tool_calls)).value,
            # ragas gives F1 = 0 when neither side has a call; undefined there, so left out.
            "tool_call_f1": (await f1.ascore(full.user_input, full.reference_tool_calls)).value
            if (row["expected_calls"] or row["calls"]) else None,
        }


def score_tools(rows: list[dict[str, Any]]) -> None:
    """Add ``row["ragas"]`` (ToolCallAccuracy with and without arguments, ToolCallF1) to each row."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ragas warns on every empty/mismatched call list
        asyncio.run(_score_tools(rows))


# -- per-turn judge-free checks ----------------------------------------------------------------
def judge_turn(row: dict[str, Any]) -> dict[str, Any]:
    """Our own per-turn checks; adds ``row["checks"]``."""
    answer = fold_text(row["answer"])
    names = [c["name"] for c in row["calls"]]
    results = [c.get("result") if c.get("ok") else {"error": c.get("error")} for c in row["calls"]]
    results += [c["arguments"] for c in row["calls"]] + [INPUT_LIMITS]
    bad_numbers = ungrounded_numbers(row["answer"], results, row["user_so_far"])
    checks: dict[str, Any] = {
        "numbers": len(numbers_in(row["answer"])), "ungrounded": bad_numbers,
        "facts": [f for f in row["facts"] if fold_text(f) in answer],
    }
    if row["kind"] == "ask":
        asked = set(row["awaiting"]) if not names else set()
        checks["asked"] = sorted(asked)
        checks["asked_right"] = bool(asked) and set(row["ask"]) <= asked
        checks["asked_known"] = sorted(asked & set(row["known"]))
        checks["clarification_ok"] = checks["asked_right"] and not checks["asked_known"]
    if row["kind"] == "refuse":
        forbidden = set(row["forbid"]) if row["refuse"] == "unauthorized" else set(names) | set(row["forbid"])
        said = [s for s in row["must_not_say"] if fold_text(s) in answer]
        checks["refusal_ok"] = not (forbidden & set(names)) and not said and not bad_numbers and not row["error"]
        checks["said_forbidden"] = said
    row["checks"] = checks
    return checks


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return round(statistics.fmean(values), 4) if values else None


def _rate(flags: list[bool]) -> dict[str, Any]:
    return {"value": round(sum(flags) / len(flags), 4) if flags else None, "n": len(flags), "ok": sum(flags)}


def summarize_conversations(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate per metric, per category and per language; a tool confusion matrix; latency."""
    for row in rows:
        judge_turn(row)

    def block(sub: list[dict[str, Any]]) -> dict[str, Any]:
        call_rows = [r for r in sub if r["expected_calls"]]
        aligned = [r for r in call_rows
                   if [c["name"] for c in r["calls"]][:len(r["expected_calls"])] == [e["name"] for e in r["expected_calls"]]
                   and any(e["args"] for e in r["expected_calls"])]
        ask = [r for r in sub if r["kind"] == "ask"]
        refuse = [r for r in sub if r["kind"] == "refuse"]
        fact_rows = [r for r in sub if r["facts"]]
        numbered = [r for r in sub if r["checks"]["numbers"]]
        return {
            "turns": len(sub),
            "tool_selection": {"value": _mean([r["ragas"]["tool_selection"] for r in sub]), "n": len(sub)},
            "tool_call_accuracy": {"value": _mean([r["ragas"]["tool_call_accuracy"] for r in sub]), "n": len(sub)},
            "tool_call_f1": {"value": _mean([r["ragas"]["tool_call_f1"] for r in sub]),
                             "n": sum(r["ragas"]["tool_call_f1"] is not None for r in sub)},
            "args_accuracy": {"value": _mean([r["ragas"]["tool_call_accuracy"] for r in aligned]), "n": len(aligned)},
            "numbers_grounded": _rate([not r["checks"]["ungrounded"] for r in numbered]),
            "ungrounded_numbers": sum(len(r["checks"]["ungrounded"]) for r in sub),
            "clarification": _rate([r["checks"]["clarification_ok"] for r in ask]),
            "asked_known_slot": sum(bool(r["checks"]["asked_known"]) for r in ask),
            "refusal": _rate([r["checks"]["refusal_ok"] for r in refuse]),
            "facts_recall": {"value": _mean([len(r["checks"]["facts"]) / len(r["facts"]) for r in fact_rows]),
                             "n": len(fact_rows)},
            "degraded": sum(r["degraded"] for r in sub),
            "errors": sum(bool(r["error"]) for r in sub),
        }

    by_category: dict[str, list] = defaultdict(list)
    by_lang: dict[str, list] = defaultdict(list)
    for r in rows:
        by_category[r["category"]].append(r)
        by_lang[r["lang"]].append(r)
    confusion: Counter = Counter()
    for r in rows:
        exp = r["expected_calls"][0]["name"] if r["expected_calls"] else NONE
        got = r["calls"][0]["name"] if r["calls"] else NONE
        confusion[(exp, got)] += 1
    latencies = [r["latency_s"] for r in rows]
    return {
        "overall": block(rows),
        "by_category": {k: block(v) for k, v in sorted(by_category.items())},
        "by_lang": {k: block(v) for k, v in sorted(by_lang.items())},
        "confusion": [{"expected": e, "actual": a, "n": n} for (e, a), n in sorted(confusion.items())],
        "latency": latency_summary(latencies),
    }


def latency_summary(latencies: list[float]) -> dict[str, Any]:
    if not latencies:
        return {"n": 0}
    q = sorted(latencies)

    def pct(p: float) -> float:
        return round(q[min(len(q) - 1, int(round(p * (len(q) - 1))))], 4)

    return {"n": len(q), "mean_s": round(statistics.fmean(q), 4), "p50_s": pct(0.5), "p95_s": pct(0.95),
            "max_s": round(q[-1], 4), "all_s": [round(x, 4) for x in latencies]}


# -- knowledge QA ------------------------------------------------------------------------------
async def _score_contexts(rows: list[dict[str, Any]]) -> None:
    from evals.harness.ragas_compat import import_ragas

    import_ragas()
    from ragas.dataset_schema import SingleTurnSample
    from ragas.metrics._context_precision import IDBasedContextPrecision
    from ragas.metrics._context_recall import IDBasedContextRecall

    recall, precision = IDBasedContextRecall(), IDBasedContextPrecision()
    for row in rows:
        row["ragas"] = {}
        if not row["answerable"]:
            continue  # nothing to recall: scored by abstention instead
        for prefix, ids in (("", row["retrieved_ids"]), ("retriever_", row["retriever_ids"])):
            sample = SingleTurnSample(retrieved_context_ids=ids or [], reference_context_ids=row["reference_ids"])
            row["ragas"][f"{prefix}context_recall"] = await recall.single_turn_ascore(sample)
            row["ragas"][f"{prefix}context_precision"] = (
                await precision.single_turn_ascore(sample) if ids else 0.0)


def summarize_knowledge(rows: list[dict[str, Any]]) -> dict[str, Any]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asyncio.run(_score_contexts(rows))
    for row in rows:
        ref_numbers = {tok for tok, _ in numbers_in(row["reference"])}
        found = [tok for tok in ref_numbers if fold_text(tok) in fold_text(row["answer"])]
        row["checks"] = {
            "routed_to_knowledge": "search_knowledge" in row["tools"],
            "reference_numbers": sorted(ref_numbers), "reference_numbers_found": sorted(found),
            "abstained": row["citations"] == 0,
            "source_silent_ok": "nao informad" in fold_text(row["answer"]) if row["type"] == "source_silent" else None,
        }

    def block(sub: list[dict[str, Any]]) -> dict[str, Any]:
        ans = [r for r in sub if r["answerable"]]
        with_numbers = [r for r in ans if r["checks"]["reference_numbers"]]
        silent = [r for r in sub if r["type"] == "source_silent"]
        return {
            "questions": len(sub),
            **{m: {"value": _mean([r["ragas"].get(m) for r in ans]), "n": len(ans)}
               for m in ("context_recall", "context_precision", "retriever_context_recall",
                         "retriever_context_precision")},
            "routed_to_knowledge": _rate([r["checks"]["routed_to_knowledge"] for r in sub]),
            "reference_numbers_recall": {"value": _mean([len(r["checks"]["reference_numbers_found"])
                                                         / len(r["checks"]["reference_numbers"]) for r in with_numbers]),
                                         "n": len(with_numbers)},
            "abstention": _rate([r["checks"]["abstained"] for r in sub if not r["answerable"]]),
            "source_silent": _rate([bool(r["checks"]["source_silent_ok"]) for r in silent]),
            "errors": sum(bool(r["error"]) for r in sub),
        }

    by_type: dict[str, list] = defaultdict(list)
    by_lang: dict[str, list] = defaultdict(list)
    for r in rows:
        by_type[r["type"]].append(r)
        by_lang[r["lang"]].append(r)
    return {"overall": block(rows), "by_type": {k: block(v) for k, v in sorted(by_type.items())},
            "by_lang": {k: block(v) for k, v in sorted(by_lang.items())},
            "latency": latency_summary([r["latency_s"] for r in rows])}
