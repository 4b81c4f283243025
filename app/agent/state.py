"""Conversation state: the slots learned so far, kept in the cache between turns.

The state is small JSON (slots, what was last asked, a short transcript) stored under
``conv:<id>`` with ``settings.redis.conversation_ttl_s``; every API replica reads the same
state from Redis, or from process memory when Redis is absent or down (FallbackCache).
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.agent.slots import SizingFields
from app.core.cache import Cache
from app.core.errors import InvalidInput

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
MAX_TRANSCRIPT = 20


class Slots(SizingFields):
    """What sizing needs and the options given (:class:`SizingFields`), learned over the turns."""

    def has_consumption(self) -> bool:
        """A bill in R$ is enough: the engine converts it with the site distributor's tariff."""
        return bool(self.monthly_kwh or self.monthly_kwh_list or self.bill_brl)

    def has_site(self) -> bool:
        return bool(self.ibge_code or (self.municipality and self.uf) or (self.lat is not None and self.lon is not None))

    def missing_for_sizing(self) -> list[str]:
        """Slot groups still needed, in the order they are asked."""
        missing = []
        if not self.has_consumption() and not self.system_kwp:
            missing.append("consumption")  # a given size simulates without one (savings then assumed)
        if not self.has_site():
            missing.append("uf" if self.municipality and not self.uf else "site")
        if self.connection is None and not self.system_kwp:
            missing.append("connection")
        return missing

    def merge(self, new: dict[str, Any]) -> list[str]:
        """Overwrite with the values in ``new`` (a correction replaces); return changed names.

        Consumption forms exclude each other: a new kWh figure drops an older bill and
        vice versa, and a new city drops the old coordinates/IBGE code.
        """
        changed = []
        consumption = {"monthly_kwh", "monthly_kwh_list", "bill_brl"} & set(new)
        if consumption and "system_kwp" not in new:
            self.system_kwp = None  # a new consumption asks for sizing to it, not the old fixed size
        if "municipality" in new and "distributor" not in new:
            self.distributor = None  # the distributor named was the old site's
        if "monthly_kwh" in new or "monthly_kwh_list" in new:
            self.bill_brl = self.tariff_brl_per_kwh = None
            if "monthly_kwh" in new:
                self.monthly_kwh_list = None
            else:
                self.monthly_kwh = None
        elif "bill_brl" in new:
            self.monthly_kwh = self.monthly_kwh_list = None
        if "municipality" in new:
            self.lat = self.lon = None
            self.ibge_code = None
            if "uf" not in new:
                self.uf = None
        for key, value in new.items():
            if value is None or not hasattr(self, key):
                continue
            if getattr(self, key) != value:
                changed.append(key)
            setattr(self, key, value)
        return changed


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str
    at: float = Field(default_factory=time.time)


class ConversationState(BaseModel):
    id: str
    language: str = "pt-BR"
    slots: Slots = Field(default_factory=Slots)
    awaiting: list[str] = Field(default_factory=list, description="slot groups asked for in the last reply")
    asked: list[str] = Field(default_factory=list, description="slot groups already asked once")
    uf_options: list[str] = Field(default_factory=list, description="UFs of a city name found in several")
    intent: str | None = Field(None, description="the pending or last task (e.g. size_pv_system)")
    last_intent: str | None = Field(None, description="the task of the last routed turn (follow-ups refer to it)")
    last_find: dict[str, Any] | None = Field(None, description="filters of the last product search")
    last_sizing: dict[str, Any] | None = None
    sizing_id: str | None = Field(None, description="id of the last successful sizing (quotes refer to it)")
    sizing_capex_brl: float | None = Field(None, description="its estimated investment [R$], financed by default")
    financing: dict[str, Any] | None = Field(None, description="the last financing simulated: amount_brl, source…")
    last_products: dict[str, Any] | None = Field(None, description="filters of the last product search")
    last_knowledge: dict[str, str] | None = Field(
        None, description="the last knowledge question with its context (follow-ups like 'e monofásico?' refer to it)")
    company_options: list[dict[str, str]] = Field(
        default_factory=list, description="companies matching the client a rep named (id, name), awaiting a pick")
    buyer: dict[str, str] = Field(default_factory=dict, description="company_id / employee_id for quotes")
    pending_quote: dict[str, Any] | None = Field(None, description="quote arguments shown and awaiting a yes/no")
    last_quote: dict[str, Any] | None = Field(None, description="the quote created in this conversation")
    transcript: list[Turn] = Field(default_factory=list)
    owner: str | None = Field(None, description="API key id that started it; None = anonymous widget session")
    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)

    def add(self, role: Literal["user", "assistant"], content: str) -> None:
        self.transcript.append(Turn(role=role, content=content))
        del self.transcript[:-MAX_TRANSCRIPT]
        self.updated_at = time.time()


def check_conversation_id(conversation_id: str) -> str:
    if not _ID.match(conversation_id):
        raise InvalidInput(
            "conversation_id inválido.",
            hint="Use até 128 caracteres entre letras, dígitos, '_', '-', '.', ':'.",
        )
    return conversation_id


class ConversationStore:
    """Loads/saves :class:`ConversationState` in the cache with the conversation TTL."""

    def __init__(self, cache: Cache, ttl_s: int) -> None:
        self.cache = cache
        self.ttl_s = ttl_s

    @staticmethod
    def _key(conversation_id: str) -> str:
        return f"conv:{conversation_id}"

    def get(self, conversation_id: str) -> ConversationState | None:
        raw = self.cache.get_json(self._key(check_conversation_id(conversation_id)))
        return None if raw is None else ConversationState.model_validate(raw)

    def load(self, conversation_id: str) -> ConversationState:
        return self.get(conversation_id) or ConversationState(id=conversation_id)

    def save(self, state: ConversationState) -> None:
        self.cache.set_json(self._key(state.id), state.model_dump(mode="json"), self.ttl_s)

    def get_owned(self, conversation_id: str, owner: str | None) -> ConversationState | None:
        """The conversation if ``owner`` may see it: one started with an API key belongs to that
        key (it can hold a buyer and a pending quote); anonymous ones are bearer ids."""
        state = self.get(conversation_id)
        if state is None or (state.owner is not None and state.owner != owner):
            return None
        return state

    def delete(self, conversation_id: str) -> bool:
        return self.cache.delete(self._key(check_conversation_id(conversation_id)))
