"""Issue #15 "must show" on the real catalog, through the API: a slab roof in Salvador within
45 m², and a kit whose electrical check is verified (Salvador) or fails (São Joaquim, −9 °C)
through ``POST /v1/sizing`` and in the proposal PDF."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from app.auth.keys import make_key_store
from app.catalog.models import Category
from app.catalog.store import SQLiteCatalogStore
from app.core.settings import Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory, real_catalog):
    tmp = tmp_path_factory.mktemp("design-catalog")
    store = SQLiteCatalogStore(real_catalog.copy(tmp))  # the app writes datasheet specs into it
    settings = Settings(
        _env_file=None, env="test", var_dir=tmp, catalog={"db_path": store.path, "report_dir": tmp},
        redis={"url": None},
        commerce={"db_path": tmp / "commerce.sqlite3", "quotes_db_path": tmp / "quotes.sqlite3"},
        auth={"db_path": tmp / "auth.sqlite3", "pepper": "test-pepper"},
    )
    with TestClient(create_app(settings)) as client:
        rep = {"Authorization": f"Bearer {make_key_store(settings).create('sales_rep', 'Ana').key}"}
        commerce = client.app.state.commerce
        company = commerce.create_company("Solar Bahia Ltda", "compras@solarbahia.com.br")
        buyer = commerce.create_employee(company.id, "cus_1").id
        yield client, store, rep, company.id, buyer


def test_slab_roof_in_salvador_respects_45_m2_with_a_catalog_slab_structure(env):
    client, store, *_ = env
    # every alternative's lines and area: the full result (the default summary has headlines)
    r = client.post("/v1/sizing?detail=full", json={"site": {"municipality": "Salvador", "uf": "BA"},
                                                    "consumption": {"monthly_kwh": 900}, "connection": "three_phase",
                                                    "roof": {"type": "slab", "area_m2": 45}})
    assert r.status_code == 200, r.text
    body = r.json()
    for d in [body["best"], *body["alternatives"]]:
        assert d["roof_area_used_m2"] <= 45 and d["kit"]["roof_type"] == "slab"
        structure = [x for x in d["lines"] if x["category"] == "structure"]
        assert len(structure) == 1
        product = store.get(structure[0]["product_id"])
        assert product.category is Category.STRUCTURE and product.in_stock
        assert product.structure.roof_type.value == "slab" and structure[0]["unit_price_brl"] == product.price_brl
        assert d["economics"]["equipment_brl"] == pytest.approx(sum(x["total_brl"] for x in d["lines"]))
        assert d["energy"]["annual_kwh"] > 0
    assert any("laje" in a and "fileiras" in a for a in body["assumptions"])


def test_slab_roof_in_salvador_45_m2_cuts_a_system_that_would_not_fit(env):
    """At 1 500 kWh/month the slab's 45 m² binds: the designs stay within it, are smaller than the
    same request without an area limit and fall short of the target, and the assumptions state
    the area and how it was applied (row spacing on a slab). Full detail: it walks every alternative."""
    client, *_ = env
    body = {"site": {"municipality": "Salvador", "uf": "BA"}, "consumption": {"monthly_kwh": 1500},
            "connection": "three_phase", "roof": {"type": "slab", "area_m2": 45}}
    limited = client.post("/v1/sizing?detail=full", json=body)
    free = client.post("/v1/sizing?detail=full", json=body | {"roof": {"type": "slab"}})
    assert limited.status_code == 200 and free.status_code == 200, limited.text
    limited, free = limited.json(), free.json()
    for d in [limited["best"], *limited["alternatives"]]:
        assert d["roof_area_used_m2"] <= 45
    assert free["best"]["roof_area_used_m2"] > 45  # without the limit the best design needs more slab
    assert limited["best"]["dc_kwp"] < free["best"]["dc_kwp"]
    assert limited["best"]["energy"]["annual_kwh"] < limited["consumption"]["target_annual_kwh"]
    assert any(a.startswith("Área útil 45,0 m²") and "fileiras" in a for a in limited["assumptions"])
    # the kits that would have met the target but do not fit are said, not silently dropped
    cut = [a for a in limited["assumptions"] if a.startswith("A área do telhado limitou os kits")]
    assert len(cut) == 1 and cut[0].endswith("não cabem em 45,0 m².")
    assert not any(a.startswith("A área do telhado") for a in free["assumptions"])


def _snp600_kit(store) -> str:
    """An in-stock single-phase Solar N Plus 600 W kit (the module the spec registry holds)."""
    for p in store.iter_products(Category.KIT):
        mods = [c for c in p.components if c.category is Category.MODULE]
        if (p.in_stock and p.price_brl and mods and "SOLAR N PLUS" in mods[0].description.upper()
                and mods[0].power_w == 600):
            return p.id
    raise AssertionError("catalog has no in-stock Solar N Plus 600 W kit")


def _proposal_text(client, rep, company_id, buyer, sizing_id: str, key: str, out: Path | None) -> str:
    quote = client.post("/v1/quotes", headers=rep | {"Idempotency-Key": key}, json={
        "sizing_id": sizing_id, "buyer": {"company_id": company_id, "employee_id": buyer,
                                          "end_customer_name": "Maria Souza"}})
    assert quote.status_code == 201, quote.text
    pdf = client.get(f"/v1/quotes/{quote.json()['id']}/proposal.pdf", headers=rep)
    assert pdf.status_code == 200
    if out is not None:
        out.write_bytes(pdf.content)
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)


def test_a_kit_verified_in_salvador_fails_in_sao_joaquim_api_and_proposal(env, tmp_path):
    client, store, rep, company_id, buyer = env
    kit_id = _snp600_kit(store)
    keep = Path(os.environ["HELIO_PROPOSAL_DIR"]) if os.environ.get("HELIO_PROPOSAL_DIR") else None
    results = {}
    for city, uf in (("Salvador", "BA"), ("São Joaquim", "SC")):
        r = client.post("/v1/sizing", json={"site": {"municipality": city, "uf": uf},
                                            "consumption": {"monthly_kwh": 400}, "connection": "single_phase",
                                            "kit_id": kit_id})
        assert r.status_code == 200, r.text
        results[city] = r.json()
        assert results[city]["mode"] == "fixed_kit" and results[city]["best"]["kit"]["product_id"] == kit_id
    ok, bad = results["Salvador"]["best"], results["São Joaquim"]["best"]
    assert ok["string_check"] == "verified" and all(c["ok"] for c in ok["electrical_checks"])
    assert any("SP-N16/156HG600W" in s for s in ok["spec_sources"])
    assert bad["string_check"] == "fails"
    assert "Voc" in bad["string_check_reason"] and "60,0 V" in bad["string_check_reason"]
    text_ok = _proposal_text(client, rep, company_id, buyer, results["Salvador"]["sizing_id"], "ssa-1",
                             keep / "verified.pdf" if keep else None)
    text_bad = _proposal_text(client, rep, company_id, buyer, results["São Joaquim"]["sizing_id"], "sjq-1",
                              keep / "fails.pdf" if keep else None)
    assert "verificada" in text_ok and "REPROVADA" not in text_ok
    assert "REPROVADA" in text_bad and "Voc" in text_bad


def test_every_in_stock_kit_is_checked_or_names_the_missing_spec(env):
    """Coverage of the spec registry over the real catalog's kits (issue goal: ≥ 80 % verified).

    Measured 2026-12-02 at Uberlândia's design minimum (4,2 °C): 118 of 237 usable in-stock
    kits verified (49,8 %); the rest lack Solar N Plus 570 W or Tsuness TSOL-MX3000D specs.
    The floor below guards that figure; raising it needs those two datasheets imported.
    """
    from app.sizing import design
    from app.sizing import kits
    from app.sizing.engine import _kit_check

    client, store, *_ = env
    registry = client.app.state.specs
    products = list(store.iter_products())
    by_id = {p.id: p for p in products}
    statuses = []
    for p in products:
        if p.category is not Category.KIT or not p.in_stock:
            continue
        k = kits.kit_electrical(p, by_id, registry)
        if isinstance(k, design.Skipped):
            continue
        check = _kit_check(k, registry, 4.2, by_id)
        statuses.append(check.status)
        if check.status == "not_verifiable":
            assert "faltam" in check.reason and ("do módulo" in check.reason or "inversor" in check.reason)
        if check.status == "fails":
            assert check.reason.startswith("falha")
    assert len(statuses) > 200
    assert statuses.count("verified") / len(statuses) >= 0.45
