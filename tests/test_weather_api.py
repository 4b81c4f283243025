"""A user's weather file through ``POST /v1/sizing`` (multipart) and ``helio size --weather``."""

from __future__ import annotations

import hashlib
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.core.settings import CatalogSettings, RedisSettings, Settings, get_settings
from app.main import create_app
from tests.test_weather import _corrupt, inmet_epw


pytestmark = pytest.mark.slow

REQUEST = {"consumption": {"monthly_kwh": 500}, "connection": "single_phase"}


@pytest.fixture(scope="module")
def store(tmp_path_factory, real_catalog):
    from app.catalog import store as store_mod

    return store_mod.SQLiteCatalogStore(real_catalog.copy(tmp_path_factory.mktemp("catalog")))


@pytest.fixture(scope="module")
def client(store):
    settings = Settings(_env_file=None, catalog=CatalogSettings(db_path=store.path, report_dir=store.path.parent),
                        redis=RedisSettings(url=None))
    with TestClient(create_app(settings)) as c:
        yield c


def _post(client, data: bytes, request: dict = REQUEST, name: str = "BRA_RS_Camaqua.869890_INMET.epw"):
    return client.post("/v1/sizing", data={"request": json.dumps(request)},
                       files={"weather": (name, data, "application/octet-stream")})


def test_latin1_epw_upload_sizes_at_the_file_location(client):
    r = _post(client, inmet_epw())
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["site"]["municipality"] == "Camaquã" and out["site"]["uf"] == "RS"
    assert out["site"]["latitude_deg"] == pytest.approx(-30.81)
    assert out["resource"]["source"].startswith("weather file: EPW") and "Camaquã" in out["resource"]["source"]
    assert out["best"]["energy"]["annual_kwh"] > 0 and out["sizing_id"]
    assert r.headers["X-Cache"] == "miss"
    again = _post(client, inmet_epw())
    assert again.headers["X-Cache"] == "hit" and again.json()["sizing_id"] == out["sizing_id"]
    assert client.get(f"/v1/sizing/{out['sizing_id']}").json()["site"]["municipality"] == "Camaquã"
    # the built-in resource for the same request (with the site) is another sizing
    builtin = client.post("/v1/sizing", json=REQUEST | {"site": {"lat": -30.81, "lon": -51.83}}).json()
    assert builtin["sizing_id"] != out["sizing_id"]
    assert builtin["resource"]["source"].startswith("synthetic")


def test_malformed_file_is_a_422_naming_line_and_field_and_nothing_is_stored(client, store):
    from app.sizing.models import SizingRequest
    from app.sizing.service import catalog_fingerprint, sizing_id

    bad = _corrupt(inmet_epw(), 4321, 6, "quente")
    r = _post(client, bad)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["line"] == 4321 and err["field"] == "temperatura"
    assert "linha 4.321" in err["message"] and "'quente'" in err["message"]
    req = SizingRequest.model_validate(REQUEST | {"site": {"lat": -30.81, "lon": -51.83}})
    sid = sizing_id(req, f"{catalog_fingerprint(store)}\nweather:{hashlib.sha256(bad).hexdigest()}")
    assert client.get(f"/v1/sizing/{sid}").status_code == 404


def test_multipart_without_file_or_with_bad_request_json(client):
    r = client.post("/v1/sizing", data={"request": json.dumps(REQUEST)}, files={"other": ("a", b"x")})
    assert r.status_code == 422 and r.json()["error"]["field"] == "weather"
    r = _post(client, inmet_epw(), request={"consumption": {"monthly_kwh": 500}})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "connection"


def test_cli_weather_alone_needs_no_coordinates(store, tmp_path, monkeypatch):
    from cli.root import build_cli

    epw = tmp_path / "BRA_RS_Camaqua.869890_INMET.epw"
    epw.write_bytes(inmet_epw())
    monkeypatch.setenv("CATALOG__DB_PATH", str(store.path))
    monkeypatch.delenv("REDIS__URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(build_cli(), ["size", "--weather", str(epw), "--monthly-kwh", "500",
                                                  "--connection", "single_phase", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["site"]["municipality"] == "Camaquã" and "EPW" in out["resource"]["source"]


def test_only_weather_uploads_get_the_larger_body_limit(client):
    """A 1.4 MB EPW passes (upload limit 8 MiB); the same size as a JSON body is refused (1 MiB)."""
    data = inmet_epw()
    assert len(data) > 1024 * 1024
    assert _post(client, data).status_code == 200
    big_json = client.post("/v1/sizing", content=b'{"pad": "' + b"x" * len(data) + b'"}',
                           headers={"content-type": "application/json"})
    assert big_json.status_code == 413 and big_json.json()["error"]["code"] == "payload_grande_demais"
    too_big = _post(client, data * 6)
    assert too_big.status_code == 413
