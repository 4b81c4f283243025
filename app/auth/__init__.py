"""Access control: API keys with roles (widget, sales_rep, admin), stored as HMAC hashes.

``app.auth.keys`` is the domain (hashing, the key table, who may do what);
``app.auth.oidc`` verifies access tokens of the company's identity provider (OIDC/JWT);
the FastAPI dependencies (``require_role``) are the API's: :mod:`app.api.auth`.
"""

from app.auth.errors import Forbidden, Unauthorized
from app.auth.keys import ROLES, ApiKeyStore, Principal, Role, authenticate, hash_key, role_allows

__all__ = ["ROLES", "ApiKeyStore", "Forbidden", "Principal", "Role", "Unauthorized", "authenticate", "hash_key",
           "role_allows"]
