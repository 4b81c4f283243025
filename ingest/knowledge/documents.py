"""The parsed form of every knowledge source, before chunking."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["text", "table", "list"]


@dataclass(frozen=True)
class Block:
    """A unit the chunker never splits unless it alone exceeds the chunk size.

    ``section`` is the heading path above the block (``"Especificações > Entrada CC"``);
    ``page`` is 1-based for PDFs, ``None`` elsewhere.
    """

    text: str
    kind: BlockKind = "text"
    section: str | None = None
    page: int | None = None


@dataclass
class SourceDoc:
    """One indexable document.

    ``source`` is its key: path under data/knowledge (``datasheets/x.pdf``), ``path#id``
    for one YAML item, ``catalog:<product id>``. ``doc_keys`` are the keys the labelled
    queries and citations use for it (e.g. every ``catalog:<upstream row id>``).
    ``meta`` carries manufacturer, model, category, product_ids, upstream_ids, power_w,
    lender (whatever applies). ``source_hash`` changes when the content changes.
    ``context`` (e.g. the product's catalog name on a datasheet) is repeated in each chunk's
    header so that a chunk read alone still says what it is about.
    """

    source: str
    doc_type: str
    title: str
    blocks: list[Block]
    source_hash: str
    doc_keys: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    context: str | None = None  # one line repeated in every chunk header (e.g. the catalog product name)

    def __post_init__(self) -> None:
        if not self.doc_keys:
            self.doc_keys = [self.source]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_json(obj: Any) -> str:
    return sha256_bytes(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))


@dataclass(frozen=True)
class ParseError:
    """A file that could not be read; its previous chunks stay in the index."""

    source: str
    message: str
