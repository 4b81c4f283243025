"""Solar resource and ambient temperature for a site: a synthetic hourly year, or a weather file.

Default resource (nothing here comes from the INPE/LABREN atlas, which may not be shipped):

1. Monthly GHI level and day-to-day distribution: NASA MERRA-2 reanalysis 2011–2015 as
   per-month histograms of daily mean GHI on a 3°×3° grid (PyPI ``gsee-climate-data``,
   code BSD-3, data public domain). Monthly means are bilinearly interpolated between cell
   centres; the day-to-day distribution comes from the nearest cell's histogram.
2. Station calibration (``data/resource``, rebuilt by ``build_station_correction.py``):
   raw MERRA-2 reads high against Brazilian ground data (median +14 % against INMET
   typical-year files). A Gaussian-process field of ln(station GHI / MERRA-2 GHI), fitted on
   the typical-year files of ~370 stations (LabEEE, MIT: INMET files, measured, and TMYx
   files, whose irradiance is modelled and reads ≈ 6 % higher than INMET at the same
   station), with altitude and the GLDAS/MERRA-2 GHI ratio as covariates, multiplies the
   MERRA-2 monthly means. The field is at the INMET (measured)
   level, which also matches the ground atlases' values at Brasília, São Paulo and Porto
   Alegre within 1 %. 0.5° grid, bilinear.
3. Hourly shape: pvlib Ineichen clear sky (bundled Linke turbidity climatology and
   altitude) scaled day by day to the daily totals, then Erbs decomposition to DNI/DHI.
4. Temperature: NASA GLDAS-2.1 Noah 0.25°, 3-hourly 2010–2018, as aggregated by the PyPI
   package ``pvcz`` (MIT; Karin et al. 2019): annual mean, minimum and maximum air
   temperature per cell (``data/climate``). Monthly means: GLDAS annual mean plus a field of
   (station monthly mean − GLDAS annual mean) fitted on the same stations' monthly
   dry-bulb temperatures (``data/resource``). The daily cycle is a cosine peaking at 15 h
   whose range grows with the day's clearness (6–14 °C). The GLDAS minimum (lowest of nine
   years of 3-hourly 0.25° data) minus a 3 °C margin (grid cells and 3-hour sampling smooth
   the station record low) is the design temperature for string Voc (applied in the engine).
5. Uncertainty (1σ, annual GHI): the field's predictive sd for a typical year at the site
   (larger far from stations), hyperparameters chosen by leave-one-site-out cross-
   validation, combined with half the TMYx − INMET offset (the two reference families
   disagree by ≈ 6 %); ``benchmarks/resource_vs_stations.py`` checks that the stated 90 %
   band (±1.645σ) holds on held-out stations of both sources.

Weather files (EPW, TMY2, TMY3, SAM CSV) load through :mod:`app.sizing.weather`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from app.core.text import format_number, format_percent
from app.sizing.simulation import SolarGeometry, solar_geometry

CLIMATE_DIR = Path(__file__).resolve().parents[2] / "data" / "climate"

RESOURCE_DIR = Path(__file__).resolve().parents[2] / "data" / "resource"
BASE_GHI_UNCERTAINTY_PCT = 5.0  # a user's weather file: typical-year representativeness
Z_90 = 1.645
SYNTHETIC_YEAR = 2023  # a non-leap year: 8,760 hours
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)


@dataclass(frozen=True)
class WeatherYear:
    """One hourly year at a site. ``times`` are mid-hour stamps in local standard time."""

    times: pd.DatetimeIndex
    ghi_w_m2: np.ndarray
    dni_w_m2: np.ndarray
    dhi_w_m2: np.ndarray
    temp_air_c: np.ndarray
    wind_speed_m_s: np.ndarray
    latitude_deg: float
    longitude_deg: float
    albedo: float
    source: str
    provenance: tuple[str, ...]
    ghi_uncertainty_pct: float
    design_min_temp_c: float
    notes: tuple[str, ...] = ()
    geometry: SolarGeometry | None = field(default=None, compare=False, repr=False)

    @property
    def annual_ghi_kwh_m2(self) -> float:
        return float(self.ghi_w_m2.sum() / 1000)


# ---------------------------------------------------------------- MERRA-2 irradiance


@cache
def _merra2() -> dict[str, np.ndarray]:
    """The grid as stored (float32); cells are widened to float64 when read (:func:`_merra2_cell`):
    widening the whole global grid took ~1.5 s per process for the few cells a site reads."""
    import gsee_climate_data

    with gsee_climate_data.load() as z:
        return {"lat": z["lat"].astype(float), "lon": z["lon"].astype(float), "xk": z["xk"], "pk": z["pk"]}


def _merra2_cell(i: int, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One cell's (month, bin) histogram values and weights, and its monthly daily mean GHI [W/m²]."""
    m = _merra2()
    xk, pk = m["xk"][i, j].astype(np.float64), m["pk"][i, j].astype(np.float64)
    return xk, pk, (xk * pk).sum(-1) / pk.sum(-1)


