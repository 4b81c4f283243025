"""Deterministic extractors for what a sizing or a product search can take besides
consumption, site and phase: roof, area, budget, coverage, distributor, orientation, a
fixed size, battery capacity, product codes, and numbers too large to be meant.

Each function reads one thing from the raw message and returns ``None`` when the message
does not say it. Units are in the names; values follow the API (``app.sizing.models``,
``app.catalog.models``): roof types are the ``RoofType`` values, azimuth 0 = north.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.text import fold, parse_number

NUM = r"\d{1,3}(?:[.\s]\d{3})+(?:,\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?"
MULTIPLIERS = {"mil": 1e3, "k": 1e3, "mi": 1e6, "milhao": 1e6, "milhoes": 1e6}
MAX_MONTHLY_KWH = 1_000_000.0  # app.sizing.models.MAX_MONTHLY_KWH (kept in step by a test)

_ROOFS: list[tuple[str, str]] = [
    (r"\b(fibro ?cimento|eternit|brasilit|amianto|fiber ?cement)\b", "fiber_cement"),
    (r"\b(metalic[oa]s?|telhas? de (aco|zinco|metal)|zinco|galvalume|sanduiche|trapezoidal|metal roof|metal)\b",
     "metal"),
    (r"\b(ceramic[oa]s?|telhas? (colonial|coloniais|romana|portuguesa|francesa|americana|de barro|de concreto)|"
     r"barro|tile roof|clay tiles?)\b", "ceramic"),
    (r"\b(laje|lajes|concrete slab|flat roof|slab)\b", "slab"),
    (r"\b(solo|no chao|em terreno|ground[- ]?mount\w*|on the ground|usina de solo)\b", "ground"),
]
_ORIENTATION = {"norte": 0.0, "north": 0.0, "nordeste": 45.0, "northeast": 45.0, "leste": 90.0, "east": 90.0,
                "sudeste": 135.0, "southeast": 135.0, "sul": 180.0, "south": 180.0, "sudoeste": 225.0,
                "southwest": 225.0, "oeste": 270.0, "west": 270.0, "noroeste": 315.0, "northwest": 315.0}
_BATTERY = re.compile(r"\b(bateria\w*|batter(y|ies)|armazenamento|storage|backup|litio|lithium|lifepo4|nobreak)\b")
_PERIOD = re.compile(r"^\s*(?:/|por|per|ao|a|an|no|na)?\s*(mes|month|mo|ano|year|yr|dia|day)\b")
_GENERATION = re.compile(r"\b(quanto (gera|produz|rende)|gera quanto|qto gera|qnto gera|quanto vai gerar|geracao de|"
                         r"simul\w*|how much (does|would|will)\b.{0,30}\b(generate|produce)|generat\w*)\b")

# Distribution companies as people name them → a name app.sizing.tariffs.find_distributor knows.
# Old names survive in speech ("Coelce", "Eletropaulo"); a bare group name ("Enel", "Energisa")
# is resolved with the site's UF by :func:`app.agent.extractors.distributor_for_uf`.
_DISTRIBUTORS = {
    "cemig": "Cemig-D", "copel": "Copel-DIS", "celesc": "Celesc-DIS", "coelba": "Neoenergia Coelba",
    "cosern": "Neoenergia Cosern", "celpe": "Neoenergia Pernambuco", "elektro": "Neoenergia Elektro",
    "ceb": "Neoenergia Brasília", "eletropaulo": "Enel SP", "coelce": "Enel CE", "ampla": "Enel RJ",
    "cemar": "Equatorial MA", "celpa": "Equatorial PA", "cepisa": "Equatorial PI", "ceal": "Equatorial AL",
    "celg": "Equatorial GO", "ceee": "Equatorial CEEE", "escelsa": "EDP ES", "bandeirante": "EDP SP",
    "rge": "RGE", "light": "Light", "sulgipe": "Sulgipe", "amazonas energia": "Amazonas Energia",
    "roraima energia": "Roraima Energia", "cpfl": "CPFL", "enel": "Enel", "energisa": "Energisa",
    "equatorial": "Equatorial", "neoenergia": "Neoenergia", "edp": "EDP",
}
_DISTRIBUTOR_CUE = re.compile(r"\b(sou da|e da|eh da|cliente da|distribuidora|concessionaria|atendid[oa] pela|"
                              r"pela|da|na area da|utility|served by)\s+(e\s+)?(a\s+)?$")


@dataclass(frozen=True)
class Doubt:
    """A number the message gives that no reading can honour: it is asked about, never used."""

    slot: str  # the slot group to ask for again (consumption, tariff…)
    raw: str  # what the user wrote ("1e308 kWh")
    limit: str  # what is plausible, for the question


def roof_type(text: str) -> str | None:
    folded = fold(text)
    for pattern, value in _ROOFS:
        if re.search(pattern, folded):
            return value
    return None


def _number(raw: str, lang: str) -> float | None:
    try:
        return parse_number(raw, lang)
    except ValueError:
        return None


def roof_area_m2(text: str, lang: str = "pt") -> float | None:
    """"400 m² livres", "45m2 de laje", "area de 120 metros quadrados"."""
    m = re.search(rf"({NUM})\s*(?:m²|m2\b|metros? quadrados?|square met(?:er|re)s?|sq ?m\b)", text.lower())
    return _number(m.group(1), lang) if m else None


def shading_pct(text: str, lang: str = "pt") -> float | None:
    folded = fold(text)
    m = re.search(rf"(sombr\w*|shad\w*|perdas? extras?)\D{{0,25}}({NUM})\s*%", folded) or \
        re.search(rf"({NUM})\s*%\s*(de )?(sombr\w*|shad\w*)", folded)
    if not m:
        return None
    raw = m.group(2) if m.group(1) and not m.group(1)[0].isdigit() else m.group(1)
    return _number(raw, lang)


def target_offset_pct(text: str, lang: str = "pt") -> float | None:
    """Coverage of the consumption: "cobrir 80 %", "80% da conta", "metade do consumo"."""
    folded = fold(text)
    cover = r"(cobr\w*|compens\w*|abat\w*|zerar|reduz\w*|cover\w*|offset|atender)"
    of_what = r"(d[ao] (conta|consumo|fatura)|of (the )?(bill|consumption|usage))"
    m = (re.search(rf"{cover}\D{{0,20}}?({NUM})\s*(%|por ?cento|percent)", folded)
         or re.search(rf"({NUM})\s*(%|por ?cento|percent)\s*{of_what}", folded))
    if m:
        raw = next(g for g in m.groups() if g and re.fullmatch(NUM, g))
        return _number(raw, lang)
    if re.search(rf"\b(metade|half)\b.{{0,12}}{of_what}|{cover}\D{{0,12}}\b(metade|half)\b", folded):
        return 50.0
    return None


_BUDGET_AFTER = re.compile(rf"(r\$\s*)?({NUM})\s*(mil|k)?\b\s*(reais|brl|conto)?\s*(de|of)\s+"
                          rf"(orcamento|verba|budget|investimento)\b")

# "o cliente só tem 30 mil": money the client has, the number right after "tem" (not "tem conta de…").
_BUDGET_HAS = re.compile(rf"\b(?:so|soh|apenas) tem\s+(?:uns |umas |ate )?(r\$\s*)?({NUM})\s*(mil|k)?\b\s*(reais|conto)?"
                         rf"(?!\s*(?:k?wh|kwp|kw|m2|m²|%|x\b|vezes|parcelas|meses|anos|placas|paineis|modulos))")


def budget_brl(text: str, lang: str = "pt") -> float | None:
    """"tenho 30 mil", "orçamento de R$ 25.000", "budget of R$ 40k", "verba de 50 mil",
    "25 mil de orçamento"."""
    folded = fold(text)
    after = _BUDGET_AFTER.search(folded) or _BUDGET_HAS.search(folded)
    if after and (after.group(1) or after.group(3) or after.group(4)):
        value = _number(after.group(2), lang)
        if value is not None:
            return value * MULTIPLIERS.get(after.group(3) or "", 1.0)
    m = re.search(rf"\b(orcamento|verba|budget|tenho|investir|investimento de|ate|no maximo|dispon\w*|gastar)\b"
                  rf"[^\d]{{0,18}}?(r\$\s*)?({NUM})\s*(mil|k|mi|milhao|milhoes)?\b\s*(reais|brl|conto)?", folded)
    if not m:
        return None
    marked = bool(m.group(2) or m.group(4) or m.group(5))
    after = folded[m.end():m.end() + 12]
    if not marked or re.match(r"\s*(k?wh|kwp|kw|w\b|m2|m²|%|x\b|vezes|parcelas|meses|anos)", after):
        return None
    if m.group(1) in ("ate", "no maximo", "gastar") and re.search(r"\b(conta|fatura|bill)\b", folded):
        return None  # "conta de até R$ 500" is a bill
    value = _number(m.group(3), lang)
    if value is None:
        return None
    return value * MULTIPLIERS.get(m.group(4) or "", 1.0)


def orientation(text: str, lang: str = "pt") -> tuple[float | None, float | None]:
    """(tilt_deg, azimuth_deg): "inclinação de 15°", "voltado para o norte", "face leste"."""
    folded = fold(text)
    tilt = None
    m = re.search(rf"(inclina\w*|tilt|caimento)\D{{0,12}}({NUM})\s*(°|graus|deg|degrees)?", folded) or \
        re.search(rf"({NUM})\s*(°|graus)\s*de inclina", folded)
    if m:
        tilt = _number(m.group(2) if not m.group(1)[0].isdigit() else m.group(1), lang)
    azimuth = None
    m = re.search(r"\b(voltad[oa]s? (para|pro|pra) o?|virad[oa]s? (para|pro|pra) o?|face|orientad[oa]s? (para|a)? ?o?|"
                  r"facing)\s*(norte|nordeste|noroeste|leste|sudeste|sudoeste|sul|oeste|north|northeast|northwest|east|"
                  r"southeast|southwest|south|west)\b", folded)
    if m:
        azimuth = _ORIENTATION[m.group(5)]
    m = re.search(rf"azimute\D{{0,8}}({NUM})", folded)
    if m:
        azimuth = _number(m.group(1), lang)
    return tilt, azimuth


def distributor(text: str) -> str | None:
    """The distribution company named ("sou da Cemig", "minha distribuidora é a Coelba")."""
    folded = fold(text)
    for name in sorted(_DISTRIBUTORS, key=len, reverse=True):
        m = re.search(rf"\b{name}\b(\s+(sp|rj|ce|ms|mt|pb|ro|se|to|ac|al|go|ma|pa|pi|es|paulista|piratininga|"
                      rf"santa cruz|minas rio|sul sudeste|brasilia|pernambuco|coelba|cosern|elektro))?", folded)
        if not m:
            continue
        if name in ("light", "edp", "ceb", "ceal", "rge") and not _DISTRIBUTOR_CUE.search(folded[:m.start()]):
            continue  # "light" is also English; short sigla need "sou da …"/"distribuidora …"
        suffix = (m.group(2) or "").strip()
        base = _DISTRIBUTORS[name]
        if suffix and base in ("Enel", "Energisa", "Equatorial", "EDP", "CPFL", "Neoenergia"):
            return f"{base} {suffix.upper() if len(suffix) == 2 else suffix.title()}"
        return base
    return None


def distributor_for_uf(name: str, uf: str | None) -> str:
    """A group name ("Enel", "Energisa") made specific with the site's UF when one company of
    that group serves it; any other name is returned as it is (the engine resolves or rejects it)."""
    if not uf or name not in ("Enel", "Energisa", "Equatorial", "EDP", "CPFL", "Neoenergia"):
        return name
    from app.sizing.tariffs import distributors  # data read once, on first use

    options = [d["nome"] for d in distributors() if fold(d["nome"]).startswith(fold(name)) and uf in d["estados"]]
    return options[0] if len(options) == 1 else name


_WHICH_MAKER = re.compile(r"\b(marca|fabricante|fabrica|brand|make|manufacturer|made by)\b")
_OTHER_MAKER = re.compile(r"\b(outras?|other|another|diferentes?|different|qualquer|any|melhor|best|tem|have)\b")
_SIZED_PART = re.compile(r"\b(inversor\w*|microinversor\w*|modulos?|placas?|paineis|painel|inverters?|"
                         r"modules?|panels?)\b")


def asks_maker_of(text: str) -> str | None:
    """``inverter`` or ``module`` when the message asks who makes that part ("esse inversor é de
    que marca?", "o modulo é de qual fabricante?"), else ``None``."""
    folded = fold(text)
    part = _SIZED_PART.search(folded)
    if not part or not _WHICH_MAKER.search(folded) or _OTHER_MAKER.search(folded):
        return None
    return "module" if part.group(1).startswith(("modul", "placa", "paine", "panel")) else "inverter"


# "me passa o contato de um vendedor", "quero falar com um atendente", "can I talk to a sales rep?"
_SALES_CONTACT = re.compile(
    r"\b(contato|telefone|fone|whats\w*|zap|falar com|fala com|conversar com|ligar pra|ligar para|talk to|speak to|"
    r"speak with|contact|reach)\b.{0,30}\b(vendedor\w*|representante\w*|atendente\w*|humano|uma pessoa|consultor\w*|"
    r"comercial|equipe de vendas|sales\w*|someone|a person|human|seller)\b")


def asks_for_sales_contact(text: str) -> bool:
    """The message asks for a person at YSH sales (answered with the way to them, not a search)."""
    return bool(_SALES_CONTACT.search(fold(text)))


def battery_context(text: str) -> bool:
    return bool(_BATTERY.search(fold(text)))


def kwh_figures(text: str, lang: str) -> list[tuple[float, str | None, str, int]]:
    """Every "N kWh" in the text: (value in kWh, period word or None, raw text, position).
    "2,1 mil kwh" = 2 100; "1,2 MWh" = 1 200."""
    lowered = text.lower()
    out = []
    # "kW/h" and "kW por mês" are how many people write kWh (a power unit never takes "/h" or a month).
    unit = r"(k|m)(?:wh\b|w\s*/\s*h\b|w(?=\s*(?:/|por|ao|no|a|p/)\s*m[eê]s\b))"
    for m in re.finditer(rf"(?<![\w.,])({NUM})\s*(mil\s*|k\s+)?{unit}", lowered):
        value = _number(m.group(1), lang)
        if value is None:
            continue
        if m.group(2):
            value *= 1000
        if m.group(3) == "m":
            value *= 1000
        period = _PERIOD.match(fold(lowered[m.end():m.end() + 12]))
        out.append((value, period.group(1) if period else None, text[m.start():m.end()], m.start()))
    return out


def battery_capacity_kwh(text: str, lang: str = "pt") -> float | None:
    """"bateria de 10 kWh", "baterias de lítio de 5 kWh": a capacity, not a consumption — a kWh
    figure without "/mês" next to a battery word and not after "consumo"/"gasta"."""
    for value, period, raw, start in kwh_figures(text, lang):
        if period is not None:
            continue
        before = fold(text[max(0, start - 45):start])
        after = fold(text[start + len(raw):start + len(raw) + 25])
        if re.search(r"\b(consum\w*|gast\w*|usa|uses|conta|bill)\W*(de|of|medio|mensal)?\W*$", before):
            continue
        if _BATTERY.search(before) or _BATTERY.search(after):
            return value
    return None


def fixed_size_kwp(text: str, lang: str = "pt") -> float | None:
    """A given system size: "quanto gera um sistema de 8 kWp", "simula 5,5 kwp". A bare "kW"
    counts only in a generation question (elsewhere it is an inverter's power)."""
    lowered = text.lower()
    m = re.search(rf"({NUM})\s*kwp\b", lowered)
    if m is None and _GENERATION.search(fold(text)):
        m = re.search(rf"({NUM})\s*kw\b", lowered)
    if m is None:
        return None
    return _number(m.group(1), lang)


def generation_question(text: str) -> bool:
    return bool(_GENERATION.search(fold(text)))


def doubts(text: str, lang: str = "pt") -> list[Doubt]:
    """Numbers no plausible reading fits: scientific notation ("1e308 kWh") and consumptions
    above the engine's limit ("99.999.999.999 kWh"). They are asked about, never reinterpreted."""
    out: list[Doubt] = []
    lowered = text.lower()
    for m in re.finditer(r"(\d+(?:[.,]\d+)?e[+-]?\d+|\binf\w*|\bnan\b)\s*(k|m)?wh\b", lowered):
        out.append(Doubt("consumption", text[m.start():m.end()], "1.000.000 kWh/mês"))
    if out:
        return out
    for value, period, raw, _start in kwh_figures(text, lang):
        monthly = value / 12 if period in ("ano", "year", "yr") else value * 30 if period in ("dia", "day") else value
        if monthly > MAX_MONTHLY_KWH:
            out.append(Doubt("consumption", raw, "1.000.000 kWh/mês"))
    return out



def consumption_follow_up(text: str, previous_kwh: float | None) -> float | None:
    """A new monthly consumption [kWh] said relative to the one known: "e se dobrar o consumo?"."""
    if not previous_kwh:
        return None
    folded = fold(text)
    if re.search(r"\b(dobr\w*|o dobro|double\w*|twice)\b", folded):
        return previous_kwh * 2
    if re.search(r"\b(triplic\w*|o triplo|triple\w*)\b", folded):
        return previous_kwh * 3
    return None


_MONTHS = {
    "jan": 0, "janeiro": 0, "january": 0, "fev": 1, "fevereiro": 1, "feb": 1, "february": 1, "mar": 2, "marco": 2,
    "march": 2, "abr": 3, "abril": 3, "apr": 3, "april": 3, "mai": 4, "maio": 4, "may": 4, "jun": 5, "junho": 5,
    "june": 5, "jul": 6, "julho": 6, "july": 6, "ago": 7, "agosto": 7, "aug": 7, "august": 7, "set": 8,
    "setembro": 8, "sep": 8, "sept": 8, "september": 8, "out": 9, "outubro": 9, "oct": 9, "october": 9,
    "nov": 10, "novembro": 10, "november": 10, "dez": 11, "dezembro": 11, "dec": 11, "december": 11,
}
_MONTH_VALUE = re.compile(rf"\b({'|'.join(sorted(_MONTHS, key=len, reverse=True))})\b\.?(?:/\d{{2,4}})?\s*[:=\-]?\s*"
                          rf"({NUM})\s*(?:k?wh)?")


def monthly_history(text: str, lang: str = "pt") -> list[float] | None:
    """Twelve monthly consumptions [kWh] labelled by month ("jan 520 fev 480 … dez 530",
    "janeiro: 410, fevereiro: 390 …"), in calendar order; ``None`` unless all twelve are given."""
    values: dict[int, float] = {}
    for m in _MONTH_VALUE.finditer(fold(text)):
        value = _number(m.group(2), lang)
        month = _MONTHS[m.group(1)]
        if value is None or month in values:
            return None  # a month twice: not a plain history
        values[month] = value
    if len(values) != 12:
        return None
    return [values[i] for i in range(12)]


_NOT_A_QUANTITY_AFTER = re.compile(
    r"\s*(x\b|vezes|parcelas|meses|mes\b|months?|anos?\b|years?|%|por ?cento|m2|m²|metros|graus|°|deg|"
    r"kwp|kw\b|w\b|watts?|v\b|volts?|h\b|horas|dias|pessoas|placas|paineis|modulos)")
_BARE_NUMBER = re.compile(rf"(?<![\w.,/])({NUM})(\s*mil\b|k\b)?(?![\w/]|[.,]\w)")


def bare_quantity(text: str, lang: str = "pt") -> float | None:
    """The one unit-less number of a short follow-up ("e se fosse 600?", "na verdade é 980",
    "e se fosse 2 mil?"): the caller decides what it replaces (the consumption, the bill or the
    size the conversation holds). ``None`` when the message is long, has several numbers, or
    the number carries another unit ("em 60x", "150 m2", "20 graus")."""
    folded = fold(text)
    # A lead-in ("blz, voltando pro meu sistema, e se o consumo fosse 800?") may lengthen it
    # when a word names the quantity.
    if len(folded.split()) > (16 if quantity_kind(text) else 10):
        return None
    found = []
    for m in _BARE_NUMBER.finditer(folded):
        if _NOT_A_QUANTITY_AFTER.match(folded, m.end()):
            return None
        value = _number(m.group(1), lang)
        if value is None:
            return None
        if value in (110, 127, 220, 380) and re.match(r"\s*(mono|bi|tri|fas|phase|single|two|three)", folded[m.end():]):
            continue  # "220 bifásico": the grid voltage
        found.append(value * (1000.0 if m.group(2) else 1.0))
    return found[0] if len(found) == 1 and found[0] > 0 else None


def quantity_kind(text: str) -> str | None:
    """Which sizing quantity a follow-up's bare number names by a word next to it, if any:
    ``monthly_kwh`` ("o consumo é 480"), ``bill_brl`` ("a conta é 980") or ``system_kwp``."""
    folded = fold(text)
    if re.search(r"\b(consum\w*|gast\w*|usa|uses|usage|kwh)\b", folded):
        return "monthly_kwh"
    if re.search(r"\b(conta|fatura|bill|reais|paga\w*)\b", folded):
        return "bill_brl"
    if re.search(r"\b(kwp|potencia|sistema de|system of)\b", folded):
        return "system_kwp"
    return None


_UNITS_WORDS = {"um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7,
                "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12, "treze": 13, "quatorze": 14, "catorze": 14,
                "quinze": 15, "dezesseis": 16, "dezessete": 17, "dezoito": 18, "dezenove": 19, "vinte": 20,
                "trinta": 30, "quarenta": 40, "cinquenta": 50, "sessenta": 60, "setenta": 70, "oitenta": 80,
                "noventa": 90, "cem": 100, "cento": 100, "duzentos": 200, "duzentas": 200, "trezentos": 300,
                "trezentas": 300, "quatrocentos": 400, "quatrocentas": 400, "quinhentos": 500, "quinhentas": 500,
                "seiscentos": 600, "seiscentas": 600, "setecentos": 700, "setecentas": 700, "oitocentos": 800,
                "oitocentas": 800, "novecentos": 900, "novecentas": 900}
_WORD = rf"(?:{'|'.join(sorted(_UNITS_WORDS, key=len, reverse=True))}|três|mil)"
_SPELLED = re.compile(rf"(?<!\d\s)(?<![\d.,])\b({_WORD}(?:\s+(?:e\s+)?{_WORD})*)\s+(?=(k?wh|kwp|kw\b|reais|contos?|pila|por m[eê]s)\b)",
                      re.IGNORECASE)


def _spelled_value(words: str) -> float | None:
    total = group = 0
    for word in words.split():
        if word == "e":
            continue
        if word == "mil":
            total += (group or 1) * 1000
            group = 0
        else:
            group += _UNITS_WORDS[word]
    value = total + group
    return float(value) if value >= 10 else None


def spelled_numbers(text: str) -> str:
    """Numbers written in words before a unit, as digits: "uns seiscentos kWh" → "uns 600 kWh",
    "conta de mil reais" → "conta de 1000 reais", "dois mil e quinhentos kwh" → "2500 kwh".
    Only before an energy or money unit, so "um sistema" stays words."""

    def digits(m: re.Match[str]) -> str:
        value = _spelled_value(fold(m.group(1)))
        return m.group(0) if value is None else f"{value:.0f} "

    return _SPELLED.sub(digits, text)


def plain_units(text: str) -> str:
    """``text`` with energy written the usual way, for the intent model: spelled numbers as digits,
    "450 kW/h", "900kw por mês" and "1,5k kWh" as "450 kWh", "900 kWh por mês", "1500 kWh" (the
    model, trained on "kWh", reads a bare "kW" as an inverter's power)."""
    text = spelled_numbers(text)
    out, last = [], 0
    for value, _period, raw, start in kwh_figures(text, "pt"):
        if re.fullmatch(rf"{NUM}\s*kwh", raw.lower()):
            continue
        out.append(text[last:start] + f"{value:g} kWh")
        last = start + len(raw)
    return "".join(out) + text[last:]
