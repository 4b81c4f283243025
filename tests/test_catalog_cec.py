"""CEC matching against the real CEC tables bundled with pvlib."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.catalog.models import Category, InverterSpecs, ModuleSpecs, Product

import pvlib  # noqa: E402
from ingest.catalog.cec import (  # noqa: E402
    apply_cec_module,
    cec_tables,
    find_cec_inverter,
    find_cec_module,
)


def raw_cec_module(name: str) -> dict[str, str]:
    """The CEC row read straight from pvlib's CSV, independently of the code under test."""
    path = sorted((Path(pvlib.__file__).parent / "data").glob("sam-library-cec-modules-*.csv"))[-1]
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == name:
                return row
    raise AssertionError(f"{name} not in CEC")


def module(brand, model, power_w):
    return Product(id="m", category=Category.MODULE, name=f"{brand} {model}", manufacturer=brand, model=model,
                   power_w=power_w, module=ModuleSpecs(pmax_w=power_w))


def test_tables_are_loaded_once():
    assert cec_tables() is cec_tables()
    mods, invs = cec_tables()
    assert len(mods) > 20000 and len(invs) > 3000


def test_a_module_in_cec_gets_its_real_electrical_data():
    name = "Jinko Solar Co._ Ltd JKM405M-72HL"
    raw = raw_cec_module(name)
    p = module("Jinko", "JKM405M-72HL", float(raw["STC"]))
    entry = find_cec_module(p, cec_tables()[0])
    assert entry is not None and entry.name == name
    apply_cec_module(p, entry)
    assert p.module.voc_v == pytest.approx(float(raw["V_oc_ref"]))
    assert p.module.isc_a == pytest.approx(float(raw["I_sc_ref"]))
    # CEC beta_oc is V/°C; the catalog stores %/°C
    assert p.module.temp_coeff_voc_pct_per_c == pytest.approx(
        float(raw["beta_oc"]) / float(raw["V_oc_ref"]) * 100, abs=1e-3)
    # CEC Length is in metres and often blank: a blank stays None, never a guess
    if raw["Length"]:
        assert p.module.length_mm == pytest.approx(float(raw["Length"]) * 1000)
    else:
        assert p.module.length_mm is None
    assert p.spec_sources["voc_v"] == f"cec:{name}"
    assert p.module.cec["N_s"] == float(raw["N_s"])


def test_no_match_when_power_disagrees_or_brand_differs():
    mods = cec_tables()[0]
    assert find_cec_module(module("Jinko", "JKM405M-72HL", 600.0), mods) is None
    assert find_cec_module(module("Trina", "JKM405M-72HL", 405.0), mods) is None


def test_brazilian_variants_are_not_matched_to_us_models():
    # Real catalog rows: Huawei SUN2000-3KTL-L1 (BR) must not take the data of the US SUN2000-3.8KTL-USL0,
    # nor Enphase IQ8P-72-2-BR that of an IQ7.
    invs = cec_tables()[1]
    for brand, model, power in (("Huawei", "SUN2000-3KTL-L1", 3000.0), ("Enphase", "IQ8P-72-2-BR", 475.0),
                                ("Growatt", "MIN 3000TL-X", 3000.0)):
        p = Product(id="i", category=Category.INVERTER, name=model, manufacturer=brand, model=model, power_w=power,
                    inverter=InverterSpecs(ac_power_w=power, ac_voltage_v=220))
        assert find_cec_inverter(p, invs) is None
