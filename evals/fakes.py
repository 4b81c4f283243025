"""The one engine-shaped stand-in for the sizing engine, shared by the tests and the evals.

:class:`FormulaSizing` answers a :class:`~app.agent.ports.SizingPort` call with a real
:class:`app.sizing.models.SizingResult` (validated, so it cannot drift from the engine's
shape) whose figures come from a formula anyone can check by hand: 1 kWp per 120 kWh/month
of consumption, 550 W modules, 1,450 kWh/kWp/yr, R$ 4.000 invested per kWp. Like the engine,
a bill without a tariff is converted at the site distributor's tariff (here one default for
every site), ``system_kwp`` simulates that size, and an unknown municipality is an
:class:`~app.core.errors.InvalidInput` with a hint.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from app.core.errors import InvalidInput
from app.sizing.models import SizingResult

MODULE_W = 550.0
YIELD_KWH_PER_KWP = 1450.0
CAPEX_BRL_PER_KWP = 4000.0
KWH_PER_MONTH_PER_KWP = 120.0


def _line(product_id: str, name: str, manufacturer: str, quantity: int, watts: float, price: float) -> dict[str, Any]:
    return {"product_id": product_id, "name": name, "manufacturer": manufacturer, "quantity": quantity,
            "unit_power_w": watts, "unit_price_brl": price, "total_brl": round(quantity * price, 2)}


class FormulaSizing:
    """See the module docstring. ``calls`` records the arguments of every call."""

    def __init__(self, default_tariff_brl_per_kwh: float = 0.90, *, with_id: bool = True) -> None:
        self.calls: list[dict[str, Any]] = []
        self.default_tariff_brl_per_kwh = default_tariff_brl_per_kwh
        self.with_id = with_id

    def result(self, args: dict[str, Any]) -> SizingResult:
        """The engine-shaped result for the tool arguments ``args``."""
        if args.get("municipality") == "Atlantis":
            raise InvalidInput("Município 'Atlantis' não encontrado.", hint="Informe um município brasileiro e a UF.")
        tariff = args.get("tariff_brl_per_kwh") or self.default_tariff_brl_per_kwh
        if args.get("monthly_kwh_list"):
            monthly = sum(args["monthly_kwh_list"]) / len(args["monthly_kwh_list"])
        else:
            monthly = args.get("monthly_kwh") or (args["bill_brl"] / tariff if args.get("bill_brl") else None)
        kwp = args["system_kwp"] if args.get("system_kwp") else round(monthly / KWH_PER_MONTH_PER_KWP, 2)
        n_modules = math.ceil(kwp * 1000 / MODULE_W)
        annual = kwp * YIELD_KWH_PER_KWP
        consumption = (monthly or 0.0) * 12
        capex = round(kwp * CAPEX_BRL_PER_KWP, 2)
        savings_brl_per_year = round(min(annual, consumption) * tariff, 2)
        data = {
            "mode": "fixed_size" if args.get("system_kwp") else "target",
            "sizing_id": hashlib.sha256(json.dumps(args, sort_keys=True).encode()).hexdigest()[:24]
            if self.with_id else None,
            "site": {"municipality": args.get("municipality") or "Local informado", "uf": args.get("uf") or "BR",
                     "ibge_code": args.get("ibge_code") or 0, "latitude_deg": args.get("lat") or -15.8,
                     "longitude_deg": args.get("lon") or -47.9, "timezone": "America/Sao_Paulo",
                     "distance_to_seat_km": 0.0},
            "resource": {"source": "formula", "provenance": ["evals.fakes"], "annual_ghi_kwh_m2": 1900.0,
                         "ghi_uncertainty_pct": 5.0, "mean_temp_air_c": 22.0, "design_min_temp_c": 5.0},
            "consumption": {"monthly_kwh": [monthly or 0.0] * 12, "annual_kwh": consumption,
                            "availability_kwh_per_month": 100.0, "target_annual_kwh": consumption or annual},
            "tilt_deg": 20.0, "azimuth_deg": 0.0,
            "best": {
                "label": "best",
                "module": _line("jinko-tiger-neo-550", "Jinko Tiger Neo 550 W", "Jinko", n_modules, MODULE_W, 700.0),
                "inverter": _line("growatt-min-5000tl-x", "Growatt MIN 5000TL-X", "Growatt", 1, 5000.0, 5000.0),
                "dc_kwp": kwp, "ac_kw": 5.0, "dc_ac_ratio": round(kwp / 5.0, 2), "roof_area_used_m2": None,
                "strings": None,
                "energy": {"annual_kwh": annual, "monthly_kwh": [annual / 12] * 12,
                           "specific_yield_kwh_per_kwp": YIELD_KWH_PER_KWP, "performance_ratio_pct": 80.0,
                           "p50_annual_kwh": annual, "p90_annual_kwh": annual * 0.92, "p90_method": "formula",
                           "offset_pct": 100.0 if not consumption else round(annual / consumption * 100, 1),
                           "dc_model": "formula", "losses_pct": {}, "clipping_loss_pct": 0.0,
                           "annual_poa_kwh_m2": 2000.0},
                "economics": {"capex_brl": capex, "equipment_brl": round(capex * 0.7, 2),
                              "installation_brl": round(capex * 0.3, 2), "npv_brl": 0.0, "irr_pct": None,
                              "simple_payback_years": round(capex / savings_brl_per_year, 1)
                              if savings_brl_per_year else None,
                              "discounted_payback_years": None, "first_year_savings_brl": savings_brl_per_year,
                              "energy_brl_per_kwh": tariff, "fio_b_brl_per_kwh": 0.0, "years": []},
            },
            "alternatives": [], "usable_modules": 1, "usable_inverters": 1, "skipped_products": [], "assumptions": [],
        }
        return SizingResult.model_validate(data)

    def size(self, args: dict[str, Any]) -> SizingResult:
        self.calls.append(args)
        return self.result(args)
