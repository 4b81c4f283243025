"""Answers from templates: text in the user's language plus structured cards.

Templates live in ``prompts/answers.<lang>.yaml``; every number placed in them is taken
from a tool result (or echoes what the user typed) and formatted here, Brazilian style
for pt-BR ("R$ 1.234,56", "4,95 kWp").
"""

from __future__ import annotations

import re
from functools import lru_cache
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.settings import PROJECT_ROOT
from app.core.text import format_brl, format_kwh, format_number, format_percent
from app.core.yamlfile import load_yaml

if TYPE_CHECKING:
    from collections.abc import Sequence

    from app.agent.ports import FinancingOffers, ProductBrief
    from app.quotes.models import DraftQuoteCreated, QuoteSummary
    from app.retrieval.answer import KnowledgeAnswer
    from app.retrieval.types import Passage
    from app.sizing.models import SizingResult

PROMPTS_DIR = PROJECT_ROOT / "prompts"
LANGS = ("pt-BR", "en")


@lru_cache(maxsize=8)
def templates(lang: str, prompts_dir: Path = PROMPTS_DIR) -> dict[str, Any]:
    """Answer templates for ``lang`` (read once per process; treat as read-only)."""
    return _load_templates(lang if lang in LANGS else "pt-BR", prompts_dir)


@cache
def _load_templates(name: str, prompts_dir: Path) -> dict[str, Any]:
    return load_yaml((prompts_dir / f"answers.{name}.yaml").read_text(encoding="utf-8"))


def fmt_option(key: str, value: Any, lang: str) -> str:
    """A sizing option's value as the user would write it ("R$ 30.000,00", "45 m²", "laje")."""
    t = templates(lang)
    if key in ("budget_brl",):
        return format_brl(value, lang)
    if key in ("target_offset_pct", "shading_pct"):
        return f"{format_number(value, lang, 0)} %"
    if key == "roof_area_m2":
        return f"{format_number(value, lang, 0)} m²"
    if key == "system_kwp":
        return f"{format_number(value, lang, 2)} kWp"
    if key in ("tilt_deg", "azimuth_deg"):
        return f"{format_number(value, lang, 0)}°"
    if key == "roof_type":
        return t["roof_names"].get(value, value)
    return str(value)


def fmt_slot(key: str, value: Any, lang: str) -> str:
    t = templates(lang)
    if key in ("budget_brl", "target_offset_pct", "shading_pct", "roof_area_m2", "system_kwp", "tilt_deg",
               "azimuth_deg", "roof_type", "distributor"):
        shown = fmt_option(key, value, lang)
    elif key == "monthly_kwh":
        shown = f"{format_kwh(value, lang)}/{'mês' if lang != 'en' else 'month'}"
    elif key in ("bill_brl",):
        shown = format_brl(value, lang)
    elif key == "tariff_brl_per_kwh":
        shown = f"{format_brl(value, lang)}/kWh"
    elif key == "connection":
        shown = t["connection_names"].get(value, value)
    else:
        shown = str(value)
    return t["slot_names"].get(key, "{value}").format(value=shown)


# -- sizing result → facts ---------------------------------------------------------------

def sizing_facts(result: SizingResult, lang: str) -> dict[str, str]:
    """Formatted figures of the engine's best design, for the sizing template and card."""
    best = result.best
    module, inverter, energy, econ = best.module, best.inverter, best.energy, best.economics
    facts = {
        "system_kwp": f"{format_number(best.dc_kwp, lang, 2)} kWp",
        "modules": f"{module.quantity} × {module.name}",
        "inverter": (f"{inverter.quantity} × " if inverter.quantity > 1 else "") + inverter.name,
        "annual_kwh": format_kwh(energy.annual_kwh, lang),
        "monthly_kwh": format_kwh(energy.annual_kwh / 12, lang),  # the annual figure above, per month
        "coverage_pct": f"{format_number(energy.offset_pct, lang, 0)} %",
        "specific_yield": f"{format_number(energy.specific_yield_kwh_per_kwp, lang)} kWh/kWp/{'ano' if lang != 'en' else 'yr'}",
    }
    kit = best.kit
    if best.kind == "kit" and kit is not None:
        distributor = f", {kit.distributor}" if kit.distributor else ""
        facts["kit"] = f"{kit.quantity} × {kit.name} ({format_brl(kit.unit_price_brl, lang)}{distributor})"
    if econ.capex_brl is not None:
        facts["capex_brl"] = format_brl(econ.capex_brl, lang)
    if econ.simple_payback_years is not None:
        facts["payback_years"] = format_number(econ.simple_payback_years, lang, 1)
    if best.string_check == "not_verifiable":
        # An integrator must know when strings could not be checked (kits without datasheet specs).
        facts["string_check"] = templates(lang)["string_check_not_verifiable"]
    elif best.string_check == "fails":
        facts["string_check"] = f"{templates(lang)['string_check_fails']} {best.string_check_reason or ''}".strip()
    return facts


