"""Designs integrators ask for, on small hand-built catalogs: fixed size or kit, several roof
faces, shading, the roof area always constraining, slab/ground with a catalog structure
swapped in, minigeração above 75 kW, and out-of-range numbers as 422 naming the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.catalog.models import Category, Phase, Product, RoofType, StructureSpecs
from app.catalog.store import SQLiteCatalogStore
from app.core.errors import InvalidInput
from app.core.settings import CatalogSettings, RedisSettings, Settings
from app.main import create_app
from app.sizing.engine import size_system
from app.sizing.models import ConsumptionInput, RoofFace, RoofInput, SiteInput, SizingRequest
from test_sizing_kits import MICRO, kit

SLAB_STRUCTURE = Product(id="laje-2", category=Category.STRUCTURE, name="ESTRUTURA DE LAJE PARA 2 MODULOS - 2P",
                         price_brl=262.86, in_stock=True,
                         structure=StructureSpecs(roof_type=RoofType.SLAB, modules_supported=2))


def catalog() -> list[Product]:
    return [kit("k4", 4, 600, [(MICRO, 1, 2250)], 4000.0), kit("k8", 8, 600, [(MICRO, 2, 2250)], 7500.0),
            kit("k12", 12, 600, [(MICRO, 3, 2250)], 10800.0), SLAB_STRUCTURE]


def req(**kw) -> SizingRequest:
    base = dict(site=SiteInput(municipality="Salvador", uf="BA"), consumption=ConsumptionInput(monthly_kwh=500),
                connection=Phase.SINGLE)
    base.update(kw)
    return SizingRequest(**base)


def test_fixed_size_simulates_that_size_with_savings_and_payback():
    r = size_system(req(system_kwp=7.2), catalog())
    assert r.mode == "fixed_size" and r.best.dc_kwp == pytest.approx(7.2)
    assert r.best.energy.annual_kwh > 0 and r.best.economics.simple_payback_years is not None
    small = size_system(req(system_kwp=2.4), catalog())
    assert small.best.dc_kwp == pytest.approx(2.4)  # not the target-sized kit
    assert any("tamanho pedido 2,4 kWp" in a for a in small.assumptions)


def test_a_named_kit_is_simulated_and_an_unknown_one_is_a_422_naming_kit_id():
    r = size_system(req(kit_id="k4"), catalog())
    assert r.mode == "fixed_kit" and r.best.kit.product_id == "k4" and r.best.kit.quantity == 1
    two = size_system(req(kit_id="k4", system_kwp=4.8), catalog())
    assert two.best.kit.quantity == 2
    with pytest.raises(InvalidInput, match="kit_id") as exc:
        size_system(req(kit_id="nao-existe"), catalog())
    assert exc.value.details["field"] == "kit_id"


def test_east_west_faces_share_the_array_and_yield_less_than_north():
    north = size_system(req(kit_id="k8"), catalog()).best.energy.annual_kwh
    ew = size_system(req(kit_id="k8", roof=RoofInput(faces=(RoofFace(tilt_deg=15, azimuth_deg=90, area_m2=15),
                                                            RoofFace(tilt_deg=15, azimuth_deg=270, area_m2=15)))),
                     catalog())
    assert 0.80 * north < ew.best.energy.annual_kwh < north
    assert any("face 1" in a and "face 2" in a and "50 %" in a for a in ew.assumptions)
    # the faces' areas constrain the design: 30 m² hold 8 modules of 3,0 m² but not 12
    assert ew.best.roof_area_used_m2 <= 30


def test_shading_percentage_lowers_generation_in_proportion():
    clear = size_system(req(kit_id="k8"), catalog()).best
    shaded = size_system(req(kit_id="k8", roof=RoofInput(shading_pct=10)), catalog()).best
    assert shaded.energy.annual_kwh == pytest.approx(0.90 * clear.energy.annual_kwh, rel=0.01)
    assert shaded.energy.losses_pct["shading_pct"] == 10


def test_roof_area_always_constrains_with_derived_module_area():
    # the kits' module line gives no efficiency: 600 W / (20 % · 1000 W/m²) = 3,0 m² per module;
    # 8 m² hold 2 modules, not the smallest (4-module) kit
    with pytest.raises(InvalidInput) as exc:
        size_system(req(roof=RoofInput(area_m2=8)), catalog())
    assert exc.value.details["field"] == "roof.area_m2" and "12,0 m²" in exc.value.hint
    r = size_system(req(roof=RoofInput(area_m2=24)), catalog())
    assert r.best.area_check == "estimated" and r.best.roof_area_used_m2 <= 24
    assert r.best.kit.product_id == "k8"  # 12 × 3,0 m² would not fit


def test_slab_roof_gets_the_catalog_slab_structure_swapped_in_and_priced():
    r = size_system(req(roof=RoofInput(type=RoofType.SLAB, area_m2=45)), catalog())
    best = r.best
    assert best.kit.roof_type == "slab"
    structure = [x for x in best.lines if x.category == "structure"]
    assert [(x.product_id, x.quantity, x.unit_price_brl) for x in structure] == [
        ("laje-2", best.module.quantity // 2, 262.86)]
    assert best.economics.equipment_brl == pytest.approx(sum(x.total_brl for x in best.lines))
    assert any(x.product_id == "laje-2" for x in best.kit.bill_of_materials)
    assert best.roof_area_used_m2 <= 45 and any("fileiras" in a for a in r.assumptions)
    # with no slab structure in the catalog, the answer says why there is no design
    with pytest.raises(InvalidInput, match="outro tipo de telhado"):
        size_system(req(roof=RoofInput(type=RoofType.SLAB)), catalog()[:-1])


def test_above_75_kw_is_minigeracao_said_plainly_with_many_kits():
    r = size_system(req(consumption=ConsumptionInput(monthly_kwh=15000), connection=Phase.TWO), catalog())
    assert r.generation_class == "minigeracao" and r.best.kit.quantity > 4
    assert r.best.energy.annual_kwh >= 0.97 * r.consumption.target_annual_kwh
    assert "minigeração" in r.warnings[0] and "engenheiro" in r.warnings[0]
    assert size_system(req(), catalog()).generation_class == "microgeracao"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    path = tmp_path_factory.mktemp("cat") / "catalog.sqlite3"
    SQLiteCatalogStore(path).replace_all(catalog())
    settings = Settings(_env_file=None, catalog=CatalogSettings(db_path=path, report_dir=path.parent),
                        redis=RedisSettings(url=None))
    with TestClient(create_app(settings)) as c:
        yield c


BODY = {"site": {"municipality": "Salvador", "uf": "BA"}, "connection": "single_phase"}


@pytest.mark.slow  # the app's startup (~20 s here), not the check
@pytest.mark.parametrize("consumption, field", [
    ({"monthly_kwh": 1e308}, "consumption.monthly_kwh"),
    ({"monthly_kwh": 10_000_000}, "consumption.monthly_kwh"),
    ({"monthly_kwh": [1e308] * 12}, "consumption.monthly_kwh"),
    ({"bill_brl": 1e308, "tariff_brl_per_kwh": 0.9}, "consumption.bill_brl"),
])
def test_out_of_range_numbers_are_422_naming_the_field(client, consumption, field):
    r = client.post("/v1/sizing", json={**BODY, "consumption": consumption})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["fields"][0]["field"] == field and "menor ou igual" in err["message"]


@pytest.mark.slow
def test_consumption_beyond_distributed_generation_is_422_not_a_silly_design(client):
    r = client.post("/v1/sizing", json={**BODY, "consumption": {"monthly_kwh": 900_000}})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "consumption" and "3 MW" in r.json()["error"]["message"]
    for extra in ({"system_kwp": 1e308}, {"roof": {"area_m2": 1e308}}, {"roof": {"shading_pct": 120}}):
        bad = client.post("/v1/sizing", json={**BODY, "consumption": {"monthly_kwh": 500}, **extra})
        assert bad.status_code == 422, bad.text


def test_the_assistant_tool_passes_the_new_fields_to_the_engine():
    from app.agent.ports import sizing_request_payload

    payload = sizing_request_payload({
        "monthly_kwh": 500, "municipality": "Salvador", "uf": "BA", "connection": "single_phase", "kit_id": "k8",
        "roof_type": "slab", "shading_pct": 5, "roof_faces": [{"tilt_deg": 10, "azimuth_deg": 90, "area_m2": 30}]})
    r = size_system(SizingRequest.model_validate(payload), catalog())
    assert r.mode == "fixed_kit" and r.best.kit.product_id == "k8" and r.best.kit.roof_type == "slab"
    assert r.best.energy.losses_pct["shading_pct"] == 5


def test_how_much_a_size_generates_needs_no_consumption_and_says_what_it_assumed():
    # "Quanto gera 7,2 kWp aqui?" (#17): no consumption given; savings assume it uses what it makes.
    r = size_system(req(system_kwp=7.2, consumption=ConsumptionInput()), catalog())
    assert r.mode == "fixed_size" and r.best.dc_kwp == pytest.approx(7.2) and r.best.energy.annual_kwh > 0
    assumed = [a for a in r.assumptions if a.startswith("Consumo não informado")]
    assert assumed and r.consumption.annual_kwh > r.best.energy.annual_kwh * 0.8
    with pytest.raises(InvalidInput, match="Consumo não informado"):
        size_system(req(consumption=ConsumptionInput()), catalog())  # sizing to a target still needs one


def test_the_assistant_tool_passes_budget_coverage_distributor_and_plane():
    from app.agent.ports import sizing_request_payload

    payload = sizing_request_payload({
        "monthly_kwh": 500, "municipality": "Salvador", "uf": "BA", "connection": "single_phase",
        "budget_brl": 20000, "target_offset_pct": 80, "distributor": "Neoenergia Coelba", "tilt_deg": 12, "azimuth_deg": 90})
    request = SizingRequest.model_validate(payload)
    assert (request.preferences.budget_brl, request.preferences.target_offset_pct) == (20000, 80)
    assert (request.tariff.distributor, request.roof.tilt_deg, request.roof.azimuth_deg) == ("Neoenergia Coelba", 12, 90)
    r = size_system(request, catalog())
    assert r.tilt_deg == 12 and r.azimuth_deg == 90 and r.best.economics.capex_brl <= 20000
    assert any("Neoenergia Coelba" in a for a in r.assumptions)
