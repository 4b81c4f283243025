"""Spatially blocked cross-validation of the station field (offline, like ``station_fit``).

Leave-one-site-out answers "how well is a station predicted when its own files are left
out?", but its neighbours 20 km away stay in, and the hyperparameters were chosen looking
at every station. The blocked check is stricter on both counts:

- the stations are cut into ``BLOCK_DEG`` × ``BLOCK_DEG`` blocks (by site, so an INMET file
  and its TMYx twin share a block), and the blocks are dealt into ``N_FOLDS`` folds at random
  (fixed seed): every station of a fold is predicted from a field that has no station of
  its own block, nor of the other blocks of that fold;
- inside each fold, the hyperparameters are selected again on the training stations only
  (the same coordinate ascent as the shipped field), so no held-out file takes part in any
  choice.
"""

from __future__ import annotations

import numpy as np

from app.sizing import station_fit as S

BLOCK_DEG = 2.0
N_FOLDS = 10
SEED = 15


def site_blocks(lat_deg, lon_deg, sites, block_deg: float = BLOCK_DEG) -> np.ndarray:
    """Block id per file: the ``block_deg`` cell of its site's mean position."""
    lat_deg, lon_deg, sites = np.asarray(lat_deg, float), np.asarray(lon_deg, float), np.asarray(sites)
    out = np.empty(sites.size, dtype=np.int64)
    for s in np.unique(sites):
        m = sites == s
        i = int(np.floor((lat_deg[m].mean() + 90.0) / block_deg))
        j = int(np.floor((lon_deg[m].mean() + 180.0) / block_deg))
        out[m] = i * 10_000 + j
    return out


def block_folds(blocks, n_folds: int = N_FOLDS, seed: int = SEED) -> np.ndarray:
    """Fold per file: blocks dealt into ``n_folds`` groups in a seeded random order."""
    blocks = np.asarray(blocks)
    unique = np.unique(blocks)
    order = np.random.default_rng(seed).permutation(unique.size)
    fold_of = {b: int(order[k] % n_folds) for k, b in enumerate(unique)}
    return np.array([fold_of[b] for b in blocks])


def nested_blocked_predictions(lat, lon, z, y, sites, grid: dict, start: S.GPHyper, features=None,
                               folds=None) -> tuple[np.ndarray, np.ndarray, list[S.GPHyper]]:
    """INMET-level prediction and sd for every file from a field fitted without its fold,
    with hyperparameters selected on the fold's training files only (INMET files' leave-
    one-site-out density, as for the shipped field). Returns (mean, sd, hyper per fold)."""
    lat, lon, z, y = (np.asarray(a, dtype=float) for a in (lat, lon, z, y))
    sites = np.asarray(sites)
    f = None if features is None else np.asarray(features, dtype=float)
    if folds is None:
        folds = block_folds(site_blocks(lat, lon, sites))
    mean, sd, chosen = np.empty(y.size), np.empty(y.size), []
    for k in np.unique(folds):
        out = folds == k
        tr = ~out
        f_tr = None if f is None else f[tr]
        h, _ = S.select_hyper(lat[tr], lon[tr], z[tr], y[tr], sites[tr], grid, start=start, features=f_tr,
                              target=z[tr] == 0)
        fld = S.fit_field(lat[tr], lon[tr], z[tr], y[tr], h, f_tr)
        mean[out], sd[out] = fld.predict(lat[out], lon[out], features=None if f is None else f[out])
        chosen.append(h)
    return mean, sd, chosen
