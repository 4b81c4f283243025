"""Deterministic parsing of Brazilian formats in chat messages.

A 135M-parameter model misreads "R$ 1.234,56" or "trifásico" often enough to matter, so
numbers, phases, places and the language are read here with plain rules; the model only
fills what these rules leave empty (and its numbers are accepted only when they occur in
the message, see :func:`number_in_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field
from unidecode import unidecode

from app.core.text import parse_decimal, parse_number

from app.agent import extractors
from app.agent.places import PlaceIndex, fold
from app.agent.slots import OPTION_KEYS, SLOT_KEYS, Connection, SizingFields

_NUM = r"\d{1,3}(?:[.\s]\d{3})+(?:,\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?"


def number_in_text(value: float, text: str) -> bool:
    """Whether ``value`` is written in ``text`` (guards numbers proposed by the model)."""
    for lang in ("pt", "en"):
        for raw in re.findall(_NUM, text):
            try:
                if abs(parse_number(raw, lang) - float(value)) < 1e-6:
                    return True
            except ValueError:
                continue
    return False


_EN_WORDS = {
    "the", "my", "i", "is", "what", "how", "much", "need", "system", "bill", "month", "per", "please",
    "client", "customer", "house", "uses", "use", "which", "do", "you", "have", "with", "for", "and",
    "show", "me", "about", "hello", "hi", "inverter", "panels", "actually", "three", "single", "phase",
    "warranty", "does", "can", "want", "size", "sizing", "in", "of", "a", "an", "it", "thanks", "who",
}
_PT_WORDS = {
    "o", "a", "os", "as", "meu", "minha", "de", "do", "da", "que", "qual", "quanto", "preciso", "sistema",
    "conta", "mes", "por", "favor", "cliente", "casa", "usa", "consome", "voces", "tem", "com", "para",
    "e", "um", "uma", "sobre", "ola", "oi", "inversor", "paineis", "placas", "na", "verdade", "sao",
    "trifasico", "monofasico", "garantia", "como", "quero", "dimensionar", "no", "em", "obrigado", "eh",
}


def detect_language(text: str, default: str = "pt-BR") -> str:
    """'en' or 'pt-BR' by counting function words; ties keep ``default``."""
    words = fold(text).split()
    en = sum(w in _EN_WORDS for w in words)
    pt = sum(w in _PT_WORDS for w in words)
    if re.search(r"[ãõçáéíóúâêô]", text.lower()):
        pt += 2
    if en > pt:
        return "en"
    if pt > en:
        return "pt-BR"
    return default


class Parsed(SizingFields):
    """What the rules found in one message: the sizing fields (:class:`SizingFields`) and what
    else only a message carries. ``None`` = not mentioned."""

    ambiguous_ufs: tuple[str, ...] = ()
    power_w: float | None = None
    language: str = "pt-BR"
    correction: bool = False
    extra: dict[str, object] = Field(default_factory=dict)
    # A battery's capacity [kWh] (never a consumption) and numbers too large to be meant.
    battery_kwh: float | None = None
    doubts: list[extractors.Doubt] = Field(default_factory=list)

    def slots(self) -> dict[str, object]:
        """The consumption, site and connection given (``SLOT_KEYS`` order)."""
        return {k: getattr(self, k) for k in SLOT_KEYS if getattr(self, k) is not None}

    def options(self) -> dict[str, object]:
        """Sizing options the message gives (roof, area, budget, coverage, distributor, a size)."""
        return {k: getattr(self, k) for k in OPTION_KEYS if getattr(self, k) is not None}


_PHASES: list[tuple[str, Connection]] = [
    (r"\btri ?fasic[oa]s?\b|\btrifas\w*|\bthree[- ]?phase\b|\b3[- ]?phase\b|\b380 ?v\b|\btri\b|\b(3|tres) fases\b", "three_phase"),
    (r"\bbi ?fasic[oa]s?\b|\bbifas\w*|\btwo[- ]?phase\b|\bsplit[- ]?phase\b|\b2[- ]?phase\b|\bbi\b|\b(2|duas) fases\b", "two_phase"),
    (r"\bmono ?fasic[oa]s?\b|\bmonofas\w*|\bsingle[- ]?phase\b|\b1[- ]?phase\b|\bmono\b|\b(1|uma) fase\b(?! d[eao]\b)", "single_phase"),
]

_CORRECTION = re.compile(
    r"\b(na verdade|corrigindo|correcao|errei|me enganei|quis dizer|nao e|nao sao|actually|sorry|i meant|correction|mudou|agora e|agora sao)\b"
)


def parse_connection(text: str) -> Connection | None:
    folded = fold(text)
    for pattern, value in _PHASES:
        if re.search(pattern, folded):
            return value
    return None


def _kwh_values(text: str, lang: str) -> tuple[float | None, list[float] | None]:
    lowered = text.lower()
    months = extractors.monthly_history(text, lang)  # "jan 520 fev 480 … dez 530"
    if months:
        return None, months
    # Twelve monthly values ("consumo: 400; 420; 380 …" or "400 420 380 … kWh").
    # "dos últimos 12 meses: 300, 320, …": the period's length is not one of the values.
    scan = re.sub(r"\b12 ?(meses|months)\b", " ", lowered)
    nums = re.findall(r"(?<![\d,.])(\d{2,5}(?:[.,]\d+)?)(?![\d])", scan)
    if len(nums) == 12 and ("kwh" in lowered or "mes" in fold(text) or "month" in lowered or "consum" in fold(text)):
        seps = re.sub(r"[\d.,]+", "", scan.split(nums[0], 1)[-1].rsplit(nums[-1], 1)[0])
        if seps.strip(" ;/|\n,") == "" or set(seps.strip()) <= {";", "/", "|", ",", " "}:
            return None, [parse_number(n, "en" if "." in n else "pt") for n in nums]
    capacity = extractors.battery_capacity_kwh(text, lang)
    for value, period, _raw, _start in extractors.kwh_figures(text, lang):
        if capacity is not None and value == capacity and period is None:
            continue  # "bateria de 5 kWh" is a capacity
        yearly = re.search(r"\b(anual|annual|yearly|por ano|ao ano|per year|a year)\b", fold(text))
        period = period or ("ano" if yearly else "mes")
        if period in ("ano", "year", "yr"):
            value /= 12.0
        elif period in ("dia", "day"):
            value *= 30.0
        if value > extractors.MAX_MONTHLY_KWH:
            return None, None  # questioned (see extractors.doubts), never read as something else
        return value, None
    return None, None


def _money(text: str, lang: str) -> tuple[float | None, float | None]:
    """(bill_brl, tariff_brl_per_kwh) from 'R$ 450,00', '450 reais', 'R$ 0,95/kWh', 'tarifa 0,92'."""
    lowered = text.lower()
    bill = tariff = None
    budget = extractors.budget_brl(text, lang)
    for m in re.finditer(rf"(r\$\s*({_NUM})\s*(mil\b)?|({_NUM})\s*(mil\s+)?(reais|brl|contos?|pila)\b)"
                         rf"(\s*(/|por|per)\s*kwh)?", lowered):
        value = parse_number(m.group(2) or m.group(4), lang)
        if m.group(3) or m.group(5):
            value *= 1000
        before = fold(lowered[max(0, m.start() - 25) : m.start()])
        if m.group(7) or "tarifa" in before or "tariff" in before or (value < 3 and "kwh" in lowered):
            tariff = value
        elif budget is not None and abs(value - budget) < 1e-6:
            continue  # "tenho R$ 30 mil" is a budget, not a bill
        elif re.search(r"\b(entrada|sinal|financ\w*|parcel\w*|emprestimo|loan|preco|custa|custo|valor do (kit|sistema))\b",
                       before):
            continue  # money that is not the electricity bill
        elif bill is None:
            bill = value
    if tariff is None:
        m = re.search(rf"(tarifa|tariff|rate)[^\d]{{0,20}}({_NUM})", lowered)
        if m:
            value = parse_number(m.group(2), lang)
            if 0.1 <= value <= 5:
                tariff = value
    return bill, tariff


def parse_message(text: str, places: PlaceIndex | None, awaiting: tuple[str, ...] = (),
                  near_uf: str | None = None) -> Parsed:
    """Everything the rules can read in one user message.

    ``awaiting`` names the slots the assistant just asked for, so a bare "500" after
    "Qual o consumo mensal?" is read as 500 kWh/month; ``near_uf`` is the state the
    conversation is about ("e em bonito?" after a site in MS is Bonito/MS).
    """
    lang = detect_language(text)
    num_lang = "en" if lang == "en" else "pt"
    text = extractors.spelled_numbers(text)  # "uns seiscentos kWh" → "uns 600 kWh"
    parsed = Parsed(language=lang)
    parsed.correction = bool(_CORRECTION.search(fold(text)))
    parsed.monthly_kwh, parsed.monthly_kwh_list = _kwh_values(text, num_lang)
    parsed.bill_brl, parsed.tariff_brl_per_kwh = _money(text, num_lang)
    parsed.connection = parse_connection(text)
    coords = re.search(r"(-?\d{1,2}[.,]\d+)\s*[,;/ ]\s*(-?\d{1,3}[.,]\d+)", text)
    if coords and ("lat" in text.lower() or "coord" in text.lower()):
        parsed.lat, parsed.lon = (parse_decimal(c) for c in coords.groups())
    if places is not None:
        place = places.find(text, near_uf)
        if place is not None:
            parsed.municipality, parsed.uf, parsed.ibge_code = place.municipality, place.uf, place.ibge_code
            parsed.ambiguous_ufs = place.ambiguous_ufs
    power = re.search(rf"({_NUM})\s*(k?w)p?\b", text.lower())
    if power:
        value = parse_number(power.group(1), num_lang)
        parsed.power_w = value * 1000 if power.group(2) == "kw" else value
    parsed.doubts = extractors.doubts(text, num_lang)
    if parsed.doubts:
        parsed.monthly_kwh = parsed.monthly_kwh_list = None
    parsed.battery_kwh = extractors.battery_capacity_kwh(text, num_lang)
    parsed.system_kwp = extractors.fixed_size_kwp(text, num_lang)
    parsed.roof_type = extractors.roof_type(text)
    parsed.roof_area_m2 = extractors.roof_area_m2(text, num_lang)
    parsed.shading_pct = extractors.shading_pct(text, num_lang)
    parsed.tilt_deg, parsed.azimuth_deg = extractors.orientation(text, num_lang)
    parsed.budget_brl = extractors.budget_brl(text, num_lang)
    parsed.target_offset_pct = extractors.target_offset_pct(text, num_lang)
    parsed.distributor = extractors.distributor(text)
    if awaiting and parsed.monthly_kwh is None and parsed.bill_brl is None and parsed.monthly_kwh_list is None:
        bare = re.fullmatch(rf"\s*(?:uns|umas|cerca de|about|around)?\s*({_NUM})\s*[.!]?\s*", text.lower())
        if bare and "consumption" in awaiting:
            parsed.monthly_kwh = parse_number(bare.group(1), num_lang)
    if awaiting and "uf" in awaiting and parsed.uf is None:
        sigla = text.strip().upper().strip(".! ")
        if places is not None and sigla in places.ufs:
            parsed.uf = sigla
    return parsed


# -- sales: financing amounts and terms, buying company, yes/no -----------------------------

@dataclass
class FinancingAsk:
    """What a message says about a financing. ``None`` = not said (the tool's default applies)."""

    amount_brl: float | None = None
    term_months: int | None = None
    down_payment_brl: float | None = None
    grace_months: int | None = None
    system: Literal["price", "sac"] | None = None
    customer_type: Literal["pf", "pj"] | None = None

    def arguments(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if v is not None}


_MONEY_RE = re.compile(
    rf"(?P<rs>r\$\s*)?(?P<num>{_NUM})\s*(?P<mult>mil|k|mi|milhao|milhoes)?\b\s*(?P<cur>reais|brl)?\b"
)
_MULT = {"mil": 1e3, "k": 1e3, "mi": 1e6, "milhao": 1e6, "milhoes": 1e6}
_TERM_RE = re.compile(
    r"(\d{1,3})\s*(?:x|vezes|parcelas|prestacoes|pagamentos|meses|mes|months?|installments?|payments?)\b"
)
_YEARS_RE = re.compile(r"(\d{1,2})\s*(?:anos?|years?)\b")
# "financia em 60?": a bare number after em/para/in is a term only when it is one lenders offer
# and no unit follows it (days of grace, an amount in mil, kWh...).
_BARE_TERM_RE = re.compile(r"\b(?:em|para|in|over)\s+(\d{2,3})\b(?!\s*(?:[.,]\d|mil\b|k\b|reais|r\$|dias?|days?|"
                           r"horas?|hours?|k?wh|kwp|kw\b|w\b|%|m2|m²))")
_USUAL_TERMS = frozenset({12, 18, 24, 30, 36, 48, 60, 72, 84, 96, 108, 120, 144, 180})
_NOT_MONEY_AFTER = re.compile(r"\s*(x\b|vezes|parcelas|prestac|meses|mes\b|anos?\b|months?|years?|installments?|"
                              r"k?wh|kwp|w\b|kw\b|%)")
_DOWN_BEFORE = re.compile(r"(entrada|sinal|down ?payment)\D{0,12}$")
_DOWN_AFTER = re.compile(r"^\s*(de )?(entrada|sinal|down)")
_GRACE_BEFORE = re.compile(r"(carencia|grace)\D{0,12}$")


def parse_financing(text: str, lang: str = "pt", bare_amount: bool = False) -> FinancingAsk:
    """Amount, term, down payment, grace and amortisation read from a message.

    "R$ 30 mil em 60x" → 30 000 in 60; "30.000 reais em 48 meses"; "5 anos" → 60 months;
    "entrada de R$ 5.000" → down payment; "carência de 3 meses" → grace. A number without
    "R$"/"reais"/"mil" counts as an amount only from 1 000 up (or, with ``bare_amount``,
    when it is the whole reply to "qual valor?"); "financia em 60?" → 60 months (a usual term
    after em/para, no unit).
    """
    low = unidecode(text).lower()
    ask = FinancingAsk()
    terms = []
    for m in _TERM_RE.finditer(low):
        if _GRACE_BEFORE.search(low[max(0, m.start() - 24):m.start()]):
            ask.grace_months = int(m.group(1))
        else:
            terms.append(int(m.group(1)))
    years = [int(m.group(1)) * 12 for m in _YEARS_RE.finditer(low)]
    bare = [int(m.group(1)) for m in _BARE_TERM_RE.finditer(low) if int(m.group(1)) in _USUAL_TERMS]
    ask.term_months = (terms or years or bare or [None])[0]
    unmarked: list[float] = []
    for m in _MONEY_RE.finditer(low):
        try:
            value = parse_number(m.group("num"), lang)
        except ValueError:
            continue
        if m.group("mult"):
            value *= _MULT[m.group("mult")]
        marked = bool(m.group("rs") or m.group("mult") or m.group("cur"))
        if not marked and _NOT_MONEY_AFTER.match(low, m.end("num")):
            continue
        if _DOWN_BEFORE.search(low[max(0, m.start() - 24):m.start()]) or _DOWN_AFTER.match(low[m.end():]):
            ask.down_payment_brl = value
        elif marked and ask.amount_brl is None:
            ask.amount_brl = value
        elif not marked:
            unmarked.append(value)
    if ask.amount_brl is None and unmarked:
        big = [v for v in unmarked if v >= 1000]
        if big:
            ask.amount_brl = big[0]
        elif bare_amount and re.fullmatch(rf"\s*(?:r\$\s*)?({_NUM})\s*[.!]?\s*", low):
            ask.amount_brl = unmarked[0]
    if re.search(r"\bsac\b", low):
        ask.system = "sac"
    elif re.search(r"\b(tabela )?price\b", low):
        ask.system = "price"
    if re.search(r"\b(pj|cnpj|pessoa juridica|legal entity)\b", low):
        ask.customer_type = "pj"
    elif re.search(r"\b(pf|cpf|pessoa fisica)\b", low):
        ask.customer_type = "pf"
    return ask


_COMPANY_RE = re.compile(r"\b(?:empresa|company|companhia|comprador[a]?|buyer)\s*(?:id\s*)?[:#=]?\s*([A-Za-z0-9_.:-]{3,64})",
                         re.IGNORECASE)
_ID_TOKEN_RE = re.compile(r"(?<![\w-])((?:comp|cus|company)_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{6,60})(?![\w-])")
_BARE_ID_RE = re.compile(r"\s*([A-Za-z]+_[A-Za-z0-9]{4,60})\s*[.!]?\s*")
_END_CUSTOMER_RE = re.compile(
    r"\b(?:cliente final|consumidor final|end customer|para o cliente|para a cliente|for the customer)\s*[:\-]?\s*"
    r"([A-ZÀ-Ý][\wÀ-ÿ'-]+(?:\s+(?:d[aeo]s?\s+)?[A-ZÀ-Ý][\wÀ-ÿ'-]+){0,4})"
)


def parse_company(text: str, bare: bool = False) -> str | None:
    """A buying company's id ("para a empresa comp_01H…"); ids carry a digit or an underscore,
    so "empresa Solar Triângulo" (a name) is not taken for one. ``bare``: the whole message
    may be the id (the reply to "qual empresa?")."""
    m = _COMPANY_RE.search(text)
    if m and re.search(r"[\d_]", m.group(1)):
        return m.group(1).rstrip(".:")
    m = _ID_TOKEN_RE.search(text)  # an id as the backends write them ("pra comp_9a1c… em 48x")
    if m:
        return m.group(1)
    if bare:
        m = _BARE_ID_RE.fullmatch(text)
        if m:
            return m.group(1)
    return None


_CNPJ_RE = re.compile(r"(?<!\d)(\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2})(?!\d)")
# "pro cliente Solar BH", "para a empresa Sertão Solar", "cotação pra Solar Triângulo": a name
# starts with a capital letter after one of these words (a lower-case word there is not a name).
_CLIENT_RE = re.compile(
    r"\b(?:cliente|empresa|integrador[a]?|company|client|customer|pr[ao]|para(?: [ao])?|for)\s*[:\-]?\s*"
    r"((?:[A-ZÀ-Ý][\wÀ-ÿ&'.-]*)(?:\s+(?:d[aeo]s?\s+|&\s+)?[A-ZÀ-Ý0-9][\wÀ-ÿ&'.-]*){0,4})")
_NOT_A_NAME = {"PF", "PJ", "CNPJ", "CPF", "SAC", "Price", "Sim", "Não", "Nao"}


def parse_client(text: str, bare: bool = False) -> str | None:
    """How a rep names the buying client: a CNPJ (digits) or a company name ("pro cliente
    Solar BH"). ``bare``: the whole message may be the name (the reply to "qual cliente?").
    Never derived from ordinary words: "gera uma cotação desse kit pro cliente" names nobody."""
    m = _CNPJ_RE.search(text)
    if m:
        return re.sub(r"\D", "", m.group(1))
    for m in _CLIENT_RE.finditer(text):
        name = m.group(1).strip(" .,:;!?")
        if name and name.split()[0] not in _NOT_A_NAME:
            return name
    if bare:
        words = text.strip(" .!?")
        if 2 <= len(words) <= 80 and not re.search(r"\d{3,}", words) and yes_or_no(words) is None:
            return re.sub(r"^(?:(?:é|e|eh|a|o)\s+)?(?:(?:empresa|cliente)\s+)?(?:(?:a|o)\s+)?", "", words,
                          flags=re.IGNORECASE).strip() or None
    return None


def choose_option(text: str, options: list[str]) -> int | None:
    """Which of the listed ``options`` the reply picks: "a segunda", "2", or a name in it."""
    folded = fold(text)
    ordinals = ("primeir", "segund", "terceir", "quart", "quint")
    for i, word in enumerate(ordinals[:len(options)]):
        if re.search(rf"\b{word}[oa]\b", folded) or re.fullmatch(rf"\s*{i + 1}\s*[.)!]?\s*", folded):
            return i
    hits = [i for i, name in enumerate(options) if fold(name) in folded or (folded.strip() and folded.strip() in fold(name))]
    return hits[0] if len(hits) == 1 else None


def parse_end_customer(text: str) -> str | None:
    """The end customer's name, for the proposal ("cliente final Maria Souza")."""
    m = _END_CUSTOMER_RE.search(text)
    return m.group(1).strip() if m else None


_NO_RE = re.compile(r"^(nao|n|no|nope|cancel\w*|negativo|deixa pra la|esquece|desist\w*|melhor nao|agora nao|ainda nao|"
                    r"pensando bem|not now|never mind)\b")
_YES_RE = re.compile(
    r"^(sim|s|confirmo|confirma\w*|confirmad\w*|pode( criar| gerar| seguir| fazer| mandar| ir)?|ok|okay|isso|claro|"
    r"manda( ver| bala)?|fechou|fechado|bora|beleza|blz|perfeito|show|certo|positivo|yes|y|yep|yeah|sure|"
    r"confirm\w*|go ahead|do it)\b"
)


def yes_or_no(text: str) -> bool | None:
    """True for "sim"/"confirmo"/"yes", False for "não"/"cancela"/"no", else ``None``."""
    folded = fold(text)
    if _NO_RE.match(folded):
        return False
    if _YES_RE.match(folded):
        return True
    return None


# -- products: category, maker, model codes, power, capacity, price, stock --------------------

PRODUCT_NOUNS = {
    "inversor": "inverter", "inversores": "inverter", "inverter": "inverter", "inverters": "inverter",
    "microinversor": "inverter", "microinversores": "inverter", "microinverter": "inverter",
    "microinverters": "inverter", "micro": "inverter",
    "painel": "module", "paineis": "module", "placa": "module", "placas": "module", "modulo": "module",
    "modulos": "module", "panel": "module", "panels": "module", "module": "module", "modules": "module",
    "bateria": "battery", "baterias": "battery", "battery": "battery", "batteries": "battery",
    "kit": "kit", "kits": "kit", "estrutura": "structure", "estruturas": "structure", "structure": "structure",
    "mounting": "structure", "cabo": "cable", "cabos": "cable", "cable": "cable", "cables": "cable",
    "stringbox": "string_box",
}
# Makers as typed, with what they mostly sell here (a model code without a noun: "Deye SUN 12K").
MANUFACTURERS = {
    "growatt": "inverter", "deye": "inverter", "goodwe": "inverter", "fronius": "inverter", "sungrow": "inverter",
    "solis": "inverter", "huawei": "inverter", "hoymiles": "inverter", "apsystems": "inverter", "sofar": "inverter",
    "solax": "inverter", "tsun": "inverter", "tsuness": "inverter", "saj": "inverter", "chint": "inverter",
    "weg": None, "intelbras": None, "canadian": "module", "jinko": "module", "trina": "module", "longi": "module",
    "ja solar": "module", "risen": "module", "astronergy": "module", "dah": "module", "sunova": "module",
    "osda": "module", "znshine": "module", "byd": None, "pylontech": "battery", "freedom": "battery",
    "unipower": "battery", "renovigi": None, "ecoflow": None, "odex": "module", "hanersun": "module",
    "minasol": "module", "epever": "inverter", "ztroon": "inverter", "livoltek": "inverter", "enphase": "inverter",
    "foxess": None, "neocharge": None, "tecbox": None, "clamper": None, "romagnole": "structure",
    "pratyc": "structure",
}
_SUBTYPES = [(r"\bhibrid\w*|\bhybrid\b", "hybrid"), (r"\bmicro ?inver\w*|\bmicro\b", "micro"),
             (r"\boff ?grid\b", "off_grid"), (r"\bon ?grid\b|\bgrid ?tie\b", "grid_tie")]
# "SUN 12K", "SUN-8K", "MIN 3000", "MIC 600": a model code's power (K = kW).
_MODEL_POWER = re.compile(r"\b(?:sun|min|mic|mod|mid|max|spf|sph|tl|hm|hms|ds3|qs1|gw|sg|rhi|s5|s6)[\s-]?"
                          r"(\d{1,5}(?:[.,]\d)?)\s*(k|kw)?(?:tl\d?)?(?=[\s\-?!.,]|$)")  # "20KTL3", "3000TL-X"


def _one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by one inserted, deleted or replaced letter (not equal)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k in range(len(a)) if a[k] != b[k]), len(a))
    return a[i + (len(a) == len(b)):] == b[i + 1:]


