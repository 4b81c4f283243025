"""Rebuild ``gldas_brazil.npz`` from the PyPI package ``pvcz`` (0.3.0, MIT).

Run with pvcz installed (it is not a runtime dependency of Hélio):

    pip install pvcz==0.3.0 && python data/climate/build_gldas_brazil.py

Keeps the land cells of the 0.25° GLDAS grid inside Brazil's bounding box (+0.5° margin)
and the columns the sizing engine uses.
"""

from pathlib import Path

import numpy as np
import pvcz

COLUMNS = {
    "t_mean_c": "T_ambient_mean",
    "t_min_c": "T_ambient_min",
    "t_max_c": "T_ambient_max",
    "ghi_mean_kwh_m2_day": "GHI_mean",
    "wind_rms_m_s": "wind_speed_rms",
}


def main() -> None:
    df = pvcz.get_pvcz_data()
    box = df[(df.lat >= -34.5) & (df.lat <= 6.0) & (df.lon >= -74.5) & (df.lon <= -28.0)]
    arrays = {"lat_deg": box.lat.to_numpy(np.float32), "lon_deg": box.lon.to_numpy(np.float32)}
    arrays |= {name: box[col].to_numpy(np.float32) for name, col in COLUMNS.items()}
    out = Path(__file__).with_name("gldas_brazil.npz")
    np.savez_compressed(out, **arrays)
    print(f"{len(box)} cells -> {out}")


if __name__ == "__main__":
    main()
