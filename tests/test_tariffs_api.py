"""Bill-only sizing through ``POST /v1/sizing``: the distributor's tariff converts the bill."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import CatalogSettings, RedisSettings, Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(tmp_path_factory, real_catalog):
    from app.catalog import store as store_mod

    store = store_mod.SQLiteCatalogStore(real_catalog.copy(tmp_path_factory.mktemp("catalog")))
    settings = Settings(_env_file=None, catalog=CatalogSettings(db_path=store.path, report_dir=store.path.parent),
                        redis=RedisSettings(url=None))
    with TestClient(create_app(settings)) as c:
        yield c


def test_teresina_bill_of_620_sizes_without_a_tariff(client):
    body = {"site": {"municipality": "Teresina", "uf": "PI"}, "consumption": {"bill_brl": 620},
            "connection": "single_phase"}
    r = client.post("/v1/sizing", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    # Equatorial PI: TE + TUSD 0.94669 R$/kWh before taxes; ICMS 22.5 % + PIS/COFINS 5.5 % por dentro
    price = 0.94669 / (1 - 0.225 - 0.055)
    assert out["consumption"]["monthly_kwh"][0] == pytest.approx(620 / price, abs=0.1)
    tariff_line = next(a for a in out["assumptions"] if a.startswith("Tarifa com impostos"))
    assert "Equatorial PI" in tariff_line and "ICMS 22,5 %" in tariff_line  # pt-BR decimal comma
    best = out["best"]
    # the bill without PV in year 1 is the user's bill, twelve times
    assert best["economics"]["years"][0]["bill_without_pv_brl"] == pytest.approx(12 * 620, rel=1e-3)
    assert best["economics"]["energy_brl_per_kwh"] == pytest.approx(price, rel=1e-4)
    assert best["energy"]["annual_kwh"] >= 0.95 * out["consumption"]["target_annual_kwh"]


def test_named_distributor_changes_the_tariff_and_unknown_is_422(client):
    base = {"site": {"municipality": "Uberlândia", "uf": "MG"}, "consumption": {"bill_brl": 500},
            "connection": "two_phase"}
    cemig = client.post("/v1/sizing", json=base).json()
    other = client.post("/v1/sizing", json=base | {"tariff": {"distributor": "Energisa Minas Rio"}}).json()
    assert cemig["consumption"]["monthly_kwh"][0] != other["consumption"]["monthly_kwh"][0]
    assert any("Energisa Minas Rio" in a for a in other["assumptions"])
    bad = client.post("/v1/sizing", json=base | {"tariff": {"distributor": "Distribuidora Imaginária"}})
    assert bad.status_code == 422
    err = bad.json()["error"]
    assert err["field"] == "tariff.distributor" and "Distribuidora" in err["message"]