def _price_bounds(text: str) -> list[tuple[str, re.Match[str]]]:
    """("max_price_brl" | "min_price_brl", the match) for each price bound the message writes:
    "até 3 mil", "abaixo de R$ 1.500", "acima de 2 mil reais" (a bare number needs a money word)."""
    folded = extractors.fold(text)
    found = []
    for bound, pattern in (("max_price_brl", r"(ate|no maximo|abaixo de|menos de|up to|under|below|at most)"),
                           ("min_price_brl", r"(acima de|a partir de|mais de|above|over|at least)")):
        m = re.search(rf"\b{pattern}\s*(r\$\s*)?({_NUM})(?!\s*(?:k?wh?p?|v|a|m2|m²)\b)\s*(mil\b|k\b)?\s*(reais|brl)?",
                      folded)
        if m and (m.group(2) or m.group(4) or m.group(5) or "preco" in folded or "price" in folded):
            found.append((bound, m))
    return found


def product_filters(text: str, parsed: Parsed) -> dict[str, object]:
    """find_products arguments a message gives: category (from the noun, else the maker's line),
    manufacturer, power (a range or the model code's "12K"), phase, inverter type, battery
    capacity and voltage, price range, in stock."""
    folded = fold(text)
    lang = "en" if parsed.language == "en" else "pt"
    args: dict[str, object] = {}
    for word in folded.split():
        if word in PRODUCT_NOUNS:
            args["category"] = PRODUCT_NOUNS[word]
            break
    if "string box" in folded:
        args["category"] = "string_box"
    maker = next((name for name in MANUFACTURERS if re.search(rf"\b{name}\b", folded)), None)
    if maker is None:  # "growat", "goodwee", "hoymils": one letter off a maker's name of 6+ letters ("solar" is no "sofar")
        maker = next((name for word in folded.split() if len(word) >= 5 for name in MANUFACTURERS
                      if len(name) >= 6 and " " not in name and _one_edit(word, name)), None)
    if maker is not None:
        args["manufacturer"] = maker
        line = MANUFACTURERS[maker]
        if line and "category" not in args:
            args["category"] = line
    power_w = parsed.power_w
    code = _MODEL_POWER.search(folded)
    if power_w is None and code:
        value = parse_number(code.group(1), lang)
        power_w = value * 1000 if code.group(2) or value < 100 else value
        args.setdefault("category", "inverter")  # "SUN-5K-SG05LP1", "MIN 3000TL-X": inverter series
    prices = _price_bounds(text)
    bounds_text = extractors.fold(text)
    for _, m in prices:  # "até 5 mil reais" bounds the price, not the power written beside it
        bounds_text = bounds_text.replace(m.group(0), " ")
    if power_w is None:
        bare = re.search(rf"\b(?:de|of|com)?\s*({_NUM})\s*k\b", folded)  # "e o de 8k?"
        if bare:
            power_w = parse_number(bare.group(1), lang) * 1000
    if power_w is None and re.search(r"\b(acima|a partir|pelo menos|minimo|mais|ate|no maximo|above|over|under)\b",
                                     folded):
        bare = re.search(rf"\b(?:de|of|than)?\s*({_NUM})\s*(w|watts?)?\s*\??$", folded)
        if bare:
            power_w = parse_number(bare.group(1), lang)
    if power_w and args.get("category") != "battery":
        if re.search(r"\b(ate|no maximo|up to|at most|max|under|abaixo de|menos de)\b", bounds_text):
            args["max_power_w"] = power_w
        elif re.search(r"\b(acima de|a partir de|pelo menos|minimo|above|at least|over|mais de)\b", bounds_text):
            args["min_power_w"] = power_w
        else:
            args["min_power_w"] = args["max_power_w"] = power_w
    if parsed.connection and args.get("category") in ("inverter", "kit", None):
        args["phase"] = parsed.connection
    for pattern, subtype in _SUBTYPES:
        if re.search(pattern, folded) and args.get("category") in ("inverter", None):
            args["subtype"] = subtype
            args.setdefault("category", "inverter")
            break
    if args.get("category") == "structure" and parsed.roof_type:
        args["subtype"] = parsed.roof_type
    if parsed.battery_kwh:
        args["capacity_kwh"] = parsed.battery_kwh
        args.setdefault("category", "battery")
    volts = re.search(rf"({_NUM})\s*(?:v|volts?|vdc)\b", extractors.fold(text))
    if volts and args.get("category") in ("battery", None):  # dropped later unless the search is for batteries
        args["voltage_v"] = parse_number(volts.group(1), lang)
    for bound, m in prices:
        value = parse_number(m.group(3), lang) * (1000 if m.group(4) else 1)
        args[bound] = value
        if (args.get("max_power_w") == value or args.get("min_power_w") == value) and not re.search(
                r"\d\s*(?:k|kw|w|watts?)\b", bounds_text) and not code:
            args.pop("max_power_w", None)  # the price's own number read as a power, not a power written apart
            args.pop("min_power_w", None)
    if re.search(r"\b(em estoque|no estoque|pronta entrega|entrega imediata|disponive(l|is)|in stock|available now|"
                 r"tem estoque)\b", folded):
        args["in_stock"] = True
    return args
