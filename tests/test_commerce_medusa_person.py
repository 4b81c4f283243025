"""A quote for a person (pessoa física) on the Medusa backend, against the starter fake's core
customer routes (``GET``/``POST /admin/customers``, written from ``@medusajs/medusa`` 2.8.4's
validators, route and query config and the customer module's model): the customer is looked up
by CPF (``metadata.cpf``) or e-mail and created only when none matches, and the quote's cart
carries no company, only ``metadata.helio_customer_id``."""

from __future__ import annotations

import pytest
from test_commerce_medusa_contract import ITEMS, PRODUCTS, client, service, starter

from app.core.errors import Conflict
from app.quotes.models import BuyerIn, CreateQuoteRequest

MARIA = {"name": "Maria Souza", "cpf": "529.982.247-25", "email": "maria@exemplo.com.br"}


@pytest.fixture
def fake():
    with starter.StarterFake(PRODUCTS) as f:
        yield f


def _calls(fake, method: str, path: str) -> list[dict]:
    return [r for m, p, r in fake.state.requests if m == method and p == path]


def test_customers_are_created_with_the_cpf_in_metadata_and_found_by_it(fake):
    medusa = client(fake.url)
    maria = medusa.create_customer("Maria Souza", "52998224725", "Maria@Exemplo.com.br", "31987654321")
    assert maria.id.startswith("cus_") and maria.name == "Maria Souza" and maria.cpf == "52998224725"
    body = _calls(fake, "POST", "/admin/customers")[0]["body"]
    assert body == {"first_name": "Maria", "last_name": "Souza", "email": "maria@exemplo.com.br",
                    "phone": "31987654321", "metadata": {"cpf": "52998224725"}}
    assert medusa.find_customer("Maria Souza", "529.982.247-25").id == maria.id
    assert medusa.find_customer("Maria de Souza", "52998224725").id == maria.id   # q is the surname
    assert medusa.find_customer("Outra Pessoa", None, "maria@exemplo.com.br").id == maria.id
    assert medusa.find_customer("Maria Souza", "11144477735") is None
    query = _calls(fake, "GET", "/admin/customers")[0]["query"]
    assert query["q"] == ["Souza"] and "metadata" in query["fields"][0]
    with pytest.raises(Conflict, match="already exists"):  # one admin-made customer per e-mail
        medusa.create_customer("Maria S.", None, "maria@exemplo.com.br")


def test_a_quote_for_a_person_has_no_company_and_reuses_her_record(fake, tmp_path):
    quotes = service(client(fake.url), tmp_path)
    request = CreateQuoteRequest(items=ITEMS, buyer=BuyerIn(customer=MARIA), financing=None)
    preview = quotes.preview(request)
    assert preview.customer.cpf_masked == "***.982.247-**" and not preview.customer.existing
    assert not _calls(fake, "POST", "/admin/customers")                     # a preview creates nobody

    quote, created = quotes.create(request, idempotency_key="pf-1")
    assert created and quote.company_id is None and quote.backend == "medusa"
    person = quote.customer
    cart = fake.state.carts[quote.cart_id]
    assert cart["metadata"]["helio_customer_id"] == person.id and "company_id" not in cart["metadata"]
    assert cart.get("company_id") is None and not quote.approval.required
    assert fake.state.customers[person.id]["metadata"] == {"cpf": "52998224725"}

    again, _ = quotes.create(request.model_copy(update={"note": "segunda versão"}), idempotency_key="pf-2")
    assert again.id != quote.id and again.customer.id == person.id and again.customer.existing
    assert len(_calls(fake, "POST", "/admin/customers")) == 1