def sizing_makers(result: SizingResult) -> dict[str, str | None]:
    """Who makes the best design's inverter and modules ("esse inversor é de que marca?")."""
    best = result.best
    return {"inverter": best.inverter.manufacturer, "module": best.module.manufacturer}


def sizing_products(result: SizingResult) -> list[dict[str, Any]]:
    """Catalog lines of the recommended design (what would be quoted), for a product card."""
    best = result.best
    if best.lines:
        return [
            {"id": line.product_id, "name": line.name, "category": line.category,
             "quantity": line.quantity, "price_brl": line.unit_price_brl, "total_brl": line.total_brl,
             "in_stock": True}
            for line in best.lines
        ]
    return [
        {"id": line.product_id, "name": line.name, "manufacturer": line.manufacturer,
         "quantity": line.quantity, "power_w": line.unit_power_w, "price_brl": line.unit_price_brl,
         "total_brl": line.total_brl, "in_stock": True}
        for line in (best.module, best.inverter)
    ]


def place_label(args: dict[str, Any], result: SizingResult | None = None) -> str:
    if result is not None and result.site.municipality:
        return f"{result.site.municipality}/{result.site.uf}"
    if args.get("municipality"):
        return f"{args['municipality']}/{args['uf']}" if args.get("uf") else str(args["municipality"])
    if args.get("lat") is not None:
        return f"{args['lat']}, {args['lon']}"
    return f"IBGE {args.get('ibge_code')}"


# -- text pieces --------------------------------------------------------------------------

def sizing_text(args: dict[str, Any], result: SizingResult, lang: str) -> tuple[str, dict[str, str]]:
    t = templates(lang)
    facts = sizing_facts(result, lang)
    lines = [t["sizing_head"].format(place=place_label(args, result))]
    lines += [f"- {t['sizing_lines'][k].format(value=v)}" for k, v in facts.items()]
    lines.append(t["sizing_foot"])
    return "\n".join(lines), facts


def sizing_notes(args: dict[str, Any], result: SizingResult, lang: str,
                 battery_kwh: float | None = None) -> list[str]:
    """What became of each thing the user gave beyond consumption, site and phase: used (and
    how), or not used (and why). Figures come from ``result`` or echo the user's."""
    n = templates(lang)["notes"]
    best = result.best
    notes: list[str] = []
    if args.get("bill_brl") and not args.get("tariff_brl_per_kwh") and result.consumption.annual_kwh:
        monthly = result.consumption.annual_kwh / 12
        named = re.search(r"homologada de (.+?) \(TE", " ".join(result.assumptions))
        notes.append(n["bill_tariff"].format(
            bill=format_brl(args["bill_brl"], lang), kwh=format_kwh(monthly, lang),
            tariff=f"{format_brl(best.economics.energy_brl_per_kwh or args['bill_brl'] / monthly, lang)}/kWh",
            distributor=named.group(1) if named else n["site_distributor"]))
    if result.mode == "fixed_size" and args.get("system_kwp"):
        notes.append(n["fixed_size"].format(value=fmt_option("system_kwp", args["system_kwp"], lang)))
        if not (args.get("monthly_kwh") or args.get("monthly_kwh_list") or args.get("bill_brl")):
            notes.append(n["no_consumption"])
    if args.get("roof_type"):
        notes.append(n["roof"].format(value=fmt_option("roof_type", args["roof_type"], lang)))
    if args.get("roof_area_m2"):
        used = best.roof_area_used_m2
        notes.append(n["area_used" if used is not None else "area"].format(
            value=fmt_option("roof_area_m2", args["roof_area_m2"], lang),
            used=f"{format_number(used, lang, 1)} m²" if used is not None else ""))
        cut = next((a for a in result.assumptions if a.startswith("A área do telhado limitou")), None)
        if cut:
            notes.append(cut if lang.startswith("pt") else n["area_limited"])
    if args.get("tilt_deg") is not None or args.get("azimuth_deg") is not None:
        notes.append(n["plane"].format(tilt=f"{format_number(result.tilt_deg, lang, 0)}°",
                                       azimuth=f"{format_number(result.azimuth_deg, lang, 0)}°"))
    if args.get("shading_pct") is not None:
        notes.append(n["shading"].format(value=fmt_option("shading_pct", args["shading_pct"], lang)))
    if args.get("target_offset_pct") is not None:
        notes.append(n["coverage"].format(value=fmt_option("target_offset_pct", args["target_offset_pct"], lang)))
    capex = best.economics.capex_brl
    if args.get("budget_brl") and capex is not None:
        notes.append(n["budget_ok"].format(value=fmt_option("budget_brl", args["budget_brl"], lang),
                                           capex=format_brl(capex, lang)))
    if args.get("distributor"):
        notes.append(n["distributor"].format(value=args["distributor"]))
    if battery_kwh:
        notes.append(n["battery_ignored"].format(value=format_kwh(battery_kwh, lang)))
    return notes


