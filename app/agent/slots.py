"""What a sizing can be told, named once: the fields a message gives and a conversation keeps.

:class:`SizingFields` lists them (tool argument names, units in the names, ``None`` = not
said). :class:`app.agent.parsing.Parsed` (what one message says) and
:class:`app.agent.state.Slots` (what the conversation knows) both extend it, so the list
cannot drift between them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Connection = Literal["single_phase", "two_phase", "three_phase"]
"""The grid connection: the values of :class:`app.catalog.models.Phase`, as a string enum that a
tool's JSON schema can offer (tests/test_agent_slots.py checks that the two agree)."""

SLOT_KEYS = ("monthly_kwh", "monthly_kwh_list", "bill_brl", "tariff_brl_per_kwh", "connection",
             "municipality", "uf", "ibge_code", "lat", "lon")
"""What sizing needs (consumption, site, connection), in the order an answer echoes them."""

OPTION_KEYS = ("system_kwp", "roof_type", "roof_area_m2", "shading_pct", "tilt_deg", "azimuth_deg", "budget_brl",
               "target_offset_pct", "distributor")
"""What else a sizing can take (roof, area, budget, coverage, distributor, a fixed size)."""

SIZE_KEYS = SLOT_KEYS + OPTION_KEYS

SLOT_GROUPS = ("consumption", "tariff", "site", "uf", "connection")
"""What the assistant asks for when sizing lacks it (``ConversationState.awaiting``), in asking order."""


class SizingFields(BaseModel):
    """The sizing fields (see the module docstring)."""

    monthly_kwh: float | None = None
    monthly_kwh_list: list[float] | None = None
    bill_brl: float | None = None
    tariff_brl_per_kwh: float | None = None
    municipality: str | None = None
    uf: str | None = None
    ibge_code: int | None = None
    lat: float | None = None
    lon: float | None = None
    connection: Connection | None = None
    # Options the user gave (tool argument names); kept until replaced, like the slots above.
    system_kwp: float | None = None
    roof_type: str | None = None
    roof_area_m2: float | None = None
    shading_pct: float | None = None
    tilt_deg: float | None = None
    azimuth_deg: float | None = None
    budget_brl: float | None = None
    target_offset_pct: float | None = None
    distributor: str | None = None
