"""Default solar resource vs Brazilian station typical years, before and after the station calibration.

    PYTHONPATH=. .venv/bin/python benchmarks/resource_vs_stations.py [--quick]

Every station file of ``data/resource/stations`` (INMET and TMYx typical years, LabEEE) is
predicted without the files used to check it, in two ways:

- LOSO, leave-one-site-out: the field is refitted without every file within 15 km / of the
  same WMO number (hyperparameters as shipped, chosen on all stations);
- blocked (skipped with ``--quick``, ≈ 3 min): 2° blocks of stations dealt into 10 folds;
  each fold is predicted from a field fitted on the other folds **with hyperparameters
  re-selected on those folds only** (``app/sizing/station_cv.py``). The stricter figure.

Columns:
- before: the default before the station calibration — raw MERRA-2 divided by a line in
  |latitude| fitted to four ground-atlas anchors, stated 1σ = hypot(5 %, disagreement with
  GLDAS GHI);
- v1: the station field as first shipped (no covariates), LOSO;
- after: the station field with covariates (``data/resource/build_station_correction.py``),
  INMET level, stated 1σ = the field's predictive sd ⊕ half the TMYx − INMET offset
  (``stated_sd``).

Δ = predicted / station − 1 on the annual mean GHI. "band" = share of files inside the
stated 90 % band (±1.645σ). Temperature: mean absolute error of the 12 monthly means
(modelled seasonal cycle vs station climatology, also leave-one-site-out).
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.sizing import station_cv as CV  # noqa: E402
from app.sizing import station_fit as S  # noqa: E402
from app.sizing.resource import local_climate, modelled_monthly_temperature_c  # noqa: E402

# Previous default (kept here only to measure it): MERRA-2 bias vs ground atlases [%].
LEGACY_ANCHORS = ((-3.72, 5.0), (-15.79, 9.0), (-23.55, 14.0), (-30.03, 16.0))
Z_90 = 1.645


def _build_module():
    path = ROOT / "data" / "resource" / "build_station_correction.py"
    spec = importlib.util.spec_from_file_location("build_station_correction", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def twin_noise_floor(y: np.ndarray, z: np.ndarray, sites: np.ndarray) -> dict[str, float]:
    """The p90 floor from the data alone, without any fitted field: the INMET (z = 0) and TMYx
    (z = 1) files of one station see the same climate, so what separates them, less the median
    source offset, is file noise. If the INMET file is at least as noisy as its twin (the field
    fit says far noisier: 4.5 vs 1.5 %), its own 1σ is at least the pair's robust σ / √2 — and
    even a perfect field then misses single INMET files by ``p90_floor`` at the 90th percentile.
    """
    diffs = np.array([y[(sites == s) & (z == 1)].mean() - y[(sites == s) & (z == 0)].mean()
                      for s in np.unique(sites) if ((sites == s) & (z == 0)).any() and ((sites == s) & (z == 1)).any()])
    d = diffs - np.median(diffs)
    pair_sd = 1.4826 * float(np.median(np.abs(d)))  # robust: a few INMET files 13–22 % off their twin
    inmet_sd = pair_sd / math.sqrt(2)
    return dict(pairs=int(d.size), median_abs=float(np.median(np.abs(d))), p90_abs=float(np.percentile(np.abs(d), 90)),
                pair_sd=pair_sd, inmet_sd_min=inmet_sd, median_floor=0.674 * inmet_sd, p90_floor=Z_90 * inmet_sd)


def legacy_ln_ratio_and_sd(lat_deg: float, lon_deg: float, raw_kwh_m2_day: float) -> tuple[float, float]:
    slope, intercept = np.polyfit([abs(a) for a, _ in LEGACY_ANCHORS], [b for _, b in LEGACY_ANCHORS], 1)
    bias = intercept + slope * min(abs(lat_deg), 33.8)
    ours = raw_kwh_m2_day / (1 + bias / 100)
    gldas = local_climate(lat_deg, lon_deg).ghi_mean_kwh_m2_day
    sd_pct = math.hypot(5.0, 100 * (ours / gldas - 1))
    return -math.log(1 + bias / 100), sd_pct / 100


def _stats(delta: np.ndarray, inside: np.ndarray) -> str:
    if delta.size == 0:
        return " " * 24
    return (f"{100 * np.median(np.abs(delta)):4.1f} {100 * np.percentile(np.abs(delta), 90):5.1f} "
            f"{100 * np.mean(delta):+5.1f} {100 * np.mean(inside):4.0f}%")


def _summary(delta: np.ndarray, inside: np.ndarray) -> dict:
    return dict(median=float(np.median(np.abs(delta))), p90=float(np.percentile(np.abs(delta), 90)),
                bias=float(np.mean(delta)), band=float(np.mean(inside)))


def ghi_table(b, *, blocked: bool = True) -> dict:
    """The held-out table. Columns: before (legacy latitude line), v1 (the station field
    without covariates, leave-one-site-out), after (leave-one-site-out) and, when
    ``blocked``, after with spatially blocked folds and hyperparameters re-selected per fold."""
    d = b.ghi_observations()
    summary = json.loads((ROOT / "data" / "resource" / "station_correction.json").read_text(encoding="utf-8"))
    hyper = S.GPHyper(**summary["ghi"]["hyper"])
    offset = summary["ghi"]["tmyx_minus_inmet_ln"]
    lat, lon, z, y, sites, feats = d["lat"], d["lon"], d["z"], d["y"], d["sites"], d["features"]
    cols: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    legacy = np.array([legacy_ln_ratio_and_sd(a, o, r) for a, o, r in zip(lat, lon, d["raw"])])
    cols["before"] = (np.exp(legacy[:, 0] - y) - 1, np.abs(legacy[:, 0] - y) <= Z_90 * np.log1p(legacy[:, 1]))
    runs = {"v1 LOSO": (b.GHI_START, None, sites), "after LOSO": (hyper, feats, sites)}
    for name, (h, f, groups) in runs.items():
        mean, sd = S.loo_predictions(lat, lon, z, y, groups, h, f)
        cols[name] = (np.exp(mean - y) - 1, np.abs(mean - y) <= Z_90 * S.stated_sd(sd, offset))
    hypers = []
    if blocked:
        folds = CV.block_folds(CV.site_blocks(lat, lon, sites))
        mean, sd, hypers = CV.nested_blocked_predictions(lat, lon, z, y, sites, b.GHI_GRID, b.GHI_START, feats, folds)
        cols["after blocked"] = (np.exp(mean - y) - 1, np.abs(mean - y) <= Z_90 * S.stated_sd(sd, offset))
    regions = np.array([o.region for o in d["obs"]])
    src = np.where(z > 0, "TMYx", "INMET")
    print("Annual GHI vs station typical years (Δ = predicted/station − 1, %; med/p90 of |Δ|, mean Δ, "
          "share inside the stated 90 % band)")
    head = f"{'region':6} {'source':6} {'n':>4} | " + " | ".join(f"{c:^24}" for c in cols)
    print(head)
    print(f"{'':18} | " + " | ".join(f"{'med   p90  bias band':^24}" for _ in cols))
    print("-" * len(head))
    out: dict = {}
    for r in (*S.REGIONS, "all"):
        for s in ("INMET", "TMYx", "both"):
            sel = np.ones(regions.size, bool) if r == "all" else regions == r
            if s != "both":
                sel &= src == s
            print(f"{r:6} {s:6} {sel.sum():4d} | " + " | ".join(_stats(dl[sel], ins[sel]) for dl, ins in cols.values()))
            if r == "all":
                out[s] = {"n": int(sel.sum()), **{c: _summary(dl[sel], ins[sel]) for c, (dl, ins) in cols.items()}}
        print()
    floor = hyper.noise_inmet
    print(f"Noise floor: INMET files scatter around any smooth field with σ ≈ {100 * floor:.1f} % (fitted), so even "
          f"a perfect field has median |Δ| ≈ {100 * 0.674 * floor:.1f} % and p90 ≈ {100 * Z_90 * floor:.1f} % "
          "against single INMET files.")
    twin = twin_noise_floor(y, z, sites)
    out["twin_floor"] = twin
    print(f"Without any field: the INMET and TMYx files of {twin['pairs']} stations differ (less the offset) by "
          f"median {100 * twin['median_abs']:.1f} %, p90 {100 * twin['p90_abs']:.1f} % (robust σ "
          f"{100 * twin['pair_sd']:.1f} %); an INMET file at least as noisy as its twin has σ ≥ "
          f"{100 * twin['inmet_sd_min']:.1f} %, so a perfect field has p90 ≥ {100 * twin['p90_floor']:.1f} % "
          "against single INMET files (goal ≤ 7 %).")
    # Supplementary: per station, the two references of one station averaged (TMYx shifted by the offset).
    a_dl, _ = cols["after LOSO"]
    pred_ln = np.log1p(a_dl) + y  # INMET-level prediction per file
    per_station = []
    for s_id in np.unique(sites):
        m = sites == s_id
        if (z[m] == 0).any() and (z[m] == 1).any():
            ref = 0.5 * (y[m & (z == 0)].mean() + y[m & (z == 1)].mean() - offset)
            per_station.append(np.exp(pred_ln[m].mean() - ref) - 1)
    ps = np.abs(np.array(per_station))
    out["per_station_after_loso"] = dict(n=int(ps.size), median=float(np.median(ps)), p90=float(np.percentile(ps, 90)))
    print(f"Per station ({ps.size} sites with both files; reference = mean of the INMET file and the TMYx file "
          f"less the offset), after LOSO: median |Δ| {100 * np.median(ps):.1f} %, p90 {100 * np.percentile(ps, 90):.1f} %.")
    print(f"TMYx − INMET offset at the same stations (fit): {100 * (math.exp(offset) - 1):+.1f} %; "
          f"covariate effects (ln GHI per unit): {summary['ghi'].get('covariate_effect_ln_per_unit', {})}; "
          f"{len(d['dropped'])} files left out ({'; '.join(d['dropped'][:3])}; …)")
    if hypers:
        print("Hyperparameters re-selected per blocked fold (length km / INMET noise / covariate prior): "
              + ", ".join(f"{h.length_km:.0f}/{h.noise_inmet:.3f}/{h.feature_signal:g}" for h in hypers))
    return out


def temperature_table(b) -> dict:
    d = b.ghi_observations()
    t = b.temperature_observations(d["obs"])
    summary = json.loads((ROOT / "data" / "resource" / "station_correction.json").read_text(encoding="utf-8"))
    h_annual = S.GPHyper(**summary["temperature"]["hyper_annual"])
    h_season = S.GPHyper(**summary["temperature"]["hyper_season"])
    truth = t["resid"] + t["gldas"][:, None]
    annual = t["resid"].mean(axis=1)
    # temperature files carry no source offset worth fitting: z only selects the noise, equal for both
    after = (S.loo_own_level(t["lat"], t["lon"], t["z"], annual, t["sites"], h_annual)[:, None]
             + S.loo_own_level(t["lat"], t["lon"], t["z"], t["resid"] - annual[:, None], t["sites"], h_season)
             + t["gldas"][:, None])
    before = np.stack([modelled_monthly_temperature_c(a, g) for a, g in zip(t["lat"], t["gldas"])])
    mae_b = np.abs(before - truth).mean(axis=1)
    mae_a = np.abs(after - truth).mean(axis=1)
    amp_truth = truth.max(1) - truth.min(1)
    print("\nMonthly mean air temperature vs station files (MAE of the 12 months, °C, leave-one-site-out)")
    print(f"{'':6} {'n':>4} | {'before':>13} | {'after':>13} | seasonal range: station / before / after")
    regions = np.array([o.region for o in t["rows"]])
    for r in (*S.REGIONS, "all"):
        sel = np.ones(regions.size, bool) if r == "all" else regions == r
        print(f"{r:6} {sel.sum():4d} | {np.median(mae_b[sel]):5.2f} p90 {np.percentile(mae_b[sel], 90):4.2f} | "
              f"{np.median(mae_a[sel]):5.2f} p90 {np.percentile(mae_a[sel], 90):4.2f} | "
              f"{np.median(amp_truth[sel]):4.1f} / {np.median((before.max(1) - before.min(1))[sel]):4.1f} / "
              f"{np.median((after.max(1) - after.min(1))[sel]):4.1f}")
    return dict(before_median_mae=float(np.median(mae_b)), after_median_mae=float(np.median(mae_a)))


def main() -> None:
    blocked = "--quick" not in sys.argv[1:]
    b = _build_module()
    ghi = ghi_table(b, blocked=blocked)
    temp = temperature_table(b)
    goal = ghi["INMET"]["after blocked" if blocked else "after LOSO"]
    loso = ghi["INMET"]["after LOSO"]
    print(f"\nGoal on held-out INMET (measured) files — leave-one-site-out: median |Δ| {100 * loso['median']:.1f} % (≤ 3), "
          f"p90 {100 * loso['p90']:.1f} % (≤ 7), 90 % band holds at {100 * loso['band']:.0f} % (≥ 90)"
          + (f"; spatially blocked, nested: {100 * goal['median']:.1f} %, {100 * goal['p90']:.1f} %, "
             f"{100 * goal['band']:.0f} %." if blocked else "."))
    print(json.dumps({"ghi": ghi, "temperature": temp}, indent=1))


if __name__ == "__main__":
    main()
