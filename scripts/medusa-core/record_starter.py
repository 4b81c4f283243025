"""Drive Hélio's Medusa client through a running B2B starter and record the real exchanges.

Usage (a starter you built yourself from ``medusajs/b2b-starter-medusa`` — never committed here —
with an admin user ``MEDUSA_ADMIN_EMAIL``/``MEDUSA_ADMIN_PASSWORD``)::

    python scripts/medusa-core/record_starter.py http://127.0.0.1:9300 tests/fixtures/medusa/recorded

Seeds it through the admin API (as ``test_medusa_core.py`` does), then runs the sales rep's
flow with :class:`~app.quotes.service.QuoteService`: a company requiring admin approval, a
buyer with a spending limit, a draft quote, approval read through the cart and decided, the
merchant's offer from the preview. Writes one JSON file per exchange (credentials masked) and
``summary.json`` with the figures (the quote's total against Medusa's own cart total).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_medusa_core import CUSTOMER, _ok, _seed  # noqa: E402

from app.commerce.medusa import MedusaCommerce  # noqa: E402
from app.quotes.models import BuyerIn, CreateQuoteRequest, QuoteItemIn  # noqa: E402
from app.quotes.service import QuoteService  # noqa: E402
from app.quotes.store import QuoteRecordStore  # noqa: E402

_SECRET = re.compile(r"(eyJ[\w-]+\.[\w-]+\.[\w-]+|sk_[0-9a-f]{20,}|pk_[0-9a-f]{20,})")


def _mask(value):
    return json.loads(_SECRET.sub("<masked>", json.dumps(value)))


def main(url: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    env = {"MEDUSA_URL": url, "MEDUSA_ADMIN_EMAIL": os.environ.get("MEDUSA_ADMIN_EMAIL", "admin@helio.test"),
           "MEDUSA_ADMIN_PASSWORD": os.environ.get("MEDUSA_ADMIN_PASSWORD", "helio-core-admin")}
    seeded = Path(os.environ.get("RECORD_SEED", "/tmp/helio-starter-seed.json"))  # seeded once; keys stay out
    seed = json.loads(seeded.read_text()) if seeded.exists() else _seed(env)
    seeded.write_text(json.dumps(seed))
    exchanges: list[dict] = []

    def record(response: httpx.Response) -> None:
        response.read()
        request = response.request
        try:
            body = json.loads(request.content) if request.content else None
        except ValueError:
            body = None
        exchanges.append({"method": request.method, "path": request.url.path, "query": str(request.url.query,
                                                                                            "utf-8"),
                          "request": body, "status": response.status_code,
                          "response": response.json() if response.content.strip() else None})

    medusa = MedusaCommerce(url, publishable_key=seed["publishable_key"], admin_api_key=seed["secret_key"],
                            customer_email=CUSTOMER[0], customer_password=CUSTOMER[1],
                            admin_email=env["MEDUSA_ADMIN_EMAIL"], admin_password=env["MEDUSA_ADMIN_PASSWORD"],
                            region_id=seed["region_id"], timeout_s=60)
    medusa.http.client.event_hooks["response"] = [record]
    me = medusa.http.call("GET", "/store/customers/me")["customer"]
    company = medusa.create_company("Solar Triângulo Ltda", "compras@solartri.com.br", requires_admin_approval=True)
    buyer = medusa.create_employee(company.id, me["id"], spending_limit_brl=5_000)
    quotes = QuoteService(medusa, QuoteRecordStore(out / "quotes.sqlite3"), lambda: None, lambda _: None)
    request = CreateQuoteRequest(items=[QuoteItemIn(sku="mod-550", quantity=16), QuoteItemIn(sku="inv-10k", quantity=1)],
                                 buyer=BuyerIn(company_id=company.id, employee_id=buyer.id), financing=None,
                                 note="Frete incluso para Uberlândia.")
    quote, _ = quotes.create(request, idempotency_key="record-1")
    medusa_cart = _ok(httpx.get(f"{url}/store/carts/{quote.cart_id}", params={"fields": "+total"},
                                headers={"x-publishable-api-key": seed["publishable_key"]}))["cart"]
    # the starter's bulk route without `fields`: no totals (what made Σ price × quantity the old total)
    bare = medusa.create_cart(company_id=company.id)
    module = medusa.get_variant_by_sku("mod-550")
    medusa.http.call("POST", f"/store/carts/{bare.id}/line-items/bulk",
                     json={"line_items": [{"variant_id": module.id, "quantity": 2}]})
    medusa.discard_cart(bare.id)
    again = quotes.get(quote.id)
    decided = quotes.decide_approval(quote.id, approve=True)
    summary = {"quote_id": quote.id, "status": quote.status, "equipment_total_brl": quote.equipment_total_brl,
               "medusa_cart_total": medusa_cart["total"], "list_total_brl": 16 * 650.0 + 9_800.0,
               "approval": decided.approval.model_dump(), "approval_read_back": again.approval.status,
               "merchant_offer": again.merchant_offer.model_dump() if again.merchant_offer else None,
               "warnings": quote.warnings}
    (out / "quotes.sqlite3").unlink(missing_ok=True)
    for i, exchange in enumerate(exchanges):
        name = re.sub(r"[^a-z0-9]+", "-", f"{exchange['method']} {exchange['path']}".lower()).strip("-")
        name = re.sub(r"-(cart|comp|emp|appr|quo|apprset|mess|cus)-[0-9a-z]+", r"-\1", name)
        (out / f"{i:02d}-{name}.json").write_text(json.dumps(_mask(exchange), indent=1, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(_mask(summary), indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(summary, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
