"""Municipality lookup and Brazil bounds."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidInput
from app.sizing import sites


def test_all_municipalities_loaded():
    assert sites.municipality_count() >= 5570  # the file has 5,571 rows


@pytest.mark.parametrize("name, uf", [("Uberlândia", "MG"), ("uberlandia", "mg"), ("UBERLÂNDIA", None)])
def test_accent_and_case_insensitive(name, uf):
    s = sites.find_municipality(name, uf)
    assert s.ibge_code == 3170206 and s.uf == "MG"
    assert s.latitude_deg == pytest.approx(-18.9141, abs=0.01)


def test_ambiguous_without_uf_lists_candidates():
    with pytest.raises(InvalidInput) as exc:
        sites.find_municipality("Santa Maria")
    assert "Santa Maria/RS" in exc.value.hint and "Santa Maria/RN" in exc.value.hint
    assert sites.find_municipality("Santa Maria", "RS").ibge_code == 4316907


def test_unknown_name_suggests():
    with pytest.raises(InvalidInput) as exc:
        sites.find_municipality("Uberlandiaa", "MG")
    assert "Uberlândia" in exc.value.hint


def test_ibge_code_and_coordinates():
    assert sites.find_by_ibge_code(3550308).municipality == "São Paulo"
    s = sites.site_from_coordinates(-18.9, -48.3)
    assert s.uf == "MG" and s.timezone == "America/Sao_Paulo" and s.utc_offset_h == -3
    assert sites.site_from_coordinates(-3.1, -60.0).utc_offset_h == -4  # Manaus


@pytest.mark.parametrize("lat, lon", [(38.7, -9.1), (-34.9, -56.2), (-25.3, -57.6), (18.9, -48.3), (-18.9, 48.3)])
def test_outside_brazil(lat, lon):
    with pytest.raises(InvalidInput, match="fora do Brasil"):
        sites.site_from_coordinates(lat, lon)
