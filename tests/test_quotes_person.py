"""Draft quotes for a person (pessoa física) without a company: CPF check digits, the local
backend's customers table (real SQLite), the quote service and ``POST /v1/quotes`` (company
XOR customer, bad CPF → 422 naming the field), the proposal PDF and the chat/MCP tool."""

from __future__ import annotations

import sqlite3

import pytest

from app.catalog.models import Category, Product
from app.catalog.store import SQLiteCatalogStore
from app.commerce.local import LocalCommerce
from app.commerce.people import format_cpf, mask_cpf, normalize_phone, valid_cpf
from app.core.errors import Conflict, InvalidInput
from app.core.settings import Settings
from app.financing.rules import load_credit_lines
from app.quotes.models import BuyerIn, CreateQuoteRequest, QuoteItemIn
from app.quotes.service import QuoteService
from app.quotes.store import QuoteRecordStore
from app.quotes.tool import create_draft_quote_for_chat

MARIA = {"name": "Maria Souza", "cpf": "529.982.247-25"}
STOCK = (Product(id="mod-550", category=Category.MODULE, name="Módulo 550 W", power_w=550, price_brl=650.0,
                 in_stock=True),
         Product(id="inv-5k", category=Category.INVERTER, name="Inversor 5 kW", power_w=5000, price_brl=4_200.0,
                 in_stock=True))


# -- CPF ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("cpf", ["529.982.247-25", "52998224725", "111.444.777-35", "123.456.789-09",
                                 "935.411.347-80"])
def test_cpfs_with_matching_check_digits_are_valid(cpf):
    assert valid_cpf(cpf)


@pytest.mark.parametrize("cpf", ["529.982.247-24", "529.982.247-52", "111.111.111-11", "000.000.000-00",
                                 "5299822472", "529982247250", "529.982.247-2x", "", None])
def test_cpfs_with_wrong_digits_or_one_repeated_digit_are_not(cpf):
    assert not valid_cpf(cpf)


def test_cpf_is_shown_masked_and_phones_keep_the_area_code():
    assert mask_cpf("52998224725") == "***.982.247-**" and format_cpf("52998224725") == "529.982.247-25"
    assert normalize_phone("(31) 98765-4321") == normalize_phone("+55 31 98765-4321") == "31987654321"
    assert normalize_phone("98765-4321") is None


# -- the local backend's customers (real SQLite) ---------------------------------------------------

