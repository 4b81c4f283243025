"""The assistant's tools: thin LangChain adapters over the domain functions.

Each tool's JSON schema comes from its typed signature and its description from its
docstring (what the model reads). :class:`ToolRunner` validates arguments and turns any
:class:`~app.core.errors.HelioError` or validation error into a short, actionable message
for the model instead of an exception.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.tools import BaseTool, tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ValidationError

from app.agent.ports import SearcherLike, SizingPort, catalog_search, normalize_hit, product_brief
from app.catalog.models import Category, Phase, ProductQuery
from app.catalog.repository import CatalogRepository
from app.core.errors import HelioError, NotFound, Unavailable

log = logging.getLogger("helio.agent.tools")

Connection = Literal["single_phase", "two_phase", "three_phase"]
ProductCategory = Literal["module", "inverter", "battery", "kit", "structure", "string_box", "cable"]


@dataclass
class ToolDeps:
    sizing: SizingPort
    catalog: CatalogRepository | None
    searcher: SearcherLike | None


def make_tools(deps: ToolDeps) -> list[BaseTool]:
    @tool
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
    ) -> dict[str, Any]:
        """Size an on-grid PV system (kWp, modules, inverter, yearly energy) for a site in Brazil.
        Needs consumption (monthly_kwh, 12 values, or bill_brl + tariff_brl_per_kwh), the site
        (municipality + uf, ibge_code, or lat/lon) and the grid connection."""
        args = dict(monthly_kwh=monthly_kwh, monthly_kwh_list=monthly_kwh_list, bill_brl=bill_brl,
                    tariff_brl_per_kwh=tariff_brl_per_kwh, municipality=municipality, uf=uf, ibge_code=ibge_code,
                    lat=lat, lon=lon, connection=connection)
        return deps.sizing.size({k: v for k, v in args.items() if v is not None})

    @tool
    def find_products(
        category: ProductCategory | None = None,
        manufacturer: str | None = None,
        min_power_w: float | None = None,
        max_power_w: float | None = None,
        phase: Connection | None = None,
        query: str | None = None,
        limit: int = 5,
    ) -> dict[str, Any]:
        """Search the YSH catalog: modules (panels), inverters, batteries, kits... with filters."""
        q = ProductQuery(
            category=Category(category) if category else None,
            manufacturer=manufacturer,
            min_power_w=min_power_w,
            max_power_w=max_power_w,
            phase=Phase(phase) if phase else None,
            q=query,
            limit=max(1, min(limit, 10)),
        )
        return catalog_search(deps.catalog, q)

    @tool
    def get_product(product_id: str) -> dict[str, Any]:
        """Details of one catalog product by its id (specs, price, stock)."""
        if deps.catalog is None:
            raise Unavailable("Catálogo indisponível no momento.")
        product = deps.catalog.get(product_id)
        if product is None:
            raise NotFound(f"Produto '{product_id}' não existe no catálogo.",
                           hint="Use find_products para achar o id certo.")
        detail = product_brief(product)
        specs = product.module or product.inverter or product.battery or product.structure
        detail.update(
            model=product.model,
            description=(product.description or "")[:400],
            specs=specs.model_dump(mode="json", exclude_none=True, exclude={"cec"}) if specs else None,
        )
        return detail

    @tool
    def search_knowledge(query: str, k: int = 4) -> dict[str, Any]:
        """Search datasheets, regulations (Lei 14.300, ANEEL) and financing rules; returns cited passages."""
        if deps.searcher is None:
            raise Unavailable("Base de conhecimento fora do ar.", hint="Responda sem citações e avise o usuário.")
        hits = deps.searcher.search(query, k=max(1, min(k, 8)), filters=None)
        return {"hits": [normalize_hit(h) for h in hits]}

    return [size_pv_system, find_products, get_product, search_knowledge]


@dataclass
class ToolOutcome:
    name: str
    arguments: dict[str, Any]
    ok: bool
    result: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None


class ToolRunner:
    """Runs tools by name; never raises for a user-fixable problem."""

    def __init__(self, tools: list[BaseTool]) -> None:
        self.tools = {t.name: t for t in tools}
        self.specs = [convert_to_openai_tool(t) for t in tools]

    def run(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        args = {k: v for k, v in arguments.items() if v is not None}
        tool_ = self.tools.get(name)
        if tool_ is None:
            return ToolOutcome(name, args, False, error=f"Ferramenta '{name}' não existe. Use: {', '.join(self.tools)}.",
                               error_code="ferramenta_desconhecida")
        try:
            result = tool_.invoke(args)
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
