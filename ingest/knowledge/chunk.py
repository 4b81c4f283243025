"""Token-sized chunks that keep headings with their text and tables whole.

Rules, in order:
1. A chunk never crosses a section (heading path) or a PDF page, so every chunk has one
   citation.
2. Blocks (paragraph, list, table) are packed whole while they fit.
3. A table too big for one chunk is split by rows, its header row repeated in each part.
4. A paragraph too big is split by sentences, then by token windows with ``overlap``.
5. Each chunk's indexed text starts with ``title — section`` so a chunk read alone still
   says which product/document it is about; the header counts in the token budget.

Token counts use a tiktoken encoding (cl100k_base by default).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from itertools import groupby

from ingest.knowledge.documents import SourceDoc
from app.core.tokens import get_encoding


@dataclass(frozen=True)
class Chunk:
    text: str  # header + body: what gets embedded and sparse-encoded
    body: str  # what a reader sees in a hit
    section: str | None
    page: int | None
    index: int
    tokens: int

    def content_hash(self, meta: dict) -> str:
        """Hash of everything that shows in the index for this chunk (text, place, metadata)."""
        blob = json.dumps([self.text, self.section, self.page, meta], sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Chunker:
    def __init__(self, max_tokens: int = 160, overlap: int = 32, encoding: str = "cl100k_base") -> None:
        if max_tokens < 32 or not 0 <= overlap < max_tokens // 2:
            raise ValueError("chunk_tokens >= 32 and 0 <= overlap < chunk_tokens/2")
        self.max_tokens = max_tokens
        self.overlap = overlap
        self.enc = get_encoding(encoding)
        self._counts: dict[str, int] = {}

    def count(self, text: str) -> int:
        """Token count, remembered: packing asks again for pieces it already measured."""
        n = self._counts.get(text)
        if n is None:
            if len(self._counts) >= 65536:
                self._counts.clear()
            n = self._counts[text] = len(self.enc.encode(text, disallowed_special=()))
        return n

    # -- splitting oversize blocks ------------------------------------------------------------
    def _split_table(self, text: str, budget: int) -> list[str]:
        rows = text.splitlines()
        head = rows[:2] if len(rows) > 2 and set(rows[1].replace("|", "").strip()) <= set("-: ") else rows[:1]
        parts, current = [], list(head)
        for row in rows[len(head):]:
            if self.count("\n".join([*current, row])) > budget and len(current) > len(head):
                parts.append("\n".join(current))
                current = list(head)
            current.append(row)
        parts.append("\n".join(current))
        return [p for part in parts for p in (self._split_text(part, budget) if self.count(part) > budget else [part])]

    def _split_text(self, text: str, budget: int) -> list[str]:
        sentences = re.split(r"(?<=[.!?;])\s+|\n+", text)
        parts: list[str] = []
        current = ""
        for sentence in sentences:
            candidate = f"{current} {sentence}".strip()
            if self.count(candidate) <= budget:
                current = candidate
                continue
            if current:
                parts.append(current)
            if self.count(sentence) <= budget:
                current = sentence
            else:  # one giant sentence: token windows with overlap
                ids = self.enc.encode(sentence, disallowed_special=())
                step = budget - self.overlap
                windows = [ids[i : i + budget] for i in range(0, max(len(ids) - self.overlap, 1), step)]
                parts.extend(self.enc.decode(w) for w in windows[:-1])
                current = self.enc.decode(windows[-1])
        if current:
            parts.append(current)
        if self.overlap and len(parts) > 1:  # carry the tail of the previous part for context
            tails = [self.enc.decode(self.enc.encode(p, disallowed_special=())[-self.overlap :]) for p in parts[:-1]]
            parts = [parts[0]] + [
                f"…{tail} {part}" if self.count(f"…{tail} {part}") <= budget else part
                for tail, part in zip(tails, parts[1:], strict=True)
            ]
        return parts

    # -- packing ----------------------------------------------------------------------------
    def chunk(self, doc: SourceDoc) -> list[Chunk]:
        chunks: list[Chunk] = []
        for (section, page), group in groupby(doc.blocks, key=lambda b: (b.section, b.page)):
            header = doc.title + (f" ({doc.context})" if doc.context else "") + (f" — {section}" if section else "")
            budget = self.max_tokens - self.count(header) - 1
            if budget < 16:  # absurdly long headings: keep the title only
                header, budget = doc.title, self.max_tokens - self.count(doc.title) - 1
            pieces: list[str] = []
            for block in group:
                text = block.text.strip()
                if not text:
                    continue
                if self.count(text) <= budget:
                    pieces.append(text)
                elif block.kind == "table":
                    pieces.extend(self._split_table(text, budget))
                else:
                    pieces.extend(self._split_text(text, budget))
            body: list[str] = []
            used = 0
            for piece in pieces:
                n = self.count(piece)
                if body and used + n + 1 > budget:
                    chunks.append(self._make(header, body, section, page, len(chunks)))
                    body, used = [], 0
                body.append(piece)
                used += n + 1
            if body:
                chunks.append(self._make(header, body, section, page, len(chunks)))
        return chunks

    def _make(self, header: str, body: list[str], section: str | None, page: int | None, index: int) -> Chunk:
        body_text = "\n\n".join(body)
        text = f"{header}\n{body_text}"
        return Chunk(text=text, body=body_text, section=section, page=page, index=index, tokens=self.count(text))
