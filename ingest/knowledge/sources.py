"""Find and parse the knowledge files under ``data/knowledge``.

Layout: ``datasheets/*.pdf|*.md`` (+ ``manifest.json``), ``financing/*.yaml|*.md``,
``regulation/*.md``. A document's key is its path relative to the root; YAML items are
``<path>#<id>``. ``README.md``/``PROVENANCE.md`` describe a folder and are not indexed.
Every file is parsed on its own: a bad file becomes a :class:`ParseError` and the rest
goes on.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.knowledge.documents import ParseError, SourceDoc, sha256_bytes
from ingest.knowledge.parse_financing import lender_id, parse_credit_lines
from ingest.knowledge.parse_markdown import parse_markdown
from ingest.knowledge.parse_pdf import parse_pdf
from ingest.knowledge.specs import ExtractedSpec, extract_specs
from ingest.knowledge.specs import parse_power_w

log = logging.getLogger(__name__)

KINDS = ("datasheets", "financing", "regulation")
DOC_TYPE = {"datasheets": "datasheet", "financing": "financing", "regulation": "regulation"}
NOT_DOCUMENTS = {"readme.md", "provenance.md", "license.md"}
PARSER_VERSION = "3"  # bump to re-index every file after a parser change


@dataclass
class LoadResult:
    docs: list[SourceDoc] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    specs: list[tuple[str, dict, list[ExtractedSpec]]] = field(default_factory=list)  # datasheets only

    def failed(self, source: str) -> bool:
        """True for a source (or a YAML item of a file) that failed to parse this run."""
        return any(source == e.source or source.startswith(e.source + "#") for e in self.errors)


def _listify(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,;|]+", value) if v]
    return [str(v) for v in value]


def load_manifest(folder: Path) -> dict[str, dict]:
    """``file name → manifest entry`` from ``manifest.json`` when present (else empty)."""
    path = folder / "manifest.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("manifest.json ilegível em %s: %s", folder, exc)
        return {}
    entries = data.get("datasheets", data) if isinstance(data, dict) else data
    return {e["file"]: e for e in entries if isinstance(e, dict) and "file" in e}


def datasheet_meta(raw: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """Merge front matter / PDF metadata with the manifest entry (the file's own wins)."""
    meta: dict[str, Any] = {}
    for key in ("manufacturer", "model", "category", "product_name", "title"):
        value = raw.get(key) or manifest.get(key)
        if value:
            meta[key] = str(value)
    meta["upstream_ids"] = _listify(raw.get("upstream_ids")) or _listify(manifest.get("upstream_ids"))
    return meta


def _power_from(meta: dict[str, Any], specs: list[ExtractedSpec]) -> float | None:
    by_field = {s.field: s.value for s in specs}
    for name in ("pmax_w", "ac_power_w"):
        if isinstance(by_field.get(name), (int, float)):
            return float(by_field[name])
    for text in (meta.get("product_name"), meta.get("model")):
        if text and (w := parse_power_w(text)):
            return w
    return None


def load_datasheet(path: Path, key: str, manifest: dict[str, Any]) -> tuple[SourceDoc, list[ExtractedSpec]]:
    data = path.read_bytes()
    if path.suffix.lower() == ".pdf":
        raw, blocks, _pages = parse_pdf(data)
        h1 = None
    else:
        raw, h1, blocks = parse_markdown(data.decode("utf-8"))
    meta = datasheet_meta(raw, manifest)
    specs = extract_specs(blocks, meta.get("category"))
    meta["power_w"] = _power_from(meta, specs)
    title = meta.get("title") or h1 or path.stem
    context = meta.get("product_name") if meta.get("product_name") != title else None
    doc = SourceDoc(key, "datasheet", title, blocks, sha256_bytes(data + PARSER_VERSION.encode()), meta=meta,
                    context=context)
    return doc, specs


def load_markdown_doc(path: Path, key: str, doc_type: str) -> SourceDoc:
    data = path.read_bytes()
    raw, h1, blocks = parse_markdown(data.decode("utf-8"))
    meta: dict[str, Any] = {k: raw[k] for k in ("manufacturer", "model", "category") if raw.get(k)}
    if doc_type == "financing":
        lid = lender_id({"lender_id": raw.get("lender_id")} if raw.get("lender_id") else
                        {"lender": raw["lender"]} if raw.get("lender") else {})
        meta["lender"] = lid
    title = str(raw.get("title") or h1 or path.stem)
    return SourceDoc(key, doc_type, title, blocks, sha256_bytes(data + PARSER_VERSION.encode()), meta=meta)


def load_sources(root: Path, kinds: tuple[str, ...] = KINDS) -> LoadResult:
    """Parse every knowledge file of ``kinds`` under ``root``."""
    result = LoadResult()
    for kind in kinds:
        folder = root / kind
        if not folder.is_dir():
            continue
        manifest = load_manifest(folder) if kind == "datasheets" else {}
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.name.lower() in NOT_DOCUMENTS or path.name == "manifest.json":
                continue
            key = path.relative_to(root).as_posix()
            suffix = path.suffix.lower()
            try:
                if kind == "datasheets" and suffix in (".pdf", ".md"):
                    doc, specs = load_datasheet(path, key, manifest.get(path.name, {}))
                    result.docs.append(doc)
                    result.specs.append((key, doc.meta, specs))
                elif suffix in (".yaml", ".yml") and kind == "financing":
                    result.docs.extend(parse_credit_lines(path.read_text(encoding="utf-8"), key))
                elif suffix == ".md":
                    result.docs.append(load_markdown_doc(path, key, DOC_TYPE[kind]))
                elif suffix == ".pdf":
                    raw, blocks, _ = parse_pdf(path.read_bytes())
                    result.docs.append(SourceDoc(key, DOC_TYPE[kind], raw.get("title") or path.stem, blocks,
                                                 sha256_bytes(path.read_bytes() + PARSER_VERSION.encode())))
                else:
                    continue
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
                log.warning("falha ao ler %s: %s", key, exc)
                result.errors.append(ParseError(key, f"{type(exc).__name__}: {exc}"))
    return result

