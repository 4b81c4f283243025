"""Loan arithmetic: Price (constant payment) and SAC (constant amortisation) schedules, grace
with capitalised interest, IOF and the total effective cost (CET). Pure functions.

Conventions (as Brazilian lenders quote them):

- ``rate_monthly`` is the *effective monthly* rate as a fraction (1.17 % a.m. → 0.0117);
  the equivalent annual rate is ``(1 + i)^12 − 1`` (:func:`annual_rate`), never ``12·i``.
- Months are 30 days. Installment ``k`` falls due ``grace_months + k`` months after the
  money is released; during the grace period nothing is paid and interest is capitalised:
  the balance when payments start is ``PV·(1 + i)^g``.
- Amounts are kept unrounded; round to cents only for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scipy.optimize import brentq

from app.core.errors import InvalidInput

AmortizationSystem = Literal["price", "sac"]
DAYS_PER_MONTH = 30


def annual_rate(rate_monthly: float) -> float:
    """Equivalent effective annual rate of an effective monthly rate (fractions): (1+i)^12 − 1."""
    return (1.0 + rate_monthly) ** 12 - 1.0


def monthly_rate(rate_annual: float) -> float:
    """Equivalent effective monthly rate of an effective annual rate (fractions): (1+a)^(1/12) − 1."""
    return (1.0 + rate_annual) ** (1.0 / 12.0) - 1.0


def price_payment(principal_brl: float, rate_monthly: float, n_installments: int) -> float:
    """Constant Price-table installment [R$]: PV·i / (1 − (1 + i)^−n)."""
    if rate_monthly == 0:
        return principal_brl / n_installments
    return principal_brl * rate_monthly / (1.0 - (1.0 + rate_monthly) ** -n_installments)


@dataclass(frozen=True)
class Installment:
    number: int = 0
    month: int = 0
    """months after the release of the money (grace + number)"""
    payment_brl: float = 0.0
    interest_brl: float = 0.0
    amortization_brl: float = 0.0
    balance_brl: float = 0.0
    """balance after this payment"""


@dataclass(frozen=True)
class Schedule:
    system: AmortizationSystem
    principal_brl: float
    """amount lent at month 0 [R$] (IOF included when it is financed)"""
    rate_monthly: float
    grace_months: int
    capitalized_interest_brl: float
    """interest added to the balance during the grace period [R$]"""
    installments: tuple[Installment, ...]

    @property
    def n_installments(self) -> int:
        return len(self.installments)

    @property
    def total_paid_brl(self) -> float:
        return sum(p.payment_brl for p in self.installments)

    @property
    def total_interest_brl(self) -> float:
        """Everything paid above the principal: installment interest plus capitalised grace interest."""
        return self.total_paid_brl - self.principal_brl

    @property
    def first_payment_brl(self) -> float:
        return self.installments[0].payment_brl

    @property
    def last_payment_brl(self) -> float:
        return self.installments[-1].payment_brl


def _check(principal_brl: float, rate_monthly: float, n_installments: int, grace_months: int) -> None:
    if principal_brl <= 0:
        raise InvalidInput("O valor financiado deve ser maior que zero.", hint="Reduza a entrada ou informe o valor.")
    if n_installments < 1:
        raise InvalidInput("O prazo deve ter ao menos 1 parcela.", hint="Informe term_months ≥ 1.")
    if grace_months < 0:
        raise InvalidInput("Carência negativa.", hint="Informe grace_months ≥ 0.")
    if not 0 <= rate_monthly < 1:
        raise InvalidInput(f"Taxa mensal fora do esperado: {rate_monthly * 100:g} % a.m.",
                           hint="Informe a taxa efetiva mensal em %, por exemplo 1.17.")


def build_schedule(principal_brl: float, rate_monthly: float, n_installments: int,
                   system: AmortizationSystem = "price", grace_months: int = 0) -> Schedule:
    """Amortisation schedule of a loan of ``principal_brl`` [R$] at ``rate_monthly`` (fraction).

    ``grace_months`` months without payments come first; their interest is capitalised, and
    ``n_installments`` payments (Price or SAC) then amortise ``PV·(1 + i)^g``.
    """
    _check(principal_brl, rate_monthly, n_installments, grace_months)
    balance = principal_brl * (1.0 + rate_monthly) ** grace_months
    capitalized = balance - principal_brl
    pmt = price_payment(balance, rate_monthly, n_installments) if system == "price" else 0.0
    sac_amortization = balance / n_installments
    rows = []
    for k in range(1, n_installments + 1):
        interest = balance * rate_monthly
        if system == "price":
            amortization = pmt - interest
        elif system == "sac":
            amortization = sac_amortization
        else:
            raise InvalidInput(f"Sistema de amortização desconhecido: {system}.", hint="Use 'price' ou 'sac'.")
        if k == n_installments:  # absorb float residue so the loan ends at exactly zero
            amortization = balance
        balance -= amortization
        rows.append(Installment(k, grace_months + k, interest + amortization, interest, amortization, max(balance, 0.0)))
    return Schedule(system, principal_brl, rate_monthly, grace_months, capitalized, tuple(rows))


def iof_on_schedule(schedule: Schedule, fixed_pct: float, daily_pct: float, max_days: int = 365) -> float:
    """IOF on a credit operation [R$]: ``fixed_pct`` of the principal plus ``daily_pct`` per day on
    each amortised part of the principal, counted to its due date and capped at ``max_days``.

    With grace, installments amortise the capitalised balance; the principal's share of each
    amortisation (amortisation × PV / balance after grace) is what is taxed.
    """
    amortized_total = sum(p.amortization_brl for p in schedule.installments)
    principal_share = schedule.principal_brl / amortized_total
    daily = sum(
        p.amortization_brl * principal_share * daily_pct / 100.0 * min(DAYS_PER_MONTH * p.month, max_days)
        for p in schedule.installments
    )
    return schedule.principal_brl * fixed_pct / 100.0 + daily


def cet_monthly(received_brl: float, payments: list[tuple[int, float]]) -> float:
    """Total effective cost per month (fraction): the rate that makes the payments
    ``[(month, R$), …]`` worth, at month 0, exactly what the borrower ``received_brl``."""
    if received_brl <= 0 or not payments:
        raise InvalidInput("CET indefinido sem valor recebido e parcelas.", hint="Confira valor e prazo.")

    def gap(rate: float) -> float:
        return sum(amount / (1.0 + rate) ** month for month, amount in payments) - received_brl

    return float(brentq(gap, -0.9, 10.0, xtol=1e-14, maxiter=500))
