"""The trained intent model: what the user asks for, from the words and the conversation.

A multinomial logistic regression over character and word n-grams of the folded message
(TF-IDF, sublinear), a few cheap domain features (a kWh figure, an amount in R$, kWp, a
term in months, a product code) and the task under way in the conversation (so "e em
84x?" after a financing is a financing, "e se fosse trifásico?" after a sizing a sizing).
It is trained by :mod:`app.agent.classifier_train` (``helio intent train``) on
``data/intent/train.yaml`` plus the eval suite's dev split, and shipped as
``data/intent/model.npz``; inference is numpy only, loaded on first use.

Why n-grams and not a sentence embedder: on the dev split (turns someone else wrote) they
tie with the multilingual e5-small and beat the English MiniLM; e5 is better in
cross-validation over our paraphrases, but costs a 91 MB dependency and 5–35 ms per message
against ~1 ms (measured: scripts/intent_embedders.py, table in data/intent/README.md).
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.agent.intent import FIND, FINANCE, GET, GREET, KNOW, OFF, QUOTE, SIZE
from app.agent.places import fold

LABELS = (SIZE, FIND, GET, KNOW, FINANCE, QUOTE, GREET, OFF)
"""Everything a turn can be routed to: the six tools and the two answers without one."""
CONTEXTS = (SIZE, FIND, GET, KNOW, FINANCE, QUOTE)
"""Tasks the conversation can have under way (``ConversationState.last_intent``)."""

MODEL_PATH = Path(__file__).resolve().parents[2] / "data" / "intent" / "model.npz"

_CHAR_N = (2, 5)
_WORD_N = (1, 2)
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kwh", re.compile(r"\d\s*(mil\s*)?kwh\b")),
    ("kwh_bare", re.compile(r"\bkwh\b")),
    ("kwp", re.compile(r"\d\s*kwp\b")),
    ("brl", re.compile(r"\br\$|\breais\b|\bconto\b|\bpila\b")),
    ("watts", re.compile(r"\d\s*(k|kw|w)\b")),
    ("term", re.compile(r"\b\d{1,3}\s*(x|vezes|meses|months|installments)\b")),
    ("mil", re.compile(r"\d\s*(mil|k)\b")),
    ("number", re.compile(r"\d")),
    ("code", re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+){2,}\b")),
    ("question", re.compile(r"\?")),
    ("starts_and", re.compile(r"^\s*(e|and|mas|what if|how about)\b")),
)


def normalise(text: str) -> str:
    """The form n-grams are taken from: folded (lower case, no accents), digits kept."""
    return " ".join(fold(text).split())


def _raw(text: str) -> str:
    return " ".join(text.lower().split())


def char_ngrams(folded: str) -> list[str]:
    """Character n-grams inside word boundaries (as scikit-learn's ``char_wb``)."""
    out: list[str] = []
    lo, hi = _CHAR_N
    for word in folded.split():
        padded = f" {word} "
        for n in range(lo, hi + 1):
            if len(padded) < n:
                break
            out.extend("c:" + padded[i:i + n] for i in range(len(padded) - n + 1))
    return out


def word_ngrams(folded: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", folded)
    words = ["<n>" if w.isdigit() else w for w in words]
    out = []
    for n in range(_WORD_N[0], _WORD_N[1] + 1):
        out.extend("w:" + " ".join(words[i:i + n]) for i in range(len(words) - n + 1))
    return out


def terms(text: str) -> list[str]:
    """Every n-gram term of a message (duplicates kept: they are term counts)."""
    folded = normalise(text)
    return char_ngrams(folded) + word_ngrams(folded)


def cue_features(text: str, after: str | None, awaiting: tuple[str, ...] = ()) -> list[float]:
    """Dense features beside the n-grams: domain cues, the task under way, a pending question."""
    low = _raw(fold(text))
    cues = [1.0 if pattern.search(low) else 0.0 for _, pattern in _CUES]
    short = 1.0 if len(low.split()) <= 4 else 0.0
    context = [1.0 if after == c else 0.0 for c in CONTEXTS]
    # A short message right after a task is most likely about that task.
    context_short = [v * short for v in context]
    pending = [1.0 if awaiting else 0.0]
    return cues + [short] + context + context_short + pending


def cue_names() -> list[str]:
    return ([f"cue:{n}" for n, _ in _CUES] + ["short"] + [f"after:{c}" for c in CONTEXTS]
            + [f"after_short:{c}" for c in CONTEXTS] + ["awaiting"])


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    """probability of ``intent`` (0–1)"""
    scores: dict[str, float]

    def runner_up(self) -> tuple[str, float]:
        ranked = sorted(self.scores.items(), key=lambda kv: -kv[1])
        return ranked[1] if len(ranked) > 1 else ranked[0]


class IntentModel:
    """A fitted model: vocabulary, IDF weights and the logistic regression's coefficients."""

    def __init__(self, vocabulary: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 labels: list[str], meta: dict[str, Any] | None = None) -> None:
        self.vocabulary = {term: i for i, term in enumerate(vocabulary)}
        self.terms = list(vocabulary)
        self.idf = np.asarray(idf, dtype=np.float64)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.labels = list(labels)
        self.meta = meta or {}

    # -- features -------------------------------------------------------------------------
    def sparse_row(self, text: str) -> dict[int, float]:
        """The message's L2-normalised sublinear TF-IDF weights by vocabulary index."""
        counts: dict[int, int] = {}
        for term in terms(text):
            j = self.vocabulary.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        row = {j: (1.0 + math.log(c)) * self.idf[j] for j, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in row.values())) or 1.0
        return {j: v / norm for j, v in row.items()}

    def vector(self, text: str, after: str | None, awaiting: tuple[str, ...] = ()) -> np.ndarray:
        dense = np.zeros(len(self.terms) + len(cue_names()))
        for j, v in self.sparse_row(text).items():
            dense[j] = v
        dense[len(self.terms):] = cue_features(text, after, awaiting)
        return dense

    # -- inference ------------------------------------------------------------------------
    def predict(self, text: str, after: str | None = None, awaiting: tuple[str, ...] = ()) -> Prediction:
        n = len(self.terms)
        logits = self.intercept.copy()
        for j, v in self.sparse_row(text).items():
            logits += self.coef[:, j] * v
        logits += self.coef[:, n:] @ np.asarray(cue_features(text, after, awaiting))
        logits -= logits.max()
        probs = np.exp(logits)
        probs /= probs.sum()
        best = int(np.argmax(probs))
        return Prediction(self.labels[best], float(probs[best]),
                          {label: round(float(p), 4) for label, p in zip(self.labels, probs)})

    # -- storage --------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        import json

        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh, vocabulary=np.array(self.terms, dtype=str), idf=self.idf.astype(np.float32),
                coef=self.coef.astype(np.float32), intercept=self.intercept.astype(np.float32),
                labels=np.array(self.labels, dtype=str), meta=np.array(json.dumps(self.meta, sort_keys=True)),
            )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> IntentModel:
        import json

        if not path.is_file():
            raise FileNotFoundError(f"{path}: modelo de intenção ausente; gere com `helio intent train`")
        with np.load(path, allow_pickle=False) as data:
            return cls([str(t) for t in data["vocabulary"]], data["idf"], data["coef"], data["intercept"],
                       [str(x) for x in data["labels"]], json.loads(str(data["meta"])))


_LOCK = threading.Lock()
_CACHE: dict[Path, IntentModel] = {}


def shipped_model(path: Path = MODEL_PATH) -> IntentModel:
    """The model file, loaded once per process on first use (never at import)."""
    with _LOCK:
        model = _CACHE.get(path)
        if model is None:
            model = _CACHE[path] = IntentModel.load(path)
        return model
