"""What every handler gets: the agent's acting side, and the shape of a handler.

A handler is a generator: it yields the ``tool_call``/``tool_result`` events of the tools it
runs (as they happen, so a client sees progress) and returns the :class:`~app.agent.reply.Reply`
to speak. It reads and updates the conversation state in the :class:`~app.agent.turn.TurnContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Protocol

from app.agent.intent import RuleIntent
from app.agent.places import PlaceIndex
from app.agent.reply import Reply
from app.agent.turn import Event, TurnContext

Step = Generator[Event, None, Reply]


class Agent(Protocol):
    """The acting side of :class:`app.agent.assistant.Assistant`, as handlers use it."""

    places: PlaceIndex | None
    knowledge_embedder: Any

    def run_tool(self, ctx: TurnContext, name: str, args: dict[str, Any],
                 context: dict[str, Any] | None = None) -> Generator[Event, None, Any]:
        """Run a tool (events as it runs); its outcome is left in ``ctx.outcome``."""
        ...

    def model_args(self, ctx: TurnContext, tool: str) -> dict[str, Any]:
        """Arguments a consulted model proposed for ``tool``, verified against the message."""
        ...

    def commerce(self) -> Any:
        """The commerce backend (company look-ups), or ``None``."""
        ...


Handler = Callable[[Agent, TurnContext, RuleIntent | None], Step]
