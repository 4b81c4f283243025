"""Commerce backends behind one protocol (:mod:`app.commerce.base`): the embedded SQLite store
(``local``) and the YSH Medusa 2.x B2B backend (``medusa``), picked by
:func:`app.commerce.factory.make_commerce`."""

from app.commerce.base import CommerceBackend
from app.commerce.models import Approval, Cart, Company, Customer, Employee, LineItem, Quote, QuoteStatus, Variant
from app.commerce.states import QuoteAction, next_status

__all__ = ["Approval", "Cart", "CommerceBackend", "Company", "Customer", "Employee", "LineItem", "Quote", "QuoteAction",
           "QuoteStatus", "Variant", "next_status"]
