#!/usr/bin/env python3
"""Write the datasheet corpus in data/knowledge/datasheets/ from its facts (sources.yaml) + CEC.

Every value printed in a datasheet comes from one of two sources:

* the upstream catalog export (YSH unified schemas, MIT): only what the *text* of a row
  states (name, description, the Solfácil ``price`` field that carries the real product
  name, kit bills of materials). Each value is declared in ``sources.yaml`` together with
  the literal text it was read from (``evidence``); the build fails if that text is not
  found in the listed rows. The automatically "enriched" ``technical_specs`` block of the
  export is not used (``efficiency`` copies the power, ``power_w`` is 6 for a 6 kW
  inverter, and so on).
* the CEC module / inverter databases bundled with pvlib (NREL SAM), when exactly one entry
  has the same manufacturer, model code and power: the catalog ingest's matcher
  (:mod:`ingest.catalog.cec`). A product without a model code is never matched.

A field that no source gives is printed as "não informado pela fonte".

Output is deterministic: products in slug order, PDFs written with reportlab's
``invariant=1`` (fixed creation date and document id) and fixed metadata, so a re-run
produces byte-identical files; ``--check`` regenerates into a temporary folder and fails
when anything differs from the committed files (tests/test_datasheets_build.py runs it).

Usage::

    python scripts/build_datasheets.py [--catalog DIR] [--out DIR] [--check]

``--catalog`` defaults to the export shipped in ``data/catalog``.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the project's packages sit next to scripts/
    sys.path.insert(0, str(ROOT))

from app.core.text import format_number, parse_number  # noqa: E402
from app.core.yamlfile import load_yaml  # noqa: E402
from ingest.catalog.cec import CecEntry, cec_tables, match_cec_inverter, match_cec_module  # noqa: E402

NI = "não informado pela fonte"
DATASHEETS = ROOT / "data" / "knowledge" / "datasheets"
SOURCES = DATASHEETS / "sources.yaml"
CATALOG = ROOT / "data" / "catalog"
GENERATED = ("*.pdf", "*.md", "manifest.json")  # what --check compares (PROVENANCE.md is *.md)
EXPORT_FILES = ("panels_unified.json", "inverters_unified.json", "kits_unified.json")

# Section keys of sources.yaml → the short keys the layout uses
EL, TEMP, MEC, CC, CA, GER, OBS = "el", "temp", "mec", "cc", "ca", "ger", "obs"
SECTIONS = {"electrical": EL, "temperature": TEMP, "mechanical": MEC, "dc": CC, "ac": CA, "general": GER,
            "notes": OBS}


@dataclass(frozen=True)
class F:
    """One printed value and the literal text of the export it was read from ("CEC" for CEC values)."""

    section: str
    label: str
    value: str
    evidence: str


@dataclass
class Product:
    slug: str
    category: str  # module | inverter
    manufacturer: str
    model: str
    product_name: str  # catalog product name (cleaned from the export, never invented)
    upstream: list[tuple[str, str]]  # (export file, row id)
    facts: list[F]
    fmt: str = "md"  # md | pdf
    pages: int = 1  # for pdf: page 1 = identification + electrical tables, page 2 = the rest
    cec_model: str = ""  # model code for the CEC lookup ("" = no model code: never match)
    notes: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"{self.slug}.{self.fmt}"

    @property
    def upstream_ids(self) -> list[str]:
        out: list[str] = []
        for _, rid in self.upstream:
            if rid not in out:
                out.append(rid)
        return out


def load_products(path: Path = SOURCES) -> list[Product]:
    """The datasheets declared in ``sources.yaml``, in slug order."""
    data = load_yaml(path.read_text(encoding="utf-8"))
    products = [
        Product(slug=d["slug"], category=d["category"], manufacturer=d["manufacturer"], model=str(d["model"]),
                product_name=d["product_name"], upstream=[(u["file"], u["id"]) for u in d["upstream"]],
                facts=[F(SECTIONS[f["section"]], f["label"], str(f["value"]), str(f["evidence"]))
                       for f in d["facts"]],
                fmt=d.get("format", "md"), pages=d.get("pages", 1), cec_model=str(d.get("cec_model") or ""),
                notes=list(d.get("notes") or []))
        for d in data["products"]]
    return sorted(products, key=lambda p: p.slug)


# --------------------------------------------------------------------------------------
# Catalog loading and evidence checks
# --------------------------------------------------------------------------------------


def _norm_text(s: str) -> str:
    return re.sub(r"\s+", " ", str(s)).strip().casefold()


def load_row_texts(catalog: Path) -> dict[tuple[str, str], str]:
    """(file, id) -> concatenated text fields of every row with that id."""
    out: dict[tuple[str, str], list[str]] = {}
    for fname in EXPORT_FILES:
        rows = json.loads((catalog / fname).read_text(encoding="utf-8"))
        for r in rows:
            if not isinstance(r, dict) or "id" not in r:
                continue
            parts = [str(r.get(k) or "") for k in ("name", "description", "price", "model")]
            for comp in ("panels", "inverters"):
                for item in r.get(comp) or []:
                    if isinstance(item, dict):
                        parts.append(str(item.get("description") or ""))
            out.setdefault((fname, r["id"]), []).extend(parts)
    return {k: _norm_text(" || ".join(v)) for k, v in out.items()}


def check_evidence(products: list[Product], texts: dict[tuple[str, str], str]) -> list[str]:
    errors = []
    slugs = [p.slug for p in products]
    if len(set(slugs)) != len(slugs):
        errors.append("duplicate slugs")
    for p in products:
        for ref in p.upstream:
            if ref not in texts:
                errors.append(f"{p.slug}: row {ref} not in export")
        blob = " ## ".join(texts.get(ref, "") for ref in p.upstream)
        for f in p.facts:
            if f.value == NI:
                continue
            if _norm_text(f.evidence) not in blob:
                errors.append(f"{p.slug}: evidence {f.evidence!r} for {f.label!r} not found")
    return errors


# --------------------------------------------------------------------------------------
# CEC lookup: the catalog ingest's matcher (same manufacturer, model code and power)
# --------------------------------------------------------------------------------------

_QUANTITY_RE = re.compile(r"(\d[\d.,]*)\s*(k?)(W|V)\b")


def _quantity(p: Product, labels: tuple[str, ...], unit: str) -> float | None:
    """First value in watts/volts among the facts with these labels ("10 kW" → 10000)."""
    for f in p.facts:
        if f.label in labels and (m := _QUANTITY_RE.search(f.value)) and m.group(3) == unit:
            return parse_number(m.group(1)) * (1000 if m.group(2) else 1)
    return None


def cec_match(p: Product, cec_modules: tuple[CecEntry, ...], cec_inverters: tuple[CecEntry, ...]):
    """``(entry, None)`` or ``(None, reason)``."""
    if not p.cec_model:
        return None, "sem código de modelo no catálogo"
    if p.category == "module":
        power = _quantity(p, ("Potência máxima (Pmax, STC)",), "W")
        entry = match_cec_module(p.manufacturer, p.cec_model, power, cec_modules)
    else:
        power = _quantity(p, ("Potência nominal CA", "Potência nominal CA (potência contínua)"), "W")
        entry = match_cec_inverter(p.manufacturer, p.cec_model, power, _quantity(p, ("Tensão CA",), "V"),
                                   cec_inverters)
    if entry is None:
        return None, "nenhuma entrada com o mesmo fabricante e código de modelo"
    return entry, None


def _fmt_num(x: float, nd: int) -> str:
    return format_number(x, decimals=nd)


def cec_facts(p: Product, s: dict) -> list[F]:
    """Facts from a CEC entry's parameters (used only when an exact match exists)."""
    ev = "CEC"
    if p.category == "module":
        voc, isc = float(s["V_oc_ref"]), float(s["I_sc_ref"])
        facts = [
            F(EL, "Potência máxima (Pmax, STC)", f"{_fmt_num(float(s['STC']), 1)} W", ev),
            F(EL, "Tensão de circuito aberto (Voc)", f"{_fmt_num(voc, 2)} V", ev),
            F(EL, "Corrente de curto-circuito (Isc)", f"{_fmt_num(isc, 2)} A", ev),
            F(EL, "Tensão de máxima potência (Vmp)", f"{_fmt_num(float(s['V_mp_ref']), 2)} V", ev),
            F(EL, "Corrente de máxima potência (Imp)", f"{_fmt_num(float(s['I_mp_ref']), 2)} A", ev),
            F(EL, "Tecnologia da célula", str(s["Technology"]), ev),
            F(TEMP, "Coef. de temperatura de Voc (beta_Voc)",
              f"{_fmt_num(float(s['beta_oc']) / voc * 100, 3)} %/°C", ev),
            F(TEMP, "Coef. de temperatura de Isc (alpha_Isc)",
              f"{_fmt_num(float(s['alpha_sc']) / isc * 100, 3)} %/°C", ev),
            F(TEMP, "Coef. de temperatura de Pmax (gamma_Pmp)",
              f"{_fmt_num(float(s['gamma_r']), 3)} %/°C", ev),
            F(TEMP, "NOCT", f"{_fmt_num(float(s['T_NOCT']), 1)} °C", ev),
            F(MEC, "Número de células em série", str(int(float(s["N_s"]))), ev),
        ]
        if isinstance(s.get("Length"), float) and isinstance(s.get("Width"), float):
            facts.append(F(MEC, "Dimensões (C × L)",
                           f"{_fmt_num(s['Length'], 3)} m × {_fmt_num(s['Width'], 3)} m", ev))
        facts.append(F(MEC, "Área", f"{_fmt_num(float(s['A_c']), 3)} m²", ev))
        return facts
    paco, pdco = float(s["Paco"]), float(s["Pdco"])
    return [
        F(CA, "Potência nominal CA (Paco)", f"{_fmt_num(paco, 0)} W", ev),
        F(CA, "Tensão CA de ensaio (Vac)", f"{_fmt_num(float(s['Vac']), 0)} V", ev),
        F(CA, "Eficiência nominal (Paco/Pdco)", f"{_fmt_num(paco / pdco * 100, 1)} %", ev),
        F(CA, "Consumo em operação mínima (Pso)", f"{_fmt_num(float(s['Pso']), 1)} W", ev),
        F(CC, "Potência CC nominal (Pdco)", f"{_fmt_num(pdco, 0)} W", ev),
        F(CC, "Tensão CC máxima (Vdcmax)", f"{_fmt_num(float(s['Vdcmax']), 0)} V", ev),
        F(CC, "Faixa de tensão MPPT",
          f"{_fmt_num(float(s['Mppt_low']), 0)} a {_fmt_num(float(s['Mppt_high']), 0)} V", ev),
        F(CC, "Corrente CC máxima (Idcmax)", f"{_fmt_num(float(s['Idcmax']), 1)} A", ev),
    ]


