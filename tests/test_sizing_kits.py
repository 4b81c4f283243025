"""Kit candidates on small hand-built catalogs: eligibility, N × kit, ranking with components."""

from __future__ import annotations

import numpy as np
import pytest

from app.catalog.models import Category, KitComponent, Offer, Phase, Product, RoofType, StructureSpecs
from app.core.errors import InvalidInput
from app.sizing.engine import size_system
from app.sizing.kits import ac_per_w_ac, kit_electrical, select_kits, string_check_reason
from app.proposal.premises import customer_premises
from app.sizing.models import ConsumptionInput, Preferences, RoofInput, SiteInput, SizingRequest
from app.sizing.simulation import inverter_pvwatts
from test_sizing_engine import stock


def kit(pid: str, n_modules: int, module_w: float, inverters: list[tuple[str, int, float | None]], price: float,
        roof: RoofType | None = RoofType.CERAMIC, phase: Phase | None = Phase.SINGLE, name: str | None = None,
        in_stock: bool = True) -> Product:
    comps = [KitComponent(category=Category.MODULE, description=f"ASTRONERGY | {module_w:g}W N-TYPE",
                          manufacturer="Astronergy", quantity=n_modules, power_w=module_w)]
    comps += [KitComponent(category=Category.INVERTER, description=desc, manufacturer=desc.split()[1].title(),
                           quantity=q, power_w=w) for desc, q, w in inverters]
    return Product(id=pid, category=Category.KIT, name=name or f"Kit {pid}", power_w=n_modules * module_w,
                   phase=phase, price_brl=price, in_stock=in_stock, components=comps,
                   structure=StructureSpecs(roof_type=roof) if roof else None,
                   offers=[Offer(distributor="FOTUS", source_id=pid, price_brl=price, available=in_stock)])


MICRO = "MICROINVERSOR DEYE 2.25KW (SUN-M225G4-EU-Q0-I) MONOFÁSICO 220V (4 MLPE)"
STRING_3F = "INVERSOR SOLIS 5KW (S6-GR3P5K) TRIFÁSICO 380V (2 MPPT)"


def request(**kw) -> SizingRequest:
    base = dict(site=SiteInput(municipality="Uberlândia", uf="MG"), consumption=ConsumptionInput(monthly_kwh=650),
                connection=Phase.THREE)
    base.update(kw)
    return SizingRequest(**base)


def test_ac_rows_scale_exactly_to_any_kit_size():
    rng = np.random.default_rng(1)
    dc_per_w = np.clip(rng.normal(0.4, 0.4, 8760), 0, 1.1)
    keep, ratios = 0.886, np.array([0.9, 1.2, 1.45])
    rows = ac_per_w_ac(dc_per_w, ratios, keep)
    for ratio, row in zip(ratios, rows, strict=True):
        for ac_w in (2250.0, 9000.0):
            direct = np.clip(inverter_pvwatts(dc_per_w * keep * ratio * ac_w, ac_w, 0.96), 0, None)
            np.testing.assert_allclose(ac_w * row, direct, rtol=1e-12, atol=1e-9)
    assert rows[2].max() == pytest.approx(1.0)  # 1.45 clips at the AC rating


@pytest.mark.parametrize("product, reason", [
    (kit("og", 4, 550, [(MICRO, 1, 2250)], 3000, name="Kit Energia Solar Off Grid - 340Wp 105Ah/24V"), "off-grid"),
    (Product(id="nobom", category=Category.KIT, name="Kit 5 kWp", price_brl=9000, in_stock=True), "lista de materiais"),
    (kit("nopow", 8, 600, [("INVERSOR GOODWE GW6KW (DNS-G40) MONOFASICO 220V", 1, None)], 7000), "potência CA"),
    (kit("nophase", 8, 600, [("1x DEYE 2.25kW (SUN-M225G4-EU-Q0-I)", 2, 2250)], 7000, phase=None), "fase"),
])
def test_unusable_kits_are_skipped_with_the_reason(product, reason):
    out = kit_electrical(product, {})
    assert reason in out.reason


def test_fixing_kit_lines_filed_as_inverter_are_not_inverters():
    k = kit("k", 8, 600, [(MICRO, 2, 2250), ("KIT FIXAÇÃO P/ MICROINVERSOR | CCM", 2, None)], 6000)
    e = kit_electrical(k, {})
    assert e.ac_w == 4500 and e.micro and e.n_modules == 8 and e.dc_w == 4800
    reason = string_check_reason(e, {})
    assert "microinversor" in reason and "Voc" in reason


def test_three_phase_kit_does_not_serve_a_single_phase_connection_and_roof_must_match():
    kits = [kit("tri", 10, 550, [(STRING_3F, 1, 5000)], 9000, phase=Phase.THREE),
            kit("metal", 8, 600, [(MICRO, 2, 2250)], 6000, roof=RoofType.METAL),
            kit("ok", 8, 600, [(MICRO, 2, 2250)], 6000),
            kit("no-roof", 8, 600, [(MICRO, 2, 2250)], 6100, roof=None)]
    sel = select_kits(kits, Phase.SINGLE, RoofType.CERAMIC, 1.3, {})
    assert [k.product.id for k in sel.eligible] == ["ok", "no-roof"]
    assert sum(sel.excluded.values()) == 2


