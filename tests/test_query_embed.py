"""Query-side micro-batcher and vector cache (app/retrieval/query_embed.py).

Unit tests use a small counting embedder (the batching and caching logic is what is under
test); the last test runs the real MiniLM and checks that a batched, cached query gives the
vector one query alone gives, and that a knowledge search returns the same hits."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.retrieval.query_embed import MicroBatcher, QueryEmbedder, VectorCache, cache_key, query_embedder


class CountingEmbedder:
    """Vectors derived from the text (so a mix-up between callers shows), a delay per call so
    concurrent callers overlap, and a log of every call."""

    name = "counting"
    dim = 4
    batch_size = 32

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.query_calls: list[list[str]] = []
        self.doc_calls: list[list[str]] = []
        self.loaded = False
        self.fail = False

    @staticmethod
    def vector(text: str, kind: float) -> list[float]:
        return [float(len(text)), float(sum(map(ord, text)) % 997), kind, 1.0]

    def embed_queries(self, texts):
        self.query_calls.append(list(texts))
        time.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("modelo caiu")
        return [self.vector(t, 0.0) for t in texts]

    def embed_query(self, text):
        return self.embed_queries([text])[0]

    def embed_documents(self, texts, *, on_batch=None):
        self.doc_calls.append(list(texts))
        time.sleep(self.delay_s)
        if on_batch:
            on_batch(len(texts))
        return [self.vector(t, 1.0) for t in texts]

    def load(self):
        self.loaded = True


def concurrently(fn, n: int, timeout_s: float = 10) -> None:
    """``fn(i)`` for i in range(n), each in its own thread, all released at once."""
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)


def test_cache_key_collapses_whitespace_only():
    assert cache_key("  o que é   o Fio B?\n") == "o que é o Fio B?"
    assert cache_key("Fio B") != cache_key("fio b")  # case is the model's business


def test_query_vector_is_the_embedders_and_repeats_are_not_encoded_again():
    inner = CountingEmbedder()
    emb = QueryEmbedder(inner, cache_size=8, max_batch=16)
    first = emb.embed_query("o que é o fio b?")
    assert first == inner.vector("o que é o fio b?", 0.0)
    assert emb.embed_query("o que é o fio b?") == first
    assert emb.embed_query(" o que é  o fio b? ") == first  # same words, other spacing
    assert inner.query_calls == [["o que é o fio b?"]]
    assert emb.stats()["query_cache"] == {"hits": 2, "misses": 1, "size": 1}


def test_short_passage_calls_are_cached_and_keep_order_and_duplicates():
    inner = CountingEmbedder()
    emb = QueryEmbedder(inner, cache_size=8, max_batch=16)
    texts = ["Créditos valem 60 meses.", "Fio B em 2027: 75 %.", "Créditos valem 60 meses."]
    out = emb.embed_documents(texts)
    assert out == [inner.vector(t, 1.0) for t in texts]
    assert inner.doc_calls == [["Créditos valem 60 meses.", "Fio B em 2027: 75 %."]]
    emb.embed_documents(["Fio B em 2027: 75 %.", "Outra frase."])
    assert inner.doc_calls[-1] == ["Outra frase."]
    # a passage and a query with the same text are different vectors (prefixes, precision)
    assert emb.embed_query("Outra frase.") != emb.embed_documents(["Outra frase."])[0]


def test_indexing_calls_go_straight_to_the_embedder():
    inner = CountingEmbedder()
    emb = QueryEmbedder(inner, cache_size=8, max_batch=4)
    seen = []
    emb.embed_documents(["a", "b"], on_batch=seen.append)  # progress callback = an ingest
    emb.embed_documents([f"chunk {i}" for i in range(10)])  # longer than a query-side batch
    assert seen == [2] and len(inner.doc_calls) == 2
    assert len(emb.passage_cache) == 0
    emb.load()
    assert inner.loaded and emb.name == "counting" and emb.dim == 4


def test_lru_keeps_the_most_recent():
    cache = VectorCache(2)
    for key in ("a", "b"):
        cache.put(key, np.ones(2))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", np.ones(2))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None


def test_concurrent_queries_are_encoded_in_few_batches_each_getting_its_own_vector():
    inner = CountingEmbedder(delay_s=0.05)
    emb = QueryEmbedder(inner, cache_size=0, max_batch=16)
    questions = [f"pergunta número {i} sobre o fio b" for i in range(24)]
    results: dict[int, list[float]] = {}
    concurrently(lambda i: results.__setitem__(i, emb.embed_query(questions[i])), len(questions))
    assert all(results[i] == inner.vector(q, 0.0) for i, q in enumerate(questions))
    assert sum(len(c) for c in inner.query_calls) == 24
    assert max(len(c) for c in inner.query_calls) <= 16
    # one at a time would be 24 calls; the first caller goes alone, the rest queue behind it
    assert len(inner.query_calls) <= 4


def test_an_encode_error_reaches_every_caller_of_the_batch_and_the_next_call_works():
    inner = CountingEmbedder(delay_s=0.05)
    emb = QueryEmbedder(inner, cache_size=8, max_batch=16)
    inner.fail = True
    errors: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            emb.embed_query(f"q{i}")
        except RuntimeError as exc:
            errors.append(exc)

    concurrently(ask, 6)
    assert len(errors) == 6 and all("modelo caiu" in str(e) for e in errors)
    inner.fail = False
    assert emb.embed_query("q1") == inner.vector("q1", 0.0)  # nothing cached from the failure


def test_one_request_larger_than_the_batch_still_goes_whole():
    calls = []
    batcher = MicroBatcher(lambda texts: calls.append(list(texts)) or [[float(len(t))] for t in texts], max_batch=2)
    out = batcher.run(["a", "bb", "ccc"])
    assert [v.tolist() for v in out] == [[1.0], [2.0], [3.0]] and calls == [["a", "bb", "ccc"]]


def test_off_means_the_embedder_itself():
    inner = CountingEmbedder()
    assert query_embedder(inner, cache_size=0, max_batch=1) is inner
    assert isinstance(query_embedder(inner, cache_size=0, max_batch=8), QueryEmbedder)


def test_an_embedder_without_a_batch_method_gets_one_query_per_call():
    class Single:
        name, dim = "single", 1

        def __init__(self):
            self.calls = 0

        def embed_query(self, text):
            self.calls += 1
            return [float(len(text))]

    inner = Single()
    emb = QueryEmbedder(inner, cache_size=4, max_batch=16)
    assert emb.embed_queries(["ab", "abc", "ab"]) == [[2.0], [3.0], [2.0]]
    assert inner.calls == 2


@pytest.mark.slow
def test_real_model_batched_query_equals_a_query_alone():
    from app.retrieval.embed import SentenceTransformerEmbedder

    inner = SentenceTransformerEmbedder(batch_size=16)
    questions = ["o que é o fio b?", "quanto tempo duram os créditos de energia?",
                 "qual o custo de disponibilidade do trifásico para uma indústria em Campinas?"]
    alone = [np.asarray(inner.embed_query(q)) for q in questions]
    emb = QueryEmbedder(inner, cache_size=16, max_batch=16)
    results: dict[int, list[float]] = {}
    concurrently(lambda i: results.__setitem__(i, emb.embed_query(questions[i])), len(questions), 60)
    for i, vec in enumerate(alone):
        assert float(np.dot(vec, np.asarray(results[i]))) > 0.99999
    batch = inner.embed_queries(questions)  # padded to the longest: same vectors
    for vec, other in zip(alone, batch, strict=True):
        np.testing.assert_allclose(vec, other, atol=1e-5)
