"""Document embedding: token-length batches, one tokenising pass, same vectors as encode()."""

from __future__ import annotations

import numpy as np
import pytest

from app.retrieval.embed import SentenceTransformerEmbedder, token_buckets


def test_token_buckets_cap_count_and_padded_tokens_longest_first():
    lengths = [5, 180, 40, 40, 120, 3, 256, 90, 90, 90, 7, 60]
    batches = token_buckets(lengths, batch_size=3, batch_tokens=300)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))  # every text once
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)  # longest first
    for batch in batches:
        assert len(batch) <= 3
        longest = max(lengths[i] for i in batch)
        assert len(batch) == 1 or len(batch) * longest <= 300  # a lone long text still gets its batch
    assert token_buckets([], 32, 4096) == []


@pytest.mark.slow
def test_documents_embed_as_encode_does_in_input_order():
    embedder = SentenceTransformerEmbedder(precision="fp32", batch_size=4, batch_tokens=256)
    texts = [("Inversor Growatt MIN 10000TL-X — garantia de 10 anos. " * (i % 6 + 1)).strip() for i in range(13)]
    texts += ["curto", "módulo " * 400]  # one far past the model's 256 word pieces
    done: list[int] = []
    ours = np.asarray(embedder.embed_documents(texts, on_batch=done.append))
    reference = embedder._model.encode(texts, normalize_embeddings=True)  # noqa: SLF001 - the library's own path
    assert ours.shape == (len(texts), embedder.dim)
    assert float((ours * reference).sum(1).min()) > 0.99999
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert sum(done) == len(texts) and len(done) > len(texts) // 4
    assert embedder.embed_documents([]) == []