def test_kit_too_small_is_repeated_and_said_so():
    small = kit("small", 2, 570, [(MICRO, 1, 2250)], 2500)
    r = size_system(request(), [small])
    assert r.best.kind == "kit" and r.best.kit.quantity > 1
    assert r.best.lines[0].quantity == r.best.kit.quantity
    assert r.best.energy.annual_kwh >= 0.97 * r.consumption.target_annual_kwh
    assert any("kits iguais" in n for n in r.best.notes)


def test_a_roof_area_that_keeps_the_kits_meeting_the_target_out_is_said_to_the_user():
    big = kit("big", 12, 600, [(MICRO, 3, 2250)], 9000)  # ≈ 36 m² at the derived 3 m² per 600 W module
    small = kit("small", 4, 600, [(MICRO, 1, 2250)], 3500)  # ≈ 12 m²; two of them (24 m²) would meet the target
    free = size_system(request(), [big, small])
    assert free.best.energy.annual_kwh >= 0.97 * free.consumption.target_annual_kwh
    assert not any(a.startswith("A área do telhado") for a in free.assumptions)

    r = size_system(request(roof=RoofInput(area_m2=15)), [big, small])
    assert r.best.kit.product_id == "small" and r.best.kit.quantity == 1
    assert r.best.energy.annual_kwh < 0.97 * r.consumption.target_annual_kwh
    said = [a for a in r.assumptions if a.startswith("A área do telhado")]
    assert said == ["A área do telhado limitou os kits: 2 kits do catálogo atenderiam à meta, mas não cabem em "
                    "15,0 m²."]
    assert said[0] in customer_premises(r)  # the proposal PDF's "Premissas"


def test_a_fixed_size_that_no_fitting_kit_reaches_says_the_area_limited_it():
    big = kit("big", 12, 600, [(MICRO, 3, 2250)], 9000)  # 7,2 kWp, ≈ 36 m²
    small = kit("small", 4, 600, [(MICRO, 1, 2250)], 3500)  # 3 × = 7,2 kWp, ≈ 36 m²
    odd = kit("odd", 5, 600, [(MICRO, 2, 2250)], 4500)  # 2 × = 6,0 kWp (17 % off the size asked), ≈ 30 m²
    r = size_system(request(system_kwp=7.2, roof=RoofInput(area_m2=30)), [big, small, odd])
    assert r.best.kit.product_id == "odd" and r.best.dc_kwp == pytest.approx(6.0)
    assert [a for a in r.assumptions if a.startswith("A área do telhado")] == [
        "A área do telhado limitou os kits: 2 kits do catálogo teriam o tamanho pedido, mas não cabem em 30,0 m²."]
    # a kit that fits and is within 10 % of the size asked: the area did not limit the answer, nothing to say
    eleven = kit("eleven", 11, 600, [(MICRO, 3, 2250)], 8500)  # 6,6 kWp (8 % off), ≈ 33 m²
    r = size_system(request(system_kwp=7.2, roof=RoofInput(area_m2=34)), [big, small, odd, eleven])
    assert r.best.kit.product_id == "eleven"
    assert not any(a.startswith("A área do telhado") for a in r.assumptions)
    free = size_system(request(system_kwp=7.2), [big, small, odd])
    assert free.best.dc_kwp == pytest.approx(7.2)
    assert not any(a.startswith("A área do telhado") for a in free.assumptions)


def test_kit_with_no_roof_type_says_structure_not_informed():
    r = size_system(request(), [kit("nr", 8, 600, [(MICRO, 2, 2250)], 6000, roof=None)])
    assert any("estrutura não informada" in n for n in r.best.notes)


def test_verified_components_rank_first_and_a_kit_takes_the_last_place():
    k = kit("cheap-kit", 8, 600, [(MICRO, 2, 2250)], 1000)  # cheaper than any component design
    r = size_system(request(), [*stock(), k])
    assert r.best.kind == "components" and r.best.string_check == "verified"
    assert r.alternatives[-1].kind == "kit" and r.alternatives[-1].kit.product_id == "cheap-kit"
    assert r.usable_kits == 1


def test_pinned_equipment_leaves_kits_out():
    k = kit("k", 8, 600, [(MICRO, 2, 2250)], 1000)
    r = size_system(request(preferences=Preferences(inverter_id="ABB__PVI_6000_OUTD_US__240V_")), [*stock(), k])
    assert all(d.kind == "components" for d in [r.best, *r.alternatives])


def test_nothing_usable_names_the_skipped_kits():
    with pytest.raises(InvalidInput, match="Nenhum módulo") as exc:
        size_system(request(), [kit("og", 4, 550, [(MICRO, 1, 2250)], 3000, name="Kit Off Grid 1")])
    assert "off-grid" in exc.value.hint
