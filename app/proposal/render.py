"""The customer-facing proposal (PDF, Portuguese): system, generation, savings and payback,
financing options, items and prices. Every figure comes from the quote record (engine
outputs: sizing snapshot, commerce prices, financing simulation); nothing is computed here
except display formatting.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from app.core.text import format_brl, format_number, format_percent
from app.proposal.premises import customer_premises
from app.proposal.charts import NAVY, SUN, monthly_generation_chart, payback_chart
from app.quotes.models import DraftQuote
from app.sizing.models import SizingResult

_FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
              Path("/usr/local/share/fonts")]
_FALLBACK = {"≈": "~", "≥": ">=", "≤": "<=", "−": "-", "→": "->", "·": "."}


@lru_cache(maxsize=1)
def _fonts() -> tuple[str, str]:
    """DejaVu Sans when installed (full Unicode), else the built-in Helvetica."""
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont("HelioSans", str(regular)))
            pdfmetrics.registerFont(TTFont("HelioSans-Bold", str(bold)))
            return "HelioSans", "HelioSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def _text(value: str, font: str) -> str:
    text = escape(value)
    if font.startswith("Helvetica"):  # WinAnsi only: replace the few symbols we use
        for a, b in _FALLBACK.items():
            text = text.replace(a, b)
    return text


class _Styles:
    def __init__(self) -> None:
        self.font, self.bold = _fonts()
        base = getSampleStyleSheet()
        self.body = ParagraphStyle("body", parent=base["BodyText"], fontName=self.font, fontSize=9.5, leading=13)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=7.5, leading=10, textColor=colors.grey)
        self.h1 = ParagraphStyle("h1", parent=base["Title"], fontName=self.bold, fontSize=18, leading=22,
                                 textColor=NAVY, alignment=0, spaceAfter=2)
        self.h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=self.bold, fontSize=12.5, leading=16,
                                 textColor=NAVY, spaceBefore=10, spaceAfter=4)
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=8.5, leading=11)
        self.cell_r = ParagraphStyle("cell_r", parent=self.cell, alignment=TA_RIGHT)

    def p(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(_text(text, self.font), style or self.body)


_INTERNAL_REF = re.compile(r"\s*\([^()]*\b[\w./-]+\.(?:md|ya?ml|py|json|csv)\b[^()]*\)", re.IGNORECASE)
_API_HINT = re.compile(r"\s*[—;-]\s*[^—;]*\b\w+_\w+\[[^\]]*\][^—;]*")


def customer_text(text: str) -> str:
    """Text for the end customer: no internal file names ("(DESIGN.md)") and no API hints
    meant for integrators ("informe rate_overrides_pct['bnb'] …")."""
    return " ".join(_API_HINT.sub("", _INTERNAL_REF.sub("", text)).split())


def _table(rows: list[list[str]], widths: list[float], s: _Styles, header: bool = True,
           right_cols: tuple[int, ...] = ()) -> Table:
    data = [[Paragraph(_text(c, s.font).replace("\n", "<br/>"), s.cell_r if j in right_cols else s.cell) for j, c in enumerate(r)]
            for r in rows]
    t = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    style = [("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#C9D1DB")),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF5"))]
    t.setStyle(TableStyle(style))
    return t


def _kv(rows: list[tuple[str, str]], s: _Styles) -> Table:
    return _table([[k, v] for k, v in rows], [60 * mm, 110 * mm], s, header=False)


def _check_text(design) -> str:
    """The electrical check as an integrator reads it: verified (with the limits), failing, or not checkable."""
    lines = "; ".join(f"{c.check}: {format_number(c.value, decimals=1)} {c.unit}".rstrip() + f" (limite {format_number(c.limit, decimals=1)} {c.unit}".rstrip()
                      + ")" for c in getattr(design, "electrical_checks", []) or [])
    if design.string_check == "verified":
        return "verificada" + (f" — {lines}" if lines else "")
    if design.string_check == "fails":
        return f"REPROVADA — {design.string_check_reason}"
    return f"não verificável — {design.string_check_reason or 'especificações ausentes'}"


def _system_section(q: DraftQuote, r: SizingResult, s: _Styles) -> list:
    design = r.best if q.design_label in (None, r.best.label) else next(
        (a for a in r.alternatives if a.label == q.design_label), r.best)
    e, eco = design.energy, design.economics
    out = [s.p("Resumo do sistema", s.h2), _kv([
        ("Local", f"{r.site.municipality}/{r.site.uf}"),
        ("Potência instalada", f"{format_number(design.dc_kwp, decimals=2)} kWp (inversor {format_number(design.ac_kw, decimals=1)} kW)"),
        ("Módulos", f"{design.module.quantity} × {design.module.name}"),
        ("Inversor", f"{design.inverter.quantity} × {design.inverter.name}"),
        ("Geração anual estimada (P50)", f"{format_number(e.annual_kwh, decimals=0)} kWh/ano"),
        ("Geração anual conservadora (P90)", f"{format_number(e.p90_annual_kwh, decimals=0)} kWh/ano"),
        ("Média mensal", f"{format_number(e.annual_kwh / 12, decimals=0)} kWh/mês"),
        ("Consumo anual informado", f"{format_number(r.consumption.annual_kwh, decimals=0)} kWh/ano"),
        ("Atendimento do consumo", format_percent(e.offset_pct, decimals=0)),
        ("Produtividade", f"{format_number(e.specific_yield_kwh_per_kwp, decimals=0)} kWh/kWp/ano"),
        # An integrator must see when strings could not be checked (kits without datasheet specs).
        ("Verificação elétrica (strings)", _check_text(design)),
    ], s), Spacer(1, 6),
        monthly_generation_chart(e.monthly_kwh, r.consumption.monthly_kwh, s.font)]
    cumulative = [-eco.capex_brl] + [y.cumulative_brl for y in eco.years]
    out += [s.p("Economia e retorno do investimento", s.h2), _kv([
        ("Investimento estimado (equipamentos + instalação)", format_brl(eco.capex_brl)),
        ("Economia no 1º ano", format_brl(eco.first_year_savings_brl)),
        ("Retorno simples (payback)", f"{format_number(eco.simple_payback_years, decimals=1)} anos" if eco.simple_payback_years
         is not None else "acima do horizonte de 25 anos"),
        ("Retorno descontado", f"{format_number(eco.discounted_payback_years, decimals=1)} anos" if eco.discounted_payback_years
         is not None else "acima do horizonte de 25 anos"),
        ("Valor presente líquido (25 anos)", format_brl(eco.npv_brl)),
        ("Taxa interna de retorno", format_percent(eco.irr_pct, decimals=1) if eco.irr_pct is not None else "não definida"),
    ], s), Spacer(1, 6), payback_chart(cumulative, eco.simple_payback_years, s.font)]
    return out


def _financing_section(q: DraftQuote, s: _Styles) -> list:
    f = q.financing
    if f is None:
        return []
    out = [s.p("Opções de financiamento", s.h2),
           s.p(f"Valor do sistema {format_brl(f.amount_brl)}, entrada {format_brl(f.down_payment_brl)}, "
               f"{f.term_months} parcelas ({f.system.upper()})"
               + (f", carência de {f.grace_months} meses" if f.grace_months else "") + ".")]
    if f.options:
        rows = [["#", "Instituição / linha", "Taxa", "Parcela", "Total pago", "IOF", "CET"]]
        for o in f.options:
            payment = format_brl(o.first_payment_brl) if o.system == "price" else \
                f"{format_brl(o.first_payment_brl)} → {format_brl(o.last_payment_brl)}"
            rows.append([str(o.rank), o.line_name, f"{format_percent(o.rate_monthly_pct)} a.m.\n{format_percent(o.rate_annual_pct)} a.a.",
                         payment, format_brl(o.total_paid_brl), format_brl(o.iof_brl),
                         f"{format_percent(o.cet_monthly_pct)} a.m.\n{format_percent(o.cet_annual_pct)} a.a."])
        out.append(_table(rows, [6 * mm, 44 * mm, 24 * mm, 24 * mm, 27 * mm, 21 * mm, 24 * mm], s,
                          right_cols=(2, 3, 4, 5, 6)))
    for line in f.ineligible:
        reasons = "; ".join(customer_text(r) for r in line.reasons)
        out.append(s.p(f"{line.line_name}: não simulada — {reasons}.", s.small))
    out.append(s.p(" ".join(customer_text(n) for n in f.notes)
                   + " Taxas ilustrativas de fontes públicas; sujeitas à análise de crédito.", s.small))
    return out


def _items_section(q: DraftQuote, s: _Styles) -> list:
    rows = [["Item", "SKU", "Qtd.", "Preço unitário", "Total"]]
    rows += [[l.title, l.sku, str(l.quantity), format_brl(l.unit_price_brl), format_brl(l.total_brl)] for l in q.items]
    rows.append(["Total dos equipamentos", "", "", "", format_brl(q.equipment_total_brl)])
    if q.installation_brl is not None:
        rows.append(["Instalação estimada (integrador, não faturada pela YSH)", "", "", "", format_brl(q.installation_brl)])
        rows.append(["Valor estimado do sistema", "", "", "", format_brl(q.system_total_brl)])
    out = [s.p("Itens e preços", s.h2),
           _table(rows, [72 * mm, 40 * mm, 12 * mm, 26 * mm, 26 * mm], s, right_cols=(2, 3, 4))]
    if q.approval.required:
        out.append(s.p("Compra sujeita à aprovação da empresa compradora: " + "; ".join(q.approval.reasons) + ".",
                       s.small))
    for w in q.warnings:
        out.append(s.p(f"Atenção: {w}.", s.small))
    return out


def _client_line(quote: DraftQuote) -> str:
    """A person buying without a company (pessoa física): the name and the masked CPF."""
    person = quote.customer
    cpf = f" (CPF {person.cpf_masked})" if person.cpf_masked else ""
    return f"Cliente: {person.name}{cpf} · pessoa física"


def render_proposal(quote: DraftQuote) -> bytes:
    """The proposal PDF of ``quote`` (bytes)."""
    s = _Styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"Proposta {quote.id}", author="YSH — Hélio",
                            subject="Proposta de sistema fotovoltaico")
    sizing = SizingResult.model_validate(quote.sizing) if quote.sizing else None
    customer = quote.end_customer_name or quote.company_name or quote.company_id
    story: list = [
        s.p("Proposta comercial — sistema fotovoltaico", s.h1),
        s.p(f"Orçamento {quote.id} · emitido em {quote.created_at[:10]} · válido até "
            f"{quote.valid_until.strftime('%d/%m/%Y')} · situação: {quote.status_label}"),
        s.p(_client_line(quote) if quote.customer else f"Cliente: {customer}" + (
            f" · Integrador: {quote.company_name}" if quote.end_customer_name and quote.company_name else "")),
    ]
    if sizing is not None:
        story += _system_section(quote, sizing, s)
    story += _financing_section(quote, s)
    story.append(KeepTogether(_items_section(quote, s)))
    notes = ["Estimativas de geração por simulação horária no local; a geração real varia com o clima "
             "(P90: valor superado em 9 de cada 10 anos).",
             "Economia calculada com as regras da Lei 14.300/2022 (Fio B) e o custo de disponibilidade."]
    if sizing is not None:
        notes += [customer_text(n) for n in customer_premises(sizing)]
    story += [s.p("Premissas", s.h2)] + [s.p(f"• {n}", s.small) for n in notes]

    def footer(canvas, doc_) -> None:
        canvas.saveState()
        canvas.setFont(s.font, 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(18 * mm, 9 * mm, "YSH — proposta gerada pelo Hélio; valores em R$; números calculados "
                                            "pelo motor de dimensionamento e financiamento.")
        canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, f"página {doc_.page}")
        canvas.setStrokeColor(SUN)
        canvas.setLineWidth(2)
        canvas.line(18 * mm, A4[1] - 10 * mm, A4[0] - 18 * mm, A4[1] - 10 * mm)
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
