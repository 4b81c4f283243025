"""Tool-selection and argument eval over the conversations in this folder.

    .venv/bin/python -m evals.conversations.run_eval [--rules-only] [--min-tool-acc 0.9]

Runs every conversation through the real assistant with the configured LLM backend
(``LLM__BACKEND``: embedded llama.cpp by default, Ollama when configured) and deterministic
stand-ins for the catalog, the searcher, the sizing engine and the quote service (the eval
measures choosing and filling tools, not their results; financing runs on the real credit
lines). A conversation's ``role`` (default ``widget``) is the session's role, as an API key
would give it. Reports, per turn and in total:

- system tool accuracy: the tool the assistant actually called (or no call) vs expected;
- system argument exact-match: every expected argument present with exactly that value
  (strings case-insensitive), over turns where the right tool was called with expected args;
- model-only tool accuracy / argument exact-match: the model's own proposal (before rules
  and verification) vs the expected intent and arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app.agent.assistant import collect
from app.agent.factory import build_assistant
from app.catalog.models import Category, Phase, Product, ProductPage, ProductQuery
from app.commerce.models import QuoteStatus
from app.commerce.states import STATUS_LABEL
from app.core.cache import MemoryCache
from app.core.settings import Settings, get_settings
from app.core.yamlfile import load_yaml
from app.quotes.models import ApprovalInfo, CreateQuoteRequest, DraftQuote, QuoteLine, QuotePreview
from evals.fakes import FormulaSizing

HERE = Path(__file__).parent


class EvalQuotes:
    """Stand-in for ``QuoteService``: one R$ 10.000 kit per quote, created once per key."""

    validity_days = 15

    def __init__(self) -> None:
        self.created: dict[str, DraftQuote] = {}

    @staticmethod
    def _lines() -> list[QuoteLine]:
        return [QuoteLine(sku="kit-eval", title="Kit de avaliação", quantity=1, unit_price_brl=10_000.0,
                          total_brl=10_000.0, available=True)]

    def preview(self, req: CreateQuoteRequest) -> QuotePreview:
        return QuotePreview(items=self._lines(), equipment_total_brl=10_000.0, installation_brl=2_000.0,
                            system_total_brl=12_000.0, approval=ApprovalInfo(required=False), warnings=[],
                            sizing_id=req.sizing_id, design_label="best")

    def create(self, req: CreateQuoteRequest, key: str | None = None) -> tuple[DraftQuote, bool]:
        if key in self.created:
            return self.created[key], False
        quote = DraftQuote(
            id=f"quo_eval{len(self.created) + 1}", status=QuoteStatus.PENDING_MERCHANT,
            status_label=STATUS_LABEL[QuoteStatus.PENDING_MERCHANT], backend="eval", cart_id="cart_eval",
            company_id=req.buyer.company_id, items=self._lines(), equipment_total_brl=10_000.0,
            installation_brl=2_000.0, system_total_brl=12_000.0, valid_until=date.today() + timedelta(days=15),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"), approval=ApprovalInfo(required=False),
            sizing_id=req.sizing_id)
        self.created[key or quote.id] = quote
        return quote, True


class EvalCatalog:
    products = [
        Product(id="growatt-min-5000tl-x", category=Category.INVERTER, name="Growatt MIN 5000TL-X",
                manufacturer="Growatt", power_w=5000, phase=Phase.SINGLE, price_brl=5000.0, in_stock=True),
        Product(id="deye-sun-8k-sg04lp3", category=Category.INVERTER, name="Deye SUN-8K-SG04LP3",
                manufacturer="Deye", power_w=8000, phase=Phase.THREE, price_brl=9000.0, in_stock=True),
        Product(id="jinko-tiger-neo-550", category=Category.MODULE, name="Jinko Tiger Neo 550 W",
                manufacturer="Jinko", power_w=550, price_brl=700.0, in_stock=True),
    ]

    def get(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)

    def search(self, q: ProductQuery) -> ProductPage:
        return ProductPage(items=self.products[: q.limit], total=len(self.products), limit=q.limit, offset=0)

    def iter_products(self, category=None):
        return iter(self.products)

    def count(self, category=None) -> int:
        return len(self.products)


class StaticSearcher:
    def search(self, query: str, k: int = 5, filters: Any = None) -> list[dict[str, Any]]:
        return [{"text": "Trecho de referência.", "score": 1.0, "citation": {"title": "Base de teste"}}]


def load_conversations(folder: Path = HERE) -> list[dict[str, Any]]:
    conversations = []
    for path in sorted(folder.glob("*.yaml")):
        for conv in load_yaml(path.read_text(encoding="utf-8")):
            conv["file"] = path.name
            conversations.append(conv)
    return conversations


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return abs(float(expected) - float(got)) < 1e-6
    if isinstance(expected, str) and isinstance(got, str):
        return expected.strip().lower() == got.strip().lower()
    return expected == got


def args_match(expected: dict[str, Any], got: dict[str, Any] | None) -> bool:
    got = got or {}
    return all(k in got and _same(v, got[k]) for k, v in expected.items())


def run(settings: Settings, *, rules_only: bool = False, llm: Any = None) -> dict[str, Any]:
    quotes = EvalQuotes()
    assistant = build_assistant(settings, MemoryCache(), EvalCatalog(), StaticSearcher(), llm=llm, sizing=FormulaSizing(),
                                quotes=lambda: quotes)
    assistant.consult_model = not rules_only
    assistant.router.cooldown_s = 0.0  # measure the model on every turn, even after a slow one
    if assistant.rate_limiter is not None:
        assistant.rate_limiter.per_minute = 10**9
    rows = []
    for conv in load_conversations():
        cid = f"eval-{conv['id']}-{time.time_ns()}"
        role = conv.get("role", "widget")
        for i, turn in enumerate(conv["turns"]):
            t0 = time.monotonic()
            reply = collect(assistant.turn(cid, turn["user"], role=role))
            elapsed = time.monotonic() - t0
            calls = [t for t in reply["tools"] if t["event"] == "tool_call"]
            got_tool = calls[0]["name"] if calls else None
            got_args = calls[0]["arguments"] if calls else None
            expected = turn.get("call") or None
            llm_info = reply.get("llm") or {}
            proposed, proposed_args = llm_info.get("proposed_tool"), llm_info.get("proposed_arguments")
            if not rules_only and proposed is None and assistant.router.available:
                # The model's own pick where the rules skipped it, among the tools this role is offered.
                p = assistant.router.propose(turn["user"], tools=assistant.runner.specs_for(role))
                proposed, proposed_args = p.tool, p.arguments
            exp_tool = expected["tool"] if expected else None
            exp_args = expected.get("args") or {} if expected else {}
            intent = turn["intent"]
            rows.append({
                "conversation": conv["id"], "role": role, "turn": i, "user": turn["user"],
                "expected_tool": exp_tool, "tool": got_tool, "tool_ok": got_tool == exp_tool,
                "expected_args": exp_args, "args": got_args,
                "args_ok": (got_tool == exp_tool and args_match(exp_args, got_args)) if exp_args else None,
                "expected_intent": intent, "model_tool": proposed or "none",
                "model_tool_ok": (proposed or "none") == intent if not rules_only else None,
                "model_args_ok": ((proposed == intent) and args_match(exp_args, proposed_args))
                if exp_args and not rules_only else None,
                "degraded": reply.get("degraded"), "elapsed_s": round(elapsed, 3),
            })

    def rate(key: str) -> dict[str, Any]:
        vals = [r[key] for r in rows if r[key] is not None]
        return {"ok": sum(vals), "n": len(vals), "rate": round(sum(vals) / len(vals), 3) if vals else None}

    return {
        "backend": getattr(assistant.router.llm, "name", None), "model": getattr(assistant.router.llm, "model", None),
        "rules_only": rules_only, "turns": len(rows),
        "system_tool_accuracy": rate("tool_ok"), "system_args_exact_match": rate("args_ok"),
        "model_tool_accuracy": rate("model_tool_ok"), "model_args_exact_match": rate("model_args_ok"),
        "mean_turn_s": round(sum(r["elapsed_s"] for r in rows) / len(rows), 3),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules-only", action="store_true", help="no model: rules and templates only")
    parser.add_argument("--min-tool-acc", type=float, default=None, help="fail (exit 1) below this system accuracy")
    parser.add_argument("--output", type=Path, default=None, help="JSON report path")
    args = parser.parse_args(argv)
    settings = get_settings()
    report = run(settings, rules_only=args.rules_only)
    out = args.output or settings.var_dir / "reports" / f"chat_eval{'_rules' if args.rules_only else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    for row in report["rows"]:
        if not row["tool_ok"] or row["args_ok"] is False:
            print(f"MISS {row['conversation']}#{row['turn']}: expected {row['expected_tool']} {row['expected_args']}"
                  f" got {row['tool']} {row['args']}")
    summary = {k: v for k, v in report.items() if k != "rows"}
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    acc = report["system_tool_accuracy"]["rate"] or 0.0
    return 1 if args.min_tool_acc is not None and acc < args.min_tool_acc else 0


if __name__ == "__main__":
    sys.exit(main())
