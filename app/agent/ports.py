"""The narrow interfaces the agent needs from the domain packages, and their adapters.

The sizing engine (``app.sizing``) and the knowledge searcher (``app.retrieval``) are
written by other teams; the agent depends only on these protocols, so a fake can stand in
for tests and a missing package degrades one tool instead of the whole chat.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from app.catalog.models import ProductQuery
from app.catalog.repository import CatalogRepository
from app.core.cache import Cache
from app.core.errors import InvalidInput, Unavailable
from app.retrieval.types import Passage

if TYPE_CHECKING:
    from app.sizing.models import SizingResult

log = logging.getLogger("helio.agent")


class SizingPort(Protocol):
    def size(self, args: dict[str, Any]) -> SizingResult:
        """Size a system from the tool arguments. Raises HelioError."""
        ...


class SearcherLike(Protocol):
    def search(self, query: str, k: int = 5, filters: Any = None) -> list[Any]: ...


def sizing_request_payload(args: dict[str, Any]) -> dict[str, Any]:
    """Tool arguments (flat) → the nested ``SizingRequest`` shape of ``app.sizing.models``."""
    site: dict[str, Any] = {}
    if args.get("ibge_code"):
        site["ibge_code"] = args["ibge_code"]
    elif args.get("municipality"):
        site["municipality"] = args["municipality"]
        if args.get("uf"):
            site["uf"] = args["uf"]
    elif args.get("lat") is not None and args.get("lon") is not None:
        site.update(lat=args["lat"], lon=args["lon"])
    consumption: dict[str, Any] = {}
    if args.get("monthly_kwh_list"):
        consumption["monthly_kwh"] = list(args["monthly_kwh_list"])
    elif args.get("monthly_kwh"):
        consumption["monthly_kwh"] = args["monthly_kwh"]
    elif args.get("bill_brl"):
        consumption.update(bill_brl=args["bill_brl"], tariff_brl_per_kwh=args.get("tariff_brl_per_kwh"))
    payload: dict[str, Any] = {"site": site, "consumption": consumption}
    if args.get("connection"):
        payload["connection"] = args["connection"]
    for key in ("system_kwp", "kit_id"):  # simulate a given size or kit (issue #15)
        if args.get(key) is not None:
            payload[key] = args[key]
    roof = {field: args[arg] for arg, field in (("roof_type", "type"), ("roof_area_m2", "area_m2"),
                                               ("shading_pct", "shading_pct"), ("roof_faces", "faces"),
                                               ("tilt_deg", "tilt_deg"), ("azimuth_deg", "azimuth_deg"))
            if args.get(arg) is not None}
    if roof:
        payload["roof"] = roof
    preferences = {k: args[k] for k in ("budget_brl", "target_offset_pct") if args.get(k) is not None}
    if preferences:
        payload["preferences"] = preferences
    if args.get("distributor"):
        payload["tariff"] = {"distributor": args["distributor"]}
    return payload


class EngineSizing:
    """:class:`SizingPort` over ``app.sizing.engine.size_system`` (imported on first use).

    With a ``cache`` the result is stored as ``POST /v1/sizing`` stores it (same
    ``sizing_id``, ``ttl_s`` seconds), so a quote or a financing can refer to a chat sizing.
    """

    def __init__(self, catalog: CatalogRepository | None, cache: Cache | None = None,
                 ttl_s: int = 30 * 24 * 3600) -> None:
        self.catalog = catalog
        self.cache = cache
        self.ttl_s = ttl_s

    def size(self, args: dict[str, Any]) -> SizingResult:
        from pydantic import ValidationError

        from app.sizing import engine, models, service

        try:
            request = models.SizingRequest.model_validate(sizing_request_payload(args))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ()))
            raise InvalidInput(f"Dado de dimensionamento inválido em '{field}': {first.get('msg')}.",
                               hint="Confira consumo (kWh/mês), município/UF e tipo de ligação.") from exc
        if self.cache is not None and self.catalog is not None:
            result, _hit = service.size_and_store(request, self.catalog, self.cache, self.ttl_s)
        else:
            result = engine.size_system(request, self.catalog if self.catalog is not None else [])
        return result


class ProductBrief(BaseModel):
    """The fields a product card shows (all copied from the catalog record)."""

    id: str
    name: str
    category: str
    manufacturer: str | None
    power_w: float | None
    phase: str | None
    price_brl: float | None
    in_stock: bool


class ProductDetail(ProductBrief):
    """One product's card: the brief, its model, description and datasheet specs."""

    model: str | None
    description: str
    specs: dict[str, Any] | None