def merra2_monthly_ghi_w_m2(latitude_deg: float, longitude_deg: float) -> np.ndarray:
    """Raw MERRA-2 monthly mean of daily mean GHI [W/m²], bilinear between 3° cell centres."""
    m = _merra2()
    lat, lon = m["lat"], m["lon"]
    fi = np.clip((latitude_deg - lat[0]) / (lat[1] - lat[0]), 0, len(lat) - 1.000001)
    fj = (longitude_deg - lon[0]) / (lon[1] - lon[0]) % len(lon)
    i0, j0 = int(fi), int(fj)
    i1, j1 = min(i0 + 1, len(lat) - 1), (j0 + 1) % len(lon)
    wi, wj = fi - i0, fj - j0
    def g(i: int, j: int) -> np.ndarray:
        return _merra2_cell(i, j)[2]

    return ((1 - wi) * (1 - wj) * g(i0, j0) + (1 - wi) * wj * g(i0, j1)
            + wi * (1 - wj) * g(i1, j0) + wi * wj * g(i1, j1))


def _merra2_daily_quantiles(latitude_deg: float, longitude_deg: float, month_index: int, n_days: int) -> np.ndarray:
    """Daily mean GHI values [W/m²] at evenly spaced quantiles of the nearest cell's histogram."""
    m = _merra2()
    i = int(np.abs(m["lat"] - latitude_deg).argmin())
    j = int(np.abs(((m["lon"] - longitude_deg + 180) % 360) - 180).argmin())
    xk, pk, _ = _merra2_cell(i, j)
    xk, pk = xk[month_index], pk[month_index]
    cdf = np.cumsum(pk) / pk.sum()
    q = (np.arange(n_days) + 0.5) / n_days
    return np.interp(q, cdf, xk)


@cache
def _station_grid() -> dict[str, np.ndarray]:
    with np.load(RESOURCE_DIR / "station_correction.npz") as z:
        return {k: z[k].astype(np.float64) for k in z.files}


def _bilinear(grid: np.ndarray, lat_axis: np.ndarray, lon_axis: np.ndarray, latitude_deg: float,
              longitude_deg: float) -> np.ndarray:
    fi = float(np.clip((latitude_deg - lat_axis[0]) / (lat_axis[1] - lat_axis[0]), 0, len(lat_axis) - 1.000001))
    fj = float(np.clip((longitude_deg - lon_axis[0]) / (lon_axis[1] - lon_axis[0]), 0, len(lon_axis) - 1.000001))
    i, j = int(fi), int(fj)
    wi, wj = fi - i, fj - j
    return ((1 - wi) * (1 - wj) * grid[i, j] + (1 - wi) * wj * grid[i, j + 1]
            + wi * (1 - wj) * grid[i + 1, j] + wi * wj * grid[i + 1, j + 1])


@dataclass(frozen=True)
class StationCorrection:
    """Station calibration at a point: GHI factor on raw MERRA-2 and its 1σ [%]."""

    ghi_factor: float
    ghi_sd_pct: float
    monthly_temp_resid_c: np.ndarray  # station monthly mean − GLDAS annual mean [°C], 12 values


