"""Turns with nothing to look up: a greeting, and anything outside solar energy."""

from __future__ import annotations

import re

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


# "me passa o contato de um vendedor", "quero falar com um atendente", "can I talk to a sales rep?"
SALES_CONTACT = re.compile(
    r"\b(contato|telefone|fone|whats\w*|zap|falar com|fala com|conversar com|ligar pra|ligar para|talk to|speak to|"
    r"speak with|contact|reach)\b.{0,30}\b(vendedor\w*|representante\w*|atendente\w*|humano|uma pessoa|consultor\w*|"
    r"comercial|equipe de vendas|sales\w*|someone|a person|human|seller)\b")


def greet(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    folded = fold(ctx.message)
    if SALES_CONTACT.search(folded):
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
