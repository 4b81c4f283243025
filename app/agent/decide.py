"""Which task a turn is: deterministic where it is certain, the trained model elsewhere.

Order of the decision (first that applies wins):

1. a prompt injection or a request to break the rules → ``off_topic`` (refused), or the
   quote turn when it asks for a quote (refused there by role, confirmed only by a "sim");
2. a product code next to "produto"/"código"/"sku" → ``get_product``; a size with a
   generation verb ("quanto gera 8 kWp", "simula um de 10 kW em …") → ``size_pv_system``;
3. the answer to the question the assistant just asked (a slot for the sizing, the amount
   of a financing, the company of a quote) → that task;
4. the trained intent model (:mod:`app.agent.classifier`), given the task under way, so
   follow-ups ("e se fosse trifásico?", "e em 84x?") stay with it.

The rules of :mod:`app.agent.intent` are kept for arguments (product filters, financing
figures) and as the tie-break when the model is unsure and they are sure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.agent.intent import FINANCE, FIND, GET, GREET, KNOW, OFF, QUOTE, RuleIntent, SIZE, TOOLS, classify, product_filters
from app.agent.classifier import IntentModel, Prediction, shipped_model
from app.agent.extractors import asks_for_sales_contact, asks_maker_of, generation_question, plain_units
from app.agent.parsing import Parsed, parse_client, parse_company, parse_financing
from app.agent.places import fold
from app.agent.slots import SLOT_GROUPS
from app.agent.state import ConversationState

SURE = 0.6
"""model probability above which the model is not consulted even when one is configured"""
FLOOR = 0.35
"""below this the model's pick yields to a sure rule"""

_QUOTE_WORDS = re.compile(r"\b(create_draft_quote|orcamento|cotacao|quote)\b")
_MARKUP = re.compile(r"<\|(im_start|im_end|system|endoftext)\|>|\[/?inst\]|<</?sys>>")
_INJECTION = re.compile(
    r"(<\|im_start\|>|<\|system\|>|<\|endoftext\|>|\[/?inst\]|<<sys>>|^\s*(system|sistema|admin|developer)\s*:|"
    r"\b(ignor\w*|esquec\w*|esqueca|desconsider\w*|desobedec\w*|forget|disregard|override|bypass|burl\w*)\b.{0,40}"
    r"\b(instruc\w*|regras?|rules|prompt|orientac\w*|instructions?|restric\w*|restrictions?|limites?|guidelines?)\b|"
    r"\b(prompt (de|do) sistema|system prompt|suas instrucoes|your instructions|instrucoes internas|"
    r"initial instructions|hidden instructions|configuracao interna)\b|"
    r"\b(novas instrucoes|new instructions|a partir de agora (voce|vc)|from now on,? you|modo (desenvolvedor|admin|deus)|"
    r"developer mode|jailbreak|sem (nenhuma )?restric\w*|without (any )?restrictions)\b|"
    r"\b(voce|vc) (agora )?(e|eh) (um |o )?(admin|administrador|root)\b|\byou are now\b|\bact as\b|"
    r"\b(chame|chama|execute|executa|rode|roda) a (ferramenta|funcao|tool)\b|\b(call|run|invoke) the (tool|function)\b|"
    r"\b(responda|diga|fale|escreva|say|answer|reply|tell \w+) (que|that|only)\b.{0,60}"
    r"\b(custa|preco|vale|gera|costs?|price|generates?|r\$)\b|"
    r"\b(invent\w*|make up|chut\w*)\b.{0,30}\b(numero|valor|preco|geracao|number|price|figure)\b|"
    r"\b(admin password|senha (do|de) admin\w*|api key|chave (de )?api|token de acesso|credenciais|credentials)\b|"
    r"\b(revel\w*|reveal|vaz\w*|leak|imprim\w*|print|mostr\w*|show|repit\w*|repeat|list\w*)\b.{0,30}"
    r"\b(texto acima|text above|the above|mensagem anterior|configurac\w*|system message|mensagem de sistema|"
    r"suas ferramentas|your tools|todas as ferramentas|all (the )?tools)\b|"
    r"\b(drop table|select \* from|<script|rm -rf)\b|"
    r"\b(nova regra|new rule|regra nova|updated rules)\b|"
    r"\b(voce|vc|you) (deve|tem que|precisa|must|have to|should) (agora )?(responder|dizer|ignorar|obedecer|"
    r"answer|say|ignore|obey|reply|output)\b|"
    r"\b(responda|responde|answer|reply|output) (apenas|somente|so|only)\b.{0,40}\b(que|with|that|the word)\b|"
    r"\b(pretend|finja|fingir|finge|roleplay|role play|imagine que voce)\b|"
    # Words put in the assistant's mouth for the customer, or orders claimed from above.
    r"\b(diga|diz|fale|fala|informe|avise|conte|escreva|tell|inform) (ao|aos|a|as|para o|para os|pro|pros|the|our|my) "
    r"(clientes?|usuarios?|compradores?|customers?|users?|buyers?) (que|that)\b|"
    r"\b(ordem|ordens|determinacao) (da|do) (diretoria|gerencia|chefe|chefia|presidencia|presidente)\b|"
    r"\b(by order of|orders from) (the )?(management|board|ceo|boss)\b)"
)
_BACK_TO_SIZING = re.compile(r"\b(voltando|volta(ndo)? (ao|pro|para o|pra)|e se|se fosse|e com|e pra|e no|e na|"
                             r"back to|what if|what about|and with|and in)\b")
