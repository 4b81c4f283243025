"""Plausibility rules at ingestion: check every product, correct from a source or hold back.

The rules are data (``app/catalog/plausibility.yaml``). :func:`check` says which typed
values fail them (pure; the property test runs it over every served product).
:func:`enforce` resolves each failure: a value some source states plainly (the name, the
description, another listing of the same SKU, a datasheet already applied) replaces it,
with the evidence quoted in the product's ``quality`` notes; otherwise the value is held
back (``None``, reason in ``missing_specs`` and ``quality``), so neither the sizing engine nor
the assistant can use it. :func:`write_quality_report` counts the notes per rule.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from app.catalog.models import Category, Phase, Product, QualityNote
from app.catalog.repository import CatalogRepository
from app.catalog.rules import Rule, load_rules, rule
from ingest.catalog.source import RawRow
from ingest.catalog.specs import parse_module_efficiency_pct, parse_phase, parse_power_w, parse_voltages_v
from app.core.text import fold
from ingest.catalog.text import alnum_key, clean_text, is_url

REPORT_NAME = "catalog-quality.json"

# A name that ends in a lone 1–2 digit number ("Livoltek 7", "MAX60KTL3-XL 2", "Off Grid - 1")
# was most likely cut at a decimal comma or a line break.
_CUT_NAME_RE = re.compile(r"(^\")|(\s[-–]?\s*\d{1,2}$)")
_INCOMPLETE_MARK = "(nome incompleto na origem"
_THREE_PHASE_MARK_RE = re.compile(r"trifasic|\btri\b|\b3f\b|380|\b3 ?fases\b")
# "10K", "7K5", "5.0K", "MAX60KTL3": kW written in a model code (not "KWH").
_K_CODE_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)K(\d)?(?!WH)", re.IGNORECASE)


@dataclass(frozen=True)
class Violation:
    rule: Rule
    field: str
    found: float | str | None
    reason: str


# ------------------------------------------------------------------ field access


def get_field(p: Product, path: str) -> object:
    obj: object = p
    for part in path.split("."):
        obj = getattr(obj, part, None) if obj is not None else None
    return obj


def set_field(p: Product, path: str, value: object) -> None:
    *parents, leaf = path.split(".")
    obj: object = p
    for part in parents:
        obj = getattr(obj, part, None)
        if obj is None:
            return
    setattr(obj, leaf, value)


def _close(a: float, b: float, tol_pct: float) -> bool:
    return abs(a - b) <= tol_pct / 100 * max(abs(a), abs(b))


def _fmt(v: object) -> str:
    return f"{v:g}" if isinstance(v, float | int) and not isinstance(v, bool) else str(v)


def model_code_kw(code: str | None) -> float | None:
    """kW written in a model code: "GT1-7K5T2" → 7.5, "NXI-5.0K-T2" → 5.0, "MAX60KTL3-XL" → 60."""
    m = _K_CODE_RE.search(code or "")
    if not m:
        return None
    whole = float(m.group(1))
    return whole + int(m.group(2)) / 10 if m.group(2) and "." not in m.group(1) else whole


def _code_digits(code: str | None) -> str:
    """First digit group of a model code after its series letters: "HP3522" → "3522"."""
    m = re.search(r"\d+", code or "")
    return m.group(0) if m else ""


def _significant(value: float) -> str:
    """Significant digits of a number: 3500 → "35", 3.5 → "35", 0.8 → "8"."""
    return f"{value:.6g}".replace(".", "").strip("0")


def _agrees_with_code(watts: float, code: str | None) -> bool:
    """True when the code's digits start with the power's significant digits (3500 W ↔ "HP3522")."""
    digits, sig = _code_digits(code), _significant(watts)
    return bool(digits) and bool(sig) and digits.startswith(sig)


def _copied_from_code(value: float, p: Product) -> str:
    """" (o '80' de SUN-M80G4)" when ``value`` is a number written in the model code."""
    if value != int(value):
        return ""
    for code in (p.model, p.name):
        if code and re.search(rf"(?<!\d){int(value)}(?!\d)", code):
            return f" (é o '{int(value)}' escrito em {p.model or 'nome'})"
    return ""


def _product_text(p: Product) -> str:
    return f"{p.name} {p.description or ''}"


# ------------------------------------------------------------------ checks (pure)


def _check_range(r: Rule, p: Product) -> list[Violation]:
    v = get_field(p, r.field)
    if not isinstance(v, int | float) or r.in_range(float(v)):
        return []
    unit = f" {r.unit}" if r.unit else ""
    why = f"{_fmt(v)}{unit} fora da faixa plausível {_fmt(r.min)}–{_fmt(r.max)}{unit}" + _copied_from_code(float(v), p)
    return [Violation(r, r.field, float(v), why)]


def _check_greater(r: Rule, p: Product) -> list[Violation]:
    a, b = get_field(p, r.field), get_field(p, r.than or "")
    if not isinstance(a, int | float) or not isinstance(b, int | float) or a > b:
        return []
    why = f"{r.field.split('.')[-1]}={_fmt(a)} não é maior que {(r.than or '').split('.')[-1]}={_fmt(b)}"
    return [Violation(r, r.field, float(a), why), Violation(r, r.than or "", float(b), why)]


def power_problem(r: Rule, p: Product, watts: float) -> str | None:
    """Why ``watts`` cannot be the nominal power of ``p`` under rule ``r``; ``None`` when it can."""
    cat = p.category.value
    lo, hi = r.min_w.get(cat), r.max_w.get(cat)
    tol = r.tolerance_pct or 0.0
    if (lo is not None and watts < lo) or (hi is not None and watts > hi):
        return f"{_fmt(watts)} W fora da faixa de {cat} ({_fmt(lo)}–{_fmt(hi)} W)"
    stated = parse_power_w(p.name)
    if stated and not _close(watts, stated, tol):
        return f"o nome declara {_fmt(stated)} W"
    kw = model_code_kw(p.model) if p.category is Category.INVERTER else None
    if kw and not stated and not _close(watts, kw * 1000, tol):
        return f"o código {p.model} declara {_fmt(kw)} kW"
    return None


def _check_power(r: Rule, p: Product) -> list[Violation]:
    """One finding per product: ``power_w`` and its copy in the specs are served together."""
    values = [p.power_w, p.inverter.ac_power_w if p.inverter else None, p.module.pmax_w if p.module else None]
    for v in values:
        if v is not None and (why := power_problem(r, p, float(v))):
            return [Violation(r, r.field, float(v), why)]
    return []


def _check_phase(r: Rule, p: Product) -> list[Violation]:
    inv = p.inverter
    phase = p.phase or (inv.phase if inv else None)
    if inv is None or phase is None:
        return []
    why = phase_problem(r, p, phase)
    return [Violation(r, "phase", phase.value, why)] if why else []


def phase_problem(r: Rule, p: Product, phase: Phase) -> str | None:
    inv = p.inverter
    stated = parse_phase(p.name)
    if stated and stated is not phase:
        return f"o nome diz {stated.value}"
    kind = inv.inverter_type.value if inv and inv.inverter_type else None
    if phase is Phase.THREE and kind in r.types:
        ac_v = (inv.ac_voltage_v if inv else None) or parse_voltages_v(p.name)[1]
        if ac_v and ac_v <= (r.single_phase_max_v or 0) and not _THREE_PHASE_MARK_RE.search(fold(_product_text(p))):
            return (f"{kind} com uma única tensão de saída de {_fmt(ac_v)} V e nenhuma marca trifásica "
                    f"no nome: a saída é monofásica")
    return None


def _kit_sum_w(p: Product) -> float | None:
    modules = [c for c in p.components if c.category is Category.MODULE]
    if not modules or any(c.power_w is None for c in modules):
        return None
    return float(sum(c.power_w * c.quantity for c in modules))  # type: ignore[operator]


def _check_kit(r: Rule, p: Product) -> list[Violation]:
    total = _kit_sum_w(p)
    if total is None or (p.power_w is not None and _close(p.power_w, total, r.tolerance_pct or 0.0)):
        return []
    return [Violation(r, "power_w", p.power_w, f"kWp {_fmt(p.power_w)} W ≠ soma dos módulos {_fmt(total)} W")]


def _check_positive(r: Rule, p: Product) -> list[Violation]:
    v = get_field(p, r.field)
    if isinstance(v, int | float) and v <= 0:
        return [Violation(r, r.field, float(v), f"{_fmt(v)} não é um preço")]
    return []


def looks_cut(name: str) -> bool:
    return bool(_CUT_NAME_RE.search(name)) and _INCOMPLETE_MARK not in name


def _check_name(r: Rule, p: Product) -> list[Violation]:
    if p.category is not Category.KIT or not p.components:  # BOM-built kit names are complete
        if looks_cut(p.name):
            return [Violation(r, "name", p.name, "o nome termina num número solto: parece cortado pelo export")]
    return []


_CHECKS = {
    "range": _check_range, "greater": _check_greater, "power_stated": _check_power,
    "output_phase": _check_phase, "kit_kwp": _check_kit, "positive": _check_positive, "complete_name": _check_name,
}


def check(p: Product, rules: Sequence[Rule] | None = None) -> list[Violation]:
    """Every rule ``p`` fails, in rule order (empty: ``p`` may be served as it is)."""
    out: list[Violation] = []
    for r in rules if rules is not None else load_rules():
        if r.applies_to(p.category.value):
            out.extend(_CHECKS[r.check](r, p))
    return out


# ------------------------------------------------------------------ sources and resolution


@dataclass(frozen=True)
class Candidate:
    value: float | str
    source: str
    evidence: str


def _row_texts(rows: Iterable[RawRow]) -> list[tuple[str, str]]:
    """(where, text) of every usable name/description of the rows."""
    out = []
    for r in rows:
        for key in ("name", "description"):
            raw = r.data.get(key)
            text = clean_text(raw if isinstance(raw, str) else None)
            if text and not is_url(text):
                out.append((f"{r.ref} {key}", text))
    return out


def _efficiency_candidates(r: Rule, p: Product, rows: Sequence[RawRow]) -> list[Candidate]:
    out = []
    if p.category is Category.MODULE:
        for where, text in [("name", p.name), ("description", p.description or ""), *_row_texts(rows)]:
            if (v := parse_module_efficiency_pct(text)) is not None:
                out.append(Candidate(v, where, text[:160]))
    for row in rows:
        ts = row.data.get("technical_specs")
        v = ts.get("efficiency") if isinstance(ts, dict) else None
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and not _copied_from_code(
                float(v), p) and not any(w and math.isclose(float(v), w, rel_tol=1e-3)
                                         for w in (p.power_w, (p.power_w or 0) / 1000)):
            out.append(Candidate(float(v), f"{row.ref} technical_specs.efficiency", f"efficiency={v}"))
    return [c for c in out if r.in_range(float(c.value))]


def _power_candidates(r: Rule, p: Product, rows: Sequence[RawRow]) -> list[Candidate]:
    out = []
    if (w := parse_power_w(p.name)) is not None:
        out.append(Candidate(w, "name", p.name))
    if p.category is Category.INVERTER and (kw := model_code_kw(p.model)):
        out.append(Candidate(kw * 1000, "model", f"código do modelo {p.model} ({_fmt(kw)} kW)"))
    for where, text in [("description", p.description or ""), *_row_texts(rows)]:
        if (w := parse_power_w(text)) is not None:
            out.append(Candidate(w, where, text[:160]))
    # Bare numbers of the export: the unit is whichever (W or kW) the model code agrees with.
    for row in rows:
        ts = row.data.get("technical_specs") if isinstance(row.data.get("technical_specs"), dict) else {}
        for where, v in (("technical_specs.power_w", ts.get("power_w")), ("technical_specs.power_kw", ts.get("power_kw")),
                         ("power_kw", row.data.get("power_kw")), ("power", row.data.get("power"))):
            if not isinstance(v, int | float) or isinstance(v, bool) or v <= 0:
                continue
            for watts, unit in ((float(v), "W"), (float(v) * 1000, "kW")):
                if _agrees_with_code(watts, p.model):
                    out.append(Candidate(watts, f"{row.ref} {where}",
                                         f"{where}={v} lido em {unit}: o código {p.model} começa por "
                                         f"{_significant(watts)}"))
    return [c for c in out if power_problem(r, p, float(c.value)) is None]


def _phase_candidates(r: Rule, p: Product, rows: Sequence[RawRow]) -> list[Candidate]:
    out = []
    for where, text in [("name", p.name), ("description", p.description or ""), *_row_texts(rows)]:
        if (ph := parse_phase(text)) is not None:
            out.append(Candidate(ph.value, where, text[:160]))
    inv = p.inverter
    kind = inv.inverter_type.value if inv and inv.inverter_type else None
    ac_v = (inv.ac_voltage_v if inv else None) or parse_voltages_v(p.name)[1]
    if kind in r.types and ac_v and ac_v <= (r.single_phase_max_v or 0) and not _THREE_PHASE_MARK_RE.search(
            fold(_product_text(p))):
        m = re.search(r"\d{2}\s*/\s*\d{3}\s*v", fold(p.name))
        out.append(Candidate(Phase.SINGLE.value, "name (tensão de saída)",
                             f"saída {m.group(0) if m else f'{ac_v:g} V'}: uma única tensão CA de até "
                             f"{_fmt(r.single_phase_max_v)} V, sem marca trifásica → monofásica"))
    return [c for c in out if phase_problem(r, p, Phase(c.value)) is None]


def _kit_candidates(r: Rule, p: Product, rows: Sequence[RawRow]) -> list[Candidate]:
    total = _kit_sum_w(p)
    if total is None:
        return []
    modules = [c for c in p.components if c.category is Category.MODULE]
    terms = " + ".join(f"{c.quantity} × {_fmt(c.power_w)} W" for c in modules)
    return [Candidate(total, "lista de materiais (soma dos módulos)", f"{terms} = {_fmt(total)} W")]


def _name_candidates(r: Rule, p: Product, rows: Sequence[RawRow]) -> list[Candidate]:
    """Texts of the same SKU holding every word of the cut name and more (one line, name-sized)."""
    tokens = [alnum_key(t) for t in re.split(r"\s+", p.name) if alnum_key(t)]
    out = []
    for where, text in [("description", p.description or ""), *_row_texts(rows)]:
        if not text or len(text) > 160 or "\n" in text or len(text) <= len(p.name) or looks_cut(text):
            continue
        compact = alnum_key(text)
        if all(t in compact for t in tokens):
            out.append(Candidate(text, where, text))
    return out


_RESOLVERS = {
    "range": _efficiency_candidates, "power_stated": _power_candidates, "output_phase": _phase_candidates,
    "kit_kwp": _kit_candidates, "complete_name": _name_candidates,
}


def _set_power(p: Product, watts: float | None) -> None:
    p.power_w = watts
    if p.inverter is not None:
        p.inverter.ac_power_w = watts
    if p.module is not None:
        p.module.pmax_w = watts


def _apply(p: Product, v: Violation, value: object, source: str | None) -> None:
    """Serve ``value`` (``None`` = held back) for the violated field, keeping its siblings in step."""
    rule_check = v.rule.check
    if rule_check == "power_stated":
        _set_power(p, value)  # type: ignore[arg-type]
        keys = ("ac_power_w",) if p.inverter is not None else ("pmax_w",) if p.module is not None else ()
    elif rule_check == "output_phase":
        phase = Phase(value) if value is not None else None
        p.phase = phase
        if p.inverter is not None:
            p.inverter.phase = phase
        keys = ("phase",)
    else:
        set_field(p, v.field, value)
        keys = (v.field.split(".")[-1],)
    for key in keys:
        if value is None:
            p.spec_sources.pop(key, None)
            p.missing_specs[key] = f"retido: {v.reason}"
        else:
            p.spec_sources[key] = f"corrigido ({source})"
            p.missing_specs.pop(key, None)


def _mark_incomplete(p: Product) -> str:
    offer = p.offers[0] if p.offers else None
    code = re.sub(r"^[a-z]+_[a-z]+_", "", offer.source_id) if offer else ""
    where = f"; {offer.distributor} {code}" if offer else ""
    return f"{p.name.lstrip(chr(34))}… {_INCOMPLETE_MARK}{where})"


def enforce(p: Product, rows: Sequence[RawRow] = (), rules: Sequence[Rule] | None = None) -> list[QualityNote]:
    """Resolve every rule ``p`` fails, in place; returns the notes added to ``p.quality``.

    ``rows``: the export rows of every listing merged into ``p`` (the other sources).
    """
    added: list[QualityNote] = []
    # A name the listing already found cut, with nothing to complete it: say so in the name.
    for note in p.quality:
        if note.rule == "complete_name" and note.action == "held_back" and _INCOMPLETE_MARK not in p.name:
            candidates = _name_candidates(rule("complete_name"), p, rows)
            if candidates:
                note.action, note.value, note.source, note.evidence = (
                    "corrected", candidates[0].value, candidates[0].source, candidates[0].evidence)
                p.name = str(candidates[0].value)
            else:
                p.name = note.value = _mark_incomplete(p)
    for v in check(p, rules):
        if get_field(p, v.field) is None and v.rule.check not in ("output_phase", "power_stated", "complete_name"):
            continue  # the other field of a pair already held back
        # Only efficiencies have other sources among the range rules; a Voc/Vmp pair never does.
        resolver = _RESOLVERS.get(v.rule.check)
        if v.rule.check == "range" and not v.field.endswith("efficiency_pct"):
            resolver = None
        candidates = resolver(v.rule, p, rows) if resolver else []
        if v.rule.check == "complete_name":
            if candidates:
                note = QualityNote(rule=v.rule.id, field="name", action="corrected", found=p.name,
                                   value=str(candidates[0].value), reason=v.reason, source=candidates[0].source,
                                   evidence=candidates[0].evidence)
                p.name = str(candidates[0].value)
            else:
                note = QualityNote(rule=v.rule.id, field="name", action="held_back", found=p.name, reason=v.reason)
                p.name = note.value = _mark_incomplete(p)
        elif candidates:
            best = candidates[0]
            _apply(p, v, best.value, best.source)
            note = QualityNote(rule=v.rule.id, field=v.field, action="corrected", found=v.found, value=best.value,
                               reason=v.reason, source=best.source, evidence=best.evidence)
        else:
            _apply(p, v, None, None)
            note = QualityNote(rule=v.rule.id, field=v.field, action="held_back", found=v.found, reason=v.reason)
        p.quality.append(note)
        added.append(note)
    return added


# ------------------------------------------------------------------ report


class RuleCount(BaseModel):
    rule: str
    category: str | list[str]
    reason: str
    findings: int = 0
    corrected: int = 0
    held_back: int = 0
    products: list[str] = Field(default_factory=list)


class Finding(BaseModel):
    product_id: str
    name: str
    rule: str
    field: str
    action: str
    found: float | str | None
    value: float | str | None
    reason: str
    source: str | None = None
    evidence: str | None = None


class QualityReport(BaseModel):
    products_checked: int = 0
    products_affected: int = 0
    findings: int = 0
    corrected: int = 0
    held_back: int = 0
    per_rule: list[RuleCount] = Field(default_factory=list)
    details: list[Finding] = Field(default_factory=list)

    def summary_line(self, path: Path | None = None) -> str:
        where = f" — {path}" if path else ""
        return (f"Qualidade do catálogo: {self.findings} achados em {self.products_affected} de "
                f"{self.products_checked} produtos — {self.corrected} corrigidos, {self.held_back} retidos{where}")


def build_quality_report(products: Iterable[Product]) -> QualityReport:
    """Counts per rule and every finding, from the notes the products carry (sorted, no timestamps)."""
    counts = {r.id: RuleCount(rule=r.id, category=r.category, reason=r.reason) for r in load_rules()}
    report = QualityReport()
    affected = set()
    for p in sorted(products, key=lambda x: x.id):
        report.products_checked += 1
        for n in p.quality:
            c = counts[n.rule]
            c.findings += 1
            c.corrected += n.action == "corrected"
            c.held_back += n.action == "held_back"
            if p.id not in c.products:
                c.products.append(p.id)
            affected.add(p.id)
            report.details.append(Finding(product_id=p.id, name=p.name, **n.model_dump()))
    report.per_rule = list(counts.values())
    report.products_affected = len(affected)
    report.findings = sum(c.findings for c in report.per_rule)
    report.corrected = sum(c.corrected for c in report.per_rule)
    report.held_back = sum(c.held_back for c in report.per_rule)
    return report


def write_quality_report(report: QualityReport, report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / REPORT_NAME
    path.write_text(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n", "utf-8")
    return path


def recheck_store(store: CatalogRepository, report_dir: Path) -> tuple[QualityReport, Path]:
    """Run the rules again on the stored catalog (after datasheet specs were applied), fix what
    fails, and rewrite the quality report. A value a datasheet filled where one was held back is
    recorded as corrected from that datasheet."""
    changed: list[Product] = []
    products: list[Product] = []
    for stored in store.iter_products():
        p = stored.model_copy(deep=True)
        touched = bool(enforce(p))
        for n in p.quality:
            leaf = n.field.split(".")[-1]
            now = get_field(p, n.field)
            src = p.spec_sources.get(leaf, "")
            if n.action == "held_back" and now is not None and src.startswith("datasheet:"):
                n.action, n.value, n.source, n.evidence = "corrected", now, src, f"{leaf}={_fmt(now)} na ficha técnica"
                touched = True
        if touched:
            changed.append(p)
        products.append(p)
    if changed:
        store.upsert(changed)
    report = build_quality_report(products)
    return report, write_quality_report(report, report_dir)


__all__ = ["QualityReport", "Violation", "build_quality_report", "check", "enforce", "recheck_store",
           "write_quality_report"]
