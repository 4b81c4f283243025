"""The engine's hourly chain against PySAM PVWatts v8 on pvlib's bundled weather files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import sizing_vs_pvwatts

    return sizing_vs_pvwatts


@pytest.mark.parametrize("name", ["723170TYA.CSV", "703165TY.csv", "12839.tm2"])
def test_annual_within_2_pct_of_pvwatts(bench, name):
    r = bench.compare(bench.PVLIB_DATA / name)
    assert abs(r["diff_pct"]) <= 2.0, r
    assert abs(r["worst_month_pct"]) <= 6.0, r
