"""Text helpers for the catalog export: slugs, names, brands (folding: :mod:`app.core.text`).

The export's ``name`` is sometimes an image URL (the real name then sits in
``description``, often opened by a stray ``"`` left by a CSV split at a comma), and the
``manufacturer`` field often holds the distributor (NEOSOLAR, SOLFACIL). These helpers
recover the most trustworthy text without inventing any.
"""

from __future__ import annotations

import re

from app.core.text import fold

_URL_RE = re.compile(r"^\s*(https?://|www\.|/?images[\\/]|/catalog/)", re.IGNORECASE)
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_len: int = 80) -> str:
    """ASCII slug: ``"Chint NXI-5.0K-T2"`` → ``"chint-nxi-5-0k-t2"``."""
    slug = _NON_ALNUM_RE.sub("-", fold(text)).strip("-")
    return slug[:max_len].rstrip("-")


def alnum_key(text: str) -> str:
    """Only letters and digits, folded: "GW 100K-HT" and "GW100K-HT" give the same key."""
    return _NON_ALNUM_RE.sub("", fold(text))


def is_url(text: str | None) -> bool:
    return bool(text) and bool(_URL_RE.match(text or ""))


def clean_text(text: str | None) -> str:
    """Collapse whitespace, drop the stray leading quote of CSV-split descriptions."""
    if not text:
        return ""
    text = text.replace("\u00a0", " ").strip()
    if text.startswith('"') and text.count('"') % 2 == 1:
        text = text[1:]
    return re.sub(r"\s+", " ", text).strip()


def is_truncated(text: str | None) -> bool:
    """True when a description was cut by a CSV split: it opens with an unbalanced quote.

    Such text lost everything after the first comma ("… até 7" of "até 7,4 kW").
    """
    return bool(text) and text.lstrip().startswith('"') and text.count('"') % 2 == 1


def rejoin_split(name: str | None, description: str | None) -> str | None:
    """The whole text when the CSV split cut one field in two at a comma, else ``None``.

    '"Inversor On Grid Livoltek 7' + '5kW 220V Monofásico - GT1-7K5T2"' (each half keeps
    one of the quotes) was "Inversor On Grid Livoltek 7,5kW 220V Monofásico - GT1-7K5T2".
    """
    head, tail = (name or "").strip(), (description or "").strip()
    if not (is_truncated(head) and tail.endswith('"') and tail.count('"') % 2 == 1 and not tail.startswith('"')):
        return None
    return clean_text(head[1:] + "," + tail[:-1])


def derive_name(name: str | None, description: str | None) -> tuple[str | None, str]:
    """Best human name for a row and where it came from (``"name"`` / ``"description"``).

    A name that is an image URL (or empty) is replaced by the description, unless that
    is a URL too; then ``(None, "none")``: the row has no usable name.
    """
    name_c = clean_text(name)
    if name_c and not is_url(name_c):
        return name_c, "name"
    desc_c = clean_text(description)
    if desc_c and not is_url(desc_c):
        return desc_c, "description"
    return None, "none"