_BARE_PRICE = re.compile(r"^\W*(e\s+)?(quanto|qto|qnto|qt)\s+(custa|fica|sai|e|seria)(\s+(isso|um sistema|uma placa|"
                         r"energia solar|o sistema|a energia solar|placa solar))?\W*$|"
                         r"^\W*how much (is it|does it cost|would it cost|for solar)\W*$")
# Money markets: "cotação" is also a quote, but not of the dollar ("cotação do dólar hoje").
_MARKETS = re.compile(r"\b(cotacao|cambio|preco|valor) (do|da|de) (dolar|euro|bitcoin|btc|bolsa|ouro|acoes)\b|"
                      r"\b(dolar|euro|bitcoin) (hoje|hj|agora|comercial|turismo)\b|\bexchange rate\b")


def injection(text: str) -> bool:
    """A message that tries to instruct the assistant instead of asking it something."""
    return bool(_INJECTION.search(fold(text)) or _MARKUP.search(text.lower()))


@dataclass
class Decision:
    intent: str
    sure: bool
    args: dict[str, Any]
    source: str
    """what decided: injection, product_code, sized_part, pending_slot, model, rules"""
    prediction: Prediction | None = None
    rules: RuleIntent | None = None
    """what the hand-written rules read (arguments for another task come from them)"""

    def rule_intent(self) -> RuleIntent:
        return RuleIntent(self.intent, self.sure, self.args)


def _pending_answer(parsed: Parsed, message: str, state: ConversationState, rules: RuleIntent) -> str | None:
    """The task whose question this message answers, if it answers one."""
    awaiting = set(state.awaiting)
    if awaiting & set(SLOT_GROUPS) and state.intent == SIZE and parsed.slots():
        return SIZE
    if "financing_amount" in awaiting and rules.intent == FINANCE:
        return FINANCE
    if "quote_company" in awaiting and parse_company(message, bare=True):
        return QUOTE
    if state.intent == QUOTE and rules.intent == QUOTE and rules.sure:
        return QUOTE  # "sim, pode criar" / "sou representante" right after a quote request
    return None


def arguments(intent: str, message: str, parsed: Parsed, state: ConversationState,
              rules: RuleIntent) -> dict[str, Any]:
    """The rule-read arguments the handler of ``intent`` starts from."""
    if rules.intent == intent:
        args = dict(rules.args)
    elif intent == FIND:
        args = product_filters(message, parsed)
    elif intent == FINANCE:
        bare = state.intent == FINANCE and "financing_amount" in state.awaiting
        args = parse_financing(message, "en" if parsed.language == "en" else "pt", bare_amount=bare).arguments()
    elif intent == KNOW:
        args = {"query": message.strip()}
    else:
        args = {}
    if intent == FIND and state.last_intent == FIND and state.last_find:
        # "e o de 8k?", "só da Jinko": the same search, narrowed or changed.
        previous = dict(state.last_find)
        if {"min_power_w", "max_power_w"} & set(args):
            previous.pop("min_power_w", None)
            previous.pop("max_power_w", None)
        if "category" in args and args["category"] != previous.get("category"):
            previous = {}
        args = {**previous, **args}
    return args


