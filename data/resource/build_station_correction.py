"""Rebuild ``station_correction.npz``: the station calibration of the default solar resource.

    PYTHONPATH=. .venv/bin/python data/resource/build_station_correction.py

Inputs (all in this folder, MIT, © 2023 LabEEE — see PROVENANCE.md):
- ``stations/calibration_stations.csv``: one row per typical-year file (INMET or TMYx) of
  444 Brazilian stations: latitude, altitude, annual mean daily GHI [Wh/m²/day], mean
  temperature; ``stations/calibration_monthly_dbt.csv``: monthly mean dry-bulb temperature.
- Raw MERRA-2 monthly GHI (PyPI ``gsee-climate-data``), GLDAS annual mean temperature and
  GHI (``data/climate``), pvlib's altitude map: all already runtime data of the engine.

What it fits (``app/sizing/station_fit.py``):
1. GHI: a Gaussian-process field of ln(station GHI / raw MERRA-2 GHI) with a flat mean, a
   TMYx-vs-INMET offset, larger noise for the files that the data show to scatter more, and
   two covariates (altitude from pvlib's map; ln(GLDAS GHI / raw MERRA-2 GHI));
   hyperparameters by coordinate ascent of the leave-one-site-out log predictive density of
   the INMET files. The grid holds the INMET-level (measured) correction and its predictive
   sd for a typical year at the point (covariates evaluated at each grid node).
2. Temperature, replacing the modelled seasonal cycle: (station monthly mean − GLDAS annual
   mean at the station) = an annual residual field (short range: altitude, coast) + a
   monthly anomaly field (the season, long range), each with LOO-chosen hyperparameters.

Output: ``station_correction.npz`` on a 0.5° grid over Brazil (float32), plus the fitted
hyperparameters and the LOO summary in ``station_correction.json``. Deterministic: same
inputs → same file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.sizing import station_fit as S  # noqa: E402

STATIONS_CSV = HERE / "stations" / "calibration_stations.csv"
MONTHLY_CSV = HERE / "stations" / "calibration_monthly_dbt.csv"
OUT_NPZ = HERE / "station_correction.npz"
OUT_JSON = HERE / "station_correction.json"
GRID_STEP_DEG = 0.5
GRID_LAT = np.arange(-34.0, 5.5 + 1e-9, GRID_STEP_DEG)
GRID_LON = np.arange(-74.0, -28.5 + 1e-9, GRID_STEP_DEG)
# GHI hyperparameters: coordinate ascent over these values (``station_fit.select_hyper``) from
# GHI_START (the field shipped before covariates were added), maximising the leave-one-site-
# out log density of the INMET files — the level the field predicts.
GHI_GRID = dict(length_km=(600.0, 1200.0, 2400.0, 4800.0), signal=(0.06, 0.1, 0.15),
                noise_inmet=(0.035, 0.04, 0.045, 0.05, 0.055), noise_tmyx=(0.015, 0.02, 0.03),
                inmet_signal=(0.0, 0.02, 0.03, 0.04), inmet_length_km=(100.0, 200.0, 400.0),
                feature_signal=(0.0, 0.005, 0.01, 0.02, 0.04, 0.08))
GHI_START = S.GPHyper(2400.0, 0.1, 0.045, 0.02, inmet_signal=0.03, inmet_length_km=200.0)
# Temperature: one kernel for the 12 monthly residuals [°C]; chosen by LOO on the annual mean.
TEMP_GRID = dict(length_km=(30.0, 60.0, 100.0, 200.0, 400.0), signal=(0.5, 1.0, 2.0), noise_inmet=(0.2, 0.4, 0.7),
                 noise_tmyx=(0.2, 0.4, 0.7))
SEASON_GRID = dict(length_km=(200.0, 400.0, 800.0, 1600.0), signal=(0.5, 1.0, 2.0, 4.0), noise_inmet=(0.2, 0.4, 0.7),
                   noise_tmyx=(0.2, 0.4, 0.7))
TEMP_MEAN_PRIOR_C = 30.0


def ghi_observations() -> dict:
    """Station files (TMYx periods merged), with y = ln(GHI / raw MERRA-2) and groups."""
    files, dropped = S.load_station_files(STATIONS_CSV, MONTHLY_CSV)
    obs = S.merge_versions(files)
    raw = np.array([S.merra2_annual_kwh_m2_day(o.lat_deg, o.lon_deg) for o in obs])
    keep = np.isfinite(raw)
    dropped += [f"{o.file}: fora da máscara de terra do MERRA-2 (ilha oceânica)" for o, k in zip(obs, keep) if not k]
    obs = [o for o, k in zip(obs, keep) if k]
    raw = raw[keep]
    ghi = np.array([o.ghi_kwh_m2_day for o in obs])
    lat, lon = np.array([o.lat_deg for o in obs]), np.array([o.lon_deg for o in obs])
    return dict(
        obs=obs, dropped=dropped, raw=raw, ghi=ghi, y=np.log(ghi / raw), lat=lat, lon=lon,
        features=S.covariates(lat, lon),
        z=np.array([o.source == "TMYx" for o in obs], dtype=float), sites=np.array([o.site for o in obs]),
        n_files_total=len(files) + sum(1 for d in dropped if "sem longitude" in d),
    )


def temperature_observations(obs: list) -> dict:
    from app.sizing.resource import local_climate

    rows = [o for o in obs if o.monthly_t_c is not None]
    lat = np.array([o.lat_deg for o in rows])
    lon = np.array([o.lon_deg for o in rows])
    gldas = np.array([local_climate(a, b).t_mean_c for a, b in zip(lat, lon)])
    resid = np.stack([o.monthly_t_c for o in rows]) - gldas[:, None]  # (n, 12) [°C]
    return dict(rows=rows, lat=lat, lon=lon, z=np.array([o.source == "TMYx" for o in rows], dtype=float),
                sites=np.array([o.site for o in rows]), gldas=gldas, resid=resid)


def fit_ghi(d: dict) -> tuple[S.GPHyper, S.GPField]:
    hyper, _ = S.select_hyper(d["lat"], d["lon"], d["z"], d["y"], d["sites"], GHI_GRID, start=GHI_START,
                              features=d["features"], target=d["z"] == 0)
    return hyper, S.fit_field(d["lat"], d["lon"], d["z"], d["y"], hyper, d["features"])


def _select(t: dict, targets: np.ndarray, grid: dict) -> S.GPHyper:
    best, hyper = -np.inf, None
    for length in grid["length_km"]:
        for sig in grid["signal"]:
            for n in grid["noise_inmet"]:
                h = S.GPHyper(length, sig, n, n, mean_prior=TEMP_MEAN_PRIOR_C)
                ll = sum(S.loo_log_density(t["lat"], t["lon"], t["z"], col, t["sites"], h) for col in targets.T)
                if ll > best:
                    best, hyper = ll, h
    assert hyper is not None
    return hyper


def fit_temperature(t: dict) -> tuple[S.GPHyper, S.GPHyper, S.GPField, list[S.GPField]]:
    """Two fields: the annual-mean residual vs GLDAS (local: altitude, coast) and the monthly
    anomaly around the station's own annual mean (the season: large-scale)."""
    annual = t["resid"].mean(axis=1)
    anomaly = t["resid"] - annual[:, None]
    h_annual = _select(t, annual[:, None], TEMP_GRID)
    h_season = _select(t, anomaly[:, [0, 3, 6, 9]], SEASON_GRID)
    f_annual = S.fit_field(t["lat"], t["lon"], t["z"], annual, h_annual)
    f_season = [S.fit_field(t["lat"], t["lon"], t["z"], anomaly[:, m], h_season) for m in range(12)]
    return h_annual, h_season, f_annual, f_season