# --------------------------------------------------------------------------------------
# Layout: the same sections and rows for every datasheet of a category
# --------------------------------------------------------------------------------------

MODULE_LAYOUT = [
    (EL, "Características elétricas (STC)", [
        "Potência máxima (Pmax, STC)", "Tensão de circuito aberto (Voc)",
        "Corrente de curto-circuito (Isc)", "Tensão de máxima potência (Vmp)",
        "Corrente de máxima potência (Imp)", "Eficiência do módulo (no nome do produto)",
        "Tecnologia da célula", "Bifacial"]),
    (TEMP, "Coeficientes de temperatura", [
        "Coef. de temperatura de Voc (beta_Voc)", "Coef. de temperatura de Isc (alpha_Isc)",
        "Coef. de temperatura de Pmax (gamma_Pmp)", "NOCT"]),
    (MEC, "Características mecânicas", [
        "Número de células", "Número de células em série", "Dimensões (C × L)", "Área",
        "Moldura", "Peso"]),
]
INVERTER_LAYOUT = [
    (CC, "Entrada CC / MPPT", [
        "Número de MPPTs", "Corrente máx. de entrada por MPPT", "Potência FV máxima (PVmax)",
        "Tensão máxima (texto do catálogo)", "Tensão CC máxima (Vdcmax)",
        "Faixa de tensão MPPT", "Corrente CC máxima (Idcmax)", "Potência CC nominal (Pdco)",
        "Módulos por microinversor", "Entradas (texto do catálogo)",
        "Corrente do controlador MPPT"]),
    (CA, "Saída CA", [
        "Potência nominal CA", "Potência nominal CA (potência contínua)",
        "Potência nominal CA (Paco)", "Potência de surto", "Fases", "Tensão CA",
        "Tensão CA de ensaio (Vac)", "Eficiência nominal (Paco/Pdco)",
        "Consumo em operação mínima (Pso)"]),
    (MEC, "Características mecânicas", ["Dimensões", "Peso", "Grau de proteção"]),
]
# rows that are printed even when no source gives them (others appear only when given)
ALWAYS = {
    "module": {"Potência máxima (Pmax, STC)", "Tensão de circuito aberto (Voc)",
               "Corrente de curto-circuito (Isc)", "Tensão de máxima potência (Vmp)",
               "Corrente de máxima potência (Imp)", "Eficiência do módulo (no nome do produto)",
               "Tecnologia da célula", "Bifacial",
               "Coef. de temperatura de Voc (beta_Voc)", "Coef. de temperatura de Isc (alpha_Isc)",
               "Coef. de temperatura de Pmax (gamma_Pmp)", "NOCT", "Número de células",
               "Dimensões (C × L)", "Moldura", "Peso"},
    "inverter": {"Número de MPPTs", "Tensão CC máxima (Vdcmax)", "Faixa de tensão MPPT",
                 "Corrente CC máxima (Idcmax)", "Potência nominal CA", "Fases", "Tensão CA",
                 "Eficiência nominal (Paco/Pdco)", "Dimensões", "Peso", "Grau de proteção"},
}


