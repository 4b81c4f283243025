"""Run the eval datasets through the REAL assistant, in process, on the configured stack.

The stack is the one the API builds in its lifespan (catalog store, knowledge searcher,
sizing engine, credit lines, local commerce, the configured LLM backend): nothing is
replaced by a stand-in. Two thin recorders watch it without changing what it does:

- :class:`RecordingRunner` keeps each tool call's arguments and full result (the chat
  events only carry ``ok``/``error``), for the "numbers grounded" metric and ragas samples;
- :class:`RecordingSearcher` keeps the document keys of the passages a turn retrieved,
  for the ID-based context metrics.

What would leave marks outside the run (quotes, companies) goes to a scratch folder.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.harness.datasets import CAPEX, ConversationSet, ExpectedCall, QuestionSet

log = logging.getLogger("helio.evals")

BACKENDS = ("auto", "llamacpp", "ollama", "openai", "rules")
Progress = Callable[[str, int, int], None]
_COMPANY = re.compile(r"\$company\.([a-z0-9_]+)")


class StackNotReady(RuntimeError):
    """The catalog or the knowledge index is missing: say how to build them."""


# -- recorders ---------------------------------------------------------------------------------
class RecordingRunner:
    """Wraps the assistant's :class:`~app.agent.tools.ToolRunner`: same behaviour, plus a log."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.log: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def run(self, name: str, arguments: dict[str, Any], **kwargs: Any):
        outcome = self.inner.run(name, arguments, **kwargs)
        self.log.append({"name": outcome.name, "arguments": dict(outcome.arguments), "ok": outcome.ok,
                         "result": outcome.data, "error": outcome.error, "error_code": outcome.error_code})
        return outcome


class RecordingSearcher:
    """Wraps the knowledge searcher and keeps the raw hits (with their document keys)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.hits: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def search(self, query: str, k: int = 5, filters: Any = None, **kwargs: Any):
        hits = self.inner.search(query, k=k, filters=filters, **kwargs)
        for h in hits:
            keys = list(getattr(h, "doc_keys", None) or [])
            citation = getattr(h, "citation", None)
            source = getattr(citation, "source", None) if citation is not None else None
            self.hits.append({"keys": keys or ([source] if source else []), "text": getattr(h, "text", "")})
        return hits


# -- the stack ---------------------------------------------------------------------------------
@dataclass
class Stack:
    settings: Any
    assistant: Any
    runner: RecordingRunner
    searcher: RecordingSearcher | None
    commerce: Any
    backend: str
    model: str | None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing is best effort
                log.debug("close failed", exc_info=True)


def build_stack(settings: Any, backend: str = "auto", scratch: Path | None = None) -> Stack:
    """The assistant as the API builds it. ``backend``: ``auto``/``llamacpp``/``ollama``/``openai`` (the
    LLM backend, as ``LLM__BACKEND``; with ollama/openai the model leads the turn) or ``rules`` (the same assistant, never consulting a model).
    ``scratch``: where quotes and companies of this run go (a temporary folder by default)."""
    import tempfile

    from app.agent.factory import build_assistant
    from app.catalog.store import SQLiteCatalogStore
    from app.commerce.factory import make_commerce
    from app.core.cache import make_cache
    from app.llm.factory import make_llm
    from app.retrieval.search import make_searcher

    if backend not in BACKENDS:
        raise ValueError(f"backend desconhecido '{backend}' (use: {', '.join(BACKENDS)})")
    if not settings.catalog.db_path.exists():
        raise StackNotReady(f"catálogo ausente em {settings.catalog.db_path}: rode 'helio ingest all' antes")
    scratch = Path(scratch or tempfile.mkdtemp(prefix="helio-eval-"))
    scratch.mkdir(parents=True, exist_ok=True)
    commerce_cfg = settings.commerce.model_copy(update={"db_path": scratch / "commerce.sqlite3",
                                                        "quotes_db_path": scratch / "quotes.sqlite3"})
    llm_cfg = settings.llm if backend in ("auto", "rules") else settings.llm.model_copy(update={"backend": backend})
    settings = settings.model_copy(update={"commerce": commerce_cfg, "llm": llm_cfg})
    stack_closers: list[Callable[[], None]] = []
    cache = make_cache(None)  # in-process: a run must not read or write the developer's Redis
    catalog = SQLiteCatalogStore(settings.catalog.db_path)
    searcher = make_searcher(settings)
    stack_closers.append(searcher.close)
    if searcher.store.count() == 0:
        searcher.close()
        raise StackNotReady("índice de conhecimento vazio: rode 'helio ingest all' antes")
    recording_searcher = RecordingSearcher(searcher)
    commerce = make_commerce(settings, catalog)
    llm = make_llm(settings.llm)
    assistant = build_assistant(settings, cache, catalog, recording_searcher, llm=llm, commerce=lambda: commerce)
    if assistant.rate_limiter is not None:
        assistant.rate_limiter.per_minute = 10**9  # a run is one user typing 200 messages a minute
    if backend == "rules":
        assistant.consult_model = False
    elif backend != "auto":  # a named model backend is measured as the router it would be
        assistant.consult_model = True
    runner = RecordingRunner(assistant.runner)
    assistant.runner = runner
    name = "rules" if backend == "rules" else getattr(llm, "name", None) or backend
    return Stack(settings, assistant, runner, recording_searcher, commerce, name,
                 None if backend == "rules" else getattr(llm, "model", None), stack_closers)


# -- conversations -----------------------------------------------------------------------------
def _resolve(value: Any, companies: dict[str, str], capex: float | None) -> Any:
    if value == CAPEX:
        return capex
    if isinstance(value, str):
        return _COMPANY.sub(lambda m: companies[m.group(1)], value)
    return value


def resolve_calls(calls: list[ExpectedCall], companies: dict[str, str], capex: float | None) -> list[dict]:
    """Expected calls with markers replaced by this run's values (``$capex`` → the latest
    sizing's investment; ``None`` when no sizing ran, so the argument cannot match)."""
    return [{"name": c.tool, "args": {k: _resolve(v, companies, capex) for k, v in c.args.items()}} for c in calls]


