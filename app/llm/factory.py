"""Choose the LLM backend from settings (``LLM__BACKEND``): the one place that knows both."""

from __future__ import annotations

import logging

from app.core.settings import LLMSettings
from app.llm.base import LLMBackend
from app.llm.llamacpp import LlamaCppBackend
from app.llm.ollama import OllamaBackend, ollama_has_model
from app.llm.openai import OpenAICompatBackend

log = logging.getLogger("helio.llm")


def make_llm(settings: LLMSettings, *, probe_timeout_s: float = 0.5) -> LLMBackend:
    """``ollama`` / ``openai`` / ``llamacpp`` as configured; ``auto`` = Ollama when it answers
    ``/api/tags`` within ``probe_timeout_s`` and has the model, else embedded llama.cpp.
    Nothing is loaded here: the GGUF loads on first use."""
    if settings.backend == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAICompatBackend(settings.openai_base_url, settings.openai_model, api_key=key,
                                   timeout_s=settings.timeout_s)
    if settings.backend == "ollama":
        return OllamaBackend(settings.ollama_url, settings.ollama_model, timeout_s=settings.timeout_s)
    if settings.backend == "auto":
        ok, reason = ollama_has_model(settings.ollama_url, settings.ollama_model, probe_timeout_s)
        if ok:
            log.info("LLM: %s", reason)
            return OllamaBackend(settings.ollama_url, settings.ollama_model, timeout_s=settings.timeout_s)
        log.info("LLM: %s; usando llama.cpp embutido", reason)
    return LlamaCppBackend(settings.gguf_path, n_ctx=settings.n_ctx, timeout_s=settings.timeout_s)
