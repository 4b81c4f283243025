"""Default solar resource: the station calibration grid, its temperatures, and the LOO benchmark."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from app.sizing import resource as R
from app.sizing import station_fit as S

ROOT = Path(__file__).resolve().parents[1]
STATIONS = ROOT / "data" / "resource" / "stations"


@pytest.mark.parametrize("city, lat, lon", [("Fortaleza", -3.72, -38.54), ("Brasília", -15.79, -47.88),
                                            ("São Paulo", -23.55, -46.63), ("Porto Alegre", -30.03, -51.23)])
def test_merra2_is_scaled_down_with_a_stated_band(city, lat, lon):
    c = R.station_correction(lat, lon)
    assert 0.75 < c.ghi_factor < 1.0, city  # raw MERRA-2 reads high against ground data everywhere
    assert 3.0 < c.ghi_sd_pct < 10.0, city


def test_synthetic_year_carries_the_corrected_level_and_its_band():
    wy = R.synthesize_year(-15.79, -47.88)
    raw = S.merra2_annual_kwh_m2_day(-15.79, -47.88) * 365
    factor = R.station_correction(-15.79, -47.88).ghi_factor
    assert wy.annual_ghi_kwh_m2 == pytest.approx(raw * factor, rel=0.01)
    assert "faixa de 90 %" in wy.notes[0] and any("station calibration" in p for p in wy.provenance)


def test_monthly_temperatures_follow_station_seasons():
    south = R.station_correction(-30.03, -51.23).monthly_temp_resid_c
    north = R.station_correction(-3.1, -60.0).monthly_temp_resid_c
    assert south[0] - south[6] > 7.0  # Porto Alegre: January ~10 °C warmer than July
    assert np.ptp(north) < 3.0  # Manaus: almost no season
    wy = R.synthesize_year(-30.03, -51.23)
    jan, jul = (wy.temp_air_c[np.asarray(wy.times.month) == m].mean() for m in (1, 7))
    assert jan - jul > 7.0


def test_station_files_get_a_longitude_from_their_municipality():
    files, dropped = S.load_station_files(STATIONS / "calibration_stations.csv")
    teresina = next(f for f in files if f.file == "BRA_PI_Teresina.818320_INMET.epw")
    assert teresina.lon_deg == pytest.approx(-42.80, abs=0.1) and teresina.region == "NE"
    assert len(files) > 700 and all("sem longitude" in d or "padrão" in d for d in dropped)
    # an INMET file and the TMYx file of the same station are one site (held out together)
    twins = [f for f in files if f.wmo == "816150"]
    assert len({f.site for f in twins}) == 1 and {f.source for f in twins} == {"INMET", "TMYx"}


@pytest.mark.slow
def test_held_out_stations_beat_the_previous_default_and_the_band_holds():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "resource_vs_stations.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.ghi_table(bench._build_module())
    inmet = out["INMET"]
    assert inmet["median"] < inmet["before_median"] - 0.015
    assert inmet["p90"] < inmet["before_p90"] - 0.04
    assert inmet["band"] >= 0.90 and out["both"]["band"] >= 0.90