class ProductList(BaseModel):
    """A catalog search: how many match, and the first ones."""

    total: int
    items: list[ProductBrief]


class FinancingOption(BaseModel):
    """One credit line for the amount asked, as the chat shows it (figures rounded for display)."""

    rank: int
    line_id: str
    lender: str
    line: str
    rate_monthly_pct: float
    rate_annual_pct: float
    first_payment_brl: float
    last_payment_brl: float
    n_installments: int
    iof_brl: float
    contracted_brl: float
    capitalized_interest_brl: float
    total_paid_brl: float
    total_interest_brl: float
    cet_monthly_pct: float
    cet_annual_pct: float
    caveats: list[str]


class IneligibleOption(BaseModel):
    line_id: str
    lender: str
    reasons: list[str]


class FinancingOffers(BaseModel):
    """``simulate_financing``'s answer: the eligible lines ranked by CET, the others with why
    (the compact view of :func:`app.financing.tool.simulate_financing_for_chat`)."""

    amount_brl: float
    down_payment_brl: float
    financed_brl: float
    term_months: int
    grace_months: int
    system: str
    customer_type: str
    ranked_by: str
    options: list[FinancingOption]
    ineligible: list[IneligibleOption]
    notes: list[str]


def product_brief(product: Any) -> ProductBrief:
    return ProductBrief(id=product.id, name=product.name, category=str(product.category),
                        manufacturer=product.manufacturer, power_w=product.power_w,
                        phase=str(product.phase) if product.phase else None, price_brl=product.price_brl,
                        in_stock=product.in_stock)


def product_detail(product: Any) -> ProductDetail:
    specs = product.module or product.inverter or product.battery or product.structure
    return ProductDetail(
        **product_brief(product).model_dump(),
        model=product.model,
        description=(product.description or "")[:400],
        specs=specs.model_dump(mode="json", exclude_none=True, exclude={"cec"}) if specs else None,
    )


def catalog_search(catalog: CatalogRepository | None, query: ProductQuery) -> ProductList:
    if catalog is None:
        raise Unavailable("Catálogo indisponível no momento.", hint="Tente de novo mais tarde.")
    page = catalog.search(query)
    return ProductList(total=page.total, items=[product_brief(p) for p in page.items])


def normalize_hit(hit: Any) -> Passage:
    """A searcher hit (object or dict) → a :class:`~app.retrieval.types.Passage` with a printable citation."""
    get = (lambda k, d=None: hit.get(k, d)) if isinstance(hit, dict) else (lambda k, d=None: getattr(hit, k, d))
    text = get("text") or get("content") or ""
    citation = get("citation")
    if hasattr(citation, "model_dump"):
        citation = citation.model_dump(mode="json")
    elif citation is not None and not isinstance(citation, (dict, str)):
        citation = {k: v for k, v in vars(citation).items() if not k.startswith("_")}
    if isinstance(citation, str):
        citation = {"title": citation}
    citation = dict(citation or {})
    payload = get("payload") or {}
    citation.setdefault("title", payload.get("title") or payload.get("source") or "fonte sem título")
    if payload.get("source"):
        citation.setdefault("source", payload["source"])
    return Passage(text=str(text), score=float(get("score", 0.0) or 0.0), citation=citation,
                   metadata=dict(get("metadata") or {}))
