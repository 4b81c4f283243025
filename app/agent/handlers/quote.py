"""Quote turns (sales reps): a draft quote of the conversation's sizing for the buying client.

Access is decided by ``ctx.role``, which the API takes from the authenticated key: a widget or
anonymous session gets a polite refusal for any quote request, whatever the message says,
and the quote tool is neither offered to the model nor run for it. A quote is created only
after the user answers "sim" to the summary, with an idempotency key derived from the
conversation, the sizing and the quote's arguments, so a repeated "sim" replays the first
quote instead of creating another.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from app.agent.handlers.base import Agent, Step
from app.agent.intent import QUOTE, RuleIntent
from app.agent.person import PersonAsk, parse_person
from app.agent.parsing import choose_option, parse_client, parse_company, parse_end_customer, parse_financing, yes_or_no
from app.agent.reply import Reply, Say
from app.agent.tools import role_may_use
from app.agent.turn import TurnContext
from app.core.errors import HelioError
from app.core.text import fold, fold_words

CONFIRMATION = "quote_confirmation"
# "coloca 2 kits", "3 unidades", "dobra a quantidade", "make it 2 kits": the quote tool quotes
# the sizing's one kit and takes no quantity.
_QUANTITY = re.compile(r"\b(?:\d+|dois|duas|tres|quatro|cinco|two|three)\s+(?:kits|unidades|sistemas|units|systems)\b|"
                       r"\b(?:quantidade|quantity|dobr\w+|double|triplic\w+)\b")


def quote_idempotency_key(conversation_id: str, sizing_id: str, arguments: dict[str, Any]) -> str:
    """Same conversation + sizing + quote arguments → same key → at most one quote."""
    payload = json.dumps([conversation_id, sizing_id, arguments], sort_keys=True, ensure_ascii=False)
    return "chat-" + hashlib.sha256(payload.encode()).hexdigest()[:40]


def quote(agent: Agent, ctx: TurnContext, rules: RuleIntent | None) -> Step:
    state = ctx.state
    awaiting_company = state.intent == QUOTE and "quote_company" in state.awaiting
    state.intent = QUOTE
    state.pending_quote = None
    state.awaiting = []
    if not role_may_use(ctx.role, QUOTE):
        return Reply().say("quote.refused")
    if not state.sizing_id:
        return Reply().say("quote.needs_sizing")
    if _QUANTITY.search(fold(ctx.message)):
        return Reply().say("quote.no_quantity")
    if awaiting_company and yes_or_no(ctx.message) is False:  # "não, deixa" instead of naming the client
        for key in [k for k in state.buyer if k.startswith("pf_")]:
            state.buyer.pop(key)
        state.company_options = []
        return Reply().say("quote.cancelled")
    person = _quote_person(ctx, awaiting_company)
    if person is not None:  # a person without a company (pessoa física)
        return (yield from _quote_for_person(agent, ctx, person))
    company, question = _quote_company(agent, ctx, awaiting_company)
    if question is not None:
        state.awaiting = ["quote_company"]
        return Reply(parts=[question])
    state.buyer["company_id"] = company
    ask = parse_financing(ctx.message, "en" if ctx.lang == "en" else "pt")
    args = {"company_id": company, "employee_id": state.buyer.get("employee_id"),
            "end_customer_name": parse_end_customer(ctx.message) or state.buyer.get("end_customer_name"),
            "term_months": ask.term_months, "down_payment_brl": ask.down_payment_brl}
    args = {k: v for k, v in args.items() if v is not None}
    if args.get("end_customer_name"):
        state.buyer["end_customer_name"] = args["end_customer_name"]
    label = state.buyer.get("company_name") or company  # the name the backend knows, else the id as given
    return (yield from _preview(agent, ctx, args, {"company_id": company}, "quote.preview", company=label))


def _preview(agent: Agent, ctx: TurnContext, args: dict[str, Any], card: dict[str, Any], template: str,
             **values: Any) -> Step:
    """The quote's summary (the tool run with ``confirmed=False``: nothing is written), kept as
    the pending quote that a "sim" creates."""
    state = ctx.state
    yield from agent.run_tool(ctx, QUOTE, {**args, "confirmed": False}, context={"sizing_id": state.sizing_id})
    outcome = ctx.outcome
    if not outcome.ok:
        return Reply().say("quote.failed", error=outcome.error)
    summary = outcome.result.summary
    reply = Reply().card("quote_preview", {**outcome.data["summary"], **card, "sizing_id": state.sizing_id})
    state.pending_quote = {"arguments": args, "sizing_id": state.sizing_id,
                           "system_total_brl": summary.system_total_brl}
    state.awaiting = [CONFIRMATION]
    return reply.say(template, summary=summary, **values)


def _quote_company(agent: Agent, ctx: TurnContext, awaiting: bool) -> tuple[str | None, Say | None]:
    """(the buying company's id, or the question to ask instead).

    Reps name clients as people do: an id on file ("comp_…", written in the message), a
    CNPJ or a company name, looked up in the commerce backend (several matches → which
    one?). An id is never made up from the words of the message: a model's ``company_id``
    counts only when it is written, as such, in the message."""
    state = ctx.state
    if state.company_options and awaiting:
        pick = _pick(ctx.message, [o["name"] for o in state.company_options])
        if pick is not None:
            chosen = state.company_options[pick]
            state.company_options = []
            state.buyer["company_name"] = chosen["name"]
            return chosen["id"], None
    explicit = parse_company(ctx.message, bare=awaiting)
    proposed = agent.model_args(ctx, QUOTE).get("company_id")
    if explicit is None and isinstance(proposed, str) and re.search(
            rf"(?<![\w-]){re.escape(proposed)}(?![\w-])", ctx.message) and re.search(r"[\d_]", proposed):
        explicit = proposed
    if explicit:
        if explicit != state.buyer.get("company_id"):
            state.buyer.pop("company_name", None)
        return explicit, None
    names = _company_names(ctx.message, awaiting)
    client = parse_client(ctx.message, bare=awaiting)
    if client is not None and client not in names:  # a CNPJ is the surest reading; a capitalised name the last
        names = [client, *names] if client.isdigit() else [*names, client]
    if not names:
        if state.buyer.get("company_id"):
            return state.buyer["company_id"], None
        return None, Say("quote.ask_company")
    backend = agent.commerce()
    if backend is None:
        return None, Say("quote.ask_company")
    found = []
    try:
        for name in names:  # the most specific reading first; the first that the backend knows wins
            found = backend.find_companies(name)
            if found:
                break
    except HelioError as exc:
        return None, Say("quote.failed", {"error": exc.message})
    shown = _CNPJ_WRITTEN.search(ctx.message)  # said back as the rep wrote it, not as bare digits
    label = shown.group(1) if shown and not found else (name if found else names[0])
    if len(found) == 1:
        state.company_options = []
        state.buyer["company_name"] = found[0].name
        return found[0].id, None
    if not found:
        return None, Say("quote.company_not_found", {"name": label})
    state.company_options = [{"id": c.id, "name": c.name} for c in found]
    return None, Say("quote.company_which", {"name": label, "companies": found})


# "pra sertao energia", "for voltz please", "pro cliente solar bh em 60x": a company named as
# reps type it (lower case too), up to the words that start the quote's terms. A reading is
# only a candidate: it counts when the commerce backend knows a company by it.
_CNPJ_WRITTEN = re.compile(r"(?<!\d)(\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2})(?!\d)")
_INTRO = re.compile(r"(?:\b(?:pr[ao]|para|for|cliente|empresa|integradora?|client|company|customer|"
                    r"(?:orcamento|orçamento|cotacao|cotação|proposta|quote)\s+d[aoe]|(?:no\s+)?nome\s+d[aoe])\b|"
                    r"\bp/)\s*[:\-]?\s*", re.IGNORECASE)
_NAME_END = re.compile(r"\s*(?:[,;.!?()]|\s-\s|\b(?:em|com|no|na|por|parcel\w*|financ\w*|entrada|cnpj|cpf|e-?mail|"
                       r"tel\w*|cel\w*|please|pls|por favor|pfv|in|with|over|at)\b|\d|$)", re.IGNORECASE)
_FILLER = {"a", "o", "as", "os", "the", "empresa", "cliente", "company", "client", "customer", "integradora",
           "integrador", "e", "eh", "é", "tal", "dita"}
_NOT_COMPANY = {"desse", "deste", "esse", "este", "essa", "esta", "isso", "kit", "sistema", "ele", "ela", "eles",
                "mim", "me", "meu", "minha", "nosso", "nossa", "voce", "vc", "mesmo", "mesma", "cotacao", "orcamento",
                "quote", "proposta", "it", "this", "that", "my", "our", "us", "him", "her", "them", "same", "ja",
                "gente", "nos", "final", "pessoa", "pf", "pj"}


_ORDINALS_EN = ("first", "second", "third", "fourth", "fifth")
_PICK_FILLER = {"a", "o", "da", "do", "de", "the", "one", "of", "empresa", "company", "essa", "esse", "that", "quero",
                "pode", "ser", "mesmo", "mesma", "eh", "e"}


def _pick(text: str, options: list[str]) -> int | None:
    """Which listed company the reply picks: "a segunda", "2", "the first one", "a última",
    a name, or the words that tell one apart ("a do norte" → "Solar BH Norte")."""
    pick = choose_option(text, options)
    if pick is not None:
        return pick
    words = fold_words(text).split()
    for i, word in enumerate(_ORDINALS_EN[:len(options)]):
        if word in words:
            return i
    if {"ultima", "ultimo", "last"} & set(words):
        return len(options) - 1
    telling = [w for w in words if w not in _PICK_FILLER and len(w) >= 2]
    hits = [i for i, name in enumerate(options) if telling and set(telling) <= set(fold_words(name).split())]
    return hits[0] if len(hits) == 1 else None


def _company_names(text: str, awaiting: bool) -> list[str]:
    """Readings of the company name in ``text``, the nearest to its introducing word first;
    ``awaiting`` (the reply to "para qual cliente?"): the message itself may be the name."""
    starts = sorted({m.end() for m in _INTRO.finditer(text)}, reverse=True)
    if awaiting and not starts:  # "sertao energia" alone; "muda pra 48x" names nobody
        starts = [0]
    names: list[str] = []
    for start in starts:
        rest = text[start:]
        end = _NAME_END.search(rest)
        words = (rest[:end.start()] if end else rest).split()
        while words and fold(words[0]) in _FILLER:
            words = words[1:]
        if not words or len(words) > 5 or fold(words[0]) in _NOT_COMPANY or yes_or_no(" ".join(words)) is not None:
            continue
        name = " ".join(words).strip(" .:-")
        if len(fold(name)) >= 3 and name not in names:
            names.append(name)
    return names


# -- a person without a company (pessoa física) ----------------------------------------------
def _quote_person(ctx: TurnContext, awaiting: bool) -> PersonAsk | None:
    """The person this quote is for, when the rep names one (a CPF, e-mail, phone or "pessoa
    física" in the message, or in the reply that completes an earlier one), else ``None``."""
    state = ctx.state
    earlier = {k: v for k, v in state.buyer.items() if k.startswith("pf_")}
    # a name already given stays unless the reply names someone anew ("o certo é 529…" is no name)
    person = parse_person(ctx.message, bare=awaiting and "pf_name" not in earlier)
    if person is None and awaiting and earlier and "pf_name" not in earlier:  # "Maria Souza" after "qual o nome?"
        person = parse_person(f"pessoa física {ctx.message}", bare=True)
    if person is None:
        for key in earlier:  # the rep moved on to a company: forget the half-given person
            state.buyer.pop(key, None)
        return None
    return person.merged(earlier) if awaiting else person


def _quote_for_person(agent: Agent, ctx: TurnContext, person: PersonAsk) -> Step:
    """Ask what is missing or wrong; else show the summary and wait for "sim" (nothing is
    written before it: the customer record is created with the quote)."""
    state = ctx.state
    for key in [k for k in state.buyer if k.startswith("pf_")]:
        state.buyer.pop(key)
    question = None
    if person.bad_cpf:
        question = Say("quote.pf_bad_cpf", {"cpf": person.cpf_raw})
    elif person.bad_phone and not (person.cpf or person.email):
        question = Say("quote.pf_bad_phone", {"phone": person.phone_raw})
    elif not person.name:
        question = Say("quote.pf_ask_name")
    elif not person.has_contact():
        question = Say("quote.pf_ask_contact", {"name": person.name})
    if question is not None:
        state.buyer.update(person.remembered())
        state.awaiting = ["quote_company"]
        return Reply(parts=[question])
    state.buyer.pop("company_id", None)
    ask = parse_financing(ctx.message, "en" if ctx.lang == "en" else "pt")
    args = {"customer": person.customer(), "term_months": ask.term_months,
            "down_payment_brl": ask.down_payment_brl}
    args = {k: v for k, v in args.items() if v is not None}
    return (yield from _preview(agent, ctx, args, {}, "quote.pf_preview"))


def confirmation(ctx: TurnContext) -> bool | None:
    """The user's yes/no when it answers a quote summary (or repeats the yes after the
    quote was created), else ``None`` and the turn is read as a new request."""
    state = ctx.state
    if state.pending_quote is None:
        return None
    answer = yes_or_no(ctx.message)
    waiting = state.awaiting == [CONFIRMATION]
    replay = state.intent == QUOTE and state.last_quote is not None and answer is True
    if answer is not None and (waiting or replay):
        return answer
    if waiting:  # something else: the summary is dropped, a new "gerar orçamento" shows it again
        state.pending_quote, state.awaiting = None, []
    return None


def confirm_quote(agent: Agent, ctx: TurnContext, yes: bool) -> Step:
    state = ctx.state
    pending = state.pending_quote
    if not role_may_use(ctx.role, QUOTE):
        # A widget holding a rep's conversation id can neither finish nor cancel the rep's quote.
        return Reply().say("quote.refused")
    state.awaiting = []
    if not yes:
        state.pending_quote = None
        return Reply().say("quote.cancelled")
    key = quote_idempotency_key(state.id, pending["sizing_id"], pending["arguments"])
    yield from agent.run_tool(ctx, QUOTE, {**pending["arguments"], "confirmed": True},
                              context={"sizing_id": pending["sizing_id"], "idempotency_key": key,
                                       "created_by": ctx.creator})
    outcome = ctx.outcome
    if not outcome.ok:
        state.pending_quote = None
        return Reply().say("quote.failed", error=outcome.error)
    result = outcome.result
    state.last_quote = {"quote_id": result.quote_id, "idempotency_key": key}
    return (Reply().card("quote", {**outcome.data, "sizing_id": pending["sizing_id"]})
            .say("quote.done", result=result))
