"""Match catalog modules/inverters to the CEC databases shipped with pvlib (offline).

Conservative on purpose: a wrong match puts another product's voltages into string
sizing, which is worse than no match. A match needs (1) the manufacturer in the CEC
name, (2) the catalog model code equal to the CEC model code once punctuation is
removed (CEC inverter names end in a grid voltage "[240V]" that is not part of the
model), and (3) nominal power within 2 % (module STC) or 5 % (inverter Paco).

pvlib's bundled CEC tables date from 2019: modules stop near 510 W and there are no
Deye, SAJ, Sofar, GoodWe or Livoltek inverters, and the US variants of Huawei/Growatt/
Enphase are other models than the Brazilian ones. Few or no matches are expected.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.catalog.models import Product
from app.core.text import fold
from ingest.catalog.text import alnum_key

_MODULE_KEYS = ("Technology", "Bifacial", "STC", "PTC", "A_c", "Length", "Width", "N_s", "I_sc_ref", "V_oc_ref",
                "I_mp_ref", "V_mp_ref", "alpha_sc", "beta_oc", "T_NOCT", "a_ref", "I_L_ref", "I_o_ref", "R_s",
                "R_sh_ref", "Adjust", "gamma_r")
_INVERTER_KEYS = ("Vac", "Paco", "Pdco", "Vdco", "Pso", "C0", "C1", "C2", "C3", "Pnt", "Vdcmax", "Idcmax",
                  "Mppt_low", "Mppt_high")


@dataclass(frozen=True)
class CecEntry:
    name: str
    model_key: str
    params: dict[str, float | str]


def _clean(v: object) -> float | str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(v)


def _module_model(name: str) -> str:
    return alnum_key(name.split()[-1])


def _inverter_model(name: str) -> str:
    model = name.split(":", 1)[-1]
    model = re.sub(r"\[[^\]]*\]\s*$", "", model)
    return alnum_key(model)


def _cec_csv(stem: str) -> Path:
    import pvlib  # only to locate its data folder; no work at import time

    matches = sorted((Path(pvlib.__file__).parent / "data").glob(f"sam-library-{stem}-*.csv"))
    if not matches:
        raise FileNotFoundError(f"pvlib não traz o arquivo CEC {stem!r}; reinstale pvlib")
    return matches[-1]


def _read_cec(path: Path, keys: tuple[str, ...], model_of) -> tuple[CecEntry, ...]:
    """Rows of a SAM CEC CSV (header, units row, SAM-key row, then data), real names kept.

    Read directly rather than through ``pvlib.pvsystem.retrieve_sam``, which replaces
    spaces and punctuation in names with "_" and so destroys the model codes we match on.
    """
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        next(reader), next(reader)
        out = []
        for row in reader:
            if not row or not row[0]:
                continue
            rec = dict(zip(header, row))
            params = {k: _clean(rec[k]) for k in keys if k in rec and rec[k] != ""}
            out.append(CecEntry(row[0], model_of(row[0]), params))
    return tuple(out)


@lru_cache(maxsize=1)
def cec_tables() -> tuple[tuple[CecEntry, ...], tuple[CecEntry, ...]]:
    """``(modules, inverters)`` from pvlib's CEC files; loaded once per process (~1 s)."""
    return (
        _read_cec(_cec_csv("cec-modules"), _MODULE_KEYS, _module_model),
        _read_cec(_cec_csv("cec-inverters"), _INVERTER_KEYS, _inverter_model),
    )


def _brand_in(brand: str, cec_name: str) -> bool:
    b = fold(brand).split()[0]
    return len(b) >= 3 and b in fold(cec_name)


def _close(a: float | None, b: object, rel: float) -> bool:
    return a is not None and isinstance(b, float) and b > 0 and math.isclose(a, b, rel_tol=rel)


def match_cec_module(manufacturer: str | None, model: str | None, power_w: float | None,
                     modules: tuple[CecEntry, ...]) -> CecEntry | None:
    """The one CEC module row with this manufacturer, model code and STC power (±2 %), or ``None``."""
    if not (manufacturer and model and power_w):
        return None
    key = alnum_key(model)
    hits = [e for e in modules if e.model_key == key and _brand_in(manufacturer, e.name)
            and _close(power_w, e.params.get("STC"), 0.02)]
    return hits[0] if len(hits) == 1 else None