@dataclass
class Sheet:
    p: Product
    sections: list[tuple[str, list[tuple[str, str, str]]]]  # title, rows (label, value, src)
    extra: list[tuple[str, str, str]]  # GER/OBS rows
    cec_entry: str | None
    cec_reason: str
    cec_fields: list[str]
    pvlib_version: str


def build_sheet(p: Product, cec_mod, cec_inv, pvlib_version: str) -> Sheet:
    entry, reason = cec_match(p, cec_mod, cec_inv)
    facts = list(p.facts)
    cec_fields: list[str] = []
    if entry is not None:
        cf = cec_facts(p, entry.params)
        cec_fields = [f.label for f in cf]
        labels = {f.label for f in cf}
        # CEC electrical values replace catalog ones with the same label; both are kept in
        # the "Fonte dos dados" section through the manifest.
        facts = [f for f in facts if f.label not in labels] + cf
        reason = "mesmo fabricante, código de modelo e potência"
    facts = [f for f in facts if f.value != NI]
    by_label: dict[str, F] = {}
    for f in facts:
        by_label.setdefault(f.label, f)
    layout = MODULE_LAYOUT if p.category == "module" else INVERTER_LAYOUT
    sections = []
    used = set()
    for key, title, labels in layout:
        rows = []
        for lab in labels:
            f = by_label.get(lab)
            if f is not None and f.section == key:
                rows.append((lab, f.value, "CEC" if f.evidence == "CEC" else "catálogo"))
                used.add(lab)
            elif lab in ALWAYS[p.category]:
                rows.append((lab, NI, "—"))
        # facts declared for this section but not in the layout list
        for f in facts:
            if f.section == key and f.label not in used and f.label not in labels:
                rows.append((f.label, f.value, "CEC" if f.evidence == "CEC" else "catálogo"))
                used.add(f.label)
        sections.append((title, rows))
    extra = [(f.label, f.value, "catálogo") for f in facts
             if f.section in (GER, OBS) and f.label not in used]
    return Sheet(p, sections, extra, entry.name if entry else None, reason, cec_fields, pvlib_version)


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------