def products_text(items: list[ProductBrief], lang: str, filters: dict[str, Any] | None = None) -> str:
    t = templates(lang)
    if not items:
        said = ", ".join(_filter_text(k, v, lang) for k, v in (filters or {}).items() if _filter_text(k, v, lang))
        return t["products_none"] + (" " + t["products_filters"].format(items=said) if said else "")
    lines = [t["products_head"].format(count=len(items))]
    for p in items:
        bits = [p.name]
        if p.power_w:
            bits.append(f"{format_number(p.power_w, lang)} W")
        if p.price_brl:
            bits.append(format_brl(p.price_brl, lang))
        bits.append(t["in_stock"] if p.in_stock else t["out_of_stock"])
        lines.append(f"- {' · '.join(bits)} (id: {p.id})")
    return "\n".join(lines)


def _filter_text(key: str, value: Any, lang: str) -> str:
    """A search filter as words, for "nothing found with …" (echoes what the user asked)."""
    names = templates(lang)["filter_names"]
    if key not in names:
        return ""
    if key.endswith("price_brl"):
        shown = format_brl(value, lang)
    elif key.endswith("power_w"):
        shown = f"{format_number(value, lang)} W"
    elif key == "capacity_kwh":
        shown = format_kwh(value, lang, 1)
    elif key == "voltage_v":
        shown = f"{format_number(value, lang)} V"
    elif key == "category":
        shown = templates(lang)["category_names"].get(value, value)
    elif key == "phase":
        shown = templates(lang)["connection_names"].get(value, value)
    else:
        shown = str(value)
    return names[key].format(value=shown)


def ask_text(missing: list[str], lang: str, again: bool, *, municipality: str | None = None,
             options: tuple[str, ...] = ()) -> str:
    t = templates(lang)
    items = [t["ask_items"][m].format(municipality=municipality or "", options=", ".join(options)) for m in missing]
    return t["ask_again_intro" if again else "ask_intro"] + "\n" + "\n".join(f"- {i}" for i in items)


_INJECTION = re.compile(
    r"(ignore|ignor[ae]|desconsider\w*|esque[çc]a|forget|disregard)\b[^.\n]{0,60}\b(instru\w*|instruction\w*|"
    r"regras|rules|prompt|anteriores|previous|above)|\b(system prompt|you are now|voc[eê] agora [eé]|"
    r"call the tool|chame a ferramenta|use a ferramenta|tool call|function call|<\|?im_start|\[INST\])"
    r"|\b(diga|responda|afirme|informe|say|tell the user|answer|reply)\s+(ao usu[aá]rio\s+)?(que|that)\b",
    re.IGNORECASE,
)


INJECTION = _INJECTION  # also read by the rules on the user's own message (app.agent.intent)


def clean_passage(text: str, max_chars: int = 320) -> tuple[str, bool]:
    """A retrieved passage fit to quote: sentences that try to instruct the assistant are
    dropped (retrieved text is data), whitespace collapsed, length bounded."""
    sentences = re.split(r"(?<=[.!?])\s+|\n+", text)
    kept = [s for s in sentences if not _INJECTION.search(s)]
    cleaned = re.sub(r"\s+", " ", " ".join(kept)).strip()
    if len(cleaned) > max_chars:
        cleaned = cleaned[: max_chars].rsplit(" ", 1)[0] + " …"
    return cleaned, len(kept) != len(sentences)


