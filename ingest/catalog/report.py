"""What an ingest did: counts and every dropped, merged and recategorised row.

Written as JSON (for tools) and Markdown (for people) under ``catalog.report_dir``.
The report has no timestamps so that re-running on the same export gives the same file.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field


class DroppedRow(BaseModel):
    ref: str = Field(description="<file>#<index>:<upstream id>")
    reason: str


class MergedRow(BaseModel):
    ref: str
    into: str = Field(description="product id the row was merged into")
    reason: str


class Recategorised(BaseModel):
    ref: str
    product_id: str
    from_category: str
    to_category: str
    reason: str


class CatalogReport(BaseModel):
    source_dir: str
    rows_in: int = 0
    products_out: int = 0
    merged: int = 0
    dropped: int = 0
    recategorised: int = 0
    with_specs: int = Field(0, description="products with at least one parsed technical spec")
    with_cec: int = Field(0, description="products with CEC parameters")
    string_sizing_ready: dict[str, int] = Field(
        default_factory=dict, description="modules/inverters with every field string sizing needs"
    )
    per_category: dict[str, int] = Field(default_factory=dict)
    dropped_rows: list[DroppedRow] = Field(default_factory=list)
    merged_rows: list[MergedRow] = Field(default_factory=list)
    recategorised_rows: list[Recategorised] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="kept rows whose data disagreed with itself")
    cec_matches: list[str] = Field(default_factory=list, description="<product id> → <CEC name>")
    quality_findings: dict[str, int] = Field(
        default_factory=dict, description="plausibility findings: total, corrected, held back, products affected")
    quality_per_rule: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="rule id → corrected / held back (details in catalog-quality.json)")


def write_report(report: CatalogReport, report_dir: Path) -> tuple[Path, Path]:
    """Write ``catalog_report.json`` and ``catalog_report.md``; returns both paths."""
    report_dir.mkdir(parents=True, exist_ok=True)
    json_path = report_dir / "catalog_report.json"
    md_path = report_dir / "catalog_report.md"
    json_path.write_text(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n", "utf-8")
    md_path.write_text(render_markdown(report), "utf-8")
    return json_path, md_path


def render_markdown(r: CatalogReport) -> str:
    lines = [
        "# Catálogo: relatório de ingestão",
        "",
        f"Origem: `{r.source_dir}`",
        "",
        "| linhas lidas | produtos | mesclados | descartados | recategorizados | com specs | com CEC |",
        "|---|---|---|---|---|---|---|",
        f"| {r.rows_in} | {r.products_out} | {r.merged} | {r.dropped} | {r.recategorised} | {r.with_specs} "
        f"| {r.with_cec} |",
        "",
        "## Por categoria",
        "",
        *(f"- {k}: {v}" for k, v in sorted(r.per_category.items())),
        "",
        "## Prontos para dimensionamento de strings",
        "",
        *(f"- {k}: {v}" for k, v in sorted(r.string_sizing_ready.items())),
        "",
        f"## Correspondências CEC ({len(r.cec_matches)})",
        "",
        *(f"- {m}" for m in r.cec_matches),
        "",
        f"## Descartados ({r.dropped})",
        "",
        *(f"- `{d.ref}`: {d.reason}" for d in r.dropped_rows),
        "",
        f"## Recategorizados ({r.recategorised})",
        "",
        *(f"- `{x.ref}` → `{x.product_id}`: {x.from_category} → {x.to_category} ({x.reason})"
          for x in r.recategorised_rows),
        "",
        f"## Mesclados ({r.merged})",
        "",
        *(f"- `{m.ref}` → `{m.into}`: {m.reason}" for m in r.merged_rows),
        "",
        "## Regras de plausibilidade (detalhes em catalog-quality.json)",
        "",
        *(f"- {k}: {v}" for k, v in r.quality_findings.items()),
        *(f"- `{k}`: {v['corrigidos']} corrigidos, {v['retidos']} retidos" for k, v in r.quality_per_rule.items()),
        "",
        f"## Avisos ({len(r.warnings)})",
        "",
        *(f"- {w}" for w in r.warnings),
        "",
    ]
    return "\n".join(lines)
