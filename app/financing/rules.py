"""Credit-line rules and IOF rates, loaded from data files (never constants in code).

``credit_lines.yaml`` uses ``null`` for "the source does not say". Those stay ``None`` here,
so the simulator can tell "not restricted by any known rule" (and say so) from a real limit.
Rates are *effective monthly* percentages (% a.m.).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import InvalidInput, NotFound
from app.core.yamlfile import load_yaml

CustomerType = Literal["pf", "pj"]
DAYS_PER_MONTH = 30  # grace in days → whole months, and IOF day counts per installment


class _Rule(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TermRule(_Rule):
    min: int | None = None
    max: int | None = None


class GraceRule(_Rule):
    max_days: int | None = None
    max_months: int | None = None
    included_in_term: bool | None = None
    interest_during_grace: str | None = None

    @property
    def known(self) -> bool:
        return self.max_days is not None or self.max_months is not None

    @property
    def max_grace_months(self) -> int | None:
        """Longest grace in whole months (120 days → 4 months); ``None`` = the source does not say."""
        limits = [m for m in (self.max_months,) if m is not None]
        if self.max_days is not None:
            limits.append(math.floor(self.max_days / DAYS_PER_MONTH))
        return min(limits) if limits else None


class AmountRule(_Rule):
    min: float | None = None
    max: float | None = None


class EligibilityRule(_Rule):
    pf: bool | None = None
    pj: bool | None = None
    requires_account: bool | None = None
    note: str | None = None


class IofRule(_Rule):
    applies: bool | None = None
    note: str | None = None


class AmortizationRule(_Rule):
    systems: list[str] | None = None
    note: str | None = None


class CreditLine(_Rule):
    id: str
    lender: str
    line_name: str
    variant_of: str | None = None
    rate_monthly_pct: float | None = Field(None, description="effective monthly rate [% a.m.]; None = not published")
    rate_kind: str | None = None
    rate_note: str | None = None
    term_months: TermRule = TermRule()
    term_note: str | None = None
    grace: GraceRule = GraceRule()
    grace_note: str | None = None
    amount_brl: AmountRule = AmountRule()
    amount_note: str | None = None
    eligibility: EligibilityRule = EligibilityRule()
    iof: IofRule = IofRule()
    amortization: AmortizationRule = AmortizationRule()
    illustrative: bool = True
    source: str | None = None
    as_of: str | None = None
    doc: str | None = None


class IofRate(_Rule):
    fixed_pct: float = Field(description="one-off rate on the principal [%]")
    daily_pct: float = Field(description="rate per day on each amortisation until its due date [%/day]")
    note: str | None = None


class IofTable(_Rule):
    max_days: int = 365
    rates: dict[str, IofRate]
    source: str | None = None
    as_of: str | None = None

    def for_customer(self, customer_type: CustomerType) -> IofRate:
        try:
            return self.rates[customer_type]
        except KeyError:
            raise InvalidInput(f"Sem alíquotas de IOF para '{customer_type}'.",
                               hint=f"Tipos com alíquota cadastrada: {', '.join(sorted(self.rates))}.") from None


class CreditLineBook(_Rule):
    """All credit lines of one rules file, plus the IOF table."""

    lines: tuple[CreditLine, ...]
    iof: IofTable
    as_of: str | None = None
    source: str | None = None

    def get(self, line_id: str) -> CreditLine:
        for line in self.lines:
            if line.id == line_id:
                return line
        raise NotFound(f"Linha de crédito '{line_id}' não cadastrada.",
                       hint=f"Linhas disponíveis: {', '.join(l.id for l in self.lines)}.")

    def select(self, line_ids: list[str] | None) -> list[CreditLine]:
        return list(self.lines) if not line_ids else [self.get(i) for i in line_ids]


def _read_yaml(path: Path) -> dict:
    try:
        data = load_yaml(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"Arquivo de regras de financiamento não encontrado: {path}.",
                       hint="Confira FINANCING__CREDIT_LINES_PATH / FINANCING__IOF_RATES_PATH.") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"Arquivo de regras inválido: {path}.", hint="Esperado um mapeamento YAML.")
    return data


def load_credit_lines(credit_lines_path: Path, iof_rates_path: Path) -> CreditLineBook:
    """Parse the credit-line rules and IOF rates (no caching; see :func:`cached_book`)."""
    raw = _read_yaml(credit_lines_path)
    iof = _read_yaml(iof_rates_path)
    return CreditLineBook(
        lines=tuple(CreditLine.model_validate(item) for item in raw.get("credit_lines") or []),
        iof=IofTable.model_validate(iof),
        as_of=str(raw.get("as_of")) if raw.get("as_of") is not None else None,
        source=raw.get("source"),
    )


@lru_cache(maxsize=8)
def _cached(credit_lines_path: str, iof_rates_path: str, mtimes: tuple[float, float]) -> CreditLineBook:
    return load_credit_lines(Path(credit_lines_path), Path(iof_rates_path))


def cached_book(credit_lines_path: Path, iof_rates_path: Path) -> CreditLineBook:
    """The rules, re-read when either file changes (an edited YAML applies without a restart)."""
    try:
        mtimes = (Path(credit_lines_path).stat().st_mtime, Path(iof_rates_path).stat().st_mtime)
    except FileNotFoundError:
        mtimes = (0.0, 0.0)
    return _cached(str(credit_lines_path), str(iof_rates_path), mtimes)
