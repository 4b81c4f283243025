"""Side by side: the sizing engine's hourly chain vs PySAM PVWatts v8, plus sizing timings.

    .venv/bin/python benchmarks/sizing_vs_pvwatts.py

Accuracy: same weather file, PVWatts settings (5 kWdc, DC/AC 1.2, losses 14.08 %, roof
mount, tilt = |latitude|, facing the equator, inverter 96 %). Files: pvlib's bundled
TMY3/TMY2 and the two southern-Brazil EPWs in ../shared/data/reference-weather (read in
place, never copied: licence unverified).
Speed: full sizing (synthetic resource, cold and warm site), cached sizing (the API's
cache path: canonical JSON key → JSON → SizingResult), and one engine simulation vs one
PySAM run in this process.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pvlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", category=RuntimeWarning)

from app.sizing.resource import load_weather_file  # noqa: E402
from app.sizing.simulation import simulate_pvwatts  # noqa: E402

PVLIB_DATA = Path(pvlib.__file__).parent / "data"
REFERENCE_WEATHER = ROOT.parent / "shared" / "data" / "reference-weather"
SYSTEM = dict(system_capacity_kw=5.0, dc_ac_ratio=1.2, losses_pct=14.08)


def weather_files() -> list[Path]:
    files = [PVLIB_DATA / "723170TYA.CSV", PVLIB_DATA / "703165TY.csv", PVLIB_DATA / "12839.tm2"]
    files += sorted(REFERENCE_WEATHER.glob("*.epw")) if REFERENCE_WEATHER.is_dir() else []
    return [f for f in files if f.is_file()]


def pysam_run(path: Path, tilt_deg: float, azimuth_deg: float, albedo: float):
    import PySAM.Pvwattsv8 as pv

    m = pv.default("PVWattsNone")
    m.SolarResource.solar_resource_file = str(path)
    m.SolarResource.use_wf_albedo = 0
    m.SolarResource.albedo = (albedo,) * 12
    d = m.SystemDesign
    d.system_capacity, d.dc_ac_ratio, d.losses = SYSTEM["system_capacity_kw"], SYSTEM["dc_ac_ratio"], SYSTEM["losses_pct"]
    d.tilt, d.azimuth, d.array_type, d.inv_eff = tilt_deg, azimuth_deg, 1, 96.0
    t0 = time.perf_counter()
    m.execute(0)
    return m.Outputs.annual_energy, np.array(m.Outputs.monthly_energy), time.perf_counter() - t0


def compare(path: Path) -> dict:
    wy = load_weather_file(path)
    tilt = abs(wy.latitude_deg)
    az_pvwatts = 0.0 if wy.latitude_deg < 0 else 180.0  # both use 0 = north, 180 = south
    ref_annual, ref_monthly, t_pysam = pysam_run(path, tilt, az_pvwatts, wy.albedo)
    t0 = time.perf_counter()
    ours = simulate_pvwatts(wy.times, wy.latitude_deg, wy.longitude_deg, wy.ghi_w_m2, wy.dni_w_m2, wy.dhi_w_m2,
                            wy.temp_air_c, wy.wind_speed_m_s, tilt_deg=tilt, azimuth_deg=az_pvwatts,
                            roof_mount=True, albedo=wy.albedo, **SYSTEM)
    t_ours = time.perf_counter() - t0
    monthly_diff = 100 * (ours.monthly_kwh / ref_monthly - 1)
    return dict(file=path.name, pysam_kwh=ref_annual, ours_kwh=ours.annual_kwh,
                diff_pct=100 * (ours.annual_kwh / ref_annual - 1),
                worst_month_pct=float(monthly_diff[np.argmax(np.abs(monthly_diff))]),
                t_pysam_s=t_pysam, t_ours_s=t_ours)


def accuracy_table() -> list[dict]:
    rows = [compare(f) for f in weather_files()]
    print(f"{'file':38s} {'PySAM kWh':>10s} {'ours kWh':>10s} {'diff %':>7s} {'worst month %':>14s}")
    for r in rows:
        print(f"{r['file']:38s} {r['pysam_kwh']:10.0f} {r['ours_kwh']:10.0f} {r['diff_pct']:+7.2f} "
              f"{r['worst_month_pct']:+14.2f}")
    return rows


def _products():
    sys.path.insert(0, str(ROOT / "tests"))
    from test_sizing_engine import stock  # real CEC parameters, illustrative prices

    return stock()


def _real_catalog():
    """The ingested catalog (``helio ingest catalog``), or None when it has not been built."""
    from app.catalog.store import SQLiteCatalogStore

    path = ROOT / "var" / "catalog.sqlite3"
    return SQLiteCatalogStore(path) if path.exists() else None


def timings(rows: list[dict]) -> None:
    from app.catalog.models import Category
    from app.core.cache import MemoryCache
    from app.sizing import resource
    from app.sizing.engine import size_system
    from app.sizing.models import ConsumptionInput, SiteInput, SizingRequest, SizingResult

    products = _products()
    req = SizingRequest(site=SiteInput(municipality="Uberlândia", uf="MG"),
                        consumption=ConsumptionInput(monthly_kwh=650), connection="three_phase")
    size_system(req, products)  # load data files once (process start-up cost, reported apart)

    def run(n: int, cold: bool) -> list[float]:
        out = []
        for _ in range(n):
            if cold:
                resource.synthesize_year_cached.cache_clear()
            t0 = time.perf_counter()
            size_system(req, products)
            out.append(1000 * (time.perf_counter() - t0))
        return out

    def p95(xs: list[float]) -> float:
        return float(np.percentile(xs, 95))

    cold, warm = run(20, True), run(20, False)
    cache = MemoryCache()
    key = hashlib.sha256(req.model_dump_json().encode()).hexdigest()
    cache.set_json(key, size_system(req, products).model_dump(mode="json"))
    cached = []
    for _ in range(200):
        t0 = time.perf_counter()
        SizingResult.model_validate(cache.get_json(hashlib.sha256(req.model_dump_json().encode()).hexdigest()))
        cached.append(1000 * (time.perf_counter() - t0))
    print(f"full sizing, cold site (weather synthesis included): median {statistics.median(cold):.1f} ms, "
          f"p95 {p95(cold):.1f} ms")
    print(f"full sizing, warm site (synthetic year memoised):    median {statistics.median(warm):.1f} ms, "
          f"p95 {p95(warm):.1f} ms")
    print(f"cached sizing (key + cache get + validate):          median {statistics.median(cached):.2f} ms, "
          f"p95 {p95(cached):.2f} ms")
    catalog = _real_catalog()
    if catalog is not None:
        # The real catalog: no string-ready module/inverter, ~60 eligible kits simulated per request.
        products_real = [p for c in ("module", "inverter", "kit") for p in catalog.iter_products(Category(c))]
        size_system(req, products_real)
        kits = []
        for _ in range(20):
            t0 = time.perf_counter()
            r = size_system(req, products_real)
            kits.append(1000 * (time.perf_counter() - t0))
        store_t = []
        for _ in range(10):
            t0 = time.perf_counter()
            size_system(req, catalog)
            store_t.append(1000 * (time.perf_counter() - t0))
        print(f"full sizing, real catalog ({r.usable_kits} kits eligible, warm site): median "
              f"{statistics.median(kits):.1f} ms, p95 {p95(kits):.1f} ms; incl. reading the SQLite store: median "
              f"{statistics.median(store_t):.1f} ms")
    ratio = [r["t_ours_s"] / r["t_pysam_s"] for r in rows]
    print(f"engine simulation / one PySAM PVWatts run (same file, same process): median ratio "
          f"{statistics.median(ratio):.2f} (ours {1000 * statistics.median(r['t_ours_s'] for r in rows):.1f} ms, "
          f"PySAM {1000 * statistics.median(r['t_pysam_s'] for r in rows):.1f} ms incl. file read)")


if __name__ == "__main__":
    rows = accuracy_table()
    timings(rows)
