"""The chat agent: reads a buyer's message, picks and fills a tool, answers from templates.

Data flow: ``parsing``/``places`` (rules) + ``router`` (LLM) → ``tools`` (adapters over
sizing, catalog, retrieval) → ``render`` (templates in prompts/) → ``assistant`` (one turn
as events) ← ``state`` (conversation memory in the cache). Wired by ``factory``.
"""