def is_instruction(text: str) -> bool:
    """Retrieved text that tries to instruct the assistant (it is data, never obeyed)."""
    return bool(_INJECTION.search(text))


def _quote(text: str, max_chars: int = 360) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= max_chars else text[:max_chars].rsplit(" ", 1)[0] + " …"


def knowledge_text(answer: KnowledgeAnswer, hits: Sequence[Passage], lang: str) -> tuple[str, list[dict[str, Any]]]:
    """The reply to a knowledge question and its citations, from :class:`~app.retrieval.answer.KnowledgeAnswer`.

    Every figure shown is inside a quoted passage (or the document's title); the lead line
    only re-arranges the quoted row's own cells."""
    cites = knowledge_citations(answer, hits)
    return knowledge_answer_text(answer, cites, lang), cites


def knowledge_citations(answer: KnowledgeAnswer, hits: Sequence[Passage]) -> list[dict[str, Any]]:
    """The citations of a knowledge answer, numbered as its text refers to them (none when the
    sources do not cover the question)."""
    if answer.kind == "none":
        return []
    return [{"index": n, "label": citation_label(hits[i].citation), **hits[i].citation,
             "score": hits[i].score} for n, i in enumerate(answer.hits, start=1)]


def knowledge_answer_text(answer: KnowledgeAnswer, cites: list[dict[str, Any]], lang: str) -> str:
    """The words of a knowledge answer (see :func:`knowledge_text`), given its citations."""
    k = templates(lang)["knowledge"]
    number = {i: n for n, i in enumerate(answer.hits, start=1)}
    if answer.kind == "none":
        missing = (answer.why or {}).get("missing") or []
        about = k["none_about"].format(words=", ".join(missing)) if missing else ""
        return k["none"].format(about=about)
    title = cites[0]["title"] if cites else ""
    asked = answer.asked or k["this_data"]
    lines: list[str] = []
    if answer.kind == "silent":
        if answer.quotes:
            q = answer.quotes[0]
            lines.append(k["silent_quoted"].format(title=title, asked=asked))
            lines.append(f"«{_quote(q.unit.text)}» [{number[q.unit.hit]}]")
        else:
            product = cites and cites[0].get("doc_type") in ("datasheet", "catalog")
            lines.append(k["silent"].format(title=title, asked=asked, n=1,
                                            check=k["check_datasheet" if product else "check_other"]))
    else:
        first = answer.quotes[0].unit
        if first.kind == "row" and first.key and first.value and ";" not in first.value:
            lines.append(k["lead_row"].format(key=first.key, value=first.value, title=title))
        else:
            lines.append(k["lead"].format(title=title))
        lines += [f"«{_quote(q.unit.text)}» [{number[q.unit.hit]}]" for q in answer.quotes]
    lines.append(k["sources"] + " " + "; ".join(f"[{c['index']}] {c['label']}" for c in cites))
    return "\n".join(lines)


def citation_label(citation: dict[str, Any]) -> str:
    label = str(citation.get("title") or citation.get("source") or "fonte")
    if citation.get("page"):
        label += f", p. {citation['page']}"
    if citation.get("section"):
        label += f", § {citation['section']}"
    return label


def chunks(text: str) -> list[str]:
    """The pieces of a filled template for ``token`` events: its lines, as the template is
    written (a template has no tokens to stream; cutting it into words would fake a model)."""
    return [line for line in text.splitlines(keepends=True) if line]


# -- sales: financing options and quotes ----------------------------------------------------

