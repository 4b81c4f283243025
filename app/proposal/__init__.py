"""The customer-facing proposal PDF (reportlab): :func:`render_proposal`."""

from app.proposal.render import render_proposal

__all__ = ["render_proposal"]