CATEGORY_PT = {"module": "módulo fotovoltaico", "inverter": "inversor"}


def _title(p: Product) -> str:
    return f"{p.manufacturer} {p.model} — Folha de dados"


def _summary(sh: Sheet) -> str:
    p = sh.p
    given = [f"{lab}: {val}" for _, rows in sh.sections for lab, val, src in rows
             if val != NI]
    given += [f"{lab}: {val}" for lab, val, _ in sh.extra if lab == "Tipo"]
    what = "; ".join(given) if given else "apenas o nome do produto"
    return (f"{CATEGORY_PT[p.category].capitalize()} {p.manufacturer} {p.model}, "
            f"vendido no catálogo YSH como \"{p.product_name}\". "
            f"Valores disponíveis nas fontes — {what}.")


def _source_lines(sh: Sheet) -> list[str]:
    p = sh.p
    ids = ", ".join(f"{rid} ({fname})" for fname, rid in p.upstream)
    lines = [
        f"Catálogo YSH (export \"unified_schemas\", licença MIT), linhas: {ids}. Foram usados "
        "apenas os textos das linhas (nome, descrição, lista de materiais); o bloco "
        "\"technical_specs\" do export, preenchido automaticamente e inconsistente, não foi usado.",
    ]
    if sh.cec_entry:
        lines.append(f"Banco de dados CEC de módulos/inversores (NREL SAM) distribuído com "
                     f"pvlib {sh.pvlib_version}: entrada \"{sh.cec_entry}\" "
                     f"({sh.cec_reason}). Campos vindos do CEC: {', '.join(sh.cec_fields)}.")
    else:
        lines.append(f"Banco de dados CEC (NREL SAM) distribuído com pvlib {sh.pvlib_version}: "
                     f"consultado, sem correspondência exata ({sh.cec_reason}); nenhum valor "
                     "elétrico vem do CEC.")
    lines.append("Campos marcados \"não informado pela fonte\" não constam de nenhuma das "
                 "fontes acima; consulte a folha de dados oficial do fabricante antes de "
                 "dimensionar strings ou proteções.")
    return lines


