"""Import ragas 0.4.x next to langchain-community 0.4.x.

``ragas/llms/base.py`` imports ``langchain_community.chat_models.vertexai.ChatVertexAI``,
a module langchain-community 0.4 removed (ragas issues #2745, #2995): ``import ragas`` then
fails with ``ModuleNotFoundError``. ragas only uses the class in an ``isinstance`` check for
Vertex models, which this project never configures, so a placeholder module holding a
never-instantiated class is enough. It is registered only when the real module is missing,
so a langchain-community that still ships it (or a fixed ragas) is used unchanged.

``RAGAS_DO_NOT_TRACK=true`` is set before the import: ``evaluate()`` would otherwise send
usage telemetry, and this machine has no network anyway.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import Any

PLACEHOLDER = "langchain_community.chat_models.vertexai"


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def import_ragas() -> Any:
    """``import ragas`` with the placeholder in place when needed; returns the module."""
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    if PLACEHOLDER not in sys.modules and not _module_exists(PLACEHOLDER):
        module = types.ModuleType(PLACEHOLDER)

        class ChatVertexAI:  # never instantiated: only ragas' isinstance() checks see it
            """Placeholder for the class langchain-community 0.4 removed."""

        module.ChatVertexAI = ChatVertexAI
        module.__helio_placeholder__ = True
        sys.modules[PLACEHOLDER] = module
    return importlib.import_module("ragas")
