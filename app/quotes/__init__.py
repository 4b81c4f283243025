"""Draft quotes: sizing → SKUs → commerce quote (with spending-limit approval), financing,
validity, idempotent creation. :class:`~app.quotes.service.QuoteService` is the entry point."""

from app.quotes.models import CreateQuoteRequest, DraftQuote, QuotePreview
from app.quotes.service import QuoteService
from app.quotes.store import QuoteRecordStore

__all__ = ["CreateQuoteRequest", "DraftQuote", "QuotePreview", "QuoteRecordStore", "QuoteService"]
