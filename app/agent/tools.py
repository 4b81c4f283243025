"""The assistant's tools, defined once: plain typed functions over the domain services.

Each tool's JSON schema comes from its typed signature and its description from its
docstring (what the model reads). :func:`tool_functions` is the one definition; two thin
adapters read it: :func:`make_tools` (LangChain, for the chat) and :mod:`app.mcp` (the MCP
server at ``/mcp``). :class:`ToolRunner` validates arguments and turns any
:class:`~app.core.errors.HelioError` or validation error into a short, actionable message
for the model instead of an exception.

Who may call what is decided by the session, never by the conversation: arguments marked
``InjectedToolArg`` (the caller's role, the sizing id, the idempotency key) are absent from
the schema the model sees and are filled by the assistant; ``create_draft_quote`` is offered
and run only in sales-rep or admin sessions.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from langchain_core.tools import BaseTool, InjectedToolArg, StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ValidationError

from app.agent.ports import (
    FinancingOffers, ProductDetail, ProductList, SearcherLike, SizingPort, catalog_search, normalize_hit, product_detail,
)
from app.agent.slots import Connection
from app.catalog.models import Category, Phase, ProductQuery
from app.catalog.repository import CatalogRepository
from app.auth.errors import Forbidden
from app.core.errors import HelioError, InvalidInput, NotFound, Unavailable
from app.core.metrics import record_tool
from app.core.telemetry import span
from app.financing.rules import CreditLineBook
from app.financing.tool import simulate_financing_for_chat
from app.quotes.models import CustomerIn, DraftQuoteResult, QuoteRefused
from app.quotes.service import QuoteService
from app.quotes.tool import ALLOWED_ROLES as QUOTE_ROLES
from app.quotes.tool import create_draft_quote_for_chat
from app.retrieval.types import KnowledgeHits
from app.sizing.models import SizingResult

log = logging.getLogger("helio.agent.tools")

RoofKind = Literal["ceramic", "fiber_cement", "metal", "slab", "ground"]
ProductCategory = Literal["module", "inverter", "battery", "kit", "structure", "string_box", "cable"]
SALES_ONLY = frozenset({"create_draft_quote"})
# A battery sold as "5 kWh" holds 5.0–5.12 kWh; a "48 V" one is 48–51.2 V (LiFePO4): nominal
# values asked in chat match within this fraction.
_NOMINAL_TOLERANCE = 0.10


def role_may_use(role: str, tool_name: str) -> bool:
    """Whether a session with ``role`` (from its API key) may use ``tool_name``."""
    return tool_name not in SALES_ONLY or role in QUOTE_ROLES


@dataclass
class ToolDeps:
    sizing: SizingPort
    catalog: CatalogRepository | None
    searcher: SearcherLike | None
    credit_book: Callable[[], CreditLineBook] | None = None
    quotes: Callable[[], QuoteService] | None = None


def tool_functions(deps: ToolDeps) -> list[Callable[..., Any]]:
    """The tools as plain functions over ``deps``; a domain error is raised as
    :class:`~app.core.errors.HelioError` and each adapter turns it into a short message.
    ``size_pv_system`` returns the engine's :class:`~app.sizing.models.SizingResult`,
    ``find_products``/``get_product`` a :class:`~app.agent.ports.ProductList`/``ProductDetail``,
    ``simulate_financing`` :class:`~app.agent.ports.FinancingOffers`, ``search_knowledge``
    :class:`~app.retrieval.types.KnowledgeHits`, ``create_draft_quote``
    :class:`~app.quotes.models.DraftQuotePreview` or ``DraftQuoteCreated``."""

    def size_pv_system(
        monthly_kwh: float | None = None,
        monthly_kwh_list: list[float] | None = None,
        bill_brl: float | None = None,
        tariff_brl_per_kwh: float | None = None,
        municipality: str | None = None,
        uf: str | None = None,
        ibge_code: int | None = None,
        lat: float | None = None,
        lon: float | None = None,
        connection: Connection | None = None,
        system_kwp: float | None = None,
        kit_id: str | None = None,
        roof_type: RoofKind | None = None,
        roof_area_m2: float | None = None,
        shading_pct: float | None = None,
        roof_faces: list[dict[str, float]] | None = None,
        tilt_deg: float | None = None,
        azimuth_deg: float | None = None,
        budget_brl: float | None = None,
        target_offset_pct: float | None = None,
        distributor: str | None = None,
    ) -> SizingResult:
        """Size an on-grid PV system (kWp, modules, inverter, yearly energy) for a site in Brazil.
        Needs the site (municipality + uf, ibge_code, or lat/lon), the grid connection and the
        consumption (monthly_kwh, 12 values, or bill_brl; the tariff defaults to the site's
        distributor, or name it in distributor, e.g. 'Cemig'). Optional: system_kwp or kit_id to
        simulate that size/kit instead of sizing to the consumption (consumption then optional);
        roof_type, roof_area_m2 [m²], shading_pct [%], tilt_deg, azimuth_deg (0 = north, 90 = east),
        roof_faces [{tilt_deg, azimuth_deg, area_m2}, ...]; budget_brl [R$] (designs that fit);
        target_offset_pct (share of the consumption to cover, default 100)."""
        args = dict(monthly_kwh=monthly_kwh, monthly_kwh_list=monthly_kwh_list, bill_brl=bill_brl,
                    tariff_brl_per_kwh=tariff_brl_per_kwh, municipality=municipality, uf=uf, ibge_code=ibge_code,
                    lat=lat, lon=lon, connection=connection, system_kwp=system_kwp, kit_id=kit_id,
                    roof_type=roof_type, roof_area_m2=roof_area_m2, shading_pct=shading_pct, roof_faces=roof_faces,
                    tilt_deg=tilt_deg, azimuth_deg=azimuth_deg, budget_brl=budget_brl,
                    target_offset_pct=target_offset_pct, distributor=distributor)
        return deps.sizing.size({k: v for k, v in args.items() if v is not None})

    def find_products(
        category: ProductCategory | None = None,
        manufacturer: str | None = None,
        min_power_w: float | None = None,
        max_power_w: float | None = None,
        phase: Connection | None = None,
        subtype: str | None = None,
        capacity_kwh: float | None = None,
        voltage_v: float | None = None,
        min_price_brl: float | None = None,
        max_price_brl: float | None = None,
        in_stock: bool | None = None,
        query: str | None = None,
        limit: int = 5,
    ) -> ProductList:
        """Search the YSH catalog: modules (panels), inverters, batteries, kits... with filters
        (AND): power [W], phase, subtype (inverter: grid_tie, hybrid, off_grid, micro; structure:
        roof type), a battery's nominal capacity_kwh and voltage_v (each matched within 10 %, as
        "5 kWh" covers 5.1 kWh and "48 V" covers 51.2 V), price [R$], in_stock."""
        near = _NOMINAL_TOLERANCE
        q = ProductQuery(
            category=Category(category) if category else None,
            subtype=subtype,
            manufacturer=manufacturer,
            min_power_w=min_power_w,
            max_power_w=max_power_w,
            phase=Phase(phase) if phase else None,
            min_capacity_kwh=capacity_kwh * (1 - near) if capacity_kwh else None,
            max_capacity_kwh=capacity_kwh * (1 + near) if capacity_kwh else None,
            min_voltage_v=voltage_v * (1 - near) if voltage_v else None,
            max_voltage_v=voltage_v * (1 + near) if voltage_v else None,
            min_price_brl=min_price_brl,
            max_price_brl=max_price_brl,
            in_stock=in_stock,
            q=query,
            limit=max(1, min(limit, 10)),
        )
        return catalog_search(deps.catalog, q)

    def get_product(product_id: str) -> ProductDetail:
        """Details of one catalog product by its id (specs, price, stock)."""
        if deps.catalog is None:
            raise Unavailable("Catálogo indisponível no momento.")
        product = deps.catalog.get(product_id)
        if product is None:
            raise NotFound(f"Produto '{product_id}' não existe no catálogo.",
                           hint="Use find_products para achar o id certo.")
        return product_detail(product)

    def search_knowledge(query: str, k: int = 4) -> KnowledgeHits:
        """Search datasheets, regulations (Lei 14.300, ANEEL) and financing rules; returns cited passages."""
        if deps.searcher is None:
            raise Unavailable("Base de conhecimento fora do ar.", hint="Responda sem citações e avise o usuário.")
        with span("retrieval.search", **{"helio.search.k": k}):
            hits = deps.searcher.search(query, k=max(1, min(k, 8)), filters=None)
        return KnowledgeHits(hits=[normalize_hit(h) for h in hits])

    def simulate_financing(
        amount_brl: float,
        term_months: int = 60,
        down_payment_brl: float = 0.0,
        grace_months: int = 0,
        system: Literal["price", "sac"] = "price",
        customer_type: Literal["pf", "pj"] = "pf",
    ) -> FinancingOffers:
        """Compare solar credit lines to finance amount_brl [R$] in term_months monthly installments:
        rate % a.m., installment, total paid and CET per lender, cheapest first."""
        if deps.credit_book is None:
            raise Unavailable("Linhas de crédito indisponíveis.", hint="Confira settings.financing.credit_lines_path.")
        return FinancingOffers.model_validate(simulate_financing_for_chat(
            deps.credit_book(), amount_brl, term_months, down_payment_brl, grace_months, system, customer_type))

    def create_draft_quote(
        company_id: str | None = None,
        confirmed: bool = False,
        employee_id: str | None = None,
        end_customer_name: str | None = None,
        term_months: int = 60,
        down_payment_brl: float = 0.0,
        sizing_id: Annotated[str | None, InjectedToolArg] = None,
        role: Annotated[str, InjectedToolArg] = "widget",
        idempotency_key: Annotated[str | None, InjectedToolArg] = None,
        created_by: Annotated[dict[str, str | None] | None, InjectedToolArg] = None,
        customer: CustomerIn | None = None,
    ) -> DraftQuoteResult:
        """Sales reps only: draft quote of the conversation's sizing for the buying company_id, or
        for a person without a company (customer: name plus cpf, email or phone as the user wrote
        them; never invented). confirmed=false returns the summary to show; confirmed=true only
        after the user said yes."""
        if deps.quotes is None:
            raise Unavailable("Backend de comércio indisponível.", hint="Crie o orçamento depois em POST /v1/quotes.")
        service = deps.quotes()
        result = create_draft_quote_for_chat(
            service, role, confirmed, company_id, sizing_id=sizing_id, employee_id=employee_id,
            end_customer_name=end_customer_name, term_months=term_months, down_payment_brl=down_payment_brl,
            idempotency_key=idempotency_key, created_by=created_by, customer=customer)
        if isinstance(result, QuoteRefused):
            error = Forbidden if role not in QUOTE_ROLES else InvalidInput
            raise error(result.error or "Orçamento recusado.", hint=result.hint)
        return result

    return [size_pv_system, find_products, get_product, search_knowledge, simulate_financing, create_draft_quote]


# The argument schema LangChain infers from a tool function's signature, by the function's
# qualified name. The signatures are fixed in this module, so each process infers them once:
# inferring them (a pydantic model per tool) for every assistant built cost ~15 ms a tool.
_ARGS_SCHEMAS: dict[str, type[BaseModel]] = {}
# What ToolRunner reads of a tool: the OpenAI-style spec the model sees and the injected argument
# names, by what they are made of (its name, description and argument schema).
_SPECS: dict[tuple[str, str, type[BaseModel]], tuple[dict[str, Any], frozenset[str]]] = {}


def make_tools(deps: ToolDeps) -> list[BaseTool]:
    """The LangChain adapter: one structured tool per function of :func:`tool_functions`
    (what ``@tool`` makes of it, its schema inferred once per process)."""
    tools = []
    for fn in tool_functions(deps):
        made = StructuredTool.from_function(fn, args_schema=_ARGS_SCHEMAS.get(fn.__qualname__))
        _ARGS_SCHEMAS.setdefault(fn.__qualname__, made.args_schema)
        tools.append(made)
    return tools


def _spec_and_injected(t: BaseTool) -> tuple[dict[str, Any], frozenset[str]]:
    """A tool's OpenAI-style spec and the names of its injected arguments (cached for a class schema)."""
    key = (t.name, t.description, t.args_schema) if isinstance(t.args_schema, type) else None
    known = _SPECS.get(key) if key else None
    if known is None:
        injected = frozenset(t.get_input_schema().model_fields) - frozenset(t.tool_call_schema.model_fields)
        known = (convert_to_openai_tool(t), injected)
        if key:
            _SPECS[key] = known
    return known


