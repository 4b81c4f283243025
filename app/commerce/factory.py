"""``make_commerce``: the one place that picks the commerce backend from settings."""

from __future__ import annotations

from app.catalog.repository import CatalogRepository
from app.commerce.base import CommerceBackend
from app.core.errors import InvalidInput
from app.core.settings import Settings


def make_commerce(settings: Settings, catalog: CatalogRepository | None) -> CommerceBackend:
    """``COMMERCE__BACKEND=local`` (default): SQLite over the catalog; ``medusa``: the HTTP client."""
    cfg = settings.commerce
    if cfg.backend == "medusa":
        if not cfg.url:
            raise InvalidInput("COMMERCE__BACKEND=medusa sem COMMERCE__URL.",
                               hint="Defina COMMERCE__URL=https://… (e as chaves) ou use COMMERCE__BACKEND=local.")
        from app.commerce.medusa import MedusaCommerce

        secret = lambda s: s.get_secret_value() if s is not None else None  # noqa: E731
        return MedusaCommerce(cfg.url, publishable_key=cfg.publishable_key, admin_api_key=secret(cfg.admin_api_key),
                              customer_token=secret(cfg.customer_token), region_id=cfg.region_id,
                              timeout_s=cfg.timeout_s, retries=cfg.retries, customer_email=cfg.customer_email,
                              customer_password=secret(cfg.customer_password), admin_email=cfg.admin_email,
                              admin_password=secret(cfg.admin_password))
    from app.commerce.local import LocalCommerce

    return LocalCommerce(cfg.db_path, catalog, cfg.default_spending_limit_brl)
