"""Ranking metrics over document keys (pure functions).

A search returns chunks; the eval turns them into a ranking of *documents*: the first chunk
of a source puts that source at the next rank, and a source answers for all of its keys
(a catalog product built from rows A and B matches ``catalog:A`` and ``catalog:B``).
Relevance is graded (2 answers, 1 partially relevant); recall and MRR count grade ≥ 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def document_ranking(hits: Sequence[tuple[str, Sequence[str]]]) -> list[set[str]]:
    """``[(source, keys), …]`` in score order → one key set per distinct source, in order."""
    seen: set[str] = set()
    out: list[set[str]] = []
    for source, keys in hits:
        if source in seen:
            continue
        seen.add(source)
        out.append(set(keys) or {source})
    return out


def recall_at_k(ranking: Sequence[set[str]], relevant: Mapping[str, int], k: int, *, capped: bool = True) -> float:
    """Share of relevant keys found in the top ``k`` documents.

    ``capped`` divides by ``min(k, |relevant|)`` (a query with 9 relevant datasheets can score 1
    at k=5); uncapped divides by ``|relevant|``.
    """
    rel = {key for key, grade in relevant.items() if grade >= 1}
    if not rel:
        return 0.0
    found = rel & set().union(*ranking[:k]) if ranking[:k] else set()
    return min(1.0, len(found) / (min(k, len(rel)) if capped else len(rel)))


def mrr_at_k(ranking: Sequence[set[str]], relevant: Mapping[str, int], k: int) -> float:
    for rank, keys in enumerate(ranking[:k], start=1):
        if any(relevant.get(key, 0) >= 1 for key in keys):
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranking: Sequence[set[str]], relevant: Mapping[str, int], k: int) -> float:
    """Graded nDCG with gain ``2^grade − 1``; a document's gain sums its not-yet-seen relevant keys."""
    seen: set[str] = set()
    dcg = 0.0
    for rank, keys in enumerate(ranking[:k], start=1):
        gain = sum(2 ** relevant[key] - 1 for key in keys if relevant.get(key, 0) > 0 and key not in seen)
        seen |= keys
        dcg += gain / math.log2(rank + 1)
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 1) for i, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


def page_hit(hits: Sequence[tuple[str, int | None]], relevant_pages: Mapping[str, Sequence[int]], k: int) -> float | None:
    """1 if a chunk among the top ``k`` chunks cites a labelled page of a labelled PDF, else 0."""
    if not relevant_pages:
        return None
    return float(any(src in relevant_pages and page in relevant_pages[src] for src, page in hits[:k]))
