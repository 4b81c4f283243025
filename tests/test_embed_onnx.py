"""The ONNX Runtime engine: chosen where the CPU has no native bf16, exported offline from the
local weights, same vectors as torch fp32, and int8 indexes under another name."""

from __future__ import annotations

import json
import shutil
import socket
import time

import numpy as np
import pytest

from app.core.settings import EmbeddingSettings
from app.retrieval import embed
from app.retrieval.embed import _cached_embedder, choose_engine, default_model_path, make_embedder, native_bf16_in
from app.retrieval.embed_onnx import OnnxEmbedder, exportable, onnx_path

# /proc/cpuinfo "flags" lines of the three CPU kinds these machines come in (abridged).
AVX2_EPYC = "processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 sha_ni\n"
XEON_AMX = "flags\t\t: fpu sse avx avx2 avx512f avx512bw avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8\n"
EPYC_BF16 = "flags\t\t: fpu avx avx2 avx512f avx512dq avx512bw avx_vnni avx512_bf16 avx512_vnni\n"


def test_native_bf16_read_from_cpu_flags():
    assert native_bf16_in(AVX2_EPYC) is False
    assert native_bf16_in(XEON_AMX) is True
    assert native_bf16_in(EPYC_BF16) is True
    assert native_bf16_in("model name\t: something without flags\n") is False


@pytest.mark.parametrize(("cpuinfo", "engine"), [(AVX2_EPYC, "onnx"), (XEON_AMX, "torch"), (EPYC_BF16, "torch")])
def test_auto_engine_follows_the_cpu(monkeypatch, cpuinfo, engine):
    monkeypatch.setattr(embed, "cpu_has_native_bf16", lambda: native_bf16_in(cpuinfo))
    assert choose_engine("auto") == engine
    _cached_embedder.cache_clear()
    chosen = make_embedder(EmbeddingSettings())  # built, not loaded: no model runs here
    assert isinstance(chosen, OnnxEmbedder) is (engine == "onnx")
    _cached_embedder.cache_clear()


def test_explicit_choices_win_over_the_cpu():
    assert choose_engine("auto", precision="fp32", native_bf16=True) == "onnx"  # fp32 wanted: the faster fp32
    assert choose_engine("auto", precision="bf16", native_bf16=False) == "torch"
    assert choose_engine("auto", quantize="int8", native_bf16=True) == "onnx"  # one int8 index name on every CPU
    assert choose_engine("torch", native_bf16=False) == "torch"
    assert choose_engine("onnx", native_bf16=True) == "onnx"
    with pytest.raises(ValueError):
        choose_engine("tensorrt")


def test_a_model_that_cannot_be_exported_stays_on_torch(tmp_path):
    model = tmp_path / "cls-pooled"
    shutil.copytree(default_model_path(), model, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    assert exportable(model)
    (model / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 384, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}))
    assert not exportable(model)
    assert choose_engine("auto", model=str(model), native_bf16=False) == "torch"
    assert choose_engine("auto", model="sentence-transformers/all-MiniLM-L6-v2", native_bf16=False) == "torch"


def test_int8_changes_the_name_fp32_keeps_it():
    torch_name = embed.SentenceTransformerEmbedder().name
    assert OnnxEmbedder().name == torch_name  # same vectors (see the slow test): the index is kept
    assert OnnxEmbedder(quantize="int8").name != torch_name  # other vectors: the index is rebuilt
    assert OnnxEmbedder(quantize="int8").name != embed.SentenceTransformerEmbedder(quantize="int8").name


def test_export_file_names_follow_weights_and_variant(tmp_path):
    model = tmp_path / "m"
    shutil.copytree(default_model_path(), model, ignore=shutil.ignore_patterns("*.safetensors"))
    (model / "model.safetensors").write_bytes(b"weights v1")
    first = onnx_path(model, None, tmp_path / "onnx")
    assert first.parent == tmp_path / "onnx"
    assert onnx_path(model, "int8", tmp_path / "onnx") != first
    (model / "model.safetensors").write_bytes(b"weights v2, other size")
    assert onnx_path(model, None, tmp_path / "onnx") != first  # new weights never reuse an old export


@pytest.mark.slow
def test_export_offline_equals_torch_fp32(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network used during the ONNX export")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    texts = [("Inversor Growatt MIN 10000TL-X — garantia de 10 anos. " * (i % 6 + 1)).strip() for i in range(11)]
    texts += ["curto", "módulo " * 400, "qual a tensao Voc do modulo jinko 610W?"]
    t = time.perf_counter()
    fp32 = OnnxEmbedder(batch_size=4, batch_tokens=256, onnx_dir=tmp_path)
    ours = np.asarray(fp32.embed_documents(texts))  # builds the export on first use
    built_s = time.perf_counter() - t
    assert fp32.onnx_file.is_file() and fp32.onnx_file.parent == tmp_path
    assert built_s < 120, f"export + first batch took {built_s:.0f} s"
    monkeypatch.undo()

    reference = embed.SentenceTransformerEmbedder(precision="fp32")
    docs = np.asarray(reference.embed_documents(texts))
    queries = np.asarray(reference.embed_queries(texts))
    assert ours.shape == docs.shape
    assert float((ours * docs).sum(1).min()) >= 0.9999
    assert float((np.asarray(fp32.embed_queries(texts)) * queries).sum(1).min()) >= 0.9999
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)

    int8 = OnnxEmbedder(quantize="int8", onnx_dir=tmp_path)
    quantised = np.asarray(int8.embed_documents(texts))
    assert int8.onnx_file.stat().st_size < fp32.onnx_file.stat().st_size / 2
    cosine = (quantised * docs).sum(1)
    assert 0.95 < float(cosine.min()) < 0.9999  # close, but not the same vectors: hence its own name


def test_export_to_an_unwritable_folder_is_a_clear_error_not_a_traceback(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.core.settings import get_settings
    from cli.ingest import app as ingest_app

    blocked = tmp_path / "file"
    blocked.write_text("x")  # a file where the folder should be
    monkeypatch.setenv("EMBEDDING__ONNX_DIR", str(blocked / "onnx"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(ingest_app, ["export-onnx"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "EMBEDDING__ONNX_DIR" in result.output and "Traceback" not in result.output