def _capex(calls: list[dict[str, Any]]) -> float | None:
    from app.agent.handlers.sizing import sizing_capex_brl
    from app.sizing.models import SizingResult

    for call in reversed(calls):
        if call["name"] == "size_pv_system" and call["ok"] and isinstance(call["result"], dict):
            value = sizing_capex_brl(SizingResult.model_validate(call["result"]))
            if value is not None:
                return value
    return None


def run_conversations(stack: Stack, dataset: ConversationSet, progress: Progress | None = None,
                      run_id: str | None = None) -> list[dict[str, Any]]:
    """One row per user turn: expected, what the assistant did, its answer and latency."""
    from app.agent.assistant import collect

    run_id = run_id or str(time.time_ns())
    companies = {name: stack.commerce.create_company(f"Eval {name}", f"{name}@eval.invalid").id
                 for name in dataset.companies}
    rows: list[dict[str, Any]] = []
    total, done = dataset.n_turns, 0
    for conv in dataset.conversations:
        cid = f"eval-{run_id}-{conv.id}"[:120]
        capex: float | None = None
        user_so_far: list[str] = []
        for index, turn in enumerate(conv.turns):
            message = _resolve(turn.user, companies, None)
            user_so_far.append(message)
            expected = resolve_calls(turn.expected_calls, companies, capex)
            start = len(stack.runner.log)
            t0 = time.perf_counter()
            error = None
            try:
                reply = collect(stack.assistant.turn(cid, message, role=conv.role))
            except Exception as exc:  # noqa: BLE001 - a turn that raises is a failed turn, not a crashed run
                log.exception("turno %s#%d falhou", conv.id, index)
                reply, error = {"message": "", "cards": [], "citations": []}, f"{type(exc).__name__}: {exc}"
            latency = time.perf_counter() - t0
            calls = stack.runner.log[start:]
            capex = _capex(calls) if _capex(calls) is not None else capex
            rows.append({
                "conversation": conv.id, "category": conv.category, "lang": conv.lang, "role": conv.role,
                "turn": index, "user": message, "user_so_far": list(user_so_far), "kind": turn.kind,
                "expected_calls": expected, "ask": turn.ask, "known": turn.known, "refuse": turn.refuse,
                "forbid": turn.forbid, "must_not_say": turn.must_not_say, "facts": turn.facts,
                "calls": [{k: c[k] for k in ("name", "arguments", "ok", "result", "error")} for c in calls],
                "answer": reply.get("message", ""), "awaiting": reply.get("awaiting") or [],
                "intent": reply.get("intent"), "degraded": bool(reply.get("degraded")),
                "degraded_reasons": reply.get("degraded_reasons") or [], "citations": len(reply.get("citations") or []),
                "latency_s": round(latency, 4), "error": error, "line": turn.line,
            })
            done += 1
            if progress:
                progress("conversas", done, total)
    return rows


# -- knowledge QA ------------------------------------------------------------------------------
def run_questions(stack: Stack, dataset: QuestionSet, progress: Progress | None = None, k: int = 4,
                  run_id: str | None = None) -> list[dict[str, Any]]:
    """Each question as the first turn of a new conversation, plus the retriever alone (top ``k``)."""
    from app.agent.assistant import collect

    run_id = run_id or str(time.time_ns())
    rows = []
    for i, q in enumerate(dataset.questions):
        hits_before = len(stack.searcher.hits) if stack.searcher else 0
        start = len(stack.runner.log)
        t0 = time.perf_counter()
        error = None
        try:
            reply = collect(stack.assistant.turn(f"evalqa-{run_id}-{q.id}"[:120], q.question))
        except Exception as exc:  # noqa: BLE001
            log.exception("pergunta %s falhou", q.id)
            reply, error = {"message": "", "citations": []}, f"{type(exc).__name__}: {exc}"
        latency = time.perf_counter() - t0
        calls = stack.runner.log[start:]
        turn_hits = stack.searcher.hits[hits_before:] if stack.searcher else []
        direct: list[dict[str, Any]] = []
        if stack.searcher is not None:
            mark = len(stack.searcher.hits)
            stack.searcher.search(q.question, k=k)
            direct = stack.searcher.hits[mark:]
        rows.append({
            "id": q.id, "lang": q.lang, "type": q.type, "question": q.question, "reference": q.reference,
            "reference_ids": q.contexts, "answerable": q.answerable,
            "tools": [c["name"] for c in calls],
            "retrieved_ids": _unique(key for h in turn_hits for key in h["keys"]),
            "retrieved_texts": [h["text"] for h in turn_hits],
            "retriever_ids": _unique(key for h in direct for key in h["keys"]),
            "answer": reply.get("message", ""), "citations": len(reply.get("citations") or []),
            "latency_s": round(latency, 4), "error": error, "line": q.line,
        })
        if progress:
            progress("perguntas", i + 1, len(dataset.questions))
    return rows


def _unique(items) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(str(item), None)
    return list(seen)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
