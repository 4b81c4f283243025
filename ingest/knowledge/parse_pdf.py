"""PDF → blocks with page numbers and a heading path (pypdf, layout-preserving extraction).

pypdf's ``layout`` mode keeps each table row on one line with its cells separated by runs
of spaces; those rows become Markdown-like ``| a | b |`` table blocks so specs stay with
their labels (and the spec extractor reads PDFs and Markdown the same way). A heading is a
short line without final punctuation that starts a paragraph. Lines repeated on every page
(running headers/footers, page numbers aside) are dropped.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

from pypdf import PdfReader

from ingest.knowledge.documents import Block

_CELL_GAP = re.compile(r"\s{2,}")
_END_PUNCT = tuple(".,;:!?…\"')")  # a line ending so closes a sentence
_NOT_HEADING_END = tuple(".,;:!?…")


class PdfError(ValueError):
    pass


def pdf_metadata(reader: PdfReader) -> dict[str, Any]:
    """Document info as ``{lowercase key: value}``, plus ``key:value`` / ``key=value`` pairs
    found in Keywords and Subject (``manufacturer:SAJ, upstream_id:…``) as their own keys."""
    info = {str(k).lstrip("/").lower(): str(v) for k, v in (reader.metadata or {}).items() if v is not None}
    out: dict[str, Any] = dict(info)
    for field in ("keywords", "subject"):
        for part in re.split(r"[;,]\s*", info.get(field, "")):
            m = re.match(r"^\s*([A-Za-z_]+)\s*[:=]\s*(.+?)\s*$", part)
            if not m:
                continue
            key, value = m.group(1).lower(), m.group(2)
            if key in ("upstream_id", "upstream_ids"):
                out.setdefault("upstream_ids", [])
                out["upstream_ids"] += [v for v in re.split(r"[\s|]+", value) if v and v not in out["upstream_ids"]]
            else:
                out.setdefault(key, value)
    return out


def _norm(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip())


def _is_heading(line: str, prev_blank_or_end: bool) -> bool:
    s = line.strip()
    if not s or len(s) > 70 or s.endswith(_NOT_HEADING_END) or _CELL_GAP.search(s) or not s[0].isupper():
        return False
    return prev_blank_or_end and len(s.split()) <= 9


def page_blocks(lines: list[str], page: int, section: str | None, skip: set[str]) -> tuple[list[Block], str | None]:
    """Blocks of one page; ``section`` carries over from the previous page."""
    blocks: list[Block] = []
    buf: list[str] = []
    kind = "text"

    def flush() -> None:
        nonlocal buf, kind
        body = "\n".join(buf).strip()
        if body:
            blocks.append(Block(text=body, kind=kind, section=section, page=page))  # type: ignore[arg-type]
        buf, kind = [], "text"

    prev_boundary = True
    for raw in lines:
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or _norm(stripped) in skip:
            flush()
            prev_boundary = True
            continue
        if _is_heading(line, prev_boundary or (bool(buf) and buf[-1].endswith(_END_PUNCT))):
            flush()
            section = stripped
            prev_boundary = True
            continue
        cells = _CELL_GAP.split(stripped)
        line_kind = "table" if len(cells) >= 2 else "text"
        if buf and line_kind != kind:
            flush()
        kind = line_kind
        buf.append("| " + " | ".join(cells) + " |" if line_kind == "table" else stripped)
        prev_boundary = False
    flush()
    return blocks, section


def parse_pdf(data: bytes) -> tuple[dict[str, Any], list[Block], int]:
    """``(metadata, blocks, page count)``; an unreadable or textless PDF raises ``PdfError``."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        meta = pdf_metadata(reader)
        pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on broken files
        raise PdfError(f"PDF ilegível: {type(exc).__name__}: {exc}") from exc
    if not any(p.strip() for p in pages):
        raise PdfError("PDF sem texto extraível (escaneado ou vazio)")
    page_lines = [p.splitlines() for p in pages]
    skip: set[str] = set()
    if len(pages) > 1:  # running header/footer: same line (digits aside) on every page
        counts = Counter(n for lines in page_lines for n in {_norm(x) for x in lines if x.strip()})
        skip = {n for n, c in counts.items() if c == len(pages)}
    if title := meta.get("title"):
        skip.add(_norm(title))
    blocks: list[Block] = []
    section: str | None = None
    for number, lines in enumerate(page_lines, start=1):
        page, section = page_blocks(lines, number, section, skip)
        blocks.extend(page)
    return meta, blocks, len(pages)
