"""Financing engine: credit-line rules as data → Price/SAC schedules, grace, IOF, CET, ranking.

Pure domain: no FastAPI, no LangChain. The API (``app.api.routes.financing``) and the
assistant's tool (``app.financing.tool``) are adapters around :func:`simulate_financing`.
"""

from app.financing.rules import CreditLine, CreditLineBook, cached_book, load_credit_lines
from app.financing.schedule import annual_rate, build_schedule, cet_monthly, iof_on_schedule, price_payment
from app.financing.simulate import FinancingComparison, FinancingRequest, LineOption, simulate_financing

__all__ = [
    "CreditLine", "CreditLineBook", "FinancingComparison", "FinancingRequest", "LineOption", "annual_rate",
    "build_schedule", "cached_book", "cet_monthly", "iof_on_schedule", "load_credit_lines", "price_payment",
    "simulate_financing",
]
