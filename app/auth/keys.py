"""API keys: issue, hash, look up, revoke — and decide what a caller may do.

Keys are shown once, at creation; only ``HMAC-SHA256(pepper, key)`` is stored, so a copy
of the table (or of the settings) does not give anyone a usable key. Keys live in a small
SQLite table and/or in settings (``AUTH__KEYS`` as a list of hashes, for deployments
that keep secrets in their environment).

Roles nest: ``admin`` ⊇ ``sales_rep`` ⊇ ``widget``. A ``widget`` key is public (it sits
in a web page), so it is bound to the origins that may use it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from app.auth.errors import Forbidden, Unauthorized
from app.core.errors import InvalidInput, Unavailable
from app.core.settings import AuthSettings, Settings

log = logging.getLogger("helio.auth")

Role = Literal["widget", "sales_rep", "admin"]
ROLES: tuple[Role, ...] = ("widget", "sales_rep", "admin")
_GRANTS: dict[str, frozenset[str]] = {
    "widget": frozenset({"widget"}),
    "sales_rep": frozenset({"widget", "sales_rep"}),
    "admin": frozenset({"widget", "sales_rep", "admin"}),
}
_PREFIX = {"widget": "hl_wg_", "sales_rep": "hl_sr_", "admin": "hl_ad_"}
_DEV_PEPPER = "helio-dev-pepper-not-secret"  # used only outside prod, with a warning

ROLE_LABEL = {"widget": "widget (chat público)", "sales_rep": "representante de vendas", "admin": "administrador"}


def role_allows(role: str, needed: str) -> bool:
    """True when a caller with ``role`` may use a route that needs ``needed``."""
    return needed in _GRANTS.get(role, frozenset())


def hash_key(pepper: str, key: str) -> str:
    """HMAC-SHA256 of ``key`` under the server ``pepper``, hex."""
    return hmac.new(pepper.encode(), key.strip().encode(), hashlib.sha256).hexdigest()


def pepper_from(settings: AuthSettings, env: str) -> str:
    if settings.pepper is not None and settings.pepper.get_secret_value():
        return settings.pepper.get_secret_value()
    if env == "prod":
        raise Unavailable("Autenticação não configurada: falta o segredo do servidor.",
                          hint="Defina AUTH__PEPPER (um segredo longo e aleatório) no ambiente de produção.")
    return _DEV_PEPPER


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id and role (``anonymous`` keys have ``key_id=None``)."""

    role: Role
    key_id: str | None = None
    label: str | None = None
    origin: str | None = None
    origins: tuple[str, ...] = field(default=())

    @property
    def anonymous(self) -> bool:
        return self.key_id is None