def _sizing_note(p: Product) -> str:
    if p.category == "module":
        return ("Para o dimensionamento de strings são necessários Voc, Vmp, Isc e o "
                "coeficiente beta_Voc do módulo: Voc(Tmin) = Voc_stc × (1 + beta_Voc × "
                "(Tmin − 25)) × módulos em série deve ficar abaixo da tensão CC máxima do "
                "inversor; Vmp a quente (célula ≈ 70 °C) × módulos em série deve ficar acima "
                "do mínimo do MPPT; Isc × 1,25 deve ficar abaixo da corrente máxima da entrada. "
                "Quando esses valores constam acima como não informados, eles precisam vir da "
                "folha oficial do fabricante.")
    return ("Para o dimensionamento de strings são necessários a tensão CC máxima, a faixa de "
            "tensão MPPT e a corrente máxima por entrada: Voc(Tmin) × módulos em série ≤ "
            "tensão CC máxima; Vmp a quente × módulos em série ≥ mínimo do MPPT; Isc × 1,25 ≤ "
            "corrente máxima da entrada MPPT. Quando esses valores constam acima como não "
            "informados, eles precisam vir da folha oficial do fabricante.")


def write_markdown(sh: Sheet, path: Path) -> None:
    p = sh.p

    def q(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)

    out = ["---",
           f"title: {q(_title(p))}",
           f"manufacturer: {q(p.manufacturer)}",
           f"model: {q(p.model)}",
           f"category: {p.category}",
           f"product_name: {q(p.product_name)}",
           "upstream_ids: [" + ", ".join(q(i) for i in p.upstream_ids) + "]",
           f"cec_entry: {q(sh.cec_entry) if sh.cec_entry else 'null'}",
           f"sources: [{q('catalog export (MIT)')}, {q('CEC database via pvlib ' + sh.pvlib_version)}]",
           "---", "",
           f"# {_title(p)}", "",
           f"**Produto no catálogo:** {p.product_name}  ",
           f"**IDs upstream:** {', '.join(p.upstream_ids)}  ",
           f"**Categoria:** {CATEGORY_PT[p.category]}", "",
           "## Resumo", "", _summary(sh), ""]
    if sh.extra:
        out += ["## Identificação e características gerais", "",
                "| Parâmetro | Valor | Fonte |", "|---|---|---|"]
        out += [f"| {a} | {b} | {c} |" for a, b, c in sh.extra]
        out.append("")
    for title, rows in sh.sections:
        out += [f"## {title}", "", "| Parâmetro | Valor | Fonte |", "|---|---|---|"]
        out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        out.append("")
    out += ["## Notas para dimensionamento", "", _sizing_note(p), ""]
    if p.notes:
        out += ["## Observações", ""] + [f"- {n}" for n in p.notes] + [""]
    out += ["## Fonte dos dados", ""] + [f"- {ln}" for ln in _source_lines(sh)] + [""]
    path.write_text("\n".join(out), encoding="utf-8")