@dataclass
class ToolOutcome:
    name: str
    arguments: dict[str, Any]
    ok: bool
    result: Any = None
    """what the tool returned: a domain type (``SizingResult``) or a JSON-able dict"""
    error: str | None = None
    error_code: str | None = None

    @property
    def data(self) -> dict[str, Any] | None:
        """The result as JSON-able data (for a card, the model, a record)."""
        return self.result.model_dump(mode="json") if isinstance(self.result, BaseModel) else self.result


class ToolRunner:
    """Runs tools by name; never raises for a user-fixable problem."""

    def __init__(self, tools: list[BaseTool], deps: ToolDeps | None = None) -> None:
        self.tools = {t.name: t for t in tools}
        # The services behind the tools, for look-ups a turn makes before calling one (e.g. the
        # companies a sales rep names, before create_draft_quote).
        self.deps = deps
        known = [_spec_and_injected(t) for t in tools]
        self.specs = [copy.deepcopy(spec) for spec, _ in known]
        # Arguments the session fills and the model never sees (role, sizing id, idempotency key).
        self.injected = {t.name: set(injected) for t, (_, injected) in zip(tools, known)}

    def names_for(self, role: str) -> list[str]:
        return [name for name in self.tools if role_may_use(role, name)]

    def specs_for(self, role: str) -> list[dict[str, Any]]:
        """The tool specs offered to the model in a session with ``role``."""
        return [s for s in self.specs if role_may_use(role, s["function"]["name"])]

    def run(self, name: str, arguments: dict[str, Any], *, role: str = "widget",
            context: dict[str, Any] | None = None) -> ToolOutcome:
        """Run ``name`` with the model/rule ``arguments`` plus the session's ``context``
        (only for the tool's injected arguments; a same-named model argument is dropped)."""
        outcome = self._run(name, arguments, role, context)
        record_tool(outcome.name if outcome.name in self.tools else "desconhecida", "chat", outcome.ok,
                    outcome.error_code)
        return outcome

    def _run(self, name: str, arguments: dict[str, Any], role: str,
             context: dict[str, Any] | None) -> ToolOutcome:
        tool_ = self.tools.get(name)
        injected = self.injected.get(name, set())
        args = {k: v for k, v in arguments.items() if v is not None and k not in injected}
        if tool_ is None:
            return ToolOutcome(name, args, False, error=f"Ferramenta '{name}' não existe. Use: {', '.join(self.tools)}.",
                               error_code="ferramenta_desconhecida")
        if not role_may_use(role, name):
            return ToolOutcome(name, args, False, error=f"A ferramenta '{name}' não está disponível nesta sessão.",
                               error_code="acesso_negado")
        session = {k: v for k, v in {**(context or {}), "role": role}.items() if k in injected and v is not None}
        try:
            with span(f"tool.{name}", **{"helio.tool": name}):
                result = tool_.invoke({**args, **session})
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ()))
            return ToolOutcome(name, args, False, error=f"Argumento inválido '{field}': {first.get('msg')}.",
                               error_code="argumento_invalido")
        except HelioError as exc:
            message = exc.message + (f" {exc.hint}" if exc.hint else "")
            return ToolOutcome(name, args, False, error=message, error_code=exc.code)
        except Exception:  # noqa: BLE001 - a broken tool must not take the chat down
            log.exception("Ferramenta %s falhou", name)
            return ToolOutcome(name, args, False, error=f"Falha interna em {name}; tente de novo.", error_code="erro_interno")
        return ToolOutcome(name, args, True, result=result)
