"""Replays exchanges recorded once from the real B2B starter (77396af on Medusa 2.8.4).

``tests/fixtures/medusa/recorded/`` was written by ``scripts/medusa-core/record_starter.py``
against the starter built from its public source (not kept here): a company requiring admin
approval, a buyer with a spending limit, a draft quote with a note, the starter's bulk route
without ``fields`` (no totals), the cart emptied, approval read through the cart and decided
by an admin user, the merchant's offer from the preview. The region charges a 10 % tax, so
Medusa's total (R$ 22.220,00) differs from Σ price × quantity (R$ 20.200,00).

Here the client talks to a transport that answers each request with the recorded answer for
the same method, path and query, and fails on any request the real server never saw.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from app.commerce.medusa import MedusaCommerce
from app.quotes.models import BuyerIn, CreateQuoteRequest, QuoteItemIn
from app.quotes.service import QuoteService
from app.quotes.store import QuoteRecordStore

RECORDED = Path(__file__).parent / "fixtures" / "medusa" / "recorded"


def _exchanges() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(RECORDED.glob("[0-9]*.json"))]


class Replay(httpx.BaseTransport):
    """Answers from the recording; an unseen request or body is a test failure, not a guess."""

    def __init__(self, exchanges: list[dict]) -> None:
        self.answers: dict[tuple, list[dict]] = defaultdict(list)
        for e in exchanges:
            self.answers[(e["method"], e["path"], e["query"])].append(e)
        self.served: list[tuple] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path, str(request.url.query, "utf-8"))
        queue = self.answers.get(key)
        assert queue, f"the real starter never answered {key}"
        exchange = queue.pop(0) if len(queue) > 1 else queue[0]
        body = json.loads(request.content) if request.content else None
        if not request.url.path.startswith("/auth/"):
            assert body == exchange["request"], f"{key}: body {body} != recorded {exchange['request']}"
        self.served.append(key)
        if exchange["response"] is None:
            return httpx.Response(exchange["status"])
        return httpx.Response(exchange["status"], json=exchange["response"])


@pytest.fixture
def recorded():
    summary = json.loads((RECORDED / "summary.json").read_text())
    exchanges = _exchanges()
    replay = Replay(exchanges)
    medusa = MedusaCommerce("http://starter.test", publishable_key="pk_x", admin_api_key="sk_x",
                            customer_email="servico@helio.test", customer_password="x",
                            admin_email="admin@helio.test", admin_password="x",
                            region_id=_region(exchanges), transport=replay)
    return medusa, replay, exchanges, summary


def _region(exchanges: list[dict]) -> str:
    return next(e for e in exchanges if e["path"] == "/store/carts")["request"]["region_id"]


def _response(exchanges: list[dict], method: str, path_part: str) -> dict:
    return next(e for e in exchanges if e["method"] == method and path_part in e["path"])["response"]


def test_the_draft_quote_total_is_the_one_the_real_starter_computed(recorded, tmp_path):
    medusa, replay, exchanges, summary = recorded
    me = medusa.http.call("GET", "/store/customers/me")["customer"]
    company = medusa.create_company("Solar Triângulo Ltda", "compras@solartri.com.br", requires_admin_approval=True)
    buyer = medusa.create_employee(company.id, me["id"], spending_limit_brl=5_000)
    # the quote's validity is dated from the day of the recording, so the replayed cart body matches on any day
    valid_until = date.fromisoformat(next(e for e in exchanges if e["path"] == "/store/carts")
                                     ["request"]["metadata"]["helio_valid_until"])
    quotes = QuoteService(medusa, QuoteRecordStore(tmp_path / "q.sqlite3"), lambda: None, lambda _: None,
                          validity_days=15, today=lambda: valid_until - timedelta(days=15))
    request = CreateQuoteRequest(items=[QuoteItemIn(sku="mod-550", quantity=16),
                                        QuoteItemIn(sku="inv-10k", quantity=1)],
                                 buyer=BuyerIn(company_id=company.id, employee_id=buyer.id), financing=None,
                                 note="Frete incluso para Uberlândia.")
    quote, created = quotes.create(request, idempotency_key="record-1")
    assert created and quote.id == summary["quote_id"] and quote.status == "pending_merchant"
    assert quote.equipment_total_brl == summary["medusa_cart_total"] == 22_220.0    # Medusa's, with the tax
    assert quote.equipment_total_brl != summary["list_total_brl"]
    assert quote.approval.required and quote.approval.status == "pending"
    assert quote.approval.spending_limit_exceeded_brl == 22_220.0 - 5_000

    bare = medusa.create_cart(company_id=company.id)
    module = medusa.get_variant_by_sku("mod-550")
    plain = medusa.http.call("POST", f"/store/carts/{bare.id}/line-items/bulk",
                             json={"line_items": [{"variant_id": module.id, "quantity": 2}]})
    assert "total" not in plain["cart"]                   # the starter's bulk route, no `fields`: no totals
    medusa.discard_cart(bare.id)

    again = quotes.get(quote.id)
    assert again.approval.status == "pending"            # read through GET /store/carts/{id}?fields=*approvals
    assert again.merchant_offer.total_brl == 22_220.0 and not again.merchant_offer.changed
    decided = quotes.decide_approval(quote.id, approve=True)
    assert decided.approval.status == "approved"
    assert ("GET", "/store/approvals", "") not in replay.served


def test_the_recorded_answers_have_the_shapes_the_fake_serves():
    exchanges = _exchanges()
    assert set(_response(exchanges, "POST", "/admin/companies")) == {"companies"}
    settings = _response(exchanges, "POST", "/approval-settings")["approvalSettings"]
    assert isinstance(settings, list) and {"id", "requires_admin_approval", "requires_sales_manager_approval"} <= \
        set(settings[0])
    approvals = _response(exchanges, "POST", "/approvals")["approvals"]
    assert [a["type"] for a in approvals] == ["admin"] and approvals[0]["status"] == "pending"
    assert "order_preview" in _response(exchanges, "GET", "/preview")["quote"]
    listing = _response(exchanges, "GET", "/admin/approvals")
    assert "carts_with_approvals" in listing and "approvals" not in listing
