"""People signed in with the company's identity provider: OIDC access tokens (JWT).

``AUTH__OIDC__ISSUER`` names the realm; its discovery document gives the ``jwks_uri``.
Tokens are verified by PyJWT (signature, ``iss``, ``aud``, ``exp``/``nbf`` with a small
leeway), with asymmetric algorithms only: ``none`` and HS* are refused before any key is
looked at, and the header's algorithm must fit the key type (no RSA public key used as an
HMAC secret).

Keys: the key set is cached. An unknown ``kid`` refetches it, at most once per
``jwks_min_refresh_s`` (a flood of made-up ``kid``s cannot turn into a flood of requests to
the issuer), so a key rotation needs no restart. A failed fetch keeps the keys we have:
while the issuer is unreachable, tokens signed with known keys keep verifying.

Roles come from a dotted claim path (Keycloak: ``realm_access.roles``, or
``resource_access.<client>.roles``) through ``role_map`` to widget / sales_rep / admin; the
highest one wins. Error messages never repeat the token.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import httpx
import jwt

from app.auth.errors import Forbidden, Unauthorized
from app.auth.keys import ROLE_LABEL, ROLES, Principal, Role, role_allows
from app.core import http
from app.core.errors import Unavailable
from app.core.settings import OIDCSettings

log = logging.getLogger("helio.auth.oidc")

# Which key types may verify which algorithm families (RFC 7518 / 8037).
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_ASYMMETRIC = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384", "ES512", "EdDSA"}
_RELOGIN = "Entre de novo no provedor de identidade (login da YSH) e repita a requisição com o token novo."


class TokenError(Unauthorized):
    """401 for a token that is not acceptable; ``code`` says why."""

    def __init__(self, code: str, message: str, hint: str = _RELOGIN) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class RoleForbidden(Forbidden):
    """403: a valid token whose roles do not open this route."""

    code = "papel_sem_permissao"


@dataclass(frozen=True)
class OIDCPrincipal(Principal):
    """A person from the identity provider. ``key_id`` is ``oidc:<sub>``, so what belongs to
    a caller (conversations) belongs to the person, whichever token they present."""

    sub: str = ""
    name: str | None = None
    email: str | None = None
    idp_roles: tuple[str, ...] = ()

    def creator(self) -> dict[str, str | None]:
        return {"kind": "oidc", "sub": self.sub, "name": self.name, "email": self.email}


def creator_of(principal: Principal) -> dict[str, str | None]:
    """Who a quote is recorded as created by: the signed-in person, or the API key."""
    if isinstance(principal, OIDCPrincipal):
        return principal.creator()
    return {"kind": "api_key", "key_id": principal.key_id, "name": principal.label}


def looks_like_jwt(token: str) -> bool:
    """Our API keys have no dots; a compact JWS has exactly two."""
    return token.count(".") == 2 and not token.startswith("hl_")


def check_issuer_url(url: str, env: str, what: str = "AUTH__OIDC__ISSUER") -> str:
    """``url`` without a trailing slash; plain http only on loopback or with ENV=dev."""
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        return url.rstrip("/")
    if parsed.scheme == "http" and parsed.hostname:
        host = parsed.hostname
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if loopback or env == "dev":
            return url.rstrip("/")
        raise Unavailable(f"{what} usa http sem TLS fora do loopback: {url}.",
                          hint="Use https (ou ENV=dev para um provedor de desenvolvimento).")
    raise Unavailable(f"{what} não é uma URL http(s): {url!r}.", hint="Ex.: https://sso.ysh.com.br/realms/ysh")


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (``resource_access.helio-api.roles``); None if absent."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True)
class SigningKey:
    jwk: jwt.PyJWK
    alg: str | None
    """the algorithm the key set declares for this key, when it does"""

    def fits(self, alg: str) -> bool:
        """May a token whose header says ``alg`` be checked with this key?"""
        return _KEY_TYPES.get(alg[:2]) == self.jwk.key_type and self.alg in (None, alg)


class KeySet:
    """The issuer's signing keys by ``kid``, refreshed on age or an unknown ``kid``."""

    def __init__(self, fetch: Any, max_age_s: float, min_refresh_s: float,
                 clock: Any = time.monotonic) -> None:
        self._fetch = fetch
        self._max_age_s = max_age_s
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._keys: dict[str | None, SigningKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def _refresh(self) -> None:
        """Fetch the set; on failure keep the keys we have (logged)."""
        self._attempted_at = self._clock()
        self.fetches += 1
        try:
            jwks = self._fetch()
            declared = {k.get("kid"): k.get("alg") for k in jwks.get("keys", []) if isinstance(k, dict)}
            keys = jwt.PyJWKSet.from_dict(jwks).keys
        except (httpx.HTTPError, jwt.PyJWKSetError, jwt.PyJWKError, ValueError, KeyError, TypeError,
                AttributeError) as exc:
            log.warning("Falha ao buscar as chaves do provedor de identidade (%s); mantendo %d em cache",
                        type(exc).__name__, len(self._keys))
            return
        self._keys = {k.key_id: SigningKey(k, declared.get(k.key_id)) for k in keys
                      if (k.public_key_use or "sig") == "sig"}
        self._fetched_at = self._clock()

    def _may_refresh(self) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= self._min_refresh_s

    @property
    def never_fetched(self) -> bool:
        return self._fetched_at is None

    def get(self, kid: str | None) -> SigningKey | None:
        with self._lock:
            stale = self._fetched_at is None or self._clock() - self._fetched_at >= self._max_age_s
            if stale and self._may_refresh():
                self._refresh()
            key = self._lookup(kid)
            if key is None and not stale and self._may_refresh():
                self._refresh()  # rotation: a kid we have never seen
                key = self._lookup(kid)
            return key

    def _lookup(self, kid: str | None) -> SigningKey | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)


