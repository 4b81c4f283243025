"""Knowledge ingestion: parse (PDF, Markdown, YAML, catalog) → chunk (tiktoken) →
embed + store (incremental, content-hash ids) and datasheet specs → catalog store."""
