"""Static widget files, read once per process and served with an ETag and a gzip copy."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str


@lru_cache(maxsize=16)
def load_asset(name: str) -> Asset:
    """``static/<name>`` with its strong ETag (content hash) and a gzip -9 copy."""
    path = (STATIC_DIR / name).resolve()
    if path.parent != STATIC_DIR or not path.is_file():
        raise FileNotFoundError(name)
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Asset(body, gzip.compress(body, 9, mtime=0), etag, MEDIA_TYPES.get(path.suffix, "application/octet-stream"))


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison: ``*`` or any listed tag, with or without ``W/``."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def accepts_gzip(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*") and params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            return True
    return False
