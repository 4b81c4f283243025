"""How a sales rep names a person (pessoa física) as the buyer of a quote.

"faz uma cotação desse kit pra Maria Souza, CPF 529.982.247-25", "orçamento para pessoa
física João da Silva, e-mail joao@exemplo.com", "é PF: Ana Lima, tel (31) 98765-4321". The
name is taken only from the words the rep wrote, never made up; the CPF is read as written
(its check digits are judged by the caller, which asks again when they do not match).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.commerce.people import digits, normalize_phone, valid_cpf
from app.core.text import fold

# A CPF written as one ("529.982.247-25"), or 11 digits right after the word CPF.
_CPF_RE = re.compile(r"(?<![\d./])(\d{3}\.\d{3}\.\d{3}-\d{2})(?![\d/])|\bcpf\b\s*(?:n[ºo°.]*\s*)?[:=\-]?\s*"
                     r"(\d[\d.\s-]{9,14}\d)", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"\b(?:tel(?:efone)?|fone|celular|cel|whats(?:app)?|zap)\b\.?\s*[:\-]?\s*(\+?[\d\s().-]{8,20}\d)"
                       r"|(\(\d{2}\)\s*9?\d{4}-?\d{4})", re.IGNORECASE)
_MARKER_RE = re.compile(r"\b(pessoa\s+f[ií]sica|pf)\b", re.IGNORECASE)
_COMPANY_WORDS = re.compile(r"\b(ltda|me|eireli|s\.?a\.?|cnpj|empresa|comercio|solar|energia|engenharia)\b")
# Where a name ends: a comma or bracket, a contact word, a digit, "com"/"e o CPF…".
_NAME_END = re.compile(r"\s*(?:[,;()\[\]:]|\s-\s|\b(?:cpf|e-?mail|tel(?:efone)?|fone|celular|cel|whats(?:app)?|zap|"
                       r"com|em|no valor|parcel\w*|financ\w*|entrada)\b|\d|$)", re.IGNORECASE)
_INTRO_RE = re.compile(r"(?:\b(?:pr[ao]|para|cliente|for|client|customer|nome\s+d[aeo]|name\s+of)\b|\bp/)\s*(?::\s*)?",
                       re.IGNORECASE)
_LEAD_RE = re.compile(r"^(?:(?:a|o|é|e|eh|uma?|dona|seu|sr\.?|sra\.?|senhora?|cliente|final|pessoa\s+f[ií]sica|pf)"
                      r"\b\.?\s*[:\-]?\s*)+", re.IGNORECASE)
_NOT_NAMES = {"kit", "sistema", "esse", "este", "essa", "esta", "ele", "ela", "mim", "voce", "empresa", "orcamento",
              "cotacao", "proposta", "cliente", "pessoa", "quem", "mesmo", "mesma", "dele", "dela", "isso", "ela", "o",
              "a", "um", "uma", "sim", "nao", "ok", "certo", "correto", "corrigindo", "desculpa", "ops", "melhor",
              "deixa", "depois", "cancela", "esquece", "agora", "pensando"}
_WORD = re.compile(r"[A-Za-zÀ-ÿ'’.-]+")


@dataclass
class PersonAsk:
    """What the message says about a person; ``cpf_raw`` is the CPF as written (maybe invalid)."""

    name: str | None = None
    cpf_raw: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_raw: str | None = None
    marked: bool = False  # "pessoa física" / "PF" written

    @property
    def cpf(self) -> str | None:
        return digits(self.cpf_raw) if self.cpf_raw and valid_cpf(self.cpf_raw) else None

    @property
    def bad_cpf(self) -> bool:
        return self.cpf_raw is not None and self.cpf is None

    @property
    def bad_phone(self) -> bool:
        return self.phone_raw is not None and self.phone is None

    def has_contact(self) -> bool:
        return bool(self.cpf or self.email or self.phone)

    def merged(self, earlier: dict[str, str]) -> PersonAsk:
        """This reply completed with what the rep said before (``state.buyer`` ``pf_*`` keys)."""
        return PersonAsk(name=self.name or earlier.get("pf_name"),
                         cpf_raw=self.cpf_raw or earlier.get("pf_cpf"), email=self.email or earlier.get("pf_email"),
                         phone=self.phone or earlier.get("pf_phone"), phone_raw=self.phone_raw,
                         marked=self.marked or bool(earlier.get("pf_marked")))

    def remembered(self) -> dict[str, str]:
        """The ``pf_*`` keys to keep in ``state.buyer`` while a question is open."""
        values = {"pf_name": self.name, "pf_cpf": self.cpf_raw if self.cpf else None, "pf_email": self.email,
                  "pf_phone": self.phone, "pf_marked": "1" if self.marked else None}
        return {k: v for k, v in values.items() if v}

    def customer(self) -> dict[str, str]:
        """The quote tool's ``customer`` argument."""
        values = {"name": self.name, "cpf": self.cpf, "email": self.email, "phone": self.phone}
        return {k: v for k, v in values.items() if v}


def _clean_name(raw: str) -> str | None:
    raw = _LEAD_RE.sub("", raw.strip(" .,:;!?-")).strip(" .,:;!?-")
    words = raw.split()
    if not words or len(words) > 6 or not all(_WORD.fullmatch(w) for w in words):
        return None
    if fold(words[0]).strip(".") in _NOT_NAMES or len(words[0]) < 2:
        return None
    if raw == raw.lower():  # "maria souza" → "Maria Souza" (connectors stay lower-case)
        raw = " ".join(w if w in ("de", "da", "do", "dos", "das", "e") else w.capitalize() for w in words)
    return raw


def _name(text: str, bare: bool) -> str | None:
    """The person's name: after "pra / para / cliente / pessoa física", or (``bare``, the reply
    to "para qual cliente?") at the start of the message, up to a comma, a contact or a digit."""
    starts = [m.end() for m in _INTRO_RE.finditer(text)] + [m.end() for m in _MARKER_RE.finditer(text)]
    if bare:
        starts.append(0)
    for start in sorted(set(starts), reverse=True):  # the last introduction is nearest the name
        rest = text[start:].lstrip(" :,;-")
        end = _NAME_END.search(rest)
        name = _clean_name(rest[:end.start()] if end else rest)
        if name:
            return name
    return None


def parse_person(text: str, bare: bool = False) -> PersonAsk | None:
    """The person the message names as a quote's buyer, or ``None`` when it names none: a
    person needs a CPF, an e-mail, a phone or the words "pessoa física"/"PF" (a bare name is a
    company's, looked up as such). A CNPJ or company words make it a company's message."""
    if re.search(r"\d{2}\.?\d{3}\.?\d{3}/\d{4}-?\d{2}", text):
        return None
    cpf = _CPF_RE.search(text)
    email = _EMAIL_RE.search(text)
    phone = _PHONE_RE.search(re.sub(_CPF_RE, " ", text))
    marked = bool(_MARKER_RE.search(text))
    if not (cpf or email or phone or marked):
        return None
    ask = PersonAsk(cpf_raw=(cpf.group(1) or cpf.group(2)).strip() if cpf else None,
                    email=email.group(0).lower() if email else None, marked=marked)
    if phone:
        ask.phone_raw = (phone.group(1) or phone.group(2)).strip()
        ask.phone = normalize_phone(ask.phone_raw)
    scrubbed = _EMAIL_RE.sub(" ", text)
    ask.name = _name(scrubbed, bare)
    if ask.name and not (marked or cpf) and _COMPANY_WORDS.search(fold(ask.name)):
        return None  # "pra Solar BH Ltda, e-mail …": a company with its e-mail
    return ask