def station_covariates(latitude_deg: float, longitude_deg: float) -> np.ndarray:
    """Covariates of the station field at a point: altitude [km] (pvlib's altitude map) and
    ln(GLDAS annual GHI / raw MERRA-2 annual GHI); NaN where a source has none (sea)."""
    raw = float((merra2_monthly_ghi_w_m2(latitude_deg, longitude_deg) * DAYS_IN_MONTH).sum() / 365 * 24 / 1000)
    gldas = local_climate(latitude_deg, longitude_deg).ghi_mean_kwh_m2_day
    ratio = math.log(gldas / raw) if raw > 0 and gldas > 0 else math.nan
    return np.array([pvlib.location.lookup_altitude(latitude_deg, longitude_deg) / 1000.0, ratio])


def station_correction(latitude_deg: float, longitude_deg: float) -> StationCorrection:
    """The field at a point: its spatial part (0.5° grid, bilinear) plus the covariate term
    evaluated at the point itself (altitude and GLDAS vary on scales the grid would blur)."""
    g = _station_grid()
    lat, lon = g["lat_deg"], g["lon_deg"]
    ln_ratio = float(_bilinear(g["ln_ratio_spatial"], lat, lon, latitude_deg, longitude_deg))
    dev = station_covariates(latitude_deg, longitude_deg) - g["covariate_mean"]
    ln_ratio += float(np.where(np.isfinite(dev), dev, 0.0) @ g["covariate_effect"])
    ln_sd = float(_bilinear(g["ln_ratio_sd"], lat, lon, latitude_deg, longitude_deg))
    return StationCorrection(
        ghi_factor=math.exp(ln_ratio),
        # a symmetric 1σ in % for a log-normal error: half the ±1σ interval's width
        ghi_sd_pct=100 * math.sinh(ln_sd),
        monthly_temp_resid_c=np.asarray(_bilinear(g["temp_resid_c"], lat, lon, latitude_deg, longitude_deg)),
    )


# ---------------------------------------------------------------- GLDAS temperature


@dataclass(frozen=True)
class LocalClimate:
    t_mean_c: float
    t_min_c: float
    t_max_c: float
    ghi_mean_kwh_m2_day: float
    wind_mean_m_s: float
    cell_lat_deg: float
    cell_lon_deg: float


@cache
def _gldas() -> dict[str, np.ndarray]:
    with np.load(CLIMATE_DIR / "gldas_brazil.npz") as z:
        return {k: z[k].astype(np.float64) for k in z.files}


def local_climate(latitude_deg: float, longitude_deg: float) -> LocalClimate:
    """GLDAS (via pvcz) climate of the nearest 0.25° land cell."""
    g = _gldas()
    d2 = (g["lat_deg"] - latitude_deg) ** 2 + ((g["lon_deg"] - longitude_deg) * math.cos(math.radians(latitude_deg))) ** 2
    k = int(np.argmin(d2))
    return LocalClimate(
        t_mean_c=float(g["t_mean_c"][k]), t_min_c=float(g["t_min_c"][k]), t_max_c=float(g["t_max_c"][k]),
        ghi_mean_kwh_m2_day=float(g["ghi_mean_kwh_m2_day"][k]),
        # Mean of a Rayleigh-distributed speed is √π/2 of its RMS.
        wind_mean_m_s=float(g["wind_rms_m_s"][k]) * math.sqrt(math.pi) / 2,
        cell_lat_deg=float(g["lat_deg"][k]), cell_lon_deg=float(g["lon_deg"][k]),
    )


def _toa_daily_w_m2(latitude_deg: float, day_of_year: np.ndarray) -> np.ndarray:
    """Daily mean top-of-atmosphere irradiance on a horizontal plane [W/m²] (Spencer declination)."""
    g = 2 * np.pi * (day_of_year - 1) / 365
    decl = (0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g) - 0.006758 * np.cos(2 * g)
            + 0.000907 * np.sin(2 * g) - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g))
    e0 = 1 + 0.033 * np.cos(2 * np.pi * day_of_year / 365)
    phi = math.radians(latitude_deg)
    ws = np.arccos(np.clip(-math.tan(phi) * np.tan(decl), -1, 1))
    return 1361.0 / np.pi * e0 * (ws * math.sin(phi) * np.sin(decl) + math.cos(phi) * np.cos(decl) * np.sin(ws))


