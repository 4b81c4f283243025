"""The sizing fields are named once (app/agent/slots.py) and every reader agrees with that list."""

from __future__ import annotations

import inspect
from typing import get_args

from app.agent.parsing import Parsed, parse_message
from app.agent.slots import OPTION_KEYS, SIZE_KEYS, SLOT_KEYS, Connection, SizingFields
from app.agent.state import Slots
from app.agent.tools import ToolDeps, tool_functions
from app.catalog.models import Phase


def test_the_connection_literal_is_the_phase_enum():
    assert set(get_args(Connection)) == {p.value for p in Phase}


def test_one_field_list_for_a_message_and_a_conversation():
    assert set(SIZE_KEYS) == set(SizingFields.model_fields)
    assert len(SIZE_KEYS) == len(set(SIZE_KEYS)) and not set(SLOT_KEYS) & set(OPTION_KEYS)
    for model in (Parsed, Slots):
        assert issubclass(model, SizingFields)
    # Slots adds no field of its own: what a conversation keeps is exactly what sizing takes.
    assert set(Slots.model_fields) == set(SizingFields.model_fields)


def test_the_sizing_tool_takes_every_field():
    size = next(fn for fn in tool_functions(ToolDeps(sizing=None, catalog=None, searcher=None))
                if fn.__name__ == "size_pv_system")
    assert set(SIZE_KEYS) <= set(inspect.signature(size).parameters)


def test_what_a_message_says_merges_into_the_conversation():
    parsed = parse_message("650 kWh por mês, trifásico, telhado metálico com 40 m²", None)
    slots = Slots()
    changed = slots.merge({**parsed.slots(), **parsed.options()})
    assert changed == ["monthly_kwh", "connection", "roof_type", "roof_area_m2"]
    assert (slots.monthly_kwh, slots.connection, slots.roof_type, slots.roof_area_m2) == (650, "three_phase", "metal",
                                                                                           40)
    assert slots.missing_for_sizing() == ["site"]