@dataclass(frozen=True)
class IssuedKey:
    key: str
    """the secret, shown once"""
    key_id: str
    role: Role
    label: str | None
    origins: tuple[str, ...]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    role TEXT NOT NULL,
    label TEXT,
    origins TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"""


class ApiKeyStore:
    """Hashed API keys in SQLite (``path``) plus the hashes given in settings."""

    def __init__(self, path: Path | str, pepper: str, settings_keys: list[dict] | None = None) -> None:
        self.path = Path(path)
        self._pepper = pepper
        self._settings_keys = [self._check_settings_key(k) for k in settings_keys or []]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    @staticmethod
    def _check_settings_key(entry: dict) -> dict:
        if not isinstance(entry, dict) or not entry.get("hash") or entry.get("role") not in ROLES:
            raise InvalidInput("Entrada inválida em AUTH__KEYS.",
                               hint='Cada item: {"hash": "<hmac hex>", "role": "widget|sales_rep|admin", "origins": []}.')
        return entry

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
            yield conn

    def create(self, role: Role, label: str | None = None, origins: list[str] | None = None) -> IssuedKey:
        """Issue a new key; the returned ``key`` is the only copy of the secret."""
        if role not in ROLES:
            raise InvalidInput(f"Papel desconhecido: {role}.", hint=f"Use um de: {', '.join(ROLES)}.")
        key = _PREFIX[role] + secrets.token_urlsafe(32)
        key_id = uuid.uuid4().hex[:12]
        clean_origins = tuple(o.rstrip("/") for o in origins or [])
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO api_keys (id, key_hash, key_prefix, role, label, origins, created_at) VALUES (?,?,?,?,?,?,?)",
                (key_id, hash_key(self._pepper, key), key[:10], role, label, json.dumps(list(clean_origins)),
                 datetime.now(UTC).isoformat(timespec="seconds")),
            )
        return IssuedKey(key, key_id, role, label, clean_origins)

    def revoke(self, key_id: str) -> bool:
        with self._connect() as conn:
            cur = conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                               (datetime.now(UTC).isoformat(timespec="seconds"), key_id))
            return cur.rowcount > 0

    def list_keys(self) -> list[dict]:
        with self._connect() as conn:
            rows = conn.execute("SELECT id, key_prefix, role, label, origins, created_at, revoked_at FROM api_keys "
                                "ORDER BY created_at").fetchall()
        return [dict(id=r[0], prefix=r[1], role=r[2], label=r[3], origins=json.loads(r[4]), created_at=r[5],
                     revoked_at=r[6]) for r in rows]

    def register(self, key_id: str, key: str, role: Role, label: str | None, origins: list[str]) -> None:
        """Store a key whose secret the caller chose (the dev demo key), replacing ``key_id``'s
        hash, role and origins; idempotent, so every worker of a dev server may call it."""
        if role not in ROLES:
            raise InvalidInput(f"Papel desconhecido: {role}.", hint=f"Use um de: {', '.join(ROLES)}.")
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO api_keys (id, key_hash, key_prefix, role, label, origins, created_at) VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET key_hash=excluded.key_hash, role=excluded.role, label=excluded.label, "
                "origins=excluded.origins, revoked_at=NULL",
                (key_id, hash_key(self._pepper, key), key[:10], role, label,
                 json.dumps([o.rstrip("/") for o in origins]), datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def widget_origins(self) -> frozenset[str]:
        """Every origin some active widget key may be used from (CORS answers these only)."""
        origins = {o.rstrip("/") for e in self._settings_keys if e["role"] == "widget" for o in e.get("origins") or []}
        with self._connect() as conn:
            rows = conn.execute("SELECT origins FROM api_keys WHERE role = 'widget' AND revoked_at IS NULL").fetchall()
        for (raw,) in rows:
            origins.update(json.loads(raw))
        return frozenset(origins)

    def has_keys(self) -> bool:
        if self._settings_keys:
            return True
        with self._connect() as conn:
            return conn.execute("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").fetchone() is not None

    def lookup(self, key: str) -> Principal | None:
        digest = hash_key(self._pepper, key)
        for entry in self._settings_keys:
            if hmac.compare_digest(entry["hash"], digest):
                return Principal(role=entry["role"], key_id=f"settings:{digest[:8]}", label=entry.get("label"),
                                 origins=tuple(o.rstrip("/") for o in entry.get("origins") or []))
        with self._connect() as conn:
            row = conn.execute("SELECT id, role, label, origins FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                               (digest,)).fetchone()
        if row is None:
            return None
        return Principal(role=row[1], key_id=row[0], label=row[2], origins=tuple(json.loads(row[3])))


def key_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def _check_origin(principal: Principal, origin: str | None, default_origins: list[str]) -> Principal:
    allowed = principal.origins or tuple(o.rstrip("/") for o in default_origins)
    if not allowed:
        if principal.anonymous:
            return principal  # public chat with no origin list configured (dev machines)
        raise Forbidden("Chave de widget sem origens permitidas.",
                        hint="Recrie a chave com --origin https://sua-loja.com.br ou defina AUTH__WIDGET_ORIGINS.")
    if origin is None or origin.rstrip("/") not in allowed:
        raise Forbidden(f"Origem não permitida para esta chave: {origin or '(sem cabeçalho Origin)'}.",
                        hint="Use o widget a partir de um dos sites cadastrados para a chave.")
    return Principal(principal.role, principal.key_id, principal.label, origin.rstrip("/"), principal.origins)


def authenticate(store: ApiKeyStore, key: str | None, needed: Role, origin: str | None,
                 settings: AuthSettings, env: str) -> Principal:
    """The caller of a route that needs role ``needed``, or :class:`Unauthorized` (401) /
    :class:`Forbidden` (403).

    Without a key: ``widget`` routes admit an anonymous widget session when
    ``AUTH__PUBLIC_CHAT`` is on; outside prod, ``AUTH__DEV_OPEN=true`` admits an anonymous
    admin (dev convenience, logged); anything else needs a key.
    """
    if key is None:
        if settings.dev_open and env != "prod":
            log.warning("AUTH__DEV_OPEN: requisição sem chave tratada como admin (somente desenvolvimento)")
            return Principal(role="admin", label="dev-open")
        if needed == "widget" and settings.public_chat:
            return _check_origin(Principal(role="widget", label="anônimo"), origin, settings.widget_origins)
        raise Unauthorized(
            f"Chave de API ausente: esta rota exige o papel {ROLE_LABEL[needed]}.",
            hint="Envie 'Authorization: Bearer <chave>' (ou 'X-API-Key'); crie uma com "
                 f"'helio keys create --role {needed}'.",
        )
    principal = store.lookup(key)
    if principal is None:
        raise Unauthorized("Chave de API inválida ou revogada.", hint="Confira a chave ou peça uma nova ao administrador.")
    if not role_allows(principal.role, needed):
        raise Forbidden(f"O papel {ROLE_LABEL[principal.role]} não pode usar esta rota (exige {ROLE_LABEL[needed]}).",
                        hint="Use uma chave de representante de vendas ou de administrador.")
    if principal.role == "widget":
        return _check_origin(principal, origin, settings.widget_origins)
    return principal


def make_key_store(settings: Settings) -> ApiKeyStore:
    """The API-key store of ``settings`` (its database, pepper and configured keys)."""
    return ApiKeyStore(settings.auth.db_path, pepper_from(settings.auth, settings.env), settings.auth.keys)