def test_local_customers_are_found_by_cpf_or_email_and_never_duplicated(tmp_path):
    commerce = LocalCommerce(tmp_path / "c.sqlite3", None)
    maria = commerce.create_customer("Maria Souza", "529.982.247-25", "Maria@Exemplo.com.br", "31987654321")
    assert maria.cpf == "52998224725" and maria.email == "maria@exemplo.com.br"
    assert commerce.find_customer("Maria", "52998224725").id == maria.id
    assert commerce.find_customer("Maria", None, "MARIA@exemplo.com.br").id == maria.id
    assert commerce.find_customer("Maria", "11144477735") is None
    again = commerce.create_customer("Maria S.", "52998224725")  # a second create with the same CPF
    assert again.id == maria.id
    with sqlite3.connect(tmp_path / "c.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 1


def test_a_commerce_file_made_before_customers_gets_the_table_and_keeps_its_companies(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:  # the schema of a file made before this change
        conn.execute("CREATE TABLE companies (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT, "
                     "requires_admin_approval INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)")
        conn.execute("INSERT INTO companies VALUES ('comp_1', 'Solar BH', NULL, 0, '2026-01-01')")
    commerce = LocalCommerce(path, None)
    assert commerce.get_company("comp_1").name == "Solar BH"
    assert commerce.find_customer("Maria", MARIA["cpf"]) is None
    assert commerce.create_customer(**MARIA).cpf == "52998224725"


# -- the quote service ------------------------------------------------------------------------------

@pytest.fixture
def service(tmp_path):
    catalog = SQLiteCatalogStore(tmp_path / "catalog.sqlite3")
    catalog.replace_all(STOCK)
    commerce = LocalCommerce(tmp_path / "commerce.sqlite3", catalog)
    financing = Settings(_env_file=None).financing
    book = load_credit_lines(financing.credit_lines_path, financing.iof_rates_path)
    return QuoteService(commerce, QuoteRecordStore(tmp_path / "quotes.sqlite3"), lambda: book, lambda _: None)


def _request(**buyer) -> CreateQuoteRequest:
    return CreateQuoteRequest(items=[QuoteItemIn(sku="mod-550", quantity=10), QuoteItemIn(sku="inv-5k", quantity=1)],
                              buyer=BuyerIn(**buyer), financing=None)


def _customers(service) -> int:
    with sqlite3.connect(service.commerce.path) as conn:
        return conn.execute("SELECT count(*) FROM customers").fetchone()[0]


def test_a_preview_for_a_person_writes_nothing_and_the_quote_links_the_customer(service):
    preview = service.preview(_request(customer=MARIA))
    assert preview.customer.name == "Maria Souza" and preview.customer.cpf_masked == "***.982.247-**"
    assert preview.customer.id is None and not preview.customer.existing and not preview.approval.required
    assert preview.equipment_total_brl == 10 * 650 + 4_200
    assert _customers(service) == 0                                     # the preview created nobody

    quote, created = service.create(_request(customer=MARIA), idempotency_key="k1")
    assert created and quote.company_id is None and quote.customer.name == "Maria Souza"
    stored = service.commerce.find_customer("Maria Souza", "52998224725")
    assert quote.customer.id == stored.id and not quote.customer.existing
    assert service.commerce.get_quote(quote.id).customer_id == stored.id   # the backend's quote is hers
    assert service.commerce.get_cart(quote.cart_id).metadata["helio_customer_id"] == stored.id
    assert service.get(quote.id).customer.cpf_masked == "***.982.247-**"

    second, _ = service.create(_request(customer={**MARIA, "phone": "(31) 98765-4321"}), idempotency_key="k2")
    assert second.id != quote.id and second.customer.id == stored.id and second.customer.existing
    assert _customers(service) == 1                                     # the same CPF reuses the customer
    assert service.preview(_request(customer=MARIA)).customer.existing


def test_bad_person_data_is_refused_before_anything_is_written(service):
    with pytest.raises(InvalidInput) as bad:
        service.create(_request(customer={"name": "Maria Souza", "cpf": "529.982.247-24"}))
    assert "buyer.customer.cpf" in bad.value.message and bad.value.details["fields"][0]["field"] == \
        "buyer.customer.cpf"
    with pytest.raises(InvalidInput, match="buyer.customer.phone"):
        service.preview(_request(customer={"name": "Maria Souza", "phone": "1234-5678"}))
    with pytest.raises(InvalidInput, match="employee_id"):
        service.preview(_request(customer=MARIA, employee_id="emp_1"))
    assert _customers(service) == 0 and service.records.count() == 0
    service.create(_request(customer={"name": "Maria Souza", "cpf": MARIA["cpf"], "email": "maria@exemplo.com.br"}))
    with pytest.raises(Conflict, match=r"\*\*\*\.982\.247-\*\*"):  # her e-mail, another CPF: not her record
        service.preview(_request(customer={"name": "João Souza", "cpf": "111.444.777-35",
                                           "email": "maria@exemplo.com.br"}))


def test_the_chat_tool_takes_a_person(service):
    preview = create_draft_quote_for_chat(service, "sales_rep", False, customer=MARIA,
                                          items=[{"sku": "mod-550", "quantity": 4}])
    assert preview.ok and preview.summary.customer.cpf_masked == "***.982.247-**"
    assert _customers(service) == 0
    done = create_draft_quote_for_chat(service, "sales_rep", True, customer=MARIA,
                                       items=[{"sku": "mod-550", "quantity": 4}], idempotency_key="chat-1")
    assert done.ok and done.created and done.customer.name == "Maria Souza"
    both = create_draft_quote_for_chat(service, "sales_rep", False, company_id="comp_x", customer=MARIA,
                                       items=[{"sku": "mod-550", "quantity": 4}])
    assert not both.ok



def test_the_chat_tools_json_names_the_person_only_when_there_is_one(service):
    """The typed result goes out (MCP, cards, the model) as the JSON the tool always returned."""
    person = create_draft_quote_for_chat(service, "sales_rep", False, customer=MARIA,
                                         items=[{"sku": "mod-550", "quantity": 4}]).model_dump(mode="json")
    assert list(person) == ["ok", "created", "needs_confirmation", "message", "summary"]
    assert list(person["summary"]) == ["items", "equipment_total_brl", "installation_brl", "system_total_brl",
                                       "approval_required", "approval_reasons", "warnings", "customer",
                                       "validity_days"]
    assert person["summary"]["validity_days"] == service.validity_days
    done = create_draft_quote_for_chat(service, "sales_rep", True, customer=MARIA,
                                       items=[{"sku": "mod-550", "quantity": 4}], idempotency_key="k")
    assert done.model_dump(mode="json")["customer"]["cpf_masked"] == "***.982.247-**"
    done.customer = None  # a company's quote: no "customer" key at all, "best_financing" always there
    assert "customer" not in done.model_dump(mode="json") and "best_financing" in done.model_dump(mode="json")
