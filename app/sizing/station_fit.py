"""Station calibration of the solar resource: station files, a Gaussian-process field, LOO checks.

Used offline by ``data/resource/build_station_correction.py`` (which writes the grids the
engine reads) and by ``benchmarks/resource_vs_stations.py``; nothing here runs when a
sizing is computed.

Model (all in natural-log space, so errors are relative):

    y_i = ln(station GHI_i / raw MERRA-2 GHI at x_i) = m + b·z_i + f(x_i) + (1 − z_i)·g(x_i) + ε_i

- ``m``: a constant mean, ``b``: the offset of TMYx files against INMET files (z_i = 1 for
  TMYx), both with flat priors (large constant kernel terms);
- ``f``: a zero-mean Gaussian process with an exponential covariance in great-circle
  distance, s²·exp(−d/L);
- g: a short-range field shared by INMET files only (regional effects of the measured
  network that the reanalysis-based TMYx files do not carry), at the INMET level;
- ε_i: file noise per source, chosen by the data (INMET files scatter more around a
  smooth field than TMYx files, whose irradiance is modelled);
- covariates (universal kriging): w·c(x) with c = (site altitude [km], ln(GLDAS GHI / raw
  MERRA-2 GHI)), standardised on the training files, each weight with a zero-mean normal
  prior of sd ``feature_signal`` (0 switches them off). Altitude carries the cloudier
  highlands; GLDAS (0.25°) carries irradiance detail the 3° MERRA-2 cells smooth away.

Predictions are made at z = 0, the INMET (measured) level. Hyperparameters maximise the
leave-one-site-out log predictive density of the INMET files (the level predicted) by
coordinate ascent over a grid of values; a "site" groups every file within
``SITE_RADIUS_KM`` (an INMET file and the TMYx file of the same station leave together, so
no held-out station is predicted from its own twin). Spatially blocked cross-validation
(``app/sizing/station_cv.py``) checks the held-out figures with hyperparameters re-selected
without the held-out blocks.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

EARTH_RADIUS_KM = 6371.0
SITE_RADIUS_KM = 15.0
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
REGIONS = {
    "N": ("AC", "AM", "AP", "PA", "RO", "RR", "TO"),
    "NE": ("AL", "BA", "CE", "MA", "PB", "PE", "PI", "RN", "SE"),
    "CO": ("DF", "GO", "MS", "MT"),
    "SE": ("ES", "MG", "RJ", "SP"),
    "S": ("PR", "RS", "SC"),
}
REGION_OF_UF = {uf: r for r, ufs in REGIONS.items() for uf in ufs}
_FILE_RE = re.compile(r"^BRA_(?P<uf>[A-Z]{2})_(?P<city>.+?)\.(?P<wmo>\d{6})_(?P<src>INMET|TMYx)(?P<period>[.\d-]*)\.epw$")
_NAME_NOISE = re.compile(r"\b(ap|ab|intl|stn)\b")


@dataclass
class StationFile:
    """One typical-year file of the calibration set (LabEEE summaries)."""

    file: str
    uf: str
    city: str
    wmo: str
    source: str  # "INMET" | "TMYx"
    lat_deg: float
    lon_deg: float
    alt_m: float
    ghi_kwh_m2_day: float
    t_mean_c: float
    monthly_t_c: np.ndarray | None = None  # 12 values, or None when the file has none
    municipality: str = ""
    site: int = -1
    extra: dict = field(default_factory=dict)

    @property
    def region(self) -> str:
        return REGION_OF_UF.get(self.uf, "?")


def _locate(uf: str, city: str, lat_deg: float, table) -> tuple[float, str] | None:
    """Longitude of a station from its file name: the municipality of that name in its UF
    (the file carries no longitude). Accepts a fuzzy name match only within 0.6° of latitude."""
    from app.sizing.sites import normalize_name

    raw = city.replace(".", " ")
    candidates = [raw, *raw.split("-")]
    in_uf = [i for i, u in enumerate(table.ufs) if u == uf]
    names = {normalize_name(table.names[i]): i for i in in_uf}
    for cand in candidates:
        key = _NAME_NOISE.sub(" ", normalize_name(cand)).strip()
        key = " ".join(key.split())
        if not key:
            continue
        hits = [names[k] for k in difflib.get_close_matches(key, list(names), n=3, cutoff=0.85)]
        hits = [i for i in hits if abs(table.lat_deg[i] - lat_deg) <= 0.6]
        if hits:
            return float(table.lon_deg[hits[0]]), f"{table.names[hits[0]]}/{uf}"
    return None


def load_station_files(stations_csv: Path, monthly_csv: Path | None = None) -> tuple[list[StationFile], list[str]]:
    """Station files with a longitude (joined on the municipality list), and the files dropped."""
    from app.sizing.sites import _table

    table = _table()
    monthly: dict[str, np.ndarray] = {}
    if monthly_csv is not None and monthly_csv.is_file():
        acc: dict[str, dict[int, float]] = {}
        with open(monthly_csv, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                acc.setdefault(r["file"], {})[int(r["month"])] = float(r["dbt_mean"])
        monthly = {f: np.array([m[k] for k in range(1, 13)]) for f, m in acc.items() if len(m) == 12}
    out, dropped = [], []
    with open(stations_csv, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            m = _FILE_RE.match(r["file"])
            if not m:
                dropped.append(f"{r['file']}: nome fora do padrão")
                continue
            lat = float(r["lat"])
            located = _locate(m["uf"], m["city"], lat, table)
            if located is None:
                dropped.append(f"{r['file']}: município não identificado (sem longitude)")
                continue
            lon, muni = located
            out.append(StationFile(
                file=r["file"], uf=m["uf"], city=m["city"], wmo=m["wmo"], source=m["src"], lat_deg=lat, lon_deg=lon,
                alt_m=float(r["alt"]), ghi_kwh_m2_day=float(r["ghr_mean"]) / 1000.0, t_mean_c=float(r["dbt_mean"]),
                monthly_t_c=monthly.get(r["file"]), municipality=muni))
    _assign_sites(out)
    return out, dropped


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _assign_sites(files: list[StationFile]) -> None:
    """Group files of one station (same WMO number, or within SITE_RADIUS_KM) into a site."""
    site_of_wmo: dict[str, int] = {}
    centres: list[tuple[float, float]] = []
    for f in files:
        if f.wmo in site_of_wmo:
            f.site = site_of_wmo[f.wmo]
            continue
        if centres:
            c = np.array(centres)
            d = haversine_km(f.lat_deg, f.lon_deg, c[:, 0], c[:, 1])
            k = int(np.argmin(d))
            if d[k] <= SITE_RADIUS_KM:
                f.site = site_of_wmo[f.wmo] = k
                continue
        centres.append((f.lat_deg, f.lon_deg))
        f.site = site_of_wmo[f.wmo] = len(centres) - 1


def merge_versions(files: list[StationFile]) -> list[StationFile]:
    """One observation per (station, source): TMYx periods of a station (2004–2018,
    2007–2021) share most of their years and their method, so they are averaged, not
    counted as independent evidence."""
    groups: dict[tuple[str, str], list[StationFile]] = {}
    for f in files:
        groups.setdefault((f.wmo, f.source), []).append(f)
    out = []
    for g in groups.values():
        f0 = g[0]
        if len(g) == 1:
            out.append(f0)
            continue
        temps = [x.monthly_t_c for x in g if x.monthly_t_c is not None]
        out.append(StationFile(
            file=" + ".join(x.file for x in g), uf=f0.uf, city=f0.city, wmo=f0.wmo, source=f0.source,
            lat_deg=float(np.mean([x.lat_deg for x in g])), lon_deg=f0.lon_deg,
            alt_m=float(np.mean([x.alt_m for x in g])),
            ghi_kwh_m2_day=float(np.mean([x.ghi_kwh_m2_day for x in g])),
            t_mean_c=float(np.mean([x.t_mean_c for x in g])),
            monthly_t_c=np.mean(temps, axis=0) if temps else None, municipality=f0.municipality, site=f0.site))
    return out


def merra2_annual_kwh_m2_day(lat_deg: float, lon_deg: float) -> float:
    """Raw MERRA-2 annual mean daily GHI [kWh/m²/day] (day-weighted mean of the monthly means)."""
    from app.sizing.resource import merra2_monthly_ghi_w_m2

    monthly = merra2_monthly_ghi_w_m2(lat_deg, lon_deg)
    return float((monthly * DAYS_IN_MONTH).sum() / 365.0 * 24.0 / 1000.0)


# ---------------------------------------------------------------- covariates

COVARIATES = ("altitude_km", "ln_gldas_over_merra2")


def covariates(lat_deg, lon_deg) -> np.ndarray:
    """Covariates of the GHI field at points, (n, 2): altitude [km] from pvlib's altitude map
    and ln(GLDAS-2.1 annual GHI / raw MERRA-2 annual GHI) — ``resource.station_covariates``,
    the same function the engine evaluates at a user's site. NaN (sea) counts as the mean."""
    from app.sizing.resource import station_covariates

    lat_deg, lon_deg = np.atleast_1d(lat_deg).astype(float), np.atleast_1d(lon_deg).astype(float)
    return np.array([station_covariates(a, b) for a, b in zip(lat_deg, lon_deg)]).reshape(-1, len(COVARIATES))


