"""Markdown (with optional YAML front matter) → blocks with their heading path.

Headings become the ``section`` of the blocks under them (the first ``#`` heading is the
document title when the front matter has none); tables and lists stay whole blocks.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from app.core.yamlfile import load_yaml
from ingest.knowledge.documents import Block

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``(front matter dict, body)``; a malformed front matter raises ``ValueError``."""
    if not text.startswith("---"):
        return {}, text
    match = re.match(r"^---\s*\n(.*?)\n---\s*(?:\n|$)", text, flags=re.S)
    if not match:
        raise ValueError("front matter YAML sem o '---' de fechamento")
    try:
        meta = load_yaml(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"front matter YAML inválido: {exc}") from exc
    if not isinstance(meta, dict):
        raise ValueError("front matter YAML não é um mapeamento")
    return meta, text[match.end():]


def parse_markdown(text: str) -> tuple[dict[str, Any], str | None, list[Block]]:
    """``(front matter, first H1 or None, blocks)``."""
    meta, body = split_front_matter(text)
    h1: str | None = None
    stack: list[tuple[int, str]] = []
    blocks: list[Block] = []
    buf: list[str] = []
    kind = "text"

    def section() -> str | None:
        return " > ".join(title for _, title in stack) or None

    def flush() -> None:
        nonlocal buf, kind
        text_ = "\n".join(buf).strip()
        if text_:
            blocks.append(Block(text=text_, kind=kind, section=section()))  # type: ignore[arg-type]
        buf, kind = [], "text"

    in_code = False
    for line in body.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            buf.append(line)
            continue
        if in_code:
            buf.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            level, title = len(heading.group(1)), heading.group(2).strip()
            if level == 1 and h1 is None and not blocks and not stack:
                h1 = title
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            continue
        stripped = line.strip()
        if not stripped:
            if kind != "list":
                flush()
            continue
        line_kind = "table" if stripped.startswith("|") else "list" if _LIST.match(line) else "text"
        if buf and line_kind != kind and not (kind == "list" and line_kind == "text" and line.startswith((" ", "\t"))):
            flush()
        if not buf:
            kind = line_kind
        buf.append(line.rstrip())
    flush()
    return meta, h1, blocks