def main() -> None:
    d = ghi_observations()
    hyper, fld = fit_ghi(d)
    offset, offset_sd = S.tmyx_offset(fld)
    glat, glon = np.meshgrid(GRID_LAT, GRID_LON, indexing="ij")
    # The grid holds the spatial part (covariates at their mean); the engine adds the covariate
    # term at the site itself (resource.station_correction), so 0.5° cells do not blur it.
    # The sd is the full predictive sd at the grid node.
    if fld.feat is not None:
        grid_features = S.covariates(glat.ravel(), glon.ravel())
        mean, sd = fld.predict(glat.ravel(), glon.ravel(), features=np.broadcast_to(fld.feat_mean, grid_features.shape))
        sd = fld.predict(glat.ravel(), glon.ravel(), features=grid_features)[1]
        weights = S.covariate_weights(fld)
        effect, feat_mean = np.array([weights[n] for n in S.COVARIATES]), fld.feat_mean
    else:
        mean, sd = fld.predict(glat.ravel(), glon.ravel())
        effect = feat_mean = np.zeros(len(S.COVARIATES))

    t = temperature_observations(d["obs"])
    h_annual, h_season, f_annual, f_season = fit_temperature(t)
    annual_resid = f_annual.predict(glat.ravel(), glon.ravel(), with_noise=False)[0]
    t_resid = np.stack([annual_resid + f.predict(glat.ravel(), glon.ravel(), with_noise=False)[0] for f in f_season],
                       axis=-1)

    shape = glat.shape
    np.savez_compressed(
        OUT_NPZ,
        lat_deg=GRID_LAT.astype(np.float32), lon_deg=GRID_LON.astype(np.float32),
        ln_ratio_spatial=mean.reshape(shape).astype(np.float32),
        covariate_effect=effect.astype(np.float64), covariate_mean=np.asarray(feat_mean, dtype=np.float64),
        ln_ratio_sd=S.stated_sd(sd, offset).reshape(shape).astype(np.float32),
        temp_resid_c=t_resid.reshape(*shape, 12).astype(np.float32),
    )
    summary = {
        "ghi": {"hyper": hyper.__dict__, "covariates": list(S.COVARIATES),
                "covariate_effect_ln_per_unit": {k: round(v, 4) for k, v in S.covariate_weights(fld).items()},
                "selection": "coordinate ascent of the leave-one-site-out log density of the INMET files",
                "tmyx_minus_inmet_ln": round(offset, 4),
                "tmyx_minus_inmet_ln_sd": round(offset_sd, 4),
                "observations": int(d["y"].size), "inmet": int((d["z"] == 0).sum()), "tmyx": int((d["z"] == 1).sum()),
                "sites": int(np.unique(d["sites"]).size), "files_dropped": d["dropped"]},
        "temperature": {"hyper_annual": h_annual.__dict__, "hyper_season": h_season.__dict__,
                        "observations": int(t["lat"].size)},
        "grid": {"step_deg": GRID_STEP_DEG, "lat": [float(GRID_LAT[0]), float(GRID_LAT[-1])],
                 "lon": [float(GRID_LON[0]), float(GRID_LON[-1])]},
    }
    OUT_JSON.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"GHI: {d['y'].size} observations at {summary['ghi']['sites']} sites, {hyper}; "
          f"TMYx − INMET = {100 * (np.exp(offset) - 1):+.1f} %; covariates {S.covariate_weights(fld)}")
    print(f"temperature: {t['lat'].size} files, annual {h_annual}, season {h_season}")
    print(f"-> {OUT_NPZ.relative_to(ROOT)}, {OUT_JSON.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
