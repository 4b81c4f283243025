"""Electrical checks of catalog kits from the spec registry: verified, fails (and why), or the
missing spec named. Hand-built kits with the catalog's real BOM descriptions; real registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.catalog.models import Category, KitComponent, Offer, Phase, Product, RoofType, StructureSpecs
from app.sizing.engine import size_system
from app.sizing.kitcheck import check_kit
from app.sizing.kits import kit_electrical
from app.sizing.models import ConsumptionInput, SiteInput, SizingRequest
from app.specs.registry import SpecRegistry, load_seed

ROOT = Path(__file__).resolve().parents[1]
SNP600 = "SOLAR N PLUS | 600W N-TYPE BIFACIAL DG (21,9% EF.) | 78 CELLS | FRAME DE FIBRA DE VIDRO"
SNP570 = "SOLAR N PLUS | 570W N-TYPE BIFACIAL DG (22,1% EF.) | FRAME DE FIBRA DE VIDRO"
DEYE = "MICROINVERSOR DEYE 2.25KW (SUN-M225G4-EU-Q0-I) MONOFÁSICO 220V (4 MLPE)"
BYD340 = "MODULO BYD BYD340PIK-36 340W"
GOODWE5 = "INVERSOR GOODWE GW5000-MS 5KW MONOFASICO 220V (3 MPPT)"


@pytest.fixture(scope="module")
def registry() -> SpecRegistry:
    return SpecRegistry(load_seed(ROOT / "data" / "specs"))


def kit(pid: str, module: str, module_w: float, n_modules: int, inverter: str, inverter_w: float, n_inv: int,
        price: float = 5000.0, maker: str = "Solar N Plus", inv_maker: str = "Deye") -> Product:
    comps = [KitComponent(category=Category.MODULE, description=module, manufacturer=maker, quantity=n_modules,
                          power_w=module_w),
             KitComponent(category=Category.INVERTER, description=inverter, manufacturer=inv_maker, quantity=n_inv,
                          power_w=inverter_w)]
    return Product(id=pid, category=Category.KIT, name=f"Kit {pid}", power_w=n_modules * module_w,
                   phase=Phase.SINGLE, price_brl=price, in_stock=True, components=comps,
                   structure=StructureSpecs(roof_type=RoofType.CERAMIC),
                   offers=[Offer(distributor="FOTUS", source_id=pid, price_brl=price, available=True)])


def _check(k: Product, registry, min_temp_c: float):
    e = kit_electrical(k, {}, registry)
    return check_kit(e.module_spec, e.inverter_spec, e.micro, e.n_modules, sum(c.quantity for c in e.inverters),
                     min_temp_c, "mód", "inv", e.module_why, e.inverter_why, e.distributor)


def test_micro_kit_is_verified_on_a_warm_site_and_fails_on_a_cold_one(registry):
    k = kit("snp600", SNP600, 600, 8, DEYE, 2250, 2)
    warm = _check(k, registry, min_temp_c=10.0)
    assert warm.status == "verified", warm.reason
    # Voc 55,85 V × (1 + 0,35 % × 15) = 58,8 V ≤ 60 V; limits and sources are part of the answer
    voc = warm.lines[0]
    assert voc.limit == 60 and voc.value == pytest.approx(55.85 * (1 + 0.0035 * 15), abs=0.01)
    assert any("SP-N16/156HG600W" in s for s in warm.sources) and any("Deye" in s for s in warm.sources)
    assert any("β_Voc" in n and "conservador" in n for n in warm.notes)
    cold = _check(k, registry, min_temp_c=-9.0)  # 55,85 × (1 + 0,35 % × 34) = 62,5 V > 60 V
    assert cold.status == "fails" and "Voc" in cold.reason and "62,5" in cold.reason and "60,0" in cold.reason


def test_more_modules_than_micro_inputs_fails(registry):
    assert "entradas" in _check(kit("k", SNP600, 600, 9, DEYE, 2250, 2), registry, 10.0).reason


def test_missing_module_specs_are_named(registry):
    chk = _check(kit("snp570", SNP570, 570, 8, DEYE, 2250, 2), registry, 10.0)
    assert chk.status == "not_verifiable"
    assert "Voc/Vmp/Imp do módulo" in chk.reason and "registro" in chk.reason and "FOTUS" in chk.reason


def test_string_kit_from_compilation_specs(registry):
    # BYD340PIK-36 (Voc 45,69 V, Isc 9,31 A, β −0,285 %/°C) on a GoodWe GW5000-MS (600 V, MPPT 80–550 V, 12,5 A/MPPT)
    ok = _check(kit("s10", BYD340, 340, 10, GOODWE5, 5000, 1, maker="BYD", inv_maker="GoodWe"), registry, 0.0)
    assert ok.status == "verified", ok.reason
    # 13 in series: 13 × 45,69 × (1 + 0,285 % × 25) = 636 V > 600 V
    bad = _check(kit("s13", BYD340, 340, 13, GOODWE5, 5000, 1, maker="BYD", inv_maker="GoodWe"), registry, 0.0)
    assert bad.status == "fails" and "Voc" in bad.reason and "600" in bad.reason


def test_sizing_shows_the_check_and_prefers_a_verified_kit(registry):
    unverified = kit("snp570", SNP570, 570, 6, DEYE, 2250, 2, price=4900.0)
    verified = kit("snp600", SNP600, 600, 6, DEYE, 2250, 2, price=5000.0)
    req = SizingRequest(site=SiteInput(municipality="Salvador", uf="BA"), consumption=ConsumptionInput(monthly_kwh=350),
                        connection=Phase.SINGLE)
    r = size_system(req, [unverified, verified], specs=registry)
    assert r.best.kit.product_id == "snp600" and r.best.string_check == "verified"
    assert r.best.electrical_checks and all(c.ok for c in r.best.electrical_checks) and r.best.spec_sources
    other = r.alternatives[0]
    assert other.string_check == "not_verifiable" and "Solar N Plus 570" in other.string_check_reason
    cold = size_system(req.model_copy(update={"site": SiteInput(municipality="São Joaquim", uf="SC")}), [verified],
                       specs=registry)
    assert cold.best.string_check == "fails"
    assert any("reprovada" in w for w in cold.warnings)
