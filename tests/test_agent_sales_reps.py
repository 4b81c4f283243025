"""What sales reps type, read by the quote and product handlers (stop 24, issue #17): company
names as typed (lower case, with terms after them), several matches, a CNPJ said back as
written, and product follow-ups (a battery's kWh, "qualquer marca"), price next to power."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from app.agent.handlers.products import find
from app.agent.handlers.quote import quote
from app.agent.intent import FIND, QUOTE
from app.agent.parsing import parse_message, product_filters, yes_or_no
from app.agent.state import ConversationState
from app.agent.turn import TurnContext
from app.core.text import fold_words
from test_agent_handlers import drive


class Company(SimpleNamespace):
    pass


class FakeCommerce:
    """Company look-ups as the local backend does them (folded name contains the text)."""

    def __init__(self, names: list[str]) -> None:
        self.companies = [Company(id=f"comp_{i}", name=n, tax_id=None) for i, n in enumerate(names)]
        self.asked: list[str] = []

    def find_companies(self, text: str, limit: int = 5) -> list[Company]:
        self.asked.append(text)
        wanted = fold_words(text)
        return [c for c in self.companies if len(wanted) >= 3 and wanted in fold_words(c.name)][:limit]


class RecordingAgent:
    """Records the tool calls a handler makes; each tool "fails", so the handler stops there."""

    places = None
    knowledge_embedder = None

    def __init__(self, commerce: FakeCommerce | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._commerce = commerce

    def run_tool(self, ctx, name, args, context=None):
        self.calls.append((name, dict(args)))
        ctx.outcome = SimpleNamespace(ok=False, error="(teste)", result=None, data=None)
        return
        yield

    def model_args(self, ctx, tool):
        return {}

    def commerce(self):
        return self._commerce


def turn(agent: RecordingAgent, state: ConversationState, message: str, handler=quote, lang: str = "pt-BR"):
    ctx = TurnContext(state=state, message=message, lang=lang, parsed=parse_message(message, None), role="sales_rep")
    _, reply = drive(handler(agent, ctx, None))
    return reply


def sized(cid: str) -> ConversationState:
    state = ConversationState(id=cid)
    state.sizing_id, state.sizing_capex_brl = "siz_1", 20_000.0
    return state


COMPANIES = ["Sertão Energia Ltda", "Voltz Engenharia", "Solar BH", "Solar BH Norte"]


@pytest.mark.parametrize(("message", "company", "extra"), [
    ("gera a cotacao desse kit pra sertao energia", "comp_0", {}),
    ("monta o orcamento pra voltz em 60x com 10 mil de entrada", "comp_1",
     {"term_months": 60, "down_payment_brl": 10_000}),
    ("draft a quote for voltz please", "comp_1", {}),
    ("faz o orçamento pro cliente sertão energia, 48 meses", "comp_0", {"term_months": 48}),
])
def test_a_company_named_in_lower_case_is_looked_up_and_quoted(message, company, extra):
    agent = RecordingAgent(FakeCommerce(COMPANIES))
    turn(agent, sized("q1"), message)
    assert agent.calls, "the summary tool should have run"
    name, args = agent.calls[0]
    assert name == QUOTE and args["company_id"] == company and args["confirmed"] is False
    assert {k: args[k] for k in extra} == extra


def test_several_matches_ask_which_then_the_pick_is_quoted():
    agent = RecordingAgent(FakeCommerce(COMPANIES))
    state = sized("q2")
    asked = turn(agent, state, "faz o orçamento pra solar bh")
    assert not agent.calls and state.awaiting == ["quote_company"]
    assert asked.says() == ["quote.company_which"]
    assert [c.name for c in asked.parts[0].values["companies"]] == ["Solar BH", "Solar BH Norte"]
    turn(agent, state, "a segunda")
    assert agent.calls[0][1]["company_id"] == "comp_3"


def test_an_unknown_cnpj_is_said_back_as_written_and_asked_again():
    agent = RecordingAgent(FakeCommerce(COMPANIES))
    state = sized("q3")
    reply = turn(agent, state, "cotação pro cnpj 12.345.678/0001-90")
    assert not agent.calls and state.awaiting == ["quote_company"]
    assert reply.says() == ["quote.company_not_found"]
    assert reply.parts[0].values["name"] == "12.345.678/0001-90"
    turn(agent, state, "entao faz pra voltz")  # the reply names another company
    assert agent.calls[0][1]["company_id"] == "comp_1"


@pytest.mark.parametrize("message", [
    "gera uma cotação desse kit pro cliente", "faz a cotação pro meu cliente", "monta o orçamento pra mim",
    "cria um orçamento desse sistema",
])
def test_ordinary_words_are_never_taken_for_a_company(message):
    commerce = FakeCommerce(COMPANIES)
    agent = RecordingAgent(commerce)
    state = sized("q4")
    reply = turn(agent, state, message)
    assert reply.says() == ["quote.ask_company"] and not agent.calls and commerce.asked == []


# -- products ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("message", "expected"), [
    ("inversor growatt 5kw ate 5 mil reais", {"category": "inverter", "manufacturer": "growatt",
                                              "min_power_w": 5000, "max_power_w": 5000, "max_price_brl": 5000}),
    ("inversor ate 3 mil", {"category": "inverter", "max_price_brl": 3000}),
    ("inversor ate 5kw", {"category": "inverter", "max_power_w": 5000}),
    ("SUN-5K-SG05LP1 qto ta?", {"category": "inverter", "min_power_w": 5000, "max_power_w": 5000}),
    ("how much is the Growatt MID 20KTL3?", {"category": "inverter", "manufacturer": "growatt", "min_power_w": 20000,
                                             "max_power_w": 20000}),
    ("e da odex tem?", {"category": "module", "manufacturer": "odex"}),
    ("bateria de 5 kwh pra pronta entrega", {"category": "battery", "capacity_kwh": 5, "in_stock": True}),
])
def test_product_filters_read_what_reps_type(message, expected):
    assert product_filters(message, parse_message(message, None)) == expected


def follow_up(last: dict[str, Any], message: str, lang: str = "pt-BR") -> dict[str, Any]:
    agent = RecordingAgent()
    state = ConversationState(id="p1")
    state.intent, state.last_products = FIND, dict(last)
    turn(agent, state, message, handler=find, lang=lang)
    return agent.calls[0][1]


@pytest.mark.parametrize(("message", "lang", "capacity"), [
    ("e de 48v com 5 kwh?", "pt-BR", 5), ("what about 10 kWh?", "en", 10),
])
def test_after_a_battery_search_a_bare_kwh_is_its_capacity(message, lang, capacity):
    args = follow_up({"category": "battery", "capacity_kwh": 2.5}, message, lang)
    assert args["category"] == "battery" and args["capacity_kwh"] == capacity


def test_any_brand_drops_the_maker_of_the_last_search():
    args = follow_up({"category": "inverter", "manufacturer": "growatt"}, "e um ate 3 mil, qualquer marca?")
    assert args == {"category": "inverter", "max_price_brl": 3000}


def test_a_company_after_orcamento_da_and_a_no_while_asked_cancels():
    agent = RecordingAgent(FakeCommerce(COMPANIES))
    turn(agent, sized("q5"), "bota no orcamento da voltz")
    assert agent.calls[0][1]["company_id"] == "comp_1"
    state = sized("q6")
    turn(agent, state, "faz o orçamento pra solar bh")
    assert state.awaiting == ["quote_company"]
    reply = turn(agent, state, "melhor nao, depois eu vejo")
    assert reply.says() == ["quote.cancelled"] and state.awaiting == [] and len(agent.calls) == 1


def test_a_person_named_after_no_nome_de():
    agent = RecordingAgent(FakeCommerce(COMPANIES))
    turn(agent, sized("q7"), "faz no nome da Ana Paula Rocha, cpf 99603082430")
    assert agent.calls[0][1]["customer"] == {"name": "Ana Paula Rocha", "cpf": "99603082430"}


@pytest.mark.parametrize(("text", "answer"), [
    ("fechou, pode criar", True), ("manda bala", True), ("beleza", True), ("pode mandar", True),
    ("melhor nao, depois eu vejo", False), ("agora nao", False), ("muda pra 48x", None), ("show de bola?", True),
])
def test_confirmations_as_reps_type_them(text, answer):
    assert yes_or_no(text) is answer


def test_the_summary_names_the_company_the_rep_named_not_its_id():
    agent = RecordingAgent(FakeCommerce(COMPANIES))
    state = sized("q8")
    turn(agent, state, "gera a cotação pra voltz")
    assert state.buyer["company_name"] == "Voltz Engenharia" and state.buyer["company_id"] == "comp_1"


@pytest.mark.parametrize("message", ["coloca 2 kits", "dobra a quantidade", "make it two systems"])
def test_a_change_of_quantity_is_answered_not_quoted_again(message):
    agent = RecordingAgent(FakeCommerce(COMPANIES))
    state = sized("q9")
    state.intent, state.buyer["company_id"] = QUOTE, "comp_1"
    reply = turn(agent, state, message)
    assert reply.says() == ["quote.no_quantity"] and not agent.calls


@pytest.mark.parametrize(("message", "expected"), [
    ("growat 5 kw", {"manufacturer": "growatt", "category": "inverter", "min_power_w": 5000, "max_power_w": 5000}),
    ("painel solar 550w", {"category": "module", "min_power_w": 550, "max_power_w": 550}),  # "solar" is no "sofar"
    ("bateria de 51,2 v", {"category": "battery", "voltage_v": 51.2}),
    ("bateria de 48 volts pra off grid", {"category": "battery", "voltage_v": 48}),
])
def test_maker_typos_and_decimal_volts(message, expected):
    assert product_filters(message, parse_message(message, None)) == expected


@pytest.mark.parametrize(("reply", "company"), [
    ("a do norte", "comp_3"), ("the first one", "comp_2"), ("a última", "comp_3"), ("2", "comp_3"),
])
def test_the_rep_picks_among_matches_as_people_do(reply, company):
    agent = RecordingAgent(FakeCommerce(COMPANIES))
    state = sized("q10")
    turn(agent, state, "cria a cotação pra Solar BH")
    assert state.awaiting == ["quote_company"] and not agent.calls
    turn(agent, state, reply)
    assert agent.calls[0][1]["company_id"] == company


def test_p_barra_introduces_the_client():
    agent = RecordingAgent(FakeCommerce(COMPANIES))
    turn(agent, sized("q11"), "orçamento desse kit p/ voltz, entrada de 5 mil e 36x")
    args = agent.calls[0][1]
    assert (args["company_id"], args["down_payment_brl"], args["term_months"]) == ("comp_1", 5000, 36)