def modelled_monthly_temperature_c(latitude_deg: float, t_mean_c: float) -> np.ndarray:
    """Modelled monthly mean air temperature [°C]: annual mean + lagged insolation cycle.

    The seasonal cycle used before the station climatology (kept for the benchmark): the
    annual harmonic of top-of-atmosphere insolation, lagged one month, × 0.030 °C per W/m².
    """
    doy = np.arange(1, 366)
    toa = _toa_daily_w_m2(latitude_deg, doy)
    # annual harmonic only: the semi-annual TOA wave of the tropics barely shows in air temperature
    c1 = 2 / 365 * np.sum((toa - toa.mean()) * np.cos(2 * np.pi * doy / 365))
    s1 = 2 / 365 * np.sum((toa - toa.mean()) * np.sin(2 * np.pi * doy / 365))
    lag_days = 30.0
    mid_doy = np.array([16, 45, 75, 105, 136, 166, 197, 228, 258, 289, 319, 350], dtype=float) - lag_days
    cycle = c1 * np.cos(2 * np.pi * mid_doy / 365) + s1 * np.sin(2 * np.pi * mid_doy / 365)
    return t_mean_c + 0.030 * cycle  # 0.030 °C per W/m² of the insolation cycle


# ---------------------------------------------------------------- synthetic year


def _times(utc_offset_h: float, year: int = SYNTHETIC_YEAR) -> pd.DatetimeIndex:
    tz = f"Etc/GMT{int(-utc_offset_h):+d}" if utc_offset_h else "UTC"
    return pd.date_range(f"{year}-01-01 00:30", periods=8760, freq="h", tz=tz)


@cache
def _day_permutation(n_days: int, month_index: int) -> np.ndarray:
    # Fixed, site-independent order of the daily quantiles inside a month: deterministic
    # results, and no month starts with all its cloudy days.
    return np.random.default_rng(1000 + month_index).permutation(n_days)


