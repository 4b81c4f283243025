"""Write a run's ``report.json``, ``report.md`` and ``report.html`` (charts as base64 PNGs:
metrics against their gates, the tool confusion matrix, scores per category, latency)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from evals.harness.gates import GateResult

CONV_METRICS = ("tool_selection", "tool_call_accuracy", "tool_call_f1", "args_accuracy", "numbers_grounded",
                "clarification", "refusal", "facts_recall")
KNOW_METRICS = ("context_recall", "context_precision", "retriever_context_recall", "retriever_context_precision",
                "routed_to_knowledge", "reference_numbers_recall", "abstention", "source_silent")
CATEGORY_METRICS = ("tool_selection", "args_accuracy", "numbers_grounded", "facts_recall")


def _value(block: dict[str, Any], metric: str) -> float | None:
    v = block.get(metric)
    return v.get("value") if isinstance(v, dict) else v


def fmt(value: Any) -> str:
    if value is None:
        return "não medido"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


# -- charts ----------------------------------------------------------------------------------
def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def charts(report: dict[str, Any], gates: list[GateResult]) -> dict[str, str]:
    """name → base64 PNG. Only what the run measured is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    gate_of = {(g.suite, g.metric): g for g in gates}
    for suite, metrics in (("conversations", CONV_METRICS), ("knowledge", KNOW_METRICS)):
        summary = (report.get(suite) or {}).get("summary")
        if not summary:
            continue
        names = [m for m in metrics if _value(summary["overall"], m) is not None]
        values = [_value(summary["overall"], m) for m in names]
        fig, ax = plt.subplots(figsize=(9, 3.6))
        colors = []
        for m in names:
            g = gate_of.get((suite, m))
            colors.append("#c0392b" if g and g.failed else "#2e86c1")
        ax.bar(names, values, color=colors)
        for i, m in enumerate(names):
            g = gate_of.get((suite, m))
            if g and g.gate is not None:
                ax.hlines(g.gate, i - 0.4, i + 0.4, colors="black", linewidth=2, label="gate" if i == 0 else None)
            if g and g.ambition is not None:
                ax.hlines(g.ambition, i - 0.4, i + 0.4, colors="#27ae60", linestyles="dashed", linewidth=2)
            ax.text(i, values[i] + 0.02, f"{values[i]:.2f}", ha="center", fontsize=8)
        ax.set_ylim(0, 1.1)
        ax.set_title(f"{suite}: métricas (preto = gate, verde tracejado = ambição, vermelho = abaixo do gate)")
        ax.tick_params(axis="x", rotation=30, labelsize=8)
        out[f"{suite}_metrics"] = _png(fig)

    conv = (report.get("conversations") or {}).get("summary")
    if conv:
        cats = list(conv["by_category"])
        fig, ax = plt.subplots(figsize=(11, 3.8))
        width = 0.8 / len(CATEGORY_METRICS)
        for j, metric in enumerate(CATEGORY_METRICS):
            vals = [_value(conv["by_category"][c], metric) for c in cats]
            xs = [i + j * width for i in range(len(cats))]
            ax.bar(xs, [v if v is not None else 0 for v in vals], width, label=metric)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(cats))], cats, rotation=30, fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7, ncol=4)
        ax.set_title("conversas: métricas por categoria (ausente = não se aplica)")
        out["per_category"] = _png(fig)

        labels = sorted({c["expected"] for c in conv["confusion"]} | {c["actual"] for c in conv["confusion"]})
        index = {name: i for i, name in enumerate(labels)}
        grid = [[0] * len(labels) for _ in labels]
        for c in conv["confusion"]:
            grid[index[c["expected"]]][index[c["actual"]]] += c["n"]
        fig, ax = plt.subplots(figsize=(6.5, 5.5))
        ax.imshow(grid, cmap="Blues")
        for i in range(len(labels)):
            for j in range(len(labels)):
                if grid[i][j]:
                    ax.text(j, i, grid[i][j], ha="center", va="center", fontsize=8,
                            color="white" if grid[i][j] > max(map(max, grid)) / 2 else "black")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_xlabel("ferramenta chamada")
        ax.set_ylabel("ferramenta esperada")
        ax.set_title("matriz de confusão das ferramentas (1ª chamada do turno)")
        out["confusion"] = _png(fig)

    lat = [x for suite in ("conversations", "knowledge")
           for x in (((report.get(suite) or {}).get("summary") or {}).get("latency") or {}).get("all_s", [])]
    if lat:
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.hist(lat, bins=30, color="#8e44ad")
        ax.set_xlabel("latência por turno [s]")
        ax.set_ylabel("turnos")
        ax.set_title(f"latência por turno (n={len(lat)})")
        out["latency"] = _png(fig)
    return out


# -- markdown / html ---------------------------------------------------------------------------
def _gate_rows(gates: list[GateResult]) -> list[list[str]]:
    return [[g.suite, g.metric, fmt(g.value), fmt(g.gate), fmt(g.ambition),
             {"pass": "ok", "fail": "FALHOU", "not_measured": "não medido", "no_gate": "sem gate"}[g.status]]
            for g in gates]


def _category_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    conv = (report.get("conversations") or {}).get("summary") or {}
    head = ["categoria", "turnos", *CATEGORY_METRICS, "clarification", "refusal"]
    rows = [[cat, str(b["turns"]), *[fmt(_value(b, m)) for m in (*CATEGORY_METRICS, "clarification", "refusal")]]
            for cat, b in (conv.get("by_category") or {}).items()]
    return head, rows


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _judge_lines(report: dict[str, Any]) -> list[list[str]]:
    judge = report.get("judge") or {}
    rows = []
    for name, m in (judge.get("metrics") or {}).items():
        rows.append([name, fmt(m.get("value")), str(m.get("n", "—")), str(m.get("nan", "—")), m.get("status", "")])
    return rows


