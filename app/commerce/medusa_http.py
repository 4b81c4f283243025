"""HTTP session to a Medusa 2.x backend: credentials that renew, retries, and error mapping.

Three kinds of caller, as Medusa authenticates them:

- ``store``: the publishable key plus the JWT of Hélio's *service customer* (the B2B buyer
  account the store calls act for). The JWT comes from ``POST /auth/customer/emailpass``,
  is refreshed through ``POST /auth/token/refresh`` before it expires, and is fetched
  anew on a 401 (a fixed token stops working after ``jwtExpiresIn``, one day by default).
- ``admin``: the secret API key (HTTP Basic ``sk_…:``).
- ``admin_user``: an admin *user's* JWT (``POST /auth/user/emailpass``). The B2B starter's
  ``/admin/approvals*`` routes accept only session or bearer auth, never the secret key.

Every response that is not what the contract promises becomes a typed error a user can act
on: :class:`CommerceUnavailable` (``commerce_unavailable``, 503: down, credentials, or an
answer of the wrong shape) or :class:`CommerceRejected` (``commerce_rejected``, 422: Medusa
refused the data), besides NotFound (404) and Conflict (409). Nothing escapes as a 500.
"""

from __future__ import annotations

import base64
import binascii
import json as jsonlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from app.core import http
from app.core.errors import Conflict, HelioError, InvalidInput, NotFound, Unavailable

log = logging.getLogger("helio.commerce.medusa")

HINT = "Confira COMMERCE__URL e se o backend Medusa está no ar."


class CommerceUnavailable(Unavailable):
    """The commerce backend cannot serve: unreachable, 5xx, credentials refused, or a malformed answer."""

    code = "commerce_unavailable"


class CommerceRejected(InvalidInput):
    """Medusa answered 4xx and refused the request (its message is kept)."""

    code = "commerce_rejected"


def expect(data: Any, key: str, where: str) -> Any:
    """``data[key]``, or :class:`CommerceUnavailable` naming the route when the answer lacks it."""
    if not isinstance(data, dict) or key not in data or data[key] is None:
        raise CommerceUnavailable(f"Resposta inesperada do Medusa em {where}: faltou '{key}'.",
                                  hint="A versão do backend pode não ser a esperada (B2B starter, Medusa 2.8).",
                                  upstream=where)
    return data[key]


class Credentials(Protocol):
    def header(self, http: httpx.Client) -> str | None: ...

    def invalidate(self) -> None: ...