def match_cec_inverter(manufacturer: str | None, model: str | None, power_w: float | None,
                       ac_voltage_v: float | None, inverters: tuple[CecEntry, ...]) -> CecEntry | None:
    """The CEC inverter row with this manufacturer, model code and AC power (±5 %), or ``None``.

    CEC lists one model per US grid voltage; the row whose ``Vac`` is nearest ``ac_voltage_v``
    (240 V when unknown) is taken.
    """
    if not (manufacturer and model and power_w):
        return None
    key = alnum_key(model)
    hits = [e for e in inverters if e.model_key == key and _brand_in(manufacturer, e.name)
            and _close(power_w, e.params.get("Paco"), 0.05)]
    if not hits:
        return None
    return min(hits, key=lambda e: (abs(float(e.params.get("Vac", 0) or 0) - (ac_voltage_v or 240.0)), e.name))


def find_cec_module(product: Product, modules: tuple[CecEntry, ...]) -> CecEntry | None:
    """The CEC module row for a catalog module, or ``None`` (see module doc for the rules)."""
    return match_cec_module(product.manufacturer, product.model, product.power_w, modules)


def find_cec_inverter(product: Product, inverters: tuple[CecEntry, ...]) -> CecEntry | None:
    """The CEC inverter row for a catalog inverter, or ``None`` (:func:`match_cec_inverter`)."""
    ac_v = product.inverter.ac_voltage_v if product.inverter else None
    return match_cec_inverter(product.manufacturer, product.model, product.power_w, ac_v, inverters)


def apply_cec_module(product: Product, entry: CecEntry) -> None:
    """Fill ModuleSpecs from a CEC row. CEC β_Voc/α_Isc are V/°C and A/°C: converted to %/°C."""
    p, m = entry.params, product.module
    assert m is not None
    src = f"cec:{entry.name}"

    def put(field: str, value: float | int | str | None) -> None:
        if value is not None:
            setattr(m, field, value)
            product.spec_sources[field] = src
            product.missing_specs.pop(field, None)

    f = {k: v for k, v in p.items() if isinstance(v, float)}
    put("voc_v", f.get("V_oc_ref"))
    put("isc_a", f.get("I_sc_ref"))
    put("vmp_v", f.get("V_mp_ref"))
    put("imp_a", f.get("I_mp_ref"))
    if f.get("beta_oc") is not None and f.get("V_oc_ref"):
        put("temp_coeff_voc_pct_per_c", round(f["beta_oc"] / f["V_oc_ref"] * 100, 4))
    if f.get("alpha_sc") is not None and f.get("I_sc_ref"):
        put("temp_coeff_isc_pct_per_c", round(f["alpha_sc"] / f["I_sc_ref"] * 100, 4))
    put("temp_coeff_pmax_pct_per_c", f.get("gamma_r"))
    if f.get("Length"):  # metres in the CEC table
        put("length_mm", round(f["Length"] * 1000, 1))
    if f.get("Width"):
        put("width_mm", round(f["Width"] * 1000, 1))
    if f.get("N_s"):
        put("cells", int(f["N_s"]))
    if m.technology is None and isinstance(p.get("Technology"), str):
        put("technology", str(p["Technology"]))
    m.cec = dict(p)
    product.spec_sources["cec"] = src
    product.provenance.append(src)


def apply_cec_inverter(product: Product, entry: CecEntry) -> None:
    """Fill InverterSpecs from a CEC row (Paco, Vdcmax, MPPT window; Idcmax only for 1 MPPT)."""
    p, inv = entry.params, product.inverter
    assert inv is not None
    src = f"cec:{entry.name}"
    f = {k: v for k, v in p.items() if isinstance(v, float)}
    mapping = {"ac_power_w": "Paco", "max_dc_voltage_v": "Vdcmax", "mppt_min_v": "Mppt_low", "mppt_max_v": "Mppt_high"}
    for field, key in mapping.items():
        if f.get(key):
            setattr(inv, field, f[key])
            product.spec_sources[field] = src
            product.missing_specs.pop(field, None)
    # Idcmax is the inverter's total DC input current; it is a per-MPPT limit only when
    # there is a single tracker.
    if f.get("Idcmax") and inv.mppt_count == 1:
        inv.max_input_current_per_mppt_a = f["Idcmax"]
        product.spec_sources["max_input_current_per_mppt_a"] = src
        product.missing_specs.pop("max_input_current_per_mppt_a", None)
    inv.cec = dict(p)
    product.spec_sources["cec"] = src
    product.provenance.append(src)


def enrich_with_cec(products: list[Product]) -> list[str]:
    """Match and fill every module/inverter in place; returns ``"<id> → <CEC name>"`` lines."""
    modules, inverters = cec_tables()
    matches = []
    for p in products:
        entry = None
        if p.module is not None and (entry := find_cec_module(p, modules)):
            apply_cec_module(p, entry)
        elif p.inverter is not None and (entry := find_cec_inverter(p, inverters)):
            apply_cec_inverter(p, entry)
        if entry:
            matches.append(f"{p.id} → {entry.name}")
    return matches
