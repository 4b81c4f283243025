"""Every distributor's residential tariff: data, lookup by municipality/state/name, taxes, bill-only sizing."""

from __future__ import annotations

import json

import pytest

from app.core.errors import InvalidInput
from app.sizing import tariffs
from app.sizing.models import TariffInput
from app.sizing.sites import find_municipality

UFS = ("AC AL AM AP BA CE DF ES GO MA MG MS MT PA PB PE PI PR RJ RN RO RR RS SC SE SP TO").split()


def test_about_a_hundred_distributors_with_plausible_values():
    rows = tariffs.distributors()
    assert len(rows) >= 100
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["estados"] and all(uf in UFS for uf in r["estados"]), r["nome"]
        total = r["te_brl_per_kwh"] + r["tusd_brl_per_kwh"]
        assert 0.35 <= total <= 1.6, r["nome"]
        assert 0 < r["tusd_fio_b_brl_per_kwh"] <= r["tusd_brl_per_kwh"], r["nome"]


def test_every_state_but_amapa_has_its_largest_distributor():
    data = json.loads(tariffs.TARIFF_FILE.read_text(encoding="utf-8"))
    assert set(data["maior_por_uf"]) == set(UFS) - {"AP"}
    ids = {r["id"] for r in data["distribuidoras"]}
    for uf, dist in data["maior_por_uf"].items():
        assert dist in ids
        assert uf in next(r for r in data["distribuidoras"] if r["id"] == dist)["estados"]


@pytest.mark.parametrize("city, uf, expected", [
    ("Teresina", "PI", "Equatorial PI"),       # state's largest
    ("Uberlândia", "MG", "Cemig-D"),
    ("Campinas", "SP", "CPFL Paulista"),       # municipality listed
    ("São Paulo", "SP", "Enel SP"),
    ("Niterói", "RJ", "Enel RJ"),
    ("Porto Alegre", "RS", "Equatorial CEEE"),
    ("Caxias do Sul", "RS", "RGE"),
    ("Manaus", "AM", "Amazonas Energia"),
])
def test_site_gets_its_distributor(city, uf, expected):
    t = tariffs.site_tariff(find_municipality(city, uf))
    assert t.distributor == expected
    assert expected in t.how_chosen


def test_state_largest_is_said_when_others_serve_the_state():
    t = tariffs.site_tariff(find_municipality("Blumenau", "SC"))
    assert t.distributor == "Celesc-DIS"
    assert "maior distribuidora de SC" in t.how_chosen and "tariff.distributor" in t.how_chosen


def test_named_distributor_wins_and_is_matched_loosely():
    site = find_municipality("Uberlândia", "MG")
    assert tariffs.site_tariff(site, "cemig").distributor == "Cemig-D"
    assert tariffs.site_tariff(site, "Energisa Minas Rio").distributor == "Energisa Minas Rio"
    other_state = tariffs.site_tariff(site, "Enel CE")
    assert other_state.distributor == "Enel CE" and "não MG" in other_state.how_chosen


def test_unknown_distributor_is_a_422_with_suggestions():
    with pytest.raises(InvalidInput) as exc:
        tariffs.site_tariff(find_municipality("Uberlândia", "MG"), "Cemigg Distribuidora Fantasia")
    assert exc.value.details["field"] == "tariff.distributor"
    with pytest.raises(InvalidInput, match="ambígua"):
        tariffs.site_tariff(find_municipality("Uberlândia", "MG"), "Energisa")


def test_amapa_falls_back_to_the_national_median_and_says_so():
    t = tariffs.site_tariff(find_municipality("Macapá", "AP"))
    assert t.distributor == "mediana nacional" and "AP" in t.how_chosen


def test_taxes_por_dentro():
    t = tariffs.site_tariff(find_municipality("Teresina", "PI"))
    assert t.icms_pct == 22.5 and t.pis_cofins_pct == 5.5
    # price / (1 − 0.225 − 0.055)
    assert t.energy_with_taxes_brl_per_kwh == pytest.approx(t.energy_brl_per_kwh / 0.72)
    custom = tariffs.site_tariff(find_municipality("Teresina", "PI"), icms_pct=0.0, pis_cofins_pct=0.0)
    assert custom.energy_with_taxes_brl_per_kwh == pytest.approx(custom.energy_brl_per_kwh)


def test_user_prices_win_over_the_distributor_and_get_taxes():
    site = find_municipality("Teresina", "PI")
    p = tariffs.resolve_prices(site, TariffInput(energy_brl_per_kwh=1.0, fio_b_brl_per_kwh=0.3))
    assert p.energy_brl_per_kwh == pytest.approx(1 / 0.72, rel=1e-4)
    assert p.fio_b_brl_per_kwh == pytest.approx(0.3 / 0.72, rel=1e-4)
    assert "informada" in p.assumption(5.0)
    with pytest.raises(InvalidInput):
        tariffs.resolve_prices(site, TariffInput(energy_brl_per_kwh=50.0))


def test_default_tariff_by_state_uses_aneel_data():
    from app.sizing import economics

    mg = economics.default_tariff("MG")
    assert mg.distributor == "Cemig-D" and mg.energy_brl_per_kwh == pytest.approx(0.31728 + 0.5413)
    assert mg.fio_b_brl_per_kwh == pytest.approx(0.25721)
