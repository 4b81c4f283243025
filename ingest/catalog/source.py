"""Reading the upstream export: one ``RawRow`` per JSON object, with where it came from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ingest.catalog.classify import FILE_CATEGORY


@dataclass(frozen=True)
class RawRow:
    file: str
    index: int
    data: dict

    @property
    def ref(self) -> str:
        """Provenance reference: ``"<file>#<index>:<upstream id>"``."""
        return f"{self.file}#{self.index}:{self.data.get('id', '?')}"


def load_rows(source_dir: Path) -> list[RawRow]:
    """Every object of every known ``*_unified.json`` file, in a fixed order.

    Files are read in sorted order so the pipeline is deterministic. Unknown files
    (``manufacturers.json``) are not products and are skipped.
    """
    rows: list[RawRow] = []
    for name in sorted(FILE_CATEGORY):
        path = source_dir / name
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        for i, obj in enumerate(data):
            if isinstance(obj, dict):
                rows.append(RawRow(name, i, obj))
    return rows


# Distributor of a row from its id prefix or portal; "YSH" in the export is the aggregator.
_DISTRIBUTORS = (("neosolar", "Neosolar"), ("solfacil", "Solfácil"), ("odex", "ODEX"), ("fotus", "FOTUS"),
                 ("fortlev", "Fortlev"))


def distributor_of(row: dict) -> str:
    """Distributor portal the row was scraped from (Neosolar, Solfácil, ODEX, FOTUS, Fortlev)."""
    hay = " ".join(str(row.get(k) or "") for k in ("id", "source", "distributor")).lower()
    for key, label in _DISTRIBUTORS:
        if key in hay:
            return label
    return "desconhecido"
