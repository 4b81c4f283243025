"""The API's startup heap is frozen out of the garbage collector's full passes (the p99 of
cached routes was one such pass over ~280,000 startup objects: 100–600 ms of a stopped loop)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import ApiSettings, CatalogSettings, Settings
from app.main import create_app

pytestmark = pytest.mark.slow  # the whole app (create_app and its lifespan); the freeze itself: test_heap.py


def _settings(tmp_path: Path, freeze: bool) -> Settings:
    return Settings(_env_file=None, catalog=CatalogSettings(db_path=tmp_path / "c.db", report_dir=tmp_path / "r"),
                    api=ApiSettings(gc_freeze=freeze))


def test_the_api_freezes_its_startup_heap_before_serving(fresh_heap, tmp_path):
    with TestClient(create_app(_settings(tmp_path, freeze=True))) as client:
        assert client.get("/healthz").status_code == 200
        frozen = gc.get_freeze_count()
        walked = len(gc.get_objects())
        assert frozen > 100_000  # the imported stack and the app the lifespan built
        assert walked < frozen / 4
        assert not any(o is client.app.state.assistant for o in gc.get_objects())


def test_freezing_can_be_turned_off(fresh_heap, tmp_path):
    with TestClient(create_app(_settings(tmp_path, freeze=False))) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