def _standardise(features, mean, sd) -> np.ndarray | None:
    if features is None or mean is None:
        return None
    f = (np.asarray(features, dtype=float) - mean) / sd
    return np.where(np.isfinite(f), f, 0.0)


# ---------------------------------------------------------------- Gaussian process


@dataclass(frozen=True)
class GPHyper:
    length_km: float
    signal: float  # s, [ln units]
    noise_inmet: float
    noise_tmyx: float
    mean_prior: float = 1.0  # sd of the flat priors on m and b (large vs the data)
    inmet_signal: float = 0.0  # sd of a short-range field shared by INMET files only [ln units]
    inmet_length_km: float = 100.0
    feature_signal: float = 0.0  # prior sd of each standardised covariate's weight [ln units]


@dataclass
class GPField:
    """A fitted field: predicts the INMET-level value and its predictive sd at any point."""

    hyper: GPHyper
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    z: np.ndarray
    y: np.ndarray
    chol: np.ndarray
    alpha: np.ndarray
    feat: np.ndarray | None = None  # standardised covariates of the training files
    feat_mean: np.ndarray | None = None
    feat_sd: np.ndarray | None = None

    def _cross(self, lat_deg: np.ndarray, lon_deg: np.ndarray, z: float, feat: np.ndarray | None) -> np.ndarray:
        h = self.hyper
        d = haversine_km(np.asarray(lat_deg)[:, None], np.asarray(lon_deg)[:, None], self.lat_deg[None, :],
                         self.lon_deg[None, :])
        inmet = (1 - z) * (self.z[None, :] == 0) * h.inmet_signal**2 * np.exp(-d / h.inmet_length_km)
        k = h.mean_prior**2 * (1 + z * self.z[None, :]) + h.signal**2 * np.exp(-d / h.length_km) + inmet
        if feat is not None:
            k = k + h.feature_signal**2 * feat @ self.feat.T
        return k

    def predict(self, lat_deg, lon_deg, *, features=None, z: float = 0.0,
                with_noise: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Mean and sd of y at points (an INMET-like file there when ``with_noise``), z = 0.
        ``features``: raw ``covariates`` of the points (required when the field uses them)."""
        import scipy.linalg as sla

        lat_deg, lon_deg = np.atleast_1d(lat_deg).astype(float), np.atleast_1d(lon_deg).astype(float)
        h = self.hyper
        feat = _standardise(features, self.feat_mean, self.feat_sd) if self.feat is not None else None
        if self.feat is not None and feat is None:
            raise ValueError("this field uses covariates: pass features=covariates(lat, lon)")
        mean, sd = np.empty(lat_deg.size), np.empty(lat_deg.size)
        for s in range(0, lat_deg.size, 4000):  # chunks: the cross-covariance of a grid is large
            f = None if feat is None else feat[s:s + 4000]
            ks = self._cross(lat_deg[s:s + 4000], lon_deg[s:s + 4000], z, f)
            mean[s:s + 4000] = ks @ self.alpha
            v = sla.solve_triangular(self.chol, ks.T, lower=True)
            prior = h.mean_prior**2 * (1 + z * z) + h.signal**2 + (1 - z) ** 2 * h.inmet_signal**2
            if f is not None:
                prior = prior + h.feature_signal**2 * (f * f).sum(1)
            var = prior - (v * v).sum(0) + (h.noise_inmet**2 if with_noise else 0.0)
            sd[s:s + 4000] = np.sqrt(np.clip(var, 1e-12, None))
        return mean, sd


def _cov(lat, lon, z, h: GPHyper, feat: np.ndarray | None = None) -> np.ndarray:
    d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    k = h.mean_prior**2 * (1 + np.outer(z, z)) + h.signal**2 * np.exp(-d / h.length_km)
    if h.inmet_signal:
        both = np.outer(z == 0, z == 0)
        k += both * h.inmet_signal**2 * np.exp(-d / h.inmet_length_km)
    if feat is not None and h.feature_signal:
        k += h.feature_signal**2 * feat @ feat.T
    k[np.diag_indices_from(k)] += np.where(z > 0, h.noise_tmyx**2, h.noise_inmet**2)
    return k


def _training_features(features, h: GPHyper):
    """Standardised training covariates with their mean and sd (None when unused)."""
    if features is None or not h.feature_signal:
        return None, None, None
    f = np.asarray(features, dtype=float)
    mean, sd = np.nanmean(f, axis=0), np.nanstd(f, axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return _standardise(f, mean, sd), mean, sd


def fit_field(lat, lon, z, y, h: GPHyper, features=None) -> GPField:
    """Fit the field; ``features``: raw ``covariates`` of the files (used when h.feature_signal > 0)."""
    import scipy.linalg as sla

    lat, lon, z, y = (np.asarray(a, dtype=float) for a in (lat, lon, z, y))
    feat, mean, sd = _training_features(features, h)
    chol = np.linalg.cholesky(_cov(lat, lon, z, h, feat))
    alpha = sla.cho_solve((chol, True), y)
    return GPField(h, lat, lon, z, y, chol, alpha, feat, mean, sd)


def loo_log_density(lat, lon, z, y, sites, h: GPHyper, features=None, target=None) -> float:
    """Leave-one-site-out log predictive density (closed form, blocks of a site's files),
    summed over the files in ``target`` (a boolean mask; all files when None)."""
    lat, lon, z, y = (np.asarray(a, dtype=float) for a in (lat, lon, z, y))
    feat = _training_features(features, h)[0]
    a_inv = np.linalg.inv(_cov(lat, lon, z, h, feat))
    alpha = a_inv @ y
    target = np.ones(y.size, bool) if target is None else np.asarray(target, bool)
    total = 0.0
    for s in np.unique(sites):
        b = np.flatnonzero(sites == s)
        keep = target[b]
        if not keep.any():
            continue
        cov_b = np.linalg.inv(a_inv[np.ix_(b, b)])
        r_b = cov_b @ alpha[b]  # residual y_b − LOO mean
        cov_t, r_t = cov_b[np.ix_(keep, keep)], r_b[keep]
        sign, logdet = np.linalg.slogdet(cov_t)
        total += -0.5 * (r_t @ np.linalg.solve(cov_t, r_t) + logdet + keep.sum() * math.log(2 * math.pi))
    return total


def loo_own_level(lat, lon, z, y, sites, h: GPHyper) -> np.ndarray:
    """Leave-one-site-out predictions of ``y`` (n, or n × k for k outputs sharing the
    covariance), each at its own source level; closed form (one inverse)."""
    a_inv = np.linalg.inv(_cov(np.asarray(lat, float), np.asarray(lon, float), np.asarray(z, float), h))
    y = np.asarray(y, dtype=float)
    alpha = a_inv @ y
    pred = np.empty_like(y)
    for s in np.unique(sites):
        b = np.flatnonzero(sites == s)
        pred[b] = y[b] - np.linalg.solve(a_inv[np.ix_(b, b)], alpha[b])
    return pred


def select_hyper(lat, lon, z, y, sites, grid: dict[str, tuple[float, ...]], *, start: GPHyper, features=None,
                 target=None) -> tuple[GPHyper, float]:
    """Coordinate ascent of the leave-one-site-out log density (of the ``target`` files) over
    the values in ``grid`` (keys: GPHyper fields), from ``start``: each pass tries every
    value of every field with the others held, until a pass improves nothing. Deterministic."""
    def score(h: GPHyper) -> float:
        return loo_log_density(lat, lon, z, y, sites, h, features, target)

    best, best_ll = start, score(start)
    improved = True
    while improved:
        improved = False
        for name, values in grid.items():
            for v in values:
                if v == getattr(best, name):
                    continue
                h = replace(best, **{name: v})
                ll = score(h)
                if ll > best_ll + 1e-9:
                    best, best_ll, improved = h, ll, True
    return best, best_ll


def loo_predictions(lat, lon, z, y, groups, h: GPHyper, features=None) -> tuple[np.ndarray, np.ndarray]:
    """For every file: the INMET-level (z = 0) prediction and its sd, from a field fitted
    without that file's group (its site, or a spatial block). Explicit refits (one per
    group), so the TMYx offset and the covariate scaling are re-estimated too."""
    lat, lon, z, y = (np.asarray(a, dtype=float) for a in (lat, lon, z, y))
    f = None if features is None else np.asarray(features, dtype=float)
    mean, sd = np.empty(y.size), np.empty(y.size)
    for s in np.unique(groups):
        out = groups == s
        fld = fit_field(lat[~out], lon[~out], z[~out], y[~out], h, None if f is None else f[~out])
        mean[out], sd[out] = fld.predict(lat[out], lon[out], features=None if f is None else f[out])
    return mean, sd


def tmyx_offset(fld: GPField) -> tuple[float, float]:
    """Posterior mean and sd of b (the TMYx − INMET offset, ln units)."""
    h = fld.hyper
    # b's prior covariance with the data is mean_prior² z_j; posterior by the usual GP formulas.
    kb = h.mean_prior**2 * fld.z
    import scipy.linalg as sla

    v = sla.solve_triangular(fld.chol, kb, lower=True)
    return float(kb @ fld.alpha), float(math.sqrt(max(h.mean_prior**2 - v @ v, 0.0)))


def covariate_weights(fld: GPField) -> dict[str, float]:
    """Posterior mean effect of each covariate on ln GHI, per unit of the raw covariate
    (altitude: per km; GLDAS ratio: per unit of ln ratio). Empty when the field has none."""
    if fld.feat is None:
        return {}
    w = fld.hyper.feature_signal**2 * fld.feat.T @ fld.alpha  # per standardised unit
    return {name: float(v / sd) for name, v, sd in zip(COVARIATES, w, fld.feat_sd)}


REFERENCE_SPREAD_SHARE = 0.5


def stated_sd(field_sd, tmyx_offset_ln: float):
    """The 1σ a sizing states [ln units]: the field's predictive sd for an INMET-like file plus
    a systematic term for the disagreement between the two families of typical-year
    references (TMYx reads ≈ 6 % above INMET at the same station; the truth is taken to lie
    between them, half the offset as 1σ). Checked on held-out stations of both sources by
    ``benchmarks/resource_vs_stations.py``."""
    return np.sqrt(np.asarray(field_sd) ** 2 + (REFERENCE_SPREAD_SHARE * tmyx_offset_ln) ** 2)
