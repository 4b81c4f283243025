"""Turns with nothing to look up: a greeting, and anything outside solar energy."""

from __future__ import annotations

import re

from app.agent.extractors import asks_for_sales_contact
from app.agent.handlers.base import Agent, Step
from app.agent.intent import RuleIntent
from app.agent.places import fold
from app.agent.reply import Reply
from app.agent.turn import TurnContext

# "valeu!", "obg", "brigadão, ajudou", "thanks": thanks get "de nada", not the introduction again
_THANKS = re.compile(r"\b(obrigad\w*|brigad\w*|obg|vlw|valeu|agradec\w*|grat[oa]|tmj|thanks?|thank you|thx|ty)\b")
_HELLO = re.compile(r"\b(oi+|ola|bom dia|boa tarde|boa noite|hello|hi|hey|quem (e|eh) (voce|vc)|who are you)\b")


# "ok", "blz", "?", "e aí?", "entendi": nothing asked, said in the middle of a conversation
_NUDGE = re.compile(r"^\W*(ok+|okay|blz|beleza|certo|entendi|ta|ah ta|hum+|hm+|e ai|e entao|so(?: isso)?|"
                    r"and\??|so\??|got it|i see)?\W*$")


def greet(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    folded = fold(ctx.message)
    if asks_for_sales_contact(ctx.message):
        return Reply().say("sales_contact")
    if _THANKS.search(folded) and not _HELLO.search(folded):
        return Reply().say("thanks")
    if ctx.state.last_intent and _NUDGE.match(folded):
        # Mid-conversation: not the introduction again, but what can come next.
        return Reply().say("nudge")
    return Reply().say("greeting")
    yield  # a generator like every handler


def off_topic(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    return Reply().say("off_topic")
    yield
