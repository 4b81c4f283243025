"""Knowledge retrieval: sparse encoder, embedders, vector stores, hybrid search with citations.

Stages: ``text``/``sparse`` (lexical terms) → ``embed`` (dense) → ``store`` (Qdrant) →
``search`` (hybrid + filters + citations). No FastAPI or LangChain here.
"""
