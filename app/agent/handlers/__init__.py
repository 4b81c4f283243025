"""Handlers: one per task, each deciding and acting through the tools and returning a typed
:class:`~app.agent.reply.Reply` (no text: :mod:`app.agent.speaker` words it).

=========================  ===========================================================
``sizing``                 gather the slots, ask for what is missing, size the system
``products``               catalog search and one product's details
``knowledge``              the sentence or table row that answers, cited
``financing``              credit lines for an amount or the sizing's investment
``quote``                  a sales rep's draft quote, confirmed by a "sim"
``talk``                   greeting, anything off topic
=========================  ===========================================================
"""

from __future__ import annotations

from app.agent.handlers.base import Handler
from app.agent.handlers.financing import finance
from app.agent.handlers.knowledge import know
from app.agent.handlers.products import find, get
from app.agent.handlers.quote import quote
from app.agent.handlers.sizing import size
from app.agent.handlers.talk import greet
from app.agent.intent import FIND, FINANCE, GET, GREET, KNOW, QUOTE, SIZE

HANDLERS: dict[str, Handler] = {SIZE: size, FIND: find, GET: get, KNOW: know, GREET: greet, FINANCE: finance,
                                QUOTE: quote}
"""The handler of each task (anything else: :func:`app.agent.handlers.talk.off_topic`)."""