def synthesize_year(latitude_deg: float, longitude_deg: float, utc_offset_h: float = -3.0) -> WeatherYear:
    """Hourly synthetic year: station-calibrated MERRA-2 + Ineichen clear sky + GLDAS/station temperature."""
    times = _times(utc_offset_h)
    geometry = solar_geometry(times, latitude_deg, longitude_deg)
    altitude_m = float(pvlib.location.lookup_altitude(latitude_deg, longitude_deg))
    linke = np.asarray(pvlib.clearsky.lookup_linke_turbidity(times, latitude_deg, longitude_deg), dtype=float)
    am_abs = pvlib.atmosphere.get_absolute_airmass(geometry.airmass_relative, pvlib.atmosphere.alt2pres(altitude_m))
    with np.errstate(divide="ignore", invalid="ignore"):  # night hours: airmass 0
        clear = pvlib.clearsky.ineichen(geometry.apparent_zenith_deg, np.nan_to_num(am_abs), linke, altitude_m,
                                        geometry.dni_extra_w_m2)
    clear_ghi = np.nan_to_num(np.asarray(clear["ghi"], dtype=float))

    raw_monthly = merra2_monthly_ghi_w_m2(latitude_deg, longitude_deg)
    corr = station_correction(latitude_deg, longitude_deg)
    target_monthly = raw_monthly * corr.ghi_factor  # corrected daily-mean GHI [W/m²]

    day_index = (np.arange(8760) // 24)
    clear_daily = np.bincount(day_index, weights=clear_ghi, minlength=365)  # [Wh/m²/day]
    month_of_day = np.asarray(pd.date_range(f"{SYNTHETIC_YEAR}-01-01", periods=365, freq="D").month) - 1
    target_daily = np.empty(365)
    for mo in range(12):
        days = np.flatnonzero(month_of_day == mo)
        q = _merra2_daily_quantiles(latitude_deg, longitude_deg, mo, len(days))
        q = q * target_monthly[mo] / q.mean()
        target_daily[days] = q[_day_permutation(len(days), mo)] * 24.0
        # The clear-sky model caps a day; spread what a capped day cannot take over the others.
        for _ in range(4):
            ratio = np.minimum(target_daily[days] / np.maximum(clear_daily[days], 1.0), 0.98)
            missing = target_monthly[mo] * 24.0 * len(days) - (ratio * clear_daily[days]).sum()
            free = ratio < 0.98
            if missing <= 1e-6 or not free.any():
                break
            target_daily[days[free]] += missing / free.sum()
        ratio = np.minimum(target_daily[days] / np.maximum(clear_daily[days], 1.0), 0.98)
        target_daily[days] = ratio * clear_daily[days]
    clearness_daily = target_daily / np.maximum(clear_daily, 1.0)
    ghi = clear_ghi * clearness_daily[day_index]

    split = pvlib.irradiance.erbs(ghi, geometry.zenith_deg, times.day_of_year)
    dni = np.nan_to_num(np.asarray(split["dni"], dtype=float))
    dhi = np.nan_to_num(np.asarray(split["dhi"], dtype=float))

    climate = local_climate(latitude_deg, longitude_deg)
    t_month = climate.t_mean_c + corr.monthly_temp_resid_c
    hour = np.asarray(times.hour) + 0.5
    kt_daily = target_daily / np.maximum(_toa_daily_w_m2(latitude_deg, np.arange(1, 366)) * 24.0, 1.0)
    dtr_c = np.clip(6.0 + 16.0 * (kt_daily - 0.35), 6.0, 14.0)[day_index]
    temp_air = t_month[np.asarray(times.month) - 1] + dtr_c / 2 * np.cos(2 * np.pi * (hour - 15.0) / 24)

    ours = ghi.sum() / 1000
    band = Z_90 * corr.ghi_sd_pct
    return WeatherYear(
        times=times, ghi_w_m2=ghi, dni_w_m2=dni, dhi_w_m2=dhi, temp_air_c=temp_air,
        wind_speed_m_s=np.full(8760, climate.wind_mean_m_s), latitude_deg=latitude_deg,
        longitude_deg=longitude_deg, albedo=0.2,
        source="synthetic: MERRA-2 (calibrated on INMET/TMYx stations) + Ineichen + GLDAS/station temperatures",
        provenance=(
            "GHI: NASA MERRA-2 2011–2015, monthly histograms of daily GHI, 3°×3° (PyPI gsee-climate-data)",
            f"station calibration: MERRA-2 × {corr.ghi_factor:.3f} (Gaussian-process field of station/MERRA-2 "
            "ratios with altitude and GLDAS covariates, typical-year files of ~370 Brazilian stations, INMET level; "
            "LabEEE, MIT; data/resource)",
            "hourly shape: pvlib Ineichen clear sky with bundled Linke turbidity and altitude; Erbs decomposition",
            "temperature: NASA GLDAS-2.1 Noah 0.25° 2010–2018 annual mean/min via PyPI pvcz; monthly cycle "
            "from station monthly means (data/resource); modelled daily cycle",
        ),
        ghi_uncertainty_pct=round(corr.ghi_sd_pct, 1), design_min_temp_c=round(climate.t_min_c, 1),
        notes=(f"GHI anual {format_number(ours)} kWh/m²; faixa de 90 %: ±{format_percent(band, decimals=1)} "
               "(validação cruzada em estações "
               "deixadas de fora)",),
        geometry=geometry,
    )


@cache
def synthesize_year_cached(latitude_deg: float, longitude_deg: float, utc_offset_h: float) -> WeatherYear:
    """Memoised :func:`synthesize_year` (arrays are never mutated downstream)."""
    return synthesize_year(latitude_deg, longitude_deg, utc_offset_h)


# ---------------------------------------------------------------- weather files


def load_weather_file(path: str | Path) -> WeatherYear:
    """An EPW, TMY2, TMY3 or SAM CSV file as a :class:`WeatherYear` (see :mod:`app.sizing.weather`)."""
    from app.sizing.weather import load_weather_file as load

    return load(path)