def failures(report: dict[str, Any], limit: int = 40) -> list[str]:
    out = []
    for row in (report.get("conversations") or {}).get("rows", []):
        r, c = row.get("ragas", {}), row.get("checks", {})
        bad = (r.get("tool_call_accuracy", 1) < 1 or c.get("ungrounded") or c.get("clarification_ok") is False
               or c.get("refusal_ok") is False)
        if bad:
            exp = ", ".join(f"{e['name']}({json.dumps(e['args'], ensure_ascii=False)})" for e in row["expected_calls"])
            got = ", ".join(f"{x['name']}({json.dumps(x['arguments'], ensure_ascii=False, default=str)})"
                            for x in row["calls"])
            out.append(f"{row['conversation']}#{row['turn']} «{row['user']}»: esperado {exp or row['kind']}; "
                       f"obtido {got or 'nenhuma chamada'}"
                       + (f"; números sem fonte {c['ungrounded']}" if c.get("ungrounded") else "")
                       + (f"; perguntou {c.get('asked')}" if row["kind"] == "ask" else ""))
    return out[:limit]


def markdown(report: dict[str, Any], gates: list[GateResult]) -> str:
    meta = report["meta"]
    parts = [f"# Hélio — avaliação {meta['timestamp']}",
             f"split **{report['split']}**, suite **{meta['suite']}**, backend **{meta['backend']}**"
             f" (modelo {meta.get('model') or '—'}), {meta['elapsed_s']:.0f} s, commit {meta.get('commit') or '—'}",
             "", "## Gates", _md_table(["suite", "métrica", "valor", "gate", "ambição", "status"], _gate_rows(gates))]
    conv = (report.get("conversations") or {}).get("summary")
    if conv:
        o = conv["overall"]
        parts += ["", "## Conversas", _md_table(["métrica", "valor", "n"], [
            [m, fmt(_value(o, m)), str(o[m].get("n", "")) if isinstance(o.get(m), dict) else ""] for m in CONV_METRICS]),
            "", f"números sem fonte: {o['ungrounded_numbers']}; perguntou slot já dado: {o['asked_known_slot']}; "
                f"turnos degradados: {o['degraded']}; erros: {o['errors']}; latência p50/p95: "
                f"{conv['latency'].get('p50_s')} / {conv['latency'].get('p95_s')} s",
            "", "### Por categoria", _md_table(*_category_rows(report))]
    know = (report.get("knowledge") or {}).get("summary")
    if know:
        o = know["overall"]
        parts += ["", "## Conhecimento (RAG)", _md_table(["métrica", "valor"], [[m, fmt(_value(o, m))] for m in KNOW_METRICS]),
                  "", "### Por tipo", _md_table(["tipo", *KNOW_METRICS[:2], "abstention", "source_silent"],
                                                [[t, *[fmt(_value(b, m)) for m in (*KNOW_METRICS[:2], "abstention",
                                                                                   "source_silent")]]
                                                 for t, b in know["by_type"].items()])]
    judge = report.get("judge") or {}
    parts += ["", "## Juiz (LLM)", f"status: {judge.get('status')}" + (f" — {judge.get('reason')}" if judge.get("reason") else "")]
    if judge.get("status") == "measured":
        parts.append(_md_table(["métrica", "valor", "n", "NaN", "status"], _judge_lines(report)))
    fails = failures(report)
    if fails:
        parts += ["", "## Falhas (primeiras)", *[f"- {f}" for f in fails]]
    return "\n".join(parts) + "\n"


def html_report(report: dict[str, Any], gates: list[GateResult], images: dict[str, str]) -> str:
    md = markdown(report, gates)
    body = []
    in_table = False
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{c}</th>" for c in cells) + "</tr>")
            else:
                cls = ' class="fail"' if "FALHOU" in cells else ""
                body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        text = html.escape(line).replace("**", "")
        if line.startswith("### "):
            body.append(f"<h3>{text[4:]}</h3>")
        elif line.startswith("## "):
            title = text[3:]
            body.append(f"<h2>{title}</h2>")
            key = {"Gates": ["conversations_metrics", "knowledge_metrics"], "Conversas": ["per_category", "confusion", "latency"],
                   }.get(title, [])
            body += [f'<img alt="{k}" src="data:image/png;base64,{images[k]}">' for k in key if k in images]
        elif line.startswith("# "):
            body.append(f"<h1>{text[2:]}</h1>")
        elif line.startswith("- "):
            body.append(f"<div class='fail-line'>{text[2:]}</div>")
        elif line:
            body.append(f"<p>{text}</p>")
    if in_table:
        body.append("</table>")
    style = ("body{font-family:sans-serif;margin:24px;max-width:1150px}table{border-collapse:collapse;margin:8px 0}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}tr.fail td{background:#fdecea}"
             "img{display:block;margin:10px 0;max-width:100%}.fail-line{font-size:12px;font-family:monospace}")
    return (f"<!doctype html><html lang='pt-BR'><head><meta charset='utf-8'><title>Hélio — avaliação</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


def write(report: dict[str, Any], gates: list[GateResult], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {**report, "gates": [g.__dict__ for g in gates]}
    images = charts(report, gates)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}
    paths["json"].write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    paths["md"].write_text(markdown(report, gates), encoding="utf-8")
    paths["html"].write_text(html_report(report, gates, images), encoding="utf-8")
    return paths
