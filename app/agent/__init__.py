"""The chat agent: understand a buyer's message → decide → act through the tools → speak.

- understand: ``parsing``/``extractors``/``places`` read numbers, places and phases into the
  sizing fields of ``slots``; ``decide`` (with the trained ``classifier``) picks the task;
  ``state`` is the conversation memory (in the cache).
- act: ``handlers`` (one module per task) run the ``tools`` (typed adapters over sizing,
  catalog, retrieval, financing, quotes; ``ports`` for the engine and searcher) and return a
  typed ``reply`` (what to say and show, no text).
- speak: ``speaker`` (``TemplateSpeaker``, formatting in ``render``, templates in prompts/).
- ``assistant`` runs one turn as events; ``loop`` lets a capable model lead instead, with
  ``grounding`` checking its numbers. Wired by ``factory``.
"""
