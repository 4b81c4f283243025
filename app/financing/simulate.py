"""Compare credit lines for one purchase: eligibility from the rules, one schedule per
eligible line, ranked by total effective cost (CET).

Unknown rules (``null`` in the data) never exclude a line: they are "not restricted by any
known rule", and each such gap becomes a note on the option so the customer is told.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.core.errors import InvalidInput
from app.core.text import format_brl
from app.financing.rules import CreditLine, CreditLineBook, CustomerType
from app.financing.schedule import (
    AmortizationSystem, Schedule, annual_rate, build_schedule, cet_monthly, iof_on_schedule,
)

CUSTOMER_LABEL = {"pf": "pessoa física", "pj": "pessoa jurídica"}


class FinancingRequest(BaseModel):
    amount_brl: float = Field(gt=0, description="price of the system [R$]")
    down_payment_brl: float = Field(0.0, ge=0, description="paid up front [R$]")
    term_months: int = Field(60, ge=1, le=480, description="number of monthly installments")
    grace_months: int = Field(0, ge=0, le=24, description="months without payments before the first one")
    system: AmortizationSystem = "price"
    customer_type: CustomerType = "pf"
    line_ids: list[str] | None = Field(None, description="lines to compare; None = all")
    include_iof: bool = Field(True, description="estimate IOF where the rules do not exclude it")
    iof_financed: bool = Field(True, description="IOF added to the loan (True) or paid up front (False)")
    rate_overrides_pct: dict[str, float] = Field(
        default_factory=dict, description="line id → effective monthly rate [% a.m.] quoted to this customer")
    bank_accounts: list[str] | None = Field(
        None, description="lenders the customer already banks with; None = unknown")
    include_schedule: bool = Field(True, description="return every installment")


class InstallmentOut(BaseModel):
    number: int
    month: int
    payment_brl: float
    interest_brl: float
    amortization_brl: float
    balance_brl: float


class LineOption(BaseModel):
    rank: int
    line_id: str
    lender: str
    line_name: str
    rate_monthly_pct: float
    rate_annual_pct: float = Field(description="(1 + i)^12 − 1 [%]")
    rate_kind: str | None
    rate_source: Literal["regras", "informada"]
    system: AmortizationSystem
    n_installments: int
    grace_months: int
    amount_brl: float
    down_payment_brl: float
    net_financed_brl: float = Field(description="amount − down payment [R$]")
    iof_brl: float
    iof_financed: bool
    contracted_brl: float = Field(description="principal of the loan (net + IOF when financed) [R$]")
    capitalized_interest_brl: float
    first_payment_brl: float
    last_payment_brl: float
    total_paid_brl: float = Field(description="sum of installments [R$]")
    total_interest_brl: float
    total_cost_brl: float = Field(description="down payment + installments (+ IOF paid up front) [R$]")
    cet_monthly_pct: float
    cet_annual_pct: float
    notes: list[str]
    illustrative: bool
    doc: str | None
    schedule: list[InstallmentOut] | None = None


class IneligibleLine(BaseModel):
    line_id: str
    lender: str
    line_name: str
    reasons: list[str]


class FinancingComparison(BaseModel):
    amount_brl: float
    down_payment_brl: float
    net_financed_brl: float
    term_months: int
    grace_months: int
    system: AmortizationSystem
    customer_type: CustomerType
    ranked_by: str = "CET mensal (menor primeiro), depois total pago"
    options: list[LineOption]
    ineligible: list[IneligibleLine]
    notes: list[str]
    rules_as_of: str | None
    rules_source: str | None


def _brl(value: float) -> float:
    return round(value + 0.0, 2)


def _pct(value: float, digits: int = 4) -> float:
    return round(value * 100.0, digits)


def _lender_matches(lender: str, accounts: list[str]) -> bool:
    lender_fold = lender.casefold()
    return any(a.strip().casefold() and (a.strip().casefold() in lender_fold or lender_fold in a.strip().casefold())
               for a in accounts)


def _assess(line: CreditLine, req: FinancingRequest, book: CreditLineBook) -> tuple[list[str], list[str], float | None]:
    """(reasons it is excluded, notes on unknown rules, monthly rate in % or None)."""
    reasons: list[str] = []
    notes: list[str] = []

    rate_pct = req.rate_overrides_pct.get(line.id, line.rate_monthly_pct)
    if line.id in req.rate_overrides_pct:
        notes.append(f"taxa de {rate_pct:g} % a.m. informada para esta simulação (não vem das regras)")
    elif rate_pct is None:
        reasons.append((line.rate_note or "taxa não informada pela fonte")
                       + f" — informe rate_overrides_pct['{line.id}'] para simular")
    elif line.rate_kind in ("a_partir_de", "implicita") and line.rate_note:
        notes.append(line.rate_note)

    customer_ok = getattr(line.eligibility, req.customer_type)
    if customer_ok is False:
        reasons.append(f"a linha não atende {CUSTOMER_LABEL[req.customer_type]}")
    elif customer_ok is None:
        notes.append(f"a fonte não informa se a linha atende {CUSTOMER_LABEL[req.customer_type]} "
                     "(sem restrição conhecida)")
    if line.eligibility.requires_account:
        if req.bank_accounts is None:
            notes.append(f"exige ser correntista {line.lender}: confirme com o cliente")
        elif not _lender_matches(line.lender, req.bank_accounts):
            reasons.append(f"exige ser correntista {line.lender}")

    term = req.term_months
    counted = term + (req.grace_months if line.grace.included_in_term else 0)
    if line.term_months.max is not None and counted > line.term_months.max:
        detail = f" ({term} parcelas + {req.grace_months} de carência, que conta no prazo)" \
            if line.grace.included_in_term and req.grace_months else ""
        reasons.append(f"prazo de {counted} meses{detail} acima do máximo de {line.term_months.max}")
    if line.term_months.min is not None and counted < line.term_months.min:
        reasons.append(f"prazo de {counted} meses abaixo do mínimo de {line.term_months.min}")
    if line.term_months.min is None or line.term_months.max is None:
        notes.append(line.term_note or "limites de prazo não informados pela fonte")

    if req.grace_months:
        max_grace = line.grace.max_grace_months
        if max_grace is None:
            notes.append("carência não informada pela fonte: simulada sem restrição conhecida — confirme com a instituição")
        elif req.grace_months > max_grace:
            reasons.append(f"carência de {req.grace_months} meses acima do máximo de {max_grace} meses"
                           + (f" ({line.grace.max_days} dias)" if line.grace.max_days else ""))
        if line.grace.interest_during_grace is None:
            notes.append("a fonte não detalha os juros na carência: simulados capitalizados (modelo padrão do Hélio)")

    if line.amortization.systems is None:
        notes.append(f"a fonte não informa os sistemas de amortização aceitos ({req.system.upper()} simulado)")
    elif req.system not in line.amortization.systems:
        reasons.append(f"a linha não oferece o sistema {req.system.upper()}")

    if line.amount_brl.min is None or line.amount_brl.max is None:
        notes.append(line.amount_note or "limites de valor não informados pela fonte")
    return reasons, notes, rate_pct


def _iof_policy(line: CreditLine, req: FinancingRequest) -> tuple[bool, str | None]:
    if not req.include_iof:
        return False, "IOF não incluído nesta simulação (a pedido)"
    if line.iof.applies is False:
        return False, "IOF não incide nesta linha, segundo a fonte"
    if line.iof.applies is None:
        return True, (f"a fonte não informa o IOF da linha: estimado com as alíquotas de referência para "
                      f"{CUSTOMER_LABEL[req.customer_type]}")
    return True, None


def _simulate_line(line: CreditLine, rate_pct: float, req: FinancingRequest, book: CreditLineBook,
                   notes: list[str]) -> tuple[LineOption | None, list[str]]:
    rate = rate_pct / 100.0
    net = req.amount_brl - req.down_payment_brl
    with_iof, iof_note = _iof_policy(line, req)
    if iof_note:
        notes.append(iof_note)
    iof_ratio = 0.0
    if with_iof:
        iof_rate = book.iof.for_customer(req.customer_type)
        # IOF is proportional to the principal (the schedule scales with it): rate on R$ 1.
        unit = build_schedule(1.0, rate, req.term_months, req.system, req.grace_months)
        iof_ratio = iof_on_schedule(unit, iof_rate.fixed_pct, iof_rate.daily_pct, book.iof.max_days)
    if with_iof and req.iof_financed:
        contracted = net / (1.0 - iof_ratio)  # F such that F − IOF(F) = net
        iof = contracted * iof_ratio
        received = net
    else:
        contracted = net
        iof = net * iof_ratio
        received = net - iof  # IOF paid up front out of the customer's pocket

    reasons = []
    if line.amount_brl.max is not None and contracted > line.amount_brl.max + 1e-6:
        reasons.append(f"valor contratado de {format_brl(contracted)} acima do limite de {format_brl(line.amount_brl.max)}")
    if line.amount_brl.min is not None and contracted < line.amount_brl.min - 1e-6:
        reasons.append(f"valor contratado de {format_brl(contracted)} abaixo do mínimo de {format_brl(line.amount_brl.min)}")
    if reasons:
        return None, reasons

    schedule: Schedule = build_schedule(contracted, rate, req.term_months, req.system, req.grace_months)
    cet = cet_monthly(received, [(p.month, p.payment_brl) for p in schedule.installments])
    upfront_iof = iof if (with_iof and not req.iof_financed) else 0.0
    option = LineOption(
        rank=0, line_id=line.id, lender=line.lender, line_name=line.line_name,
        rate_monthly_pct=round(rate_pct, 4), rate_annual_pct=_pct(annual_rate(rate), 2), rate_kind=line.rate_kind,
        rate_source="informada" if line.id in req.rate_overrides_pct else "regras",
        system=req.system, n_installments=schedule.n_installments, grace_months=req.grace_months,
        amount_brl=_brl(req.amount_brl), down_payment_brl=_brl(req.down_payment_brl), net_financed_brl=_brl(net),
        iof_brl=_brl(iof), iof_financed=bool(with_iof and req.iof_financed), contracted_brl=_brl(contracted),
        capitalized_interest_brl=_brl(schedule.capitalized_interest_brl),
        first_payment_brl=_brl(schedule.first_payment_brl), last_payment_brl=_brl(schedule.last_payment_brl),
        total_paid_brl=_brl(schedule.total_paid_brl), total_interest_brl=_brl(schedule.total_interest_brl),
        total_cost_brl=_brl(req.down_payment_brl + schedule.total_paid_brl + upfront_iof),
        cet_monthly_pct=_pct(cet, 4), cet_annual_pct=_pct(annual_rate(cet), 2),
        notes=notes, illustrative=line.illustrative, doc=line.doc,
        schedule=[InstallmentOut(number=p.number, month=p.month, payment_brl=_brl(p.payment_brl),
                                 interest_brl=_brl(p.interest_brl), amortization_brl=_brl(p.amortization_brl),
                                 balance_brl=_brl(p.balance_brl)) for p in schedule.installments]
        if req.include_schedule else None,
    )
    return option, []


def simulate_financing(request: FinancingRequest, book: CreditLineBook) -> FinancingComparison:
    """Simulate ``request`` on every selected credit line of ``book``.

    Returns the eligible lines ranked by CET (monthly, lowest first; ties by total paid) and
    the ineligible ones with their reasons. Money in R$, rates in % (effective monthly and
    the equivalent annual ``(1 + i)^12 − 1``). Grace interest is capitalised; IOF is
    estimated from the IOF table unless a line's rules exclude it.
    """
    if request.down_payment_brl >= request.amount_brl:
        raise InvalidInput("A entrada cobre todo o valor: não há o que financiar.",
                           hint="Informe uma entrada menor que o valor do sistema.")
    unknown = [i for i in request.rate_overrides_pct if i not in {l.id for l in book.lines}]
    if unknown:
        raise InvalidInput(f"Taxa informada para linha desconhecida: {', '.join(unknown)}.",
                           hint=f"Linhas disponíveis: {', '.join(l.id for l in book.lines)}.")
    options: list[LineOption] = []
    ineligible: list[IneligibleLine] = []
    for line in book.select(request.line_ids):
        reasons, notes, rate_pct = _assess(line, request, book)
        option = None
        if not reasons and rate_pct is not None:
            option, reasons = _simulate_line(line, rate_pct, request, book, notes)
        if option is None:
            ineligible.append(IneligibleLine(line_id=line.id, lender=line.lender, line_name=line.line_name,
                                             reasons=reasons))
        else:
            options.append(option)
    options.sort(key=lambda o: (o.cet_monthly_pct, o.total_paid_brl))
    for rank, option in enumerate(options, start=1):
        option.rank = rank
    notes = ["Taxas efetivas mensais; taxa anual = (1 + i)^12 − 1. Valores ilustrativos: a taxa final depende "
             "da análise de crédito da instituição."]
    if request.grace_months:
        notes.append(f"Carência de {request.grace_months} meses com juros capitalizados ao saldo.")
    return FinancingComparison(
        amount_brl=_brl(request.amount_brl), down_payment_brl=_brl(request.down_payment_brl),
        net_financed_brl=_brl(request.amount_brl - request.down_payment_brl), term_months=request.term_months,
        grace_months=request.grace_months, system=request.system, customer_type=request.customer_type,
        options=options, ineligible=ineligible, notes=notes, rules_as_of=book.as_of, rules_source=book.source,
    )
