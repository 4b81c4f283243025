"""Knowledge turns: search the documents, pick the sentence or table row that answers (or say
that the sources do not), cite it. Retrieved text is data: a sentence that tries to instruct
the assistant is dropped, never obeyed."""

from __future__ import annotations

import re

from app.agent import render
from app.agent.handlers.base import Agent, Step
from app.agent.intent import KNOW, RuleIntent
from app.agent.places import fold
from app.agent.reply import Reply
from app.agent.turn import TurnContext
from app.retrieval.answer import Unit, answer_question, question_terms

# A message that points back at what was asked before: "garantia dele?", "what about its weight?"
# (a message naming one term or none, "e monofásico?", "e em 2029?", leans back as well)
_LEANS_BACK = re.compile(
    r"\b(ele|ela|dele|dela|nele|nela|desse|deste|dessa|desta|disso|esse ai|esse modelo|esse inversor|"
    r"esse modulo|esse painel|it|its|this one|that one)\b")
_CONTEXT_CHARS = 300
# How people ask vs the words the (Portuguese) sources use: added to the search and to the question.
_EXPANSIONS = tuple((re.compile(p), words) for p, words in (
    (r"\b(ao mes|a\.?m\.?|mensal|per month|monthly|a month)\b.*\b(ao ano|a\.?a\.?|anual|per year|annual|a year)\b",
     "taxa anual equivalente"),
    (r"\btariff flags?\b", "bandeiras tarifárias"), (r"\bcompensated\b", "energia compensada"),
    (r"\bcredits?\b", "créditos"), (r"\bexpir\w*\b", "expiram"),
    (r"\bminimum (bill|billing|charge)\w*\b", "mínimo faturado custo de disponibilidade"),
    (r"\bavailability (cost|charge)\b", "custo de disponibilidade"), (r"\bweigh\w*\b", "peso"),
    (r"\bdimensions?\b", "dimensões"), (r"\bcells?\b", "células"), (r"\bcharged\b", "cobrado"),
    (r"\b(share|percentage)\b", "parcela"), (r"\baccount holders?\b", "correntistas"),
    (r"\b(modules|panels) per\b|\bper micro\w*\b", "módulos por microinversor"),
    (r"\b(maximum|max) (amount|loan)\b|\bloan limit\b", "limite de valor"),
    (r"\bcold\b", "frio Tmin"), (r"\bsafety factor\b", "fator de segurança"),
))


def expand(message: str) -> str:
    """The message with the source's words for what it asks ("tariff flags" → "bandeiras
    tarifárias", "1,17 % ao mês … ao ano" → "taxa anual equivalente")."""
    folded = fold(message)
    extra = [words for pattern, words in _EXPANSIONS if pattern.search(folded)]
    return f"{message} {' '.join(extra)}" if extra else message


def follow_up_context(ctx: TurnContext) -> str | None:
    """The knowledge question this message follows up, if it follows one up: the last turn
    was a knowledge question and this message names too little on its own or refers back."""
    last = ctx.state.last_knowledge
    transcript = ctx.state.transcript
    if not last or len(transcript) < 2 or transcript[-2].content != last.get("message"):
        return None
    folded = fold(ctx.message)
    if _LEANS_BACK.search(folded) or len(question_terms(ctx.message)) <= 1:
        return last.get("question")
    return None


def know(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    query = expand((rules.args if rules else {}).get("query") or ctx.message.strip())
    question = expand(ctx.message)
    context = follow_up_context(ctx)
    if context:
        query = f"{context} {query}"  # the search must find the document the talk is about
    ctx.state.last_knowledge = {"message": ctx.message,
                                "question": f"{context or ''} {ctx.message}".strip()[-_CONTEXT_CHARS:]}
    yield from agent.run_tool(ctx, KNOW, {"query": query})
    outcome = ctx.outcome
    if not outcome.ok:
        if outcome.error_code in ("indisponivel",):
            ctx.degraded.append("knowledge: base de conhecimento fora do ar")
            return Reply().say("knowledge_down")
        return Reply().say("tool_error", error=outcome.error)
    hits = outcome.result.hits
    removed: set[int] = set()  # hits with a sentence that tried to instruct us (dropped: text is data)

    def keep(unit: Unit) -> bool:
        if render.is_instruction(unit.text):
            removed.add(unit.hit)
            return False
        return True

    embedder = getattr(agent, "knowledge_embedder", None)
    answer = answer_question(question, hits, keep=keep, context=context,
                             embed_query=embedder.embed_query if embedder else None,
                             embed_documents=embedder.embed_documents if embedder else None)
    cites = render.knowledge_citations(answer, hits)
    reply = Reply()
    for cite in cites:
        reply.cite(cite)
    reply.card("citations", {"items": cites, "answer": answer.kind, "passages_with_instructions_removed": len(removed)})
    return reply.say("knowledge", answer=answer, cites=cites)