def fmt_date(iso: str, lang: str) -> str:
    """'2025-07-01' → '01/07/2025' (pt-BR); English keeps ISO."""
    if lang == "en" or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso or ""):
        return iso
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def financing_text(result: FinancingOffers, lang: str, from_sizing: bool) -> str:
    """The ranked credit lines of ``simulate_financing``; every figure from ``result``."""
    t = templates(lang)
    f = t["financing"]
    options = result.options
    if not options:
        reasons = "; ".join(f"{i.lender}: {', '.join(i.reasons)}" for i in result.ineligible)
        return f["none"].format(reasons=reasons or "-")
    lines = [f["head"].format(amount=format_brl(result.amount_brl, lang), term=result.term_months,
                              system=f["systems"].get(result.system, result.system),
                              source=f["from_sizing"] if from_sizing else "")]
    if result.down_payment_brl:
        lines.append(f["down"].format(value=format_brl(result.down_payment_brl, lang),
                                      financed=format_brl(result.financed_brl, lang)))
    for o in options:
        same = abs(o.first_payment_brl - o.last_payment_brl) < 0.005
        installment = format_brl(o.first_payment_brl, lang) if same else f["varying"].format(
            first=format_brl(o.first_payment_brl, lang), last=format_brl(o.last_payment_brl, lang))
        lines.append(f["option"].format(
            rank=o.rank, lender=o.lender, line=o.line, rate=format_percent(o.rate_monthly_pct, lang),
            n=o.n_installments, installment=installment, total=format_brl(o.total_paid_brl, lang),
            cet_m=format_percent(o.cet_monthly_pct, lang), cet_a=format_percent(o.cet_annual_pct, lang)))
    if result.ineligible:
        lines.append(f["ineligible"].format(items=", ".join(i.lender for i in result.ineligible)))
    lines.append(f["foot"])
    return "\n".join(lines)


def fmt_cnpj(digits: str) -> str:
    """'12345678000190' → '12.345.678/0001-90' (other lengths as given)."""
    if not re.fullmatch(r"\d{14}", digits or ""):
        return digits
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"


def quote_preview_text(summary: QuoteSummary, company_id: str, lang: str) -> str:
    """The summary shown before a quote is created, ending with the yes/no question."""
    q = templates(lang)["quote"]
    lines = [q["preview_head"].format(company=company_id)]
    for item in summary.items:
        lines.append("- " + q["item"].format(quantity=item.quantity, title=item.title,
                                             unit=format_brl(item.unit_price_brl, lang),
                                             total=format_brl(item.total_brl, lang)))
    lines.append(q["equipment"].format(value=format_brl(summary.equipment_total_brl, lang)))
    if summary.installation_brl is not None:
        lines.append(q["installation"].format(value=format_brl(summary.installation_brl, lang)))
    lines.append(q["system_total"].format(value=format_brl(summary.system_total_brl, lang)))
    if summary.approval_required:
        lines.append(q["approval_needed"].format(reasons="; ".join(summary.approval_reasons)))
    else:
        lines.append(q["approval_free"])
    if summary.validity_days:
        lines.append(q["validity"].format(days=summary.validity_days))
    if summary.warnings:
        lines.append(q["warnings"].format(items="; ".join(summary.warnings)))
    lines.append(q["confirm"])
    return "\n".join(lines)


def person_preview_text(summary: QuoteSummary, lang: str) -> str:
    """The summary of a quote for a person: "Criar rascunho para pessoa física Maria Souza
    (CPF ***.982.247-**)? …", the items and totals, whether she is already on file, then the yes/no."""
    q = templates(lang)["quote"]
    person = summary.customer
    assert person is not None, "a person's quote summary names her"
    contact = f"CPF {person.cpf_masked}" if person.cpf_masked else person.email or person.phone
    lines = quote_preview_text(summary, "", lang).split("\n")[1:]  # the company's head line is not hers
    lines = [line for line in lines if line != q["approval_free"]]   # no company, no spending limit
    on_file = q["pf_existing" if person.existing else "pf_new"].format(name=person.name)
    return "\n".join([q["pf_preview_head"].format(name=person.name, contact=contact), *lines[:-1], on_file,
                      lines[-1]])


def quote_done_text(result: DraftQuoteCreated, lang: str) -> str:
    """The answer after ``create_draft_quote(confirmed=True)``: created, or an idempotent replay."""
    q = templates(lang)["quote"]
    fields = dict(id=result.quote_id, status=result.status_label if lang != "en" else result.status,
                  total=format_brl(result.system_total_brl, lang), valid_until=fmt_date(result.valid_until, lang),
                  url=result.proposal_url)
    lines = [q["created" if result.created else "exists"].format(**fields)]
    if result.created and result.approval_required:
        lines.append(q["approval_pending"].format(reasons="; ".join(result.approval_reasons)))
    return "\n".join(lines)
