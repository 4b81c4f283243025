"""Turns with nothing to look up: a greeting, and anything outside solar energy."""

from __future__ import annotations

from app.agent.handlers.base import Agent, Step
from app.agent.intent import RuleIntent
from app.agent.reply import Reply
from app.agent.turn import TurnContext


def greet(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    return Reply().say("greeting")
    yield  # a generator like every handler


def off_topic(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    return Reply().say("off_topic")
    yield
