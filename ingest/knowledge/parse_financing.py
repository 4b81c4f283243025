"""Credit-line YAML → one document per line (key ``<file>#<id>``), in Portuguese prose.

The YAML is data for the financing engine; here it is only rendered so that questions
("qual banco financia em 120 meses?", "BV carência") find the right line. Rates are
effective monthly (% a.m.), kept exactly as written.
"""

from __future__ import annotations

import re
from typing import Any

from app.core.text import format_brl, format_plain
from app.core.yamlfile import load_yaml
from app.retrieval.text import fold
from ingest.knowledge.documents import Block, SourceDoc, sha256_json

LABELS = {
    "lender": "Instituição (lender)", "line_name": "Linha", "rate_monthly_pct": "Taxa efetiva mensal (% a.m., interest rate)",
    "rate_kind": "Tipo de taxa", "rate_note": "Sobre a taxa", "term_months": "Prazo (meses, term)",
    "term_note": "Sobre o prazo", "grace": "Carência (grace period)", "grace_note": "Sobre a carência",
    "amount_brl": "Valor financiável (R$)", "amount_note": "Sobre o valor", "eligibility": "Quem pode contratar",
    "iof": "IOF", "amortization": "Amortização (Price/SAC)", "variant_of": "Variante de", "as_of": "Referência",
    "source": "Fonte", "illustrative": "Valores ilustrativos", "max": "máximo", "min": "mínimo",
    "max_days": "máximo em dias", "max_months": "máximo em meses", "interest_during_grace": "juros na carência",
    "pf": "pessoa física", "pj": "pessoa jurídica", "note": "nota", "applies": "incide", "systems": "sistemas",
    "requires_account": "exige conta",
}
SKIP = {"id", "doc"}


def lender_id(item: dict[str, Any]) -> str | None:
    """Filter key of the lender: ``lender_id`` if given, else the first part of the line id."""
    if item.get("lender_id"):
        return str(item["lender_id"]).lower()
    if item.get("id"):
        return str(item["id"]).split("-")[0].lower()
    if item.get("lender"):
        return re.sub(r"[^a-z0-9]+", "-", fold(str(item["lender"]))).strip("-")
    return None


MONEY = {"amount_brl"}  # fields whose numbers are reais: written "R$ 100.000,00", not "100000"


def _value(v: Any, money: bool = False) -> str:
    if v is None:
        return "não informado"
    if isinstance(v, bool):
        return "sim" if v else "não"
    if money and isinstance(v, (int, float)):
        return format_brl(v)
    if isinstance(v, float):
        return format_plain(v)
    if isinstance(v, dict):
        parts = [f"{LABELS.get(k, k)}: {_value(x, money)}" for k, x in v.items() if x is not None or k != "note"]
        return "; ".join(parts)
    if isinstance(v, list):
        return ", ".join(_value(x, money) for x in v)
    return str(v)


def summary(item: dict[str, Any]) -> str:
    """One sentence with the numbers people ask about."""
    parts = [f"{item.get('lender', '')} — {item.get('line_name', item.get('id', ''))}:"]
    if item.get("rate_monthly_pct") is not None:
        kind = " a partir de" if item.get("rate_kind") == "a_partir_de" else ""
        parts.append(f"taxa{kind} {_value(float(item['rate_monthly_pct']))} % a.m.")
    term = item.get("term_months") or {}
    if isinstance(term, dict) and term.get("max"):
        parts.append(f"prazo até {term['max']} meses")
    grace = item.get("grace") or {}
    if isinstance(grace, dict) and (grace.get("max_days") or grace.get("max_months")):
        g = f"{grace['max_days']} dias" if grace.get("max_days") else f"{grace['max_months']} meses"
        parts.append(f"carência de até {g}")
    amount = item.get("amount_brl") or {}
    if isinstance(amount, dict) and amount.get("max"):
        parts.append(f"valor até {format_brl(amount['max'])}")
    return " ".join(parts[:1]) + " " + ", ".join(parts[1:]) + "."


def parse_credit_lines(text: str, file_key: str) -> list[SourceDoc]:
    """Documents for every item under ``credit_lines`` (or a top-level list)."""
    data = load_yaml(text)
    items = data.get("credit_lines") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("YAML sem a lista 'credit_lines'")
    docs = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"item {i} de credit_lines não é um mapeamento")
        item_id = str(item.get("id") or i)
        rows = [f"| {LABELS.get(k, k)} | {_value(v, k in MONEY)} |" for k, v in item.items() if k not in SKIP]
        blocks = [Block(summary(item)), Block("| Campo | Valor |\n|---|---|\n" + "\n".join(rows), kind="table")]
        title = f"{item.get('lender', '')} — {item.get('line_name', item_id)}".strip(" —")
        key = f"{file_key}#{item_id}"
        docs.append(SourceDoc(
            # the hash covers the rendered text too: a change in how a line is written re-indexes it
            source=key, doc_type="financing", title=title, blocks=blocks,
            source_hash=sha256_json({"item": item, "text": [b.text for b in blocks]}),
            doc_keys=[key], meta={"lender": lender_id(item), "lender_name": item.get("lender"), "doc": item.get("doc")},
        ))
    return docs
