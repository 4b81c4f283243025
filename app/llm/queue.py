"""A first-come-first-served gate in front of a model that handles one request at a time.

Queueing policy (embedded llama.cpp): one generation runs at a time (a ``Llama`` object is
not thread-safe); requests wait in arrival order (a ticket lock, unlike ``threading.Lock``
which lets late arrivals overtake); at most ``max_waiting`` requests wait, the next one is
refused at once; a request that waited longer than its timeout gives up its place. Refused
or timed-out requests raise :class:`LLMUnavailable`, which the agent turns into a
deterministic, ``degraded`` answer instead of an error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.core.metrics import queue_depth_changed, record_queue_wait
from app.llm.base import LLMUnavailable


class FifoGate:
    def __init__(self, max_waiting: int = 32) -> None:
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._abandoned: set[int] = set()

    @property
    def waiting(self) -> int:
        with self._cond:
            return max(0, self._next_ticket - self._serving - len(self._abandoned) - 1)

    @contextmanager
    def slot(self, timeout_s: float) -> Iterator[float]:
        """Hold the model; yields the seconds spent waiting in the queue."""
        start = time.monotonic()
        with self._cond:
            if self._next_ticket - self._serving - len(self._abandoned) > self.max_waiting:
                raise LLMUnavailable(
                    "O modelo está ocupado (fila cheia).",
                    hint="Tente de novo em alguns segundos.",
                )
            ticket = self._next_ticket
            self._next_ticket += 1
            deadline = start + timeout_s
            queue_depth_changed(+1)
            try:
                while self._serving != ticket:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._abandoned.add(ticket)
                        raise LLMUnavailable(
                            f"O modelo não atendeu em {timeout_s:.0f} s (fila).",
                            hint="Tente de novo em alguns segundos.",
                        )
                    self._cond.wait(remaining)
            finally:
                queue_depth_changed(-1)
                record_queue_wait(time.monotonic() - start)
        try:
            yield time.monotonic() - start
        finally:
            with self._cond:
                self._serving += 1
                while self._serving in self._abandoned:
                    self._abandoned.discard(self._serving)
                    self._serving += 1
                self._cond.notify_all()
