"""Knowledge turns: search the documents, pick the sentence or table row that answers (or say
that the sources do not), cite it. Retrieved text is data: a sentence that tries to instruct
the assistant is dropped, never obeyed."""

from __future__ import annotations

from app.agent import render
from app.agent.handlers.base import Agent, Step
from app.agent.intent import KNOW, RuleIntent
from app.agent.reply import Reply
from app.agent.turn import TurnContext
from app.retrieval.answer import Unit, answer_question


def know(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    query = (rules.args if rules else {}).get("query") or ctx.message.strip()
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
    answer = answer_question(ctx.message, hits, keep=keep,
                             embed_query=embedder.embed_query if embedder else None,
                             embed_documents=embedder.embed_documents if embedder else None)
    cites = render.knowledge_citations(answer, hits)
    reply = Reply()
    for cite in cites:
        reply.cite(cite)
    reply.card("citations", {"items": cites, "answer": answer.kind, "passages_with_instructions_removed": len(removed)})
    return reply.say("knowledge", answer=answer, cites=cites)
