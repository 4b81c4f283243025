"""A person (pessoa física) as a buyer: CPF check digits, masking, and the contact fields.

The CPF's last two digits are check digits (mod 11 over the first nine, then the first ten,
weights descending from 10 and 11); a CPF of one repeated digit passes the arithmetic but is
never issued, so it is refused too. Only the digits are stored; people see it masked
(``***.982.247-**``) wherever it is not needed in full.
"""

from __future__ import annotations

import re

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def _check_digit(numbers: str) -> int:
    weight = len(numbers) + 1
    total = sum(int(d) * (weight - i) for i, d in enumerate(numbers))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def valid_cpf(cpf: str | None) -> bool:
    """Whether ``cpf`` (with or without dots and dash) is a CPF whose check digits match."""
    d = digits(cpf)
    if len(d) != 11 or d == d[0] * 11 or (cpf and re.search(r"[^\d.\-\s]", cpf)):
        return False
    return _check_digit(d[:9]) == int(d[9]) and _check_digit(d[:10]) == int(d[10])


def format_cpf(cpf: str) -> str:
    """'52998224725' → '529.982.247-25' (other lengths as given)."""
    d = digits(cpf)
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}" if len(d) == 11 else cpf


def mask_cpf(cpf: str | None) -> str | None:
    """'52998224725' → '***.982.247-**': enough to tell two people apart, not to use the CPF."""
    d = digits(cpf)
    return f"***.{d[3:6]}.{d[6:9]}-**" if len(d) == 11 else None


def valid_email(email: str | None) -> bool:
    return bool(email) and _EMAIL_RE.fullmatch(email.strip()) is not None


def normalize_phone(phone: str | None) -> str | None:
    """A Brazilian phone as digits with the area code (10 or 11 digits; a leading 55 is the
    country code and dropped), or ``None`` when it cannot be one."""
    d = digits(phone)
    if len(d) in (12, 13) and d.startswith("55"):
        d = d[2:]
    return d if len(d) in (10, 11) and d[0] != "0" else None
