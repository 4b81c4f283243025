"""LLM backends behind one small interface (:class:`app.llm.base.LLMBackend`).

``llamacpp`` (embedded GGUF through llama-cpp-python) and ``ollama`` (LangChain's
ChatOllama) implement it; :func:`app.llm.factory.make_llm` picks one from settings.
"""