class OIDCVerifier:
    """Verifies access tokens of one issuer and turns them into :class:`OIDCPrincipal`."""

    def __init__(self, settings: OIDCSettings, env: str, client: httpx.Client | None = None) -> None:
        if not settings.issuer or not settings.audience:
            raise Unavailable("OIDC incompleto: defina AUTH__OIDC__ISSUER e AUTH__OIDC__AUDIENCE.",
                              hint="A audiência é o client id da API no provedor de identidade.")
        refused = [a for a in settings.algorithms if a not in _ASYMMETRIC]
        if refused:
            raise Unavailable(f"Algoritmos não permitidos em AUTH__OIDC__ALGORITHMS: {', '.join(refused)}.",
                              hint="Só algoritmos assimétricos (RS*, PS*, ES*, EdDSA).")
        unknown = sorted({r for r in settings.role_map.values() if r not in ROLES})
        if unknown:
            raise Unavailable(f"AUTH__OIDC__ROLE_MAP aponta para papéis inexistentes: {', '.join(unknown)}.",
                              hint=f"Papéis do Hélio: {', '.join(ROLES)}.")
        self.settings = settings
        self.env = env
        self.issuer = check_issuer_url(settings.issuer, env)
        self._client = client or http.client(timeout=settings.http_timeout_s, follow_redirects=False)
        self._jwks_uri: str | None = None
        self._discovery_lock = threading.Lock()
        self.keys = KeySet(self._fetch_jwks, settings.jwks_max_age_s, settings.jwks_min_refresh_s)

    # -- fetching ---------------------------------------------------------------------------
    def _discover(self) -> str:
        with self._discovery_lock:
            if self._jwks_uri is None:
                response = self._client.get(f"{self.issuer}/.well-known/openid-configuration")
                response.raise_for_status()
                doc = response.json()
                if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
                    raise ValueError("discovery 'issuer' differs from AUTH__OIDC__ISSUER")
                self._jwks_uri = check_issuer_url(str(doc["jwks_uri"]), self.env, what="jwks_uri")
            return self._jwks_uri

    def _fetch_jwks(self) -> dict[str, Any]:
        response = self._client.get(self._discover())
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._client.close()

    # -- verifying --------------------------------------------------------------------------
    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or :class:`TokenError` (401) saying what is wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise TokenError("token_invalido", "Token malformado.") from None
        alg = header.get("alg")
        if alg not in self.settings.algorithms:
            raise TokenError("algoritmo_nao_permitido",
                             f"Algoritmo de assinatura não permitido: {str(alg)[:20]!r}.",
                             hint="O Hélio aceita apenas tokens assinados pelo provedor (RS256, ES256…).")
        kid = header.get("kid")
        key = self.keys.get(kid if isinstance(kid, str) else None)
        if key is None:
            if self.keys.never_fetched:
                raise Unavailable("Provedor de identidade inacessível: chaves de assinatura indisponíveis.",
                                  hint="Tente de novo em instantes; confira AUTH__OIDC__ISSUER.")
            raise TokenError("chave_desconhecida", "Token assinado com uma chave desconhecida.")
        if not key.fits(alg):
            raise TokenError("algoritmo_nao_permitido", "Algoritmo do token não corresponde à chave do provedor.")
        try:
            return jwt.decode(
                token, key.jwk.key, algorithms=[alg], audience=self.settings.audience, issuer=self.issuer,
                leeway=self.settings.leeway_s, options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token_expirado", "Token expirado.") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("token_ainda_nao_valido", "Token ainda não é válido (nbf/iat no futuro).",
                             hint="Confira o relógio do servidor e do cliente.") from None
        except jwt.InvalidAudienceError:
            raise TokenError("audiencia_invalida", "Audiência inválida: o token não foi emitido para o Hélio.",
                             hint="Peça um token para o cliente da API do Hélio no provedor de identidade.") from None
        except jwt.InvalidIssuerError:
            raise TokenError("emissor_invalido", "Emissor inválido: o token vem de outro provedor.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError("token_invalido", f"Token sem a declaração obrigatória '{exc.claim}'.") from None
        except jwt.InvalidSignatureError:
            raise TokenError("assinatura_invalida", "Assinatura do token inválida.") from None
        except jwt.InvalidTokenError:
            raise TokenError("token_invalido", "Token inválido.") from None

    def roles_of(self, claims: dict[str, Any]) -> tuple[tuple[str, ...], Role | None]:
        """(the provider's roles, the highest Hélio role they map to)."""
        raw = claim_at(claims, self.settings.roles_claim)
        idp_roles = tuple(r for r in raw if isinstance(r, str)) if isinstance(raw, list) else ()
        mapped = {self.settings.role_map[r] for r in idp_roles if r in self.settings.role_map}
        best = next((r for r in reversed(ROLES) if r in mapped), None)
        return idp_roles, best

    def authenticate(self, token: str, needed: Role) -> OIDCPrincipal:
        """The person behind ``token`` if their role allows ``needed``: 401 / 403 otherwise."""
        claims = self.verify(token)
        idp_roles, role = self.roles_of(claims)
        if role is None:
            raise RoleForbidden("Papel sem permissão: o token não traz nenhum papel do Hélio.",
                                hint=f"Peça ao administrador do provedor um dos papéis mapeados "
                                     f"({', '.join(sorted(self.settings.role_map))}) em {self.settings.roles_claim}.")
        if not role_allows(role, needed):
            raise RoleForbidden(f"Papel sem permissão: {ROLE_LABEL[role]} não pode usar esta rota "
                                f"(exige {ROLE_LABEL[needed]}).",
                                hint="Peça o papel de representante de vendas (ou de administrador) no provedor.")
        sub = str(claims["sub"])
        name = claims.get("name") or claims.get("preferred_username")
        email = claims.get("email")
        return OIDCPrincipal(role=role, key_id=f"oidc:{sub}", label=str(name) if name else None, sub=sub,
                             name=str(name) if name else None, email=str(email) if email else None,
                             idp_roles=idp_roles)
