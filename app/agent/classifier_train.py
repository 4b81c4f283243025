"""Train and measure the intent model (``helio intent train`` / ``helio intent eval``).

Training data: ``data/intent/train.yaml`` (hand-written turns, see its header), the
eval suite's ``dev`` split of knowledge questions (all knowledge searches) and its ``dev``
split of conversations, each turn labelled by what a correct turn
does (the expected tool; a clarifying question belongs to the task that asks it; a refusal
of a quote to a widget is still a quote request; other refusals are ``off_topic``; a turn
without a tool is a greeting or thanks). The ``test`` split is never read here.

The fit is deterministic (lbfgs, fixed vocabulary order), so the shipped
``data/intent/model.npz`` can be checked against its data: its ``meta.data_sha256`` is the
hash of the training examples (tests/test_agent_classifier.py).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.agent.classifier import (
    CONTEXTS, FINANCE, GREET, KNOW, LABELS, MODEL_PATH, OFF, QUOTE, SIZE, IntentModel, cue_features, cue_names, terms,
)
from app.agent.slots import SLOT_GROUPS
from app.core.yamlfile import load_yaml

ROOT = Path(__file__).resolve().parents[2]
TRAIN_PATH = ROOT / "data" / "intent" / "train.yaml"
TRAIN_DIR = ROOT / "data" / "intent" / "train.d"  # more files of the same format, read in name order
DEV_PATH = ROOT / "evals" / "datasets" / "conversations" / "dev.yaml"
KNOWLEDGE_DEV_PATH = ROOT / "evals" / "datasets" / "knowledge" / "dev.yaml"
MIN_DF = 2
C = 8.0


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    after: str | None = None
    awaiting: tuple[str, ...] = ()
    source: str = "train"
    group: str = ""


def dev_label(turn: dict[str, Any]) -> str | None:
    """What a correct turn of the eval's dev split does, as an intent (None: not routed)."""
    if turn.get("calls"):
        return turn["calls"][0]["tool"]
    if "ask" in turn:
        ask = set(turn["ask"])
        if ask & set(SLOT_GROUPS):
            return SIZE
        if "financing_amount" in ask:
            return FINANCE
        return QUOTE
    if "refuse" in turn:
        return QUOTE if turn["refuse"] == "unauthorized" else OFF
    return GREET


def dev_examples(path: Path = DEV_PATH) -> list[Example]:
    """The dev split's user turns with the task under way before each one."""
    from app.agent.parsing import yes_or_no

    data = load_yaml(path.read_text(encoding="utf-8"))
    out = []
    for conv in data["conversations"]:
        after: str | None = None
        awaiting: tuple[str, ...] = ()
        for turn in conv["turns"]:
            label = dev_label(turn)
            if after == QUOTE and yes_or_no(turn["user"]) is not None and "$company" not in turn["user"]:
                label = None  # "sim"/"não" to a quote summary: decided before the model (confirmation)
            if label is not None:
                out.append(Example(turn["user"], label, after, awaiting, "dev", conv["id"]))
            if label in CONTEXTS:
                after = label
            awaiting = tuple(turn.get("ask") or ())
    return out


def knowledge_dev_examples(path: Path = KNOWLEDGE_DEV_PATH) -> list[Example]:
    """The knowledge QA dev split: every question (answerable or not) is a knowledge search."""
    data = load_yaml(path.read_text(encoding="utf-8"))
    return [Example(q["question"], KNOW, None, (), "kdev", f"kdev:{q['id']}") for q in data["questions"]]


def train_examples(path: Path = TRAIN_PATH) -> list[Example]:
    """``train.yaml``: each plain example once without context and once after another task
    (drawn with a fixed seed), so the model learns that context matters only when the words
    leave the request open; each follow-up with its own context."""
    data = load_yaml(path.read_text(encoding="utf-8"))
    rng = random.Random(17)
    prefix = "" if path == TRAIN_PATH else f"{path.stem}/"
    out = []
    for label, texts in (data.get("examples") or {}).items():
        if label not in LABELS:
            raise ValueError(f"{path}: rótulo desconhecido {label!r} (use: {', '.join(LABELS)})")
        for i, text in enumerate(texts):
            out.append(Example(text, label, None, (), "train", f"{prefix}{label}:{i}"))
            out.append(Example(text, label, rng.choice(CONTEXTS), (), "train", f"{prefix}{label}:{i}"))
    for i, item in enumerate(data.get("follow_ups") or []):
        if item["intent"] not in LABELS or item["after"] not in CONTEXTS:
            raise ValueError(f"{path}: follow-up {item!r}: rótulo ou contexto desconhecido")
        out.append(Example(item["text"], item["intent"], item["after"], (), "train", f"{prefix}follow:{i}"))
    return out