def decide(message: str, parsed: Parsed, state: ConversationState, *,
           model: IntentModel | None = None) -> Decision:
    """The task of this turn (see the module docstring)."""
    rules = classify(message, parsed, state.intent, state.awaiting, has_sizing=bool(state.sizing_capex_brl))

    def done(intent: str, sure: bool, source: str, prediction: Prediction | None = None) -> Decision:
        return Decision(intent, sure, arguments(intent, message, parsed, state, rules), source, prediction, rules)

    if injection(message):
        # Refused; one that asks for a quote goes to the quote turn, which refuses it by role
        # (and never creates a quote without the user's "sim" to a summary).
        wants_quote = bool(_QUOTE_WORDS.search(fold(message)))
        return Decision(QUOTE if wants_quote else OFF, True, {}, "injection", rules=rules)
    if _MARKETS.search(fold(message)):
        return Decision(OFF, True, {}, "rules", rules=rules)
    if state.last_intent is None and _BARE_PRICE.match(fold(message)):
        # "quanto custa?" as the first words: the price of a system, which starts with its questions
        return done(SIZE, True, "rules")
    if asks_for_sales_contact(message):
        return Decision(GREET, True, {}, "rules", rules=rules)  # the way to a person, not a catalog search
    if not re.search(r"\w", message):
        # "?", "??", "..." : nothing was asked; never re-run the last task on it.
        return Decision(GREET, True, {}, "rules", rules=rules)
    if rules.intent == GET and rules.sure:
        return Decision(GET, True, dict(rules.args), "product_code", rules=rules)
    if rules.intent == SIZE and rules.sure and parsed.system_kwp and generation_question(message):
        # "quanto gera 8 kWp…", "simula um de 10 kW em Goiânia": a size and a generation verb are
        # certain (the model read "10 kW" as an inverter's power).
        return done(SIZE, True, "rules")
    if (state.last_sizing or {}).get("makers") and state.last_intent != FIND and asks_maker_of(message) \
            and not {"manufacturer", "min_power_w", "max_power_w"} & set(product_filters(message, parsed)):
        # "esse inversor é de que marca?" right after a sizing: about the design (answered from it)
        return done(FIND, True, "sized_part")
    pending = _pending_answer(parsed, message, state, rules)
    model = model or shipped_model()
    prediction = model.predict(plain_units(message), state.last_intent, tuple(state.awaiting))
    if (state.sizing_id and pending is None and prediction.intent in (KNOW, OFF, GREET) and parsed.slots()
            and (parsed.correction or _BACK_TO_SIZING.search(fold(message)))):
        # "voltando, e se fosse bifásico?", "errei, moro em São Vicente" after a knowledge or
        # product detour: a change to the sizing the conversation holds.
        return done(SIZE, True, "rules", prediction)
    if pending is not None and not (prediction.intent != pending and prediction.intent in TOOLS
                                    and prediction.confidence >= 0.8):
        return done(pending, True, "pending_slot", prediction)
    if prediction.confidence < FLOOR and rules.sure and rules.intent:
        return done(rules.intent, True, "rules", prediction)
    if prediction.intent == QUOTE and _sizing_first(message, state):
        return done(SIZE, True, "model", prediction)
    return done(prediction.intent, prediction.confidence >= SURE, "model", prediction)


def _sizing_first(message: str, state: ConversationState) -> bool:
    """"quero um orçamento de energia solar" with nothing sized and no client named: a buyer
    asking what a system would cost, which starts with a sizing (its questions), not a quote."""
    if state.sizing_id or state.intent == QUOTE or state.pending_quote:
        return False
    return parse_company(message) is None and parse_client(message) is None
