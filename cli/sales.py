"""``helio keys …`` (API keys) and ``helio financing simulate`` — sales-side commands.

The lead wires them in ``cli.root``: ``cli.add_typer(sales.keys_app, name="keys")`` and
``cli.add_typer(sales.financing_app, name="financing")``.
"""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from app.core.settings import get_settings

keys_app = typer.Typer(help="Chaves de API (widget, sales_rep, admin), guardadas como hash.", no_args_is_help=True)
financing_app = typer.Typer(help="Simulação de financiamento pelas linhas de crédito cadastradas.",
                            no_args_is_help=True)
companies_app = typer.Typer(help="Empresas compradoras (B2B) e seus compradores, no backend de comércio.",
                            no_args_is_help=True)
console = Console()


@financing_app.callback()
def _financing() -> None:
    """Keeps ``simulate`` a sub-command (typer collapses single-command apps)."""


def _store():
    from app.auth.keys import make_key_store

    return make_key_store(get_settings())


@keys_app.command("create")
def create_key(
    role: str = typer.Option(..., "--role", help="widget | sales_rep | admin"),
    label: str = typer.Option(None, "--label", help="quem usa a chave"),
    origin: list[str] = typer.Option(None, "--origin", help="origem permitida (widget); repita para várias"),
) -> None:
    """Cria uma chave e a mostra UMA vez (só o hash fica guardado)."""
    issued = _store().create(role, label, origin or [])  # type: ignore[arg-type]
    console.print(f"[bold]Chave ({issued.role}, id {issued.key_id}):[/bold] {issued.key}")
    console.print("Guarde agora: ela não pode ser recuperada depois.")


@keys_app.command("list")
def list_keys() -> None:
    """Lista as chaves (prefixo, papel, origens; nunca a chave)."""
    table = Table("id", "prefixo", "papel", "rótulo", "origens", "criada", "revogada")
    for k in _store().list_keys():
        table.add_row(k["id"], k["prefix"], k["role"], k["label"] or "", ", ".join(k["origins"]), k["created_at"],
                      k["revoked_at"] or "")
    console.print(table)


@keys_app.command("revoke")
def revoke_key(key_id: str = typer.Argument(..., help="id mostrado em 'helio keys list'")) -> None:
    """Revoga uma chave."""
    if not _store().revoke(key_id):
        raise typer.BadParameter(f"chave '{key_id}' não encontrada ou já revogada")
    console.print(f"Chave {key_id} revogada.")


@keys_app.command("hash")
def hash_key_cmd(key: str = typer.Argument(..., help="chave a transformar em hash para AUTH__KEYS")) -> None:
    """Mostra o HMAC da chave com o pepper atual (para AUTH__KEYS)."""
    from app.auth.keys import hash_key, pepper_from

    settings = get_settings()
    console.print(hash_key(pepper_from(settings.auth, settings.env), key))


@financing_app.command("simulate")
def simulate(
    amount: float = typer.Option(..., "--amount", help="valor do sistema [R$]"),
    term: int = typer.Option(60, "--term", help="parcelas"),
    down: float = typer.Option(0.0, "--down", help="entrada [R$]"),
    grace: int = typer.Option(0, "--grace", help="carência [meses]"),
    system: str = typer.Option("price", "--system", help="price | sac"),
    customer: str = typer.Option("pf", "--customer", help="pf | pj"),
    as_json: bool = typer.Option(False, "--json", help="saída JSON"),
) -> None:
    """Compara as linhas de crédito para um valor."""
    from app.financing.rules import cached_book
    from app.financing.simulate import FinancingRequest, simulate_financing

    s = get_settings()
    result = simulate_financing(
        FinancingRequest(amount_brl=amount, term_months=term, down_payment_brl=down, grace_months=grace,
                         system=system, customer_type=customer, include_schedule=False),  # type: ignore[arg-type]
        cached_book(s.financing.credit_lines_path, s.financing.iof_rates_path))
    if as_json:
        console.print_json(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
        return
    from app.core.text import format_brl, format_percent

    table = Table("#", "linha", "taxa a.m.", "1ª parcela", "total pago", "IOF", "CET a.m.", "CET a.a.")
    for o in result.options:
        table.add_row(str(o.rank), o.line_name, format_percent(o.rate_monthly_pct), format_brl(o.first_payment_brl),
                      format_brl(o.total_paid_brl), format_brl(o.iof_brl), format_percent(o.cet_monthly_pct), format_percent(o.cet_annual_pct))
    console.print(table)
    for line in result.ineligible:
        console.print(f"[yellow]{line.line_name}[/yellow]: {'; '.join(line.reasons)}")


def _commerce():
    from app.commerce.factory import make_commerce
    from app.main import open_catalog

    settings = get_settings()
    return make_commerce(settings, open_catalog(settings))


@companies_app.command("create")
def create_company(
    name: str = typer.Argument(..., help="razão social"),
    email: str = typer.Option(None, "--email"),
    requires_approval: bool = typer.Option(False, "--requires-approval", help="toda compra precisa de aprovação"),
) -> None:
    """Cadastra uma empresa compradora e mostra o id (use-o em orçamentos)."""
    company = _commerce().create_company(name, email, requires_approval)
    console.print(f"[bold]Empresa criada:[/bold] {company.name} — id {company.id}")


@companies_app.command("add-buyer")
def add_buyer(
    company_id: str = typer.Argument(..., help="id da empresa"),
    customer_id: str = typer.Argument(..., help="id do cliente comprador"),
    spending_limit_brl: float = typer.Option(None, "--spending-limit-brl", min=0, help="limite por pedido [R$]"),
    admin: bool = typer.Option(False, "--admin", help="comprador administrador da empresa"),
) -> None:
    """Cadastra um comprador na empresa (acima do limite, o orçamento pede aprovação)."""
    commerce = _commerce()
    commerce.get_company(company_id)
    employee = commerce.create_employee(company_id, customer_id, spending_limit_brl, admin)
    from app.core.text import format_brl

    limit = "sem limite" if employee.spending_limit_brl is None else f"limite {format_brl(employee.spending_limit_brl)}"
    console.print(f"[bold]Comprador criado:[/bold] id {employee.id} ({limit})")