def train_files(main: Path = TRAIN_PATH, more: Path = TRAIN_DIR) -> list[Path]:
    """``train.yaml`` then ``train.d/*.yaml`` in name order (one file per topic keeps edits apart)."""
    return [main, *sorted(more.glob("*.yaml"))] if more.is_dir() else [main]


def all_examples() -> list[Example]:
    return [ex for path in train_files() for ex in train_examples(path)] + dev_examples() + knowledge_dev_examples()


def data_sha256(examples: list[Example]) -> str:
    payload = json.dumps([[e.text, e.label, e.after, list(e.awaiting)] for e in examples], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _design(examples: list[Example], vocabulary: dict[str, int], idf: np.ndarray):
    from scipy import sparse

    rows, cols, vals = [], [], []
    n_terms = len(vocabulary)
    for i, ex in enumerate(examples):
        counts = Counter(vocabulary[t] for t in terms(ex.text) if t in vocabulary)
        weights = {j: (1.0 + math.log(c)) * idf[j] for j, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        for j, v in sorted(weights.items()):
            rows.append(i)
            cols.append(j)
            vals.append(v / norm)
        for k, v in enumerate(cue_features(ex.text, ex.after, ex.awaiting)):
            if v:
                rows.append(i)
                cols.append(n_terms + k)
                vals.append(v)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(examples), n_terms + len(cue_names())))


def fit(examples: list[Example], *, min_df: int = MIN_DF, c: float = C) -> IntentModel:
    """Fit vocabulary, IDF and a multinomial logistic regression on ``examples``."""
    from sklearn.linear_model import LogisticRegression

    df: Counter = Counter()
    for ex in examples:
        df.update(set(terms(ex.text)))
    vocab_list = sorted(t for t, n in df.items() if n >= min_df)
    vocabulary = {t: i for i, t in enumerate(vocab_list)}
    n_docs = len(examples)
    idf = np.array([math.log((1 + n_docs) / (1 + df[t])) + 1.0 for t in vocab_list])
    X = _design(examples, vocabulary, idf)
    y = [ex.label for ex in examples]
    clf = LogisticRegression(C=c, max_iter=5000, solver="lbfgs")
    clf.fit(X, y)
    labels = [str(x) for x in clf.classes_]
    meta = {"data_sha256": data_sha256(examples), "examples": len(examples), "min_df": min_df, "C": c,
            "labels": labels}
    return IntentModel(vocab_list, idf, clf.coef_, clf.intercept_, labels, meta)


def accuracy(model: IntentModel, examples: list[Example]) -> tuple[float, list[tuple[Example, str]]]:
    wrong = []
    for ex in examples:
        got = model.predict(ex.text, ex.after, ex.awaiting).intent
        if got != ex.label:
            wrong.append((ex, got))
    return (1 - len(wrong) / len(examples)) if examples else float("nan"), wrong


def cross_validate(examples: list[Example], folds: int = 5, **kw: Any) -> float:
    """Accuracy over ``folds`` folds grouped by source item (a plain example's two context
    copies, or a dev conversation, stay in one fold)."""
    groups = sorted({ex.group for ex in examples})
    rng = random.Random(5)
    rng.shuffle(groups)
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    right = total = 0
    for k in range(folds):
        train = [ex for ex in examples if fold_of[ex.group] != k]
        held = [ex for ex in examples if fold_of[ex.group] == k]
        model = fit(train, **kw)
        acc, _ = accuracy(model, held)
        right += round(acc * len(held))
        total += len(held)
    return right / total


def train(path: Path = MODEL_PATH) -> IntentModel:
    model = fit(all_examples())
    model.save(path)
    return model
