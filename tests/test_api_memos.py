"""The memos behind the API's hot paths (issue #10): ETags digested once per body, stored texts
encoded once, both bounded; and which caches the event loop may read without a thread."""

from __future__ import annotations

import json

from app.api.compression import GzipMemo, body_etag
from app.core.cache import FallbackCache, MemoryCache, RedisCache


def test_only_a_cache_in_this_process_is_read_on_the_event_loop():
    assert MemoryCache().in_process
    assert not RedisCache("redis://127.0.0.1:1/0").in_process
    assert not FallbackCache(RedisCache("redis://127.0.0.1:1/0")).in_process


def test_etags_are_digested_once_per_body_and_bounded():
    memo = GzipMemo(max_etag_bytes=100)
    body = b"x" * 30
    assert memo.etag(body) == body_etag(body) == memo.etag(bytes(bytearray(body)))
    for i in range(10):
        memo.etag(bytes([i]) * 30)
    assert memo._etag_bytes <= 100


def test_stored_texts_are_encoded_once_and_the_memo_is_bounded():
    from app.core.cache import _Utf8Memo, utf8

    text = json.dumps({"cidade": "Uberlândia"}, ensure_ascii=False)
    assert utf8(text) == text.encode() and utf8(text) is utf8(text)
    memo = _Utf8Memo(max_bytes=400)
    for i in range(20):
        assert memo.encode(f"{i:02d}" + "é" * 40) == (f"{i:02d}" + "é" * 40).encode()
    assert memo._size <= 400 and len(memo._items) < 20
