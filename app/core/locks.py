"""Per-key mutual exclusion over the shared cache (Redis across replicas, memory otherwise).

Chat turns read a conversation at the start and write it at the end; two turns of one
conversation at once (two browser tabs, a double click) would each save their own copy
and lose the other's messages. :class:`CacheLock` serialises them.

It needs nothing but the :class:`~app.core.cache.Cache` protocol: the first ``incr`` of a
lock key returns 1 and wins; later callers see 2, 3… and wait; ``delete`` frees the key
for the next ``incr``. On Redis that is atomic across every replica; on the in-process
cache it holds within the process (one worker, the embedded default). The counter's TTL
(started by the first ``incr``) frees a lock whose holder died; choose ``ttl_s`` longer
than any turn can take (turns are bounded by the LLM timeout).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.core.cache import Cache
from app.core.errors import Conflict


class Busy(Conflict):
    """Someone else held the lock for longer than we were willing to wait."""

    code = "conversa_ocupada"


class CacheLock:
    def __init__(self, cache: Cache, *, prefix: str = "lock:", ttl_s: int = 180, wait_s: float = 120.0,
                 poll_s: float = 0.05, max_poll_s: float = 0.5) -> None:
        self.cache = cache
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.wait_s = wait_s
        self.poll_s = poll_s
        self.max_poll_s = max_poll_s

    def acquire(self, name: str) -> None:
        """Block until ``name`` is ours, or raise :class:`Busy` after ``wait_s`` [s]."""
        key = self.prefix + name
        deadline = time.monotonic() + self.wait_s
        delay = self.poll_s
        while self.cache.incr(key, self.ttl_s) != 1:
            if time.monotonic() >= deadline:
                raise Busy("Outra mensagem desta conversa ainda está sendo respondida.",
                           hint="Aguarde a resposta anterior terminar e envie de novo.")
            time.sleep(delay)
            delay = min(delay * 1.5, self.max_poll_s)

    def release(self, name: str) -> None:
        self.cache.delete(self.prefix + name)

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        self.acquire(name)
        try:
            yield
        finally:
            self.release(name)


def locked_events(lock: CacheLock, name: str, make_events) -> Iterator:
    """Run the generator ``make_events()`` while holding ``name``.

    The lock is taken when the first item is asked for (in the worker thread that runs the
    turn) and released when the generator ends, fails or is closed (a client that hangs up);
    a generator never started never takes it.
    """
    with lock.hold(name):
        yield from make_events()
