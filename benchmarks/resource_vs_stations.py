"""Default solar resource vs Brazilian station typical years, before and after the station calibration.

    PYTHONPATH=. .venv/bin/python benchmarks/resource_vs_stations.py

Every station file of ``data/resource/stations`` (INMET and TMYx typical years, LabEEE) is
predicted **without its own site** (leave-one-site-out: the field is refitted without every
file within 15 km / of the same WMO number), so each row is an out-of-sample check.

- before: the previous default — raw MERRA-2 divided by a line in |latitude| fitted to four
  ground-atlas anchors, stated 1σ = hypot(5 %, disagreement with GLDAS GHI);
- after: the station field (``data/resource/build_station_correction.py``), INMET level,
  stated 1σ = the field's predictive sd ⊕ half the TMYx − INMET offset (``stated_sd``).

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


def legacy_ln_ratio_and_sd(lat_deg: float, lon_deg: float, raw_kwh_m2_day: float) -> tuple[float, float]:
    slope, intercept = np.polyfit([abs(a) for a, _ in LEGACY_ANCHORS], [b for _, b in LEGACY_ANCHORS], 1)
    bias = intercept + slope * min(abs(lat_deg), 33.8)
    ours = raw_kwh_m2_day / (1 + bias / 100)
    gldas = local_climate(lat_deg, lon_deg).ghi_mean_kwh_m2_day
    sd_pct = math.hypot(5.0, 100 * (ours / gldas - 1))
    return -math.log(1 + bias / 100), sd_pct / 100


def _stats(delta: np.ndarray, inside: np.ndarray) -> str:
    if delta.size == 0:
        return " " * 31
    return (f"{100 * np.median(np.abs(delta)):5.1f} {100 * np.percentile(np.abs(delta), 90):5.1f} "
            f"{100 * np.mean(delta):+6.1f} {100 * np.mean(inside):5.0f} %")


def ghi_table(b) -> dict:
    d = b.ghi_observations()
    summary = json.loads((ROOT / "data" / "resource" / "station_correction.json").read_text(encoding="utf-8"))
    hyper = S.GPHyper(**summary["ghi"]["hyper"])
    mean, sd = S.loo_predictions(d["lat"], d["lon"], d["z"], d["y"], d["sites"], hyper)
    legacy = np.array([legacy_ln_ratio_and_sd(a, o, r) for a, o, r in zip(d["lat"], d["lon"], d["raw"])])
    before_d = np.exp(legacy[:, 0] - d["y"]) - 1
    before_in = np.abs(legacy[:, 0] - d["y"]) <= Z_90 * np.log1p(legacy[:, 1])
    after_d = np.exp(mean - d["y"]) - 1
    after_in = np.abs(mean - d["y"]) <= Z_90 * S.stated_sd(sd, summary["ghi"]["tmyx_minus_inmet_ln"])
    regions = np.array([o.region for o in d["obs"]])
    src = np.where(d["z"] > 0, "TMYx", "INMET")
    head = (f"{'region':6} {'source':6} {'n':>4} | {'before: med p90 bias band':^31} | "
            f"{'after (LOO): med p90 bias band':^31}")
    print("Annual GHI vs station typical years (Δ = predicted/station − 1, %)")
    print(head)
    print("-" * len(head))
    rows = [(r, s) for r in (*S.REGIONS, "all") for s in ("INMET", "TMYx", "both")]
    out = {}
    for r, s in rows:
        sel = np.ones(regions.size, bool) if r == "all" else regions == r
        if s != "both":
            sel &= src == s
        print(f"{r:6} {s:6} {sel.sum():4d} | {_stats(before_d[sel], before_in[sel])} | "
              f"{_stats(after_d[sel], after_in[sel])}")
        if r == "all":
            out[s] = dict(n=int(sel.sum()), before_median=float(np.median(np.abs(before_d[sel]))),
                          before_p90=float(np.percentile(np.abs(before_d[sel]), 90)),
                          before_band=float(np.mean(before_in[sel])),
                          median=float(np.median(np.abs(after_d[sel]))),
                          p90=float(np.percentile(np.abs(after_d[sel]), 90)), band=float(np.mean(after_in[sel])))
        if s == "both":
            print()
    print(f"TMYx − INMET offset at the same stations (fit): {100 * (math.exp(summary['ghi']['tmyx_minus_inmet_ln']) - 1):+.1f} %; "
          f"{len(d['dropped'])} files left out ({'; '.join(d['dropped'][:3])}; …)")
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
    b = _build_module()
    ghi = ghi_table(b)
    temp = temperature_table(b)
    goal = ghi["INMET"]
    print(f"\nGoal on held-out INMET (measured) files: median |Δ| {100 * goal['median']:.1f} % (≤ 3), "
          f"p90 {100 * goal['p90']:.1f} % (≤ 7), 90 % band holds at {100 * goal['band']:.0f} % (≥ 90).")
    print(json.dumps({"ghi": ghi, "temperature": temp}, indent=1))


if __name__ == "__main__":
    main()
