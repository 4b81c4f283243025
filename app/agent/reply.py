"""What a handler decides to answer, before anyone words it.

A handler (:mod:`app.agent.handlers`) acts through the tools and returns a :class:`Reply`:
in order, the cards and citations to show (structured data from tool results) and the things
to say, each a :class:`Say` (a template key and the values that fill it: tool results,
facts, what the user gave). It writes no text; a speaker (:mod:`app.agent.speaker`) does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.agent.turn import Event


@dataclass(frozen=True)
class Say:
    """One thing to say: ``key`` names the template (see :class:`app.agent.speaker.TemplateSpeaker`),
    ``values`` are what fills it."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Note:
    """A note about something the user gave (``notes.<key>`` of the answer templates); with
    ``option``, the sizing option (name, value) it is about, worded as the user would write it."""

    key: str
    option: tuple[str, Any] | None = None


@dataclass(frozen=True)
class SizingNotes:
    """The notes of a sizing answer: what became of each thing the user gave beyond consumption,
    site and phase (read from ``args`` and the engine's ``result``), then the handler's ``extra``."""

    args: dict[str, Any]
    result: Any
    battery_kwh: float | None = None
    extra: tuple[Note, ...] = ()


@dataclass
class Reply:
    """The parts of an answer, in the order they are shown: :class:`Say` or a ``card``/``citation``
    :class:`~app.agent.turn.Event` (a card's ``notes`` may hold :class:`Note` s, worded by the speaker)."""

    parts: list[Say | Event] = field(default_factory=list)

    def say(self, key: str, **values: Any) -> Reply:
        self.parts.append(Say(key, values))
        return self

    def card(self, type_: str, data: dict[str, Any]) -> Reply:
        self.parts.append(Event("card", {"type": type_, "data": data}))
        return self

    def cite(self, citation: dict[str, Any]) -> Reply:
        self.parts.append(Event("citation", citation))
        return self

    def then(self, other: Reply) -> Reply:
        self.parts.extend(other.parts)
        return self

    def says(self) -> list[str]:
        """The template keys said, in order (what tests of a handler look at)."""
        return [p.key for p in self.parts if isinstance(p, Say)]