# Canonical brand spelling, keyed by alnum_key of an alias. Distributors (NEOSOLAR,
# SOLFACIL, ODEX as a seller…) are not manufacturers: see DISTRIBUTOR_KEYS.
_BRANDS: dict[str, str] = {
    "goodwe": "GoodWe", "growatt": "Growatt", "deye": "Deye", "epever": "Epever",
    "saj": "SAJ", "sofar": "Sofar", "huawei": "Huawei", "enphase": "Enphase",
    "solax": "SolaX", "livoltek": "Livoltek", "must": "Must", "ztroon": "ZTROON",
    "chint": "Chint", "chintpower": "Chint", "tsuness": "Tsuness", "tsun": "Tsun",
    "jinko": "Jinko", "jinkosolar": "Jinko", "astronergy": "Astronergy", "trina": "Trina",
    "trinasolar": "Trina", "hanersun": "Hanersun", "dah": "DAH Solar", "dahsolar": "DAH Solar",
    "osda": "OSDA", "minasol": "Minasol", "solarnplus": "Solar N Plus", "odex": "Odex",
    "clamper": "Clamper", "tecbox": "Tecbox", "solargroup": "Solar Group",
    "romagnole": "Romagnole", "pratyc": "Pratyc", "k2systems": "K2 Systems",
    "foxess": "FoxESS", "nep": "NEP", "condufort": "Condufort", "neocharge": "NeoCharge",
    "unipower": "Unipower", "polimax": "Polimax", "ccm": "CCM", "lafeber": "Lafeber",
    "proauto": "Proauto", "staubli": "Staubli", "evlink": "EVlink", "canadian": "Canadian Solar",
    "canadiansolar": "Canadian Solar", "hoymiles": "Hoymiles", "apsystems": "APsystems",
    "byd": "BYD", "pylontech": "Pylontech", "weg": "WEG", "fronius": "Fronius",
    "solarsystem": "Solar System", "perfilmaster": "Perfil Master",
}
DISTRIBUTOR_KEYS = frozenset({"neosolar", "solfacil", "fotus", "fortlev", "ysh", "unknown", "generico", ""})

# Brands looked for inside names when the manufacturer field is a distributor. Longest
# first so "Solar N Plus" wins over shorter overlaps.
_NAME_BRANDS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        ((fold(v), v) for v in set(_BRANDS.values()) if v not in {"Odex", "CCM", "Solar System", "Perfil Master"}),
        key=lambda kv: -len(kv[0]),
    )
)


def canonical_brand(raw: str | None) -> str | None:
    """Canonical manufacturer, or ``None`` when the field is empty or names a distributor."""
    key = alnum_key(raw or "")
    if key in DISTRIBUTOR_KEYS:
        return None
    return _BRANDS.get(key, (raw or "").strip().title() or None)


def brand_in_text(text: str) -> str | None:
    """First known brand mentioned as a whole word in ``text`` (accent-insensitive)."""
    folded = f" {_NON_ALNUM_RE.sub(' ', fold(text))} "
    for key, brand in _NAME_BRANDS:
        if f" {key} " in folded:
            return brand
    return None


_UNIT_TOKEN_RE = re.compile(
    r"^\(?\d+([.,]\d+)?(k?wp?|kwh|v|vcc|vca|a|ah|mm2?|m|mt|kv|kva|x|°c?)?\)?$", re.IGNORECASE
)
_FEATURE_WORDS = {"afci", "rsd", "mppt", "mlpe", "wifi", "wi-fi", "br", "tier", "g4", "g3"}


def _looks_like_model(token: str) -> bool:
    t = token.strip("(),;:")
    if len(t) < 3 or "%" in t or _UNIT_TOKEN_RE.match(t) or "/" in t and re.match(r"^\d+/\d+", t):
        return False
    return bool(re.search(r"\d", t)) and bool(re.search(r"[A-Za-z]", t))


def extract_model(name: str, manufacturer: str | None = None) -> str | None:
    """Model code written in a product name ("Chint NXI-5.0K-T2 3kW…" → "NXI-5.0K-T2").

    Takes the first token mixing letters and digits that is not a quantity with a unit,
    extended by an upper-case series prefix ("GW 30KLS-MT", "MAC 36KTL3-XL") and a
    following generation tag ("SUN2250 G4"). ``None`` when nothing looks like a model.
    """
    tokens = [t for t in re.split(r"\s+", name.replace("|", " ")) if t]
    brand_key = alnum_key(manufacturer or "")
    for i, tok in enumerate(tokens):
        if not _looks_like_model(tok) or alnum_key(tok) == brand_key:
            continue
        parts = [tok.strip("(),;:")]
        prev = tokens[i - 1] if i else ""
        if re.fullmatch(r"[A-Z]{2,4}", prev) and alnum_key(prev) != brand_key and prev.lower() not in _FEATURE_WORDS:
            parts.insert(0, prev)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if re.fullmatch(r"G\d", nxt):
            parts.append(nxt)
        return " ".join(parts)
    return None
