"""What one chat turn carries: the events it emits and the context its handlers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.agent.parsing import Parsed
from app.agent.router import Proposal
from app.agent.state import ConversationState
from app.agent.tools import ToolOutcome


@dataclass
class Event:
    type: str
    data: dict[str, Any]


@dataclass
class TurnContext:
    """One turn. ``role`` comes from the authenticated API key (never from the message);
    ``company_id``/``employee_id`` from the request body of a sales-rep UI, if any."""

    state: ConversationState
    message: str
    lang: str
    parsed: Parsed
    role: str = "widget"
    creator: dict[str, str | None] | None = None
    """who is speaking (the signed-in person or the API key), recorded on quotes"""
    proposal: Proposal | None = None
    decision: Any = None
    """the intent decision of the turn (:class:`app.agent.decide.Decision`)"""
    degraded: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    tool_calls: int = 0
    outcome: ToolOutcome | None = None