class StaticToken:
    """A fixed bearer token (legacy ``COMMERCE__CUSTOMER_TOKEN``): cannot renew itself."""

    renewable = False

    def __init__(self, token: str) -> None:
        self._token = token

    def header(self, http: httpx.Client) -> str | None:
        return f"Bearer {self._token}"

    def invalidate(self) -> None:
        return None


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim [s since the epoch] of a JWT, read without verifying it (Medusa verifies)."""
    try:
        payload = token.split(".")[1]
        claims = jsonlib.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) if "exp" in claims else None
    except (IndexError, ValueError, KeyError, TypeError, binascii.Error):
        return None


class EmailPassAuth:
    """JWT of a Medusa actor (``customer`` or ``user``) from email and password, renewed as needed.

    Renewal: ``margin_s`` before ``exp`` the token is refreshed (``POST /auth/token/refresh``),
    or obtained again by logging in when the refresh is refused; :meth:`invalidate` (called on
    a 401) forces a new login on the next call. Thread-safe: one renewal at a time.
    """

    renewable = True

    def __init__(self, actor: str, email: str, password: str, margin_s: float = 300.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.actor, self.email, self._password = actor, email, password
        self.margin_s, self.clock = margin_s, clock
        self._token: str | None = None
        self._lock = threading.Lock()
        self.logins = 0
        self.refreshes = 0

    def header(self, http: httpx.Client) -> str | None:
        with self._lock:
            if self._token is None:
                self._token = self._login(http)
            else:
                exp = jwt_expiry(self._token)
                if exp is not None and exp - self.clock() < self.margin_s:
                    self._token = self._refresh(http) if exp > self.clock() else self._login(http)
            return f"Bearer {self._token}"

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _post(self, http: httpx.Client, path: str, **kw: Any) -> httpx.Response:
        try:
            return http.post(path, **kw)
        except httpx.HTTPError as exc:
            raise CommerceUnavailable(f"Falha ao autenticar no Medusa ({type(exc).__name__}).", hint=HINT) from exc

    def _login(self, http: httpx.Client) -> str:
        path = f"/auth/{self.actor}/emailpass"
        response = self._post(http, path, json={"email": self.email, "password": self._password})
        who = "cliente de serviço" if self.actor == "customer" else "usuário admin"
        if response.status_code in (400, 401, 403):
            raise CommerceUnavailable(f"O Medusa recusou o login do {who} do Hélio ({response.status_code}).",
                                      hint="Confira COMMERCE__CUSTOMER_EMAIL/PASSWORD (ou ADMIN_EMAIL/PASSWORD).",
                                      upstream=f"POST {path}")
        self.logins += 1
        return self._token_from(response, path)

    def _refresh(self, http: httpx.Client) -> str:
        response = self._post(http, "/auth/token/refresh", headers={"authorization": f"Bearer {self._token}"})
        if response.status_code == 401:
            return self._login(http)
        self.refreshes += 1
        return self._token_from(response, "/auth/token/refresh")

    @staticmethod
    def _token_from(response: httpx.Response, path: str) -> str:
        if not response.is_success:
            raise CommerceUnavailable(f"Medusa respondeu {response.status_code} em POST {path}.", hint=HINT)
        try:
            body = response.json()
        except ValueError:
            body = None
        token = expect(body, "token", f"POST {path}")
        if not isinstance(token, str):
            raise CommerceUnavailable(f"Resposta inesperada do Medusa em POST {path}: token inválido.", hint=HINT)
        return token


class MedusaHTTP:
    """One ``httpx.Client`` and the credentials of each caller kind.

    Idempotent calls (GET, DELETE) are retried on timeouts and 5xx; a POST only when the
    connection never opened. A 401 with renewable credentials logs in again once.
    """

    def __init__(self, url: str, publishable_key: str | None = None, admin_api_key: str | None = None,
                 customer: Credentials | None = None, admin_user: Credentials | None = None,
                 timeout_s: float = 10.0, retries: int = 2, transport: httpx.BaseTransport | None = None,
                 backoff_s: float = 0.2) -> None:
        self.retries, self.backoff_s = max(0, retries), backoff_s
        self.publishable_key, self.customer, self.admin_user = publishable_key, customer, admin_user
        self._basic = None
        if admin_api_key:
            self._basic = "Basic " + base64.b64encode(f"{admin_api_key}:".encode()).decode()
        self.client = http.client(base_url=url.rstrip("/"), timeout=httpx.Timeout(timeout_s), transport=transport)

    def close(self) -> None:
        self.client.close()

    def _headers(self, scope: str) -> dict[str, str]:
        headers = {"accept": "application/json"}
        if scope == "store":
            if self.publishable_key:
                headers["x-publishable-api-key"] = self.publishable_key
            auth = self.customer.header(self.client) if self.customer else None
        elif scope == "admin_user":
            if self.admin_user is None:
                raise CommerceUnavailable("Esta operação do Medusa exige um usuário admin (login por e-mail e senha).",
                                          hint="Defina COMMERCE__ADMIN_EMAIL e COMMERCE__ADMIN_PASSWORD.")
            auth = self.admin_user.header(self.client)
        else:
            auth = self._basic
        if auth:
            headers["authorization"] = auth
        return headers

    def _credentials(self, scope: str) -> Credentials | None:
        return {"store": self.customer, "admin_user": self.admin_user}.get(scope)

    def call(self, method: str, path: str, scope: str = "store", json: dict | None = None,
             params: dict | None = None, quote_action: bool = False) -> dict[str, Any]:
        """The JSON body of a successful answer (``{}`` when it has none), or a typed error."""
        idempotent = method in ("GET", "DELETE")
        attempt, renewed = 0, False
        while True:
            try:
                response = self.client.request(method, path, headers=self._headers(scope), json=json, params=params)
            except httpx.ConnectError as exc:  # nothing was sent: safe to retry any method
                error: Exception = exc
            except httpx.TimeoutException as exc:
                if not idempotent:
                    raise CommerceUnavailable(f"O backend de comércio não respondeu a tempo ({method} {path}).",
                                              hint="A operação pode ter sido aplicada: consulte antes de repetir.") \
                        from exc
                error = exc
            except httpx.HTTPError as exc:
                raise CommerceUnavailable(f"Falha ao falar com o backend de comércio: {exc}.", hint=HINT) from exc
            else:
                credentials = self._credentials(scope)
                if response.status_code == 401 and not renewed and getattr(credentials, "renewable", False):
                    renewed = True  # expired or revoked token: log in again, once
                    credentials.invalidate()
                    continue
                if response.status_code >= 500 and idempotent and attempt < self.retries:
                    error = CommerceUnavailable(f"Medusa respondeu {response.status_code}.", hint=HINT)
                else:
                    return _parse(response, method, path, quote_action)
            if attempt >= self.retries:
                if isinstance(error, HelioError):
                    raise error
                raise CommerceUnavailable(f"Backend de comércio inacessível ({type(error).__name__}).",
                                          hint=HINT) from error
            attempt += 1
            log.warning("Medusa %s %s falhou (%s); tentativa %d", method, path, error, attempt + 1)
            time.sleep(self.backoff_s * 2 ** (attempt - 1))


def _parse(response: httpx.Response, method: str, path: str, quote_action: bool) -> dict[str, Any]:
    where = f"{method} {path}"
    if response.is_success:
        if not response.content.strip():
            return {}  # e.g. the starter's store approval-settings route: 201 without a body
        try:
            body = response.json()
        except ValueError:
            raise CommerceUnavailable(f"Resposta inválida (não JSON) do Medusa em {where}.", hint=HINT) from None
        if not isinstance(body, dict):
            raise CommerceUnavailable(f"Resposta inesperada do Medusa em {where}.", hint=HINT)
        return body
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or response.text[:200] or response.reason_phrase)
    kind = str(body.get("type") or body.get("code") or "").lower()
    status = response.status_code
    if status == 404 or kind == "not_found":
        raise NotFound(f"Não encontrado no Medusa: {message}", hint="Confira o id informado.", upstream=where)
    if status == 409 or kind in ("conflict", "duplicate_error") or (
            quote_action and kind in ("not_allowed", "invalid_data")):
        raise Conflict(f"O Medusa recusou a operação: {message}", hint="Consulte o estado atual.", upstream=where)
    if status == 401 or "publishable api key" in message.lower():
        raise CommerceUnavailable(f"O Medusa recusou as credenciais do Hélio (401 em {where}).",
                                  hint="Confira COMMERCE__PUBLISHABLE_KEY, COMMERCE__CUSTOMER_EMAIL/PASSWORD "
                                       "e COMMERCE__ADMIN_API_KEY.", upstream=where)
    if status == 403:
        raise CommerceUnavailable(f"O Medusa negou a operação ao Hélio (403 em {where}): {message}",
                                  hint="A conta de serviço não tem o papel exigido (ex.: company_admin).",
                                  upstream=where)
    if status < 500:
        raise CommerceRejected(f"O Medusa recusou os dados: {message}", hint="Corrija a requisição.", upstream=where)
    raise CommerceUnavailable(f"Medusa respondeu {status} em {where}.", hint=HINT, upstream=where)
