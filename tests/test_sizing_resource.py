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


@pytest.mark.slow  # reads the ~800-station calibration table and the municipality file
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
    out = bench.ghi_table(bench._build_module(), blocked=False)
    before, v1, after = (out["INMET"][k] for k in ("before", "v1 LOSO", "after LOSO"))
    assert after["median"] < before["median"] - 0.015
    assert after["p90"] < before["p90"] - 0.04
    assert after["band"] >= 0.90 and out["both"]["after LOSO"]["band"] >= 0.90
    # the covariates (altitude, GLDAS) must not make held-out INMET files worse than the field without them
    assert after["median"] <= v1["median"] and after["p90"] <= v1["p90"]


def test_twin_floor_recovers_the_file_noise_of_synthetic_station_pairs():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "resource_vs_stations.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = np.random.default_rng(7)
    n = 4000  # stations, each with an INMET file (1σ 5 %) and a TMYx twin (1σ 5 %) 6 % above it
    climate = rng.normal(0, 0.1, n)
    y = np.concatenate([climate + rng.normal(0, 0.05, n), climate + 0.06 + rng.normal(0, 0.05, n)])
    z, sites = np.repeat([0.0, 1.0], n), np.tile(np.arange(n), 2)
    floor = bench.twin_noise_floor(y, z, sites)
    assert floor["pairs"] == n
    assert floor["pair_sd"] == pytest.approx(0.05 * np.sqrt(2), rel=0.05)
    assert floor["inmet_sd_min"] == pytest.approx(0.05, rel=0.05)
    assert floor["p90_floor"] == pytest.approx(1.645 * 0.05, rel=0.05)


def _synthetic(n: int = 90, seed: int = 3):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(-30, -5, n), rng.uniform(-60, -38, n)
    feat = np.stack([rng.uniform(0, 1.5, n), rng.normal(0, 0.05, n)], axis=1)
    z = (np.arange(n) % 3 == 0).astype(float)
    y = -0.15 + 0.06 * z - 0.08 * feat[:, 0] + 0.03 * np.sin(np.radians(lat) * 8) + rng.normal(0, 0.01, n)
    return lat, lon, z, y, np.arange(n), feat


def test_covariates_enter_the_field_and_are_required_to_predict():
    lat, lon, z, y, sites, feat = _synthetic()
    h = S.GPHyper(1500.0, 0.05, 0.01, 0.01, feature_signal=0.1)
    with_f = S.loo_predictions(lat, lon, z, y, sites, h, feat)[0]
    without = S.loo_predictions(lat, lon, z, y, sites, S.GPHyper(1500.0, 0.05, 0.01, 0.01))[0]
    inmet_level = y - 0.06 * z
    err = lambda m: np.median(np.abs(m - inmet_level))  # noqa: E731
    assert err(with_f) < 0.5 * err(without)  # y depends on the first covariate: the field must use it
    fld = S.fit_field(lat, lon, z, y, h, feat)
    assert S.covariate_weights(fld)["altitude_km"] == pytest.approx(-0.08, abs=0.01)
    with pytest.raises(ValueError, match="covariates"):
        fld.predict(lat[:3], lon[:3])


def test_blocked_folds_keep_a_station_together_and_reselect_hyperparameters():
    from app.sizing import station_cv as CV

    # two files of one site straddling a 2° block edge share the block of the site's mean position
    blocks = CV.site_blocks([-9.99, -10.01, -20.0], [-50.0, -50.0, -50.0], np.array([7, 7, 8]))
    assert blocks[0] == blocks[1] != blocks[2]
    lat, lon, z, y, sites, feat = _synthetic()
    folds = CV.block_folds(CV.site_blocks(lat, lon, sites), n_folds=4)
    assert set(folds) == {0, 1, 2, 3} and np.array_equal(folds, CV.block_folds(CV.site_blocks(lat, lon, sites), 4))
    grid = dict(feature_signal=(0.0, 0.1), noise_inmet=(0.01, 0.05))
    start = S.GPHyper(1500.0, 0.05, 0.05, 0.01)
    mean, sd, chosen = CV.nested_blocked_predictions(lat, lon, z, y, sites, grid, start, feat, folds)
    assert len(chosen) == 4 and all(h.feature_signal == 0.1 for h in chosen)  # chosen inside each fold
    assert np.median(np.abs(mean - (y - 0.06 * z))) < 0.02 and np.all(sd > 0)


def test_covariates_are_applied_at_the_site_not_blurred_by_the_grid():
    g = R._station_grid()
    assert g["covariate_effect"][0] < 0  # cloudier highlands: less sun per km of altitude
    # Vitória da Conquista (BA, ~900 m) and Itambé (BA, ~300 m), 50 km apart: the altitude term
    # moves the factor by the fitted effect × their altitude difference at the seats themselves
    hi, lo = R.station_covariates(-14.86, -40.84), R.station_covariates(-15.24, -40.63)
    assert hi[0] - lo[0] > 0.4
    spatial = [R._bilinear(g["ln_ratio_spatial"], g["lat_deg"], g["lon_deg"], a, b)
               for a, b in ((-14.86, -40.84), (-15.24, -40.63))]
    got = [np.log(R.station_correction(a, b).ghi_factor) for a, b in ((-14.86, -40.84), (-15.24, -40.63))]
    term = [float((c - g["covariate_mean"]) @ g["covariate_effect"]) for c in (hi, lo)]
    assert got == pytest.approx([s + t for s, t in zip(spatial, term)], abs=1e-9)
