"""The demo storefront's widget key (dev and test only).

The key is derived from the server pepper, so every worker of a dev server (and every
restart) registers the same key under the same id instead of piling up new ones. It is a
``widget`` key bound to ``WIDGET__DEMO_ORIGINS`` (localhost:8000 by default): public by
nature, like any widget key, and useless from any other origin.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from app.auth.keys import ApiKeyStore, pepper_from
from app.core.settings import Settings

log = logging.getLogger("helio.widget")
DEMO_KEY_ID = "demo-widget"


def demo_enabled(settings: Settings) -> bool:
    return settings.widget.demo if settings.widget.demo is not None else settings.env != "prod"


def ensure_demo_key(settings: Settings, store: ApiKeyStore) -> str:
    """Register the demo widget key (idempotent) and return its secret."""
    pepper = pepper_from(settings.auth, settings.env)
    key = "hl_wg_demo_" + hmac.new(pepper.encode(), b"helio demo widget key", hashlib.sha256).hexdigest()[:32]
    store.register(DEMO_KEY_ID, key, "widget", "Demonstração (/demo)", settings.widget.demo_origins)
    log.info("Chave de widget de demonstração válida em: %s", ", ".join(settings.widget.demo_origins))
    return key


def setup_demo(app) -> None:
    """Lifespan step: register the demo key and keep it on ``app.state.demo_widget_key``."""
    from app.auth.keys import make_key_store

    settings: Settings = app.state.settings
    app.state.demo_widget_key = None
    if not demo_enabled(settings):
        return
    try:
        store = getattr(app.state, "auth_keys", None) or make_key_store(settings)
        app.state.auth_keys = store
        app.state.demo_widget_key = ensure_demo_key(settings, store)
    except Exception as exc:  # noqa: BLE001 - the demo must never stop the API
        log.warning("Demonstração do widget indisponível: %s", exc)
