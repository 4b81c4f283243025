"""Knowledge and small-talk turns (issue #17, stop 24): thanks get "de nada", a follow-up reads
the question it refers to, English and rate questions are searched with the sources' words,
and a silent source is worded by what kind of document it is. Fast tier: no model, no index."""

from __future__ import annotations

from app.agent import render
from app.agent.handlers.knowledge import expand, follow_up_context
from app.agent.handlers.talk import greet
from app.agent.state import ConversationState
from app.agent.turn import TurnContext
from app.retrieval.answer import KnowledgeAnswer


def _ctx(message: str, state: ConversationState | None = None) -> TurnContext:
    return TurnContext(state=state or ConversationState(id="t"), message=message, lang="pt-BR", parsed=None)


def _said(message: str) -> list[str]:
    step = greet(None, _ctx(message), None)
    try:
        next(step)
    except StopIteration as done:
        return done.value.says()
    raise AssertionError("greet yielded")


def test_thanks_get_you_are_welcome_and_a_hello_gets_the_introduction():
    assert _said("valeu!") == ["thanks"]
    assert _said("obg, ajudou mt") == ["thanks"]
    assert _said("thanks!") == ["thanks"]
    assert _said("bom dia, quem é vc?") == ["greeting"]
    assert "De nada" in render.templates("pt-BR")["thanks"]


def _after(question: str, message: str) -> ConversationState:
    state = ConversationState(id="t", last_knowledge={"message": question, "question": question})
    state.add("user", question)
    state.add("assistant", "Resposta: 50 kWh")
    return state


def test_a_short_follow_up_refers_to_the_last_knowledge_question_only():
    first = "cliente bifasico 3 fios paga qto de minimo?"
    assert follow_up_context(_ctx("e monofasico?", _after(first, "e monofasico?"))) == first
    assert follow_up_context(_ctx("qual a garantia dele?", _after(first, ""))) == first
    # a question that names its own subject stands alone
    assert follow_up_context(_ctx("taxa minima do bv solar", _after(first, ""))) is None
    # the last turn was about something else: nothing to refer back to
    state = _after(first, "")
    state.add("user", "600 kwh em goiania bifasico")
    state.add("assistant", "Sistema de 5 kWp")
    assert follow_up_context(_ctx("e monofasico?", state)) is None


def test_english_and_rate_questions_carry_the_words_of_the_sources():
    assert "bandeiras tarifárias" in expand("are tariff flags charged on the compensated kwh?")
    assert "taxa anual equivalente" in expand("1,17% ao mes da qto ao ano?")
    assert expand("garantia do deye sun2000g3") == "garantia do deye sun2000g3"


def test_a_silent_source_points_to_the_datasheet_only_for_products():
    answer = KnowledgeAnswer("silent", hits=(0,), asked="taxa", subject="FNE Sol")
    lender = render.knowledge_answer_text(answer, [{"index": 1, "title": "BNB FNE Sol", "label": "BNB FNE Sol",
                                                    "doc_type": "financing"}], "pt-BR")
    sheet = render.knowledge_answer_text(answer, [{"index": 1, "title": "Odex 610 W", "label": "Odex 610 W",
                                                   "doc_type": "datasheet"}], "pt-BR")
    assert "não informado pela fonte" in lender and "folha de dados" not in lender
    assert "folha de dados oficial do fabricante" in sheet
