"""The API's one typed service container: built by the lifespan, read by the dependencies."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api.services import Services
from app.core.settings import CatalogSettings, EmbeddingSettings, QdrantSettings, Settings
from app.main import create_app

pytestmark = pytest.mark.slow  # the whole app (create_app and its lifespan) on the real catalog


def test_lifespan_builds_one_container_that_routes_and_app_state_share(real_catalog, tmp_path):
    settings = Settings(_env_file=None, catalog=CatalogSettings(db_path=real_catalog.db, report_dir=tmp_path / "r"),
                        qdrant=QdrantSettings(edge_path=tmp_path / "edge", path=tmp_path / "qdrant"),
                        embedding=EmbeddingSettings(preload=False))
    app = create_app(settings)
    with TestClient(app) as client:
        services = app.state.services
        assert isinstance(services, Services) and services.settings is settings
        # every service is open before the first request; none waits for a route to build it
        for name in ("cache", "gzip_memo", "auth_keys", "catalog", "specs", "commerce", "quotes", "llm",
                     "assistant", "mcp"):
            assert getattr(services, name) is not None, name
        assert app.state.commerce is services.commerce  # one source, not a copy

        app.state.searcher, app.state.searcher_error = None, "índice em manutenção"
        assert services.searcher is None
        resp = client.post("/v1/search", json={"query": "inversor 10 kW"})
        assert resp.status_code == 503
        assert "índice em manutenção" in resp.json()["error"]["message"]