def write_pdf(sh: Sheet, path: Path) -> int:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table,
                                    TableStyle)
    from xml.sax.saxutils import escape

    p = sh.p
    ss = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=ss["BodyText"], fontName="Helvetica", fontSize=9.5,
                          leading=12.5)
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11)
    h1 = ParagraphStyle("h1", parent=ss["Heading1"], fontName="Helvetica-Bold", fontSize=16)
    h2 = ParagraphStyle("h2", parent=ss["Heading2"], fontName="Helvetica-Bold", fontSize=12,
                        spaceBefore=8, spaceAfter=4)
    cell = ParagraphStyle("cell", parent=body, fontSize=9, leading=11)

    def table(rows, widths):
        data = [[Paragraph(escape(str(c)), cell) for c in r] for r in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F2B705")),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        return t

    W = [72 * mm, 72 * mm, 26 * mm]
    head = ["Parâmetro", "Valor", "Fonte"]
    story = [Paragraph(escape(_title(p)), h1)]
    meta_rows = [["Campo", "Valor"],
                 ["Produto no catálogo", p.product_name],
                 ["IDs upstream", ", ".join(p.upstream_ids)],
                 ["Fabricante", p.manufacturer], ["Modelo", p.model],
                 ["Categoria", f"{p.category} ({CATEGORY_PT[p.category]})"]]
    story += [table(meta_rows, [45 * mm, 125 * mm]), Spacer(1, 4 * mm),
              Paragraph("Resumo", h2), Paragraph(escape(_summary(sh)), body)]
    if sh.extra:
        story += [Paragraph("Identificação e características gerais", h2),
                  table([head] + [list(r) for r in sh.extra], W)]
    # page 1: electrical table(s); page 2: the rest
    first = sh.sections[:1] if p.category == "module" else sh.sections[:2]
    rest = sh.sections[len(first):]
    for title, rows in first:
        story += [Paragraph(escape(title), h2), table([head] + [list(r) for r in rows], W)]
    story.append(PageBreak())
    for title, rows in rest:
        story += [Paragraph(escape(title), h2), table([head] + [list(r) for r in rows], W)]
    story += [Paragraph("Notas para dimensionamento", h2), Paragraph(escape(_sizing_note(p)), body)]
    if p.notes:
        story += [Paragraph("Observações", h2)] + [Paragraph("• " + escape(n), body)
                                                   for n in p.notes]
    story += [Paragraph("Fonte dos dados", h2)] + [Paragraph("• " + escape(ln), small)
                                                   for ln in _source_lines(sh)]

    page_count = {"n": 0}

    def on_page(canvas, doc):
        page_count["n"] = doc.page
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.drawString(18 * mm, 10 * mm,
                          f"{p.manufacturer} {p.model} — folha gerada a partir do catálogo YSH "
                          f"e do banco CEC (pvlib {sh.pvlib_version}) — página {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=18 * mm, invariant=1, title=_title(p), author="YSH / Hélio",
        subject=f"category={p.category}; product_name={p.product_name}; "
                f"upstream_ids={','.join(p.upstream_ids)}",
        keywords=[f"category:{p.category}", f"manufacturer:{p.manufacturer}",
                  f"model:{p.model}"] + [f"upstream_id:{i}" for i in p.upstream_ids],
        creator="scripts/build_datasheets.py", producer="ReportLab (invariant)",
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return page_count["n"]


PROVENANCE_HEAD = """# Proveniência das folhas de dados

Estas folhas de dados foram **geradas** por `scripts/build_datasheets.py`; não são cópias de
documentos de fabricantes. Cada valor vem de uma destas fontes:

1. **Export do catálogo YSH** (`own-boldsbrain/ysh-b2b`, `backend/data/catalog/unified_schemas/`,
   commit 5cc83cd, licença MIT; raspado dos portais Neosolar, Solfácil, ODEX e FOTUS em
   out/2025). Só o texto das linhas é usado (nome, descrição, o campo `price` das linhas
   Solfácil, que traz o nome real do produto, e a lista de materiais dos kits). Cada valor está
   em `sources.yaml` com o trecho literal de onde foi lido; o gerador falha se o trecho não
   existir na linha. O bloco `technical_specs` do export não é usado (enriquecimento automático com
   erros conhecidos). Preços e distribuidores não são conteúdo de folha de dados.
2. **Banco de dados CEC** de módulos e inversores (California Energy Commission, distribuído
   pelo NREL System Advisor Model; dados públicos) na cópia que acompanha o pvlib
   ({pvlib}: `sam-library-cec-modules-2019-03-05.csv`, `sam-library-cec-inverters-2019-03-05.csv`).
   Um produto só recebe valores do CEC quando há **uma única** entrada com o mesmo fabricante,
   o mesmo código de modelo (normalizado) e a mesma potência (o mesmo critério da ingestão do
   catálogo, `ingest/catalog/cec.py`). Produtos sem código de modelo nunca são casados.

Campos que nenhuma fonte informa aparecem como "não informado pela fonte".

## Resultado desta geração

- Folhas: {n_total} ({n_mod} módulos, {n_inv} inversores); {n_pdf} PDF ({n_pdf2} com 2 páginas), {n_md} Markdown.
- Folhas com valores do CEC: {n_cec}.
- Por que tão poucas correspondências no CEC: o banco distribuído com o pvlib é de 2019 e vai
  até ≈510 W por módulo, enquanto todos os módulos do catálogo têm 545–710 W; os inversores do
  catálogo são versões para o mercado brasileiro/europeu (Deye, Growatt MIN/MOD/MAX, SAJ,
  Chint NXI, GoodWe, Huawei -L1/-MB0, Enphase -BR), e o CEC só traz versões para a rede dos EUA
  (sufixos US, 208/240/480 V). Parecido não é igual: nenhuma entrada foi usada por semelhança.

A lista completa — arquivo, nome do produto, IDs upstream, campos do catálogo e do CEC — está em
`manifest.json`.

## Arquivos

| arquivo | produto (catálogo) | IDs upstream | CEC |
|---|---|---|---|
"""


def write_all(products: list[Product], catalog: Path, out: Path) -> list[str]:
    """Check the evidence, then write every sheet, manifest.json and PROVENANCE.md into ``out``;
    the evidence errors (nothing written) or ``[]``."""
    errors = check_evidence(products, load_row_texts(catalog))
    if errors:
        return errors
    import pvlib

    cec_mod, cec_inv = cec_tables()
    ver = pvlib.__version__
    sheets = [build_sheet(p, cec_mod, cec_inv, ver) for p in products]
    out.mkdir(parents=True, exist_ok=True)
    wanted = {sh.p.filename for sh in sheets}
    for old in sorted(out.iterdir()):
        if old.suffix in (".pdf", ".md") and old.name not in wanted and old.name != "PROVENANCE.md":
            old.unlink()
    manifest = []
    for sh in sheets:
        p = sh.p
        path = out / p.filename
        if p.fmt == "pdf":
            pages = write_pdf(sh, path)
        else:
            write_markdown(sh, path)
            pages = None
        manifest.append({
            "file": p.filename,
            "key": f"datasheets/{p.filename}",
            "category": p.category,
            "format": p.fmt,
            "pages": pages,
            "title": _title(p),
            "manufacturer": p.manufacturer,
            "model": p.model,
            "product_name": p.product_name,
            "upstream_ids": p.upstream_ids,
            "upstream_rows": [{"file": f, "id": i} for f, i in p.upstream],
            "catalog_fields": [{"label": f.label, "value": f.value, "evidence": f.evidence}
                               for f in p.facts if f.value != NI],
            "cec_entry": sh.cec_entry,
            "cec_match_note": sh.cec_reason,
            "cec_fields": sh.cec_fields,
            "pvlib_version": ver,
        })
    (out / "manifest.json").write_text(
        json.dumps({"generator": "scripts/build_datasheets.py", "pvlib_version": ver,
                    "datasheets": manifest}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8")
    n_pdf = sum(1 for m in manifest if m["format"] == "pdf")
    prov = PROVENANCE_HEAD.format(
        pvlib=f"pvlib {ver}", n_total=len(manifest),
        n_mod=sum(1 for m in manifest if m["category"] == "module"),
        n_inv=sum(1 for m in manifest if m["category"] == "inverter"),
        n_pdf=n_pdf, n_pdf2=sum(1 for m in manifest if m["pages"] == 2),
        n_md=len(manifest) - n_pdf, n_cec=sum(1 for m in manifest if m["cec_entry"]))
    for m in manifest:
        prov += (f"| {m['file']} | {m['product_name']} | {', '.join(m['upstream_ids'])} | "
                 f"{m['cec_entry'] or 'sem correspondência'} |\n")
    (out / "PROVENANCE.md").write_text(prov, encoding="utf-8")
    return []


def _generated(folder: Path) -> set[str]:
    return {p.name for pattern in GENERATED for p in folder.glob(pattern)}


def compare(built: Path, committed: Path) -> list[str]:
    """Files that differ between a fresh build and the committed folder (missing, extra, changed)."""
    a, b = _generated(built), _generated(committed)
    problems = [f"falta no repositório: {n}" for n in sorted(a - b)]
    problems += [f"não gerado pelas fontes: {n}" for n in sorted(b - a)]
    problems += [f"difere: {n}" for n in sorted(a & b) if not filecmp.cmp(built / n, committed / n, shallow=False)]
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, default=CATALOG, help="the catalog export (default: data/catalog)")
    ap.add_argument("--sources", type=Path, default=SOURCES, help="the facts (default: sources.yaml)")
    ap.add_argument("--out", type=Path, default=DATASHEETS)
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and fail when it differs from --out")
    args = ap.parse_args(argv)
    if not all((args.catalog / f).exists() for f in EXPORT_FILES):
        print(f"catalog export not found in {args.catalog} (use --catalog)", file=sys.stderr)
        return 2
    products = load_products(args.sources)
    if args.check:
        with tempfile.TemporaryDirectory(prefix="datasheets-") as tmp:
            errors = write_all(products, args.catalog, Path(tmp)) or compare(Path(tmp), args.out)
        if errors:
            print("\n".join(errors) + "\nregenere: python scripts/build_datasheets.py", file=sys.stderr)
            return 1
        print(f"{len(products)} datasheets up to date in {args.out}")
        return 0
    errors = write_all(products, args.catalog, args.out)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    print(f"wrote {len(products)} datasheets to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
