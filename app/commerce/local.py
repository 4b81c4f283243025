"""Embedded commerce backend: the B2B operations on one SQLite file, priced from the catalog.

A variant is a catalog product (SKU = product id, price = its best offer, available = in
stock). Quote transitions are compare-and-set updates (``… WHERE status = ?``), so two
concurrent transitions cannot both win.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from app.catalog.repository import CatalogRepository
from app.commerce.models import (
    Approval, ApprovalStatus, Cart, Company, Customer, Employee, LineItem, Quote, QuoteMessage, QuoteStatus, Variant,
)
from app.commerce.states import QuoteAction, next_status
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.text import fold_words

_SCHEMA = """
CREATE TABLE IF NOT EXISTS companies (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT,
    requires_admin_approval INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS employees (id TEXT PRIMARY KEY, company_id TEXT NOT NULL REFERENCES companies(id),
    customer_id TEXT NOT NULL, spending_limit REAL, is_admin INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS carts (id TEXT PRIMARY KEY, company_id TEXT, customer_id TEXT,
    metadata TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS line_items (id TEXT PRIMARY KEY, cart_id TEXT NOT NULL REFERENCES carts(id),
    variant_id TEXT NOT NULL, sku TEXT NOT NULL, title TEXT NOT NULL, quantity INTEGER NOT NULL,
    unit_price REAL NOT NULL);
CREATE TABLE IF NOT EXISTS approvals (id TEXT PRIMARY KEY, cart_id TEXT NOT NULL, type TEXT NOT NULL,
    status TEXT NOT NULL, handled_by TEXT);
CREATE TABLE IF NOT EXISTS quotes (id TEXT PRIMARY KEY, cart_id TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
    customer_id TEXT, company_id TEXT, items TEXT NOT NULL, total REAL NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, cpf TEXT, email TEXT, phone TEXT,
    created_at TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS customers_cpf ON customers (cpf) WHERE cpf IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS customers_email ON customers (email) WHERE email IS NOT NULL;
CREATE TABLE IF NOT EXISTS quote_messages (id TEXT PRIMARY KEY, quote_id TEXT NOT NULL, text TEXT NOT NULL,
    author TEXT NOT NULL, created_at TEXT NOT NULL);
"""


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class LocalCommerce:
    """:class:`~app.commerce.base.CommerceBackend` on SQLite at ``path`` over ``catalog``."""

    name = "local"

    def __init__(self, path: Path | str, catalog: CatalogRepository | None,
                 default_spending_limit_brl: float | None = None) -> None:
        self.path = Path(path)
        self.catalog = catalog
        self.default_spending_limit_brl = default_spending_limit_brl
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            # Files made before companies had a CNPJ get the column (nothing else changes).
            if "tax_id" not in {row[1] for row in conn.execute("PRAGMA table_info(companies)")}:
                conn.execute("ALTER TABLE companies ADD COLUMN tax_id TEXT")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn

    def close(self) -> None:
        return None

    # -- catalog ----------------------------------------------------------------

    def get_variant_by_sku(self, sku: str) -> Variant | None:
        if self.catalog is None:
            raise InvalidInput("Comércio local sem catálogo.", hint="Rode 'helio ingest catalog'.")
        product = self.catalog.get(sku)
        if product is None:
            return None
        return Variant(id=f"variant_{product.id}", sku=product.id, product_id=product.id, title=product.name,
                       price_brl=product.price_brl, available=product.in_stock, inventory_quantity=None)

    # -- companies and employees -------------------------------------------------

    def create_company(self, name: str, email: str | None = None, requires_admin_approval: bool = False,
                       tax_id: str | None = None) -> Company:
        digits = re.sub(r"\D", "", tax_id or "") or None
        company = Company(id=_id("comp"), name=name, email=email, tax_id=digits,
                          requires_admin_approval=requires_admin_approval, spending_limit_needs_approval=True)
        with self._connect() as conn:
            conn.execute("INSERT INTO companies (id, name, email, requires_admin_approval, created_at, tax_id) "
                         "VALUES (?,?,?,?,?,?)", (company.id, name, email, int(requires_admin_approval), _now(), digits))
        return company

    def find_companies(self, text: str, limit: int = 5) -> list[Company]:
        digits = re.sub(r"\D", "", text)
        with self._connect() as conn:
            rows = conn.execute("SELECT id, name, email, requires_admin_approval, tax_id FROM companies "
                                "ORDER BY name, id").fetchall()
        wanted = fold_words(text)
        found = [r for r in rows if (len(digits) == 14 and r[4] == digits)
                 or (wanted and len(wanted) >= 3 and wanted in fold_words(r[1]))]
        return [Company(id=r[0], name=r[1], email=r[2], requires_admin_approval=bool(r[3]), tax_id=r[4],
                        spending_limit_needs_approval=True) for r in found[:limit]]

    def get_company(self, company_id: str) -> Company:
        with self._connect() as conn:
            row = conn.execute("SELECT id, name, email, requires_admin_approval FROM companies WHERE id = ?",
                               (company_id,)).fetchone()
        if row is None:
            raise NotFound(f"Empresa '{company_id}' não encontrada.", hint="Confira o company_id do comprador.")
        return Company(id=row[0], name=row[1], email=row[2], requires_admin_approval=bool(row[3]),
                       spending_limit_needs_approval=True)

    # -- people (pessoa física) ----------------------------------------------------------

    _CUSTOMER_COLUMNS = "id, name, cpf, email, phone"

    def find_customer(self, name: str, cpf: str | None = None, email: str | None = None) -> Customer | None:
        cpf = re.sub(r"\D", "", cpf or "") or None
        email = email.strip().lower() if email else None
        with self._connect() as conn:
            for column, value in (("cpf", cpf), ("email", email)):
                if value:
                    row = conn.execute(f"SELECT {self._CUSTOMER_COLUMNS} FROM customers WHERE {column} = ?",
                                       (value,)).fetchone()
                    if row is not None:
                        return Customer(id=row[0], name=row[1], cpf=row[2], email=row[3], phone=row[4])
        return None

    def create_customer(self, name: str, cpf: str | None = None, email: str | None = None,
                        phone: str | None = None) -> Customer:
        """A new customer; one with the same CPF or e-mail that won a concurrent race is returned instead."""
        customer = Customer(id=_id("cus"), name=name, cpf=re.sub(r"\D", "", cpf or "") or None,
                            email=email.strip().lower() if email else None, phone=phone)
        try:
            with self._connect() as conn:
                conn.execute("INSERT INTO customers VALUES (?,?,?,?,?,?)",
                             (customer.id, name, customer.cpf, customer.email, phone, _now()))
        except sqlite3.IntegrityError:
            existing = self.find_customer(name, customer.cpf, customer.email)
            if existing is None:
                raise
            return existing
        return customer

    def create_employee(self, company_id: str, customer_id: str, spending_limit_brl: float | None = None,
                        is_admin: bool = False) -> Employee:
        self.get_company(company_id)
        limit = spending_limit_brl if spending_limit_brl is not None else self.default_spending_limit_brl
        employee = Employee(id=_id("emp"), company_id=company_id, customer_id=customer_id,
                            spending_limit_brl=limit, is_admin=is_admin)
        with self._connect() as conn:
            conn.execute("INSERT INTO employees VALUES (?,?,?,?,?)",
                         (employee.id, company_id, customer_id, limit, int(is_admin)))
        return employee

    def get_employee(self, company_id: str, employee_id: str) -> Employee:
        with self._connect() as conn:
            row = conn.execute("SELECT id, company_id, customer_id, spending_limit, is_admin FROM employees "
                               "WHERE id = ? AND company_id = ?", (employee_id, company_id)).fetchone()
        if row is None:
            raise NotFound(f"Funcionário '{employee_id}' não encontrado na empresa '{company_id}'.",
                           hint="Confira employee_id e company_id.")
        return Employee(id=row[0], company_id=row[1], customer_id=row[2], spending_limit_brl=row[3],
                        is_admin=bool(row[4]))

    # -- carts --------------------------------------------------------------------

    def create_cart(self, company_id: str | None = None, customer_id: str | None = None,
                    metadata: dict[str, str] | None = None) -> Cart:
        cart_id = _id("cart")
        with self._connect() as conn:
            conn.execute("INSERT INTO carts VALUES (?,?,?,?,?)",
                         (cart_id, company_id, customer_id, json.dumps(metadata or {}), _now()))
        return self.get_cart(cart_id)

    def add_line_items(self, cart_id: str, items: list[tuple[str, int]]) -> Cart:
        self.get_cart(cart_id)
        rows = []
        for variant_id, quantity in items:
            if quantity < 1:
                raise InvalidInput(f"Quantidade inválida para {variant_id}: {quantity}.", hint="Use quantidade ≥ 1.")
            sku = variant_id.removeprefix("variant_")
            variant = self.get_variant_by_sku(sku)
            if variant is None or variant.id != variant_id:
                raise NotFound(f"Variante '{variant_id}' não encontrada.", hint="Busque o produto pelo SKU antes.")
            if variant.price_brl is None:
                raise InvalidInput(f"'{variant.title}' está sem preço no catálogo.", hint="Escolha outro produto.")
            rows.append((_id("item"), cart_id, variant.id, variant.sku, variant.title, quantity, variant.price_brl))
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO line_items VALUES (?,?,?,?,?,?,?)", rows)
            conn.execute("COMMIT")
        return self.get_cart(cart_id)

    def get_cart(self, cart_id: str) -> Cart:
        with self._connect() as conn:
            row = conn.execute("SELECT id, company_id, customer_id, metadata FROM carts WHERE id = ?",
                               (cart_id,)).fetchone()
            if row is None:
                raise NotFound(f"Carrinho '{cart_id}' não encontrado.", hint="Crie o carrinho antes.")
            items = conn.execute("SELECT id, variant_id, sku, title, quantity, unit_price FROM line_items "
                                 "WHERE cart_id = ? ORDER BY rowid", (cart_id,)).fetchall()
        lines = [LineItem(id=i[0], variant_id=i[1], sku=i[2], title=i[3], quantity=i[4], unit_price_brl=i[5],
                          total_brl=round(i[4] * i[5], 2)) for i in items]
        return Cart(id=row[0], company_id=row[1], customer_id=row[2], items=lines,
                    total_brl=round(sum(l.total_brl for l in lines), 2), metadata=json.loads(row[3]))

    def discard_cart(self, cart_id: str) -> None:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM line_items WHERE cart_id = ?", (cart_id,))
            conn.execute("DELETE FROM approvals WHERE cart_id = ?", (cart_id,))
            conn.execute("DELETE FROM carts WHERE id = ?", (cart_id,))
            conn.execute("COMMIT")

    # -- approvals ----------------------------------------------------------------

    def request_approval(self, cart_id: str, type: str = "admin") -> Approval:
        self.get_cart(cart_id)
        approval = Approval(id=_id("appr"), cart_id=cart_id, type=type)
        with self._connect() as conn:
            conn.execute("INSERT INTO approvals VALUES (?,?,?,?,?)",
                         (approval.id, cart_id, type, approval.status.value, None))
        return approval

    def list_approvals(self, cart_id: str) -> list[Approval]:
        with self._connect() as conn:
            rows = conn.execute("SELECT id, cart_id, type, status, handled_by FROM approvals WHERE cart_id = ? "
                                "ORDER BY rowid", (cart_id,)).fetchall()
        return [Approval(id=r[0], cart_id=r[1], type=r[2], status=ApprovalStatus(r[3]), handled_by=r[4]) for r in rows]

    def decide_approval(self, approval_id: str, approve: bool, handled_by: str | None = None) -> Approval:
        status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        with self._connect() as conn:
            cur = conn.execute("UPDATE approvals SET status = ?, handled_by = ? WHERE id = ? AND status = 'pending'",
                               (status.value, handled_by, approval_id))
            row = conn.execute("SELECT id, cart_id, type, status, handled_by FROM approvals WHERE id = ?",
                               (approval_id,)).fetchone()
        if row is None:
            raise NotFound(f"Aprovação '{approval_id}' não encontrada.", hint="Confira o id da aprovação.")
        if cur.rowcount == 0:
            raise Conflict(f"A aprovação já foi decidida ({row[3]}).", hint="Nada a fazer.")
        return Approval(id=row[0], cart_id=row[1], type=row[2], status=ApprovalStatus(row[3]), handled_by=row[4])

    # -- quotes -------------------------------------------------------------------

    def create_quote(self, cart_id: str) -> Quote:
        cart = self.get_cart(cart_id)
        if not cart.items:
            raise InvalidInput("Carrinho vazio: nada para orçar.", hint="Adicione itens ao carrinho.")
        quote_id = _id("quo")
        with self._connect() as conn:
            try:
                conn.execute("INSERT INTO quotes VALUES (?,?,?,?,?,?,?,?)",
                             (quote_id, cart_id, QuoteStatus.PENDING_MERCHANT.value, cart.customer_id,
                              cart.company_id, json.dumps([i.model_dump() for i in cart.items]), cart.total_brl,
                              _now()))
            except sqlite3.IntegrityError:
                raise Conflict("Este carrinho já tem um orçamento.", hint="Consulte o orçamento existente.") from None
        return self.get_quote(quote_id)

    def get_quote(self, quote_id: str) -> Quote:
        with self._connect() as conn:
            row = conn.execute("SELECT id, status, cart_id, customer_id, company_id, items, total, created_at "
                               "FROM quotes WHERE id = ?", (quote_id,)).fetchone()
            messages = conn.execute("SELECT id, text, author, created_at FROM quote_messages WHERE quote_id = ? "
                                    "ORDER BY rowid", (quote_id,)).fetchall()
        if row is None:
            raise NotFound(f"Orçamento '{quote_id}' não encontrado.", hint="Confira o id do orçamento.")
        return Quote(id=row[0], status=QuoteStatus(row[1]), cart_id=row[2], customer_id=row[3], company_id=row[4],
                     items=[LineItem.model_validate(i) for i in json.loads(row[5])], total_brl=row[6],
                     created_at=row[7],
                     messages=[QuoteMessage(id=m[0], text=m[1], author=m[2], created_at=m[3]) for m in messages])

    def transition_quote(self, quote_id: str, action: QuoteAction) -> Quote:
        current = self.get_quote(quote_id).status
        target = next_status(action, current)
        with self._connect() as conn:
            cur = conn.execute("UPDATE quotes SET status = ? WHERE id = ? AND status = ?",
                               (target.value, quote_id, current.value))
        if cur.rowcount == 0:  # someone else moved it first: judge against the state that won
            next_status(action, self.get_quote(quote_id).status)
        return self.get_quote(quote_id)

    def add_quote_message(self, quote_id: str, text: str, author: str = "merchant") -> Quote:
        self.get_quote(quote_id)
        with self._connect() as conn:
            conn.execute("INSERT INTO quote_messages VALUES (?,?,?,?,?)", (_id("qmsg"), quote_id, text, author, _now()))
        return self.get_quote(quote_id)
