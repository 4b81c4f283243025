"""Contract test of the judge path (issue #12): ragas' ``llm_factory`` over an
OpenAI-compatible HTTP endpoint. A fake endpoint is started here; it answers every chat
completion with a JSON instance of the schema instructor sends (JSON mode), or with broken
JSON for one metric, so a judge that cannot be parsed shows up as a counted NaN."""

from __future__ import annotations

import json
import math
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evals.harness.judge import JUDGE_METRICS, JudgeConfig, judge_config, run_judge


def _instance(schema: dict, defs: dict) -> object:
    """A minimal valid instance of a JSON schema (what a judge model would return)."""
    if "$ref" in schema:
        return _instance(defs[schema["$ref"].split("/")[-1]], defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return _instance(next(s for s in schema[key] if s.get("type") != "null"), defs)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: _instance(v, defs) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_instance(schema.get("items", {"type": "string"}), defs)]
    return {"string": "sim", "integer": 1, "number": 1.0, "boolean": True}.get(kind, "sim")


class FakeJudge(BaseHTTPRequestHandler):
    requests: list[dict] = []
    broken_words: tuple[str, ...] = ()

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_POST(self):  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeJudge.requests.append({"path": self.path, "body": body})
        text = "\n".join(str(m.get("content")) for m in body["messages"])
        match = re.search(r"json_schema:\s*", text)
        schema = json.JSONDecoder().raw_decode(text[match.end():])[0] if match else {"type": "object"}
        content = json.dumps(_instance(schema, schema.get("$defs", {})))
        if any(w in text for w in FakeJudge.broken_words):
            content = "{isto não é json"
        payload = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                   "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": content}}],
                   "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fake_judge():
    FakeJudge.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeJudge)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def tiny_embeddings():
    """Response relevancy needs embeddings; a deterministic stand-in keeps this test hermetic."""
    from evals.harness.ragas_compat import import_ragas

    import_ragas()
    from ragas.embeddings.base import BaseRagasEmbedding

    class TinyEmbeddings(BaseRagasEmbedding):
        def embed_text(self, text: str, **kw):
            return [1.0, float(len(text) % 7), 0.5]

        async def aembed_text(self, text: str, **kw):
            return self.embed_text(text)

    return TinyEmbeddings()


ROWS = [
    {"id": "q1", "answerable": True, "question": "créditos expiram em quanto tempo?",
     "answer": "Os créditos expiram após 60 meses.", "reference": "60 meses (art. 13).",
     "retrieved_texts": ["Créditos não usados expiram após 60 meses (5 anos)."]},
    {"id": "q2", "answerable": True, "question": "Fio B em 2026?", "answer": "O Fio B em 2026 é 60 %.",
     "reference": "Fio B: 60 % em 2026.", "retrieved_texts": ["Fio B 2026: 60 %"]},
    {"id": "q3", "answerable": False, "question": "tarifa da cemig?", "answer": "Não sei.",
     "reference": "A base não tem.", "retrieved_texts": []},
]


@pytest.mark.slow  # imports ragas and its LLM stack (seconds)
def test_judge_metrics_go_through_llm_factory_to_the_configured_endpoint(fake_judge):
    FakeJudge.broken_words = ()
    rows = [dict(r) for r in ROWS]
    out = run_judge(JudgeConfig(url=fake_judge, model="juiz-de-teste"), rows, embeddings=tiny_embeddings())
    assert out["status"] == "measured" and out["model"] == "juiz-de-teste"
    assert FakeJudge.requests, "o juiz não foi chamado"
    assert {r["path"] for r in FakeJudge.requests} == {"/v1/chat/completions"}
    assert {r["body"]["model"] for r in FakeJudge.requests} == {"juiz-de-teste"}
    for name in JUDGE_METRICS:
        m = out["metrics"][name]
        assert m["n"] == 2 and m["nan"] == 0 and 0.0 <= m["value"] <= 1.0
    assert "judge" not in rows[2]  # unanswerable questions are not judged


@pytest.mark.slow  # imports ragas and its LLM stack (seconds)
def test_an_unparseable_judge_answer_is_a_counted_nan_not_a_score(fake_judge):
    FakeJudge.broken_words = ("Fio B",)  # every prompt about q2 gets broken JSON back
    rows = [dict(r) for r in ROWS]
    out = run_judge(JudgeConfig(url=fake_judge, model="juiz"), rows, embeddings=tiny_embeddings())
    for name in JUDGE_METRICS:
        m = out["metrics"][name]
        assert m["nan"] == 1 and m["n"] == 1 and m["nan_rate"] == 0.5
        assert m["value"] is not None and not math.isnan(m["value"])
    assert math.isnan(rows[1]["judge"]["faithfulness"])


def test_without_a_judge_the_metrics_are_not_measured():
    class S:  # settings without EVAL__JUDGE_URL / EVAL__JUDGE_MODEL
        class eval:  # noqa: N801
            judge_url = None
            judge_model = None

    assert judge_config(S()) is None
    out = run_judge(None, [dict(r) for r in ROWS])
    assert out["status"] == "not_measured"
    assert all(m["value"] is None and m["status"] == "not_measured" for m in out["metrics"].values())


def test_an_ollama_url_gets_its_openai_compatible_path():
    assert JudgeConfig(url="http://localhost:11434", model="qwen").base_url == "http://localhost:11434/v1"
    assert JudgeConfig(url="http://judge:8080/v1/", model="m").base_url == "http://judge:8080/v1"
