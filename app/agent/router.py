"""Ask the model which tool fits the user's message, and keep only what can be verified.

The model proposes ``{tool, arguments}`` (native tool calls on Ollama, a JSON-schema
grammar on llama.cpp). Its argument values are accepted only when checkable against the
message: numbers must be written there, a municipality must exist and be named there, an
enum must be backed by a word in the message. A wrong guess therefore costs a question to
the user, never a wrong number.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from app.agent.extractors import roof_type
from app.agent.parsing import number_in_text, parse_connection
from app.agent.places import PlaceIndex, fold
from app.core.telemetry import span
from app.llm.base import LLMBackend, LLMUnavailable, Usage

log = logging.getLogger("helio.agent.router")

_NUMERIC = ("monthly_kwh", "bill_brl", "tariff_brl_per_kwh", "min_power_w", "max_power_w", "amount_brl",
            "down_payment_brl", "term_months", "grace_months", "system_kwp", "roof_area_m2", "shading_pct",
            "tilt_deg", "azimuth_deg", "target_offset_pct", "capacity_kwh", "voltage_v", "min_price_brl",
            "max_price_brl")


@dataclass
class Proposal:
    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    error: str | None = None


class Router:
    def __init__(
        self,
        llm: LLMBackend | None,
        tool_specs: list[dict[str, Any]],
        system_prompt: str,
        *,
        timeout_s: float = 20.0,
        max_tokens: int = 96,
        cooldown_s: float = 30.0,
        trip_after: int = 2,
    ) -> None:
        self.llm = llm
        self.tool_specs = tool_specs
        self.system_prompt = system_prompt
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.cooldown_s = cooldown_s
        self.trip_after = trip_after
        self._failures = 0
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.llm is not None and time.monotonic() >= self._down_until

    def propose(self, message: str, context: str | None = None, error: str | None = None,
                tools: list[dict[str, Any]] | None = None) -> Proposal:
        """The model's pick for ``message`` among ``tools`` (default: all); on failure a
        Proposal with ``error`` set. Tools left out of ``tools`` are not in the grammar, so
        the model cannot even name them (a widget session never sees create_draft_quote).

        After ``trip_after`` failures in a row the model is skipped for ``cooldown_s`` (a
        circuit breaker), so a dead or saturated model costs a couple of timeouts, not one
        per request; one slow generation alone does not trip it.
        """
        if self.llm is None:
            return Proposal(error="nenhum modelo configurado")
        if not self.available:
            return Proposal(error="modelo em pausa após falha recente")
        messages = [{"role": "system", "content": self.system_prompt}]
        if context:
            messages.append({"role": "system", "content": context})
        messages.append({"role": "user", "content": message})
        if error:
            messages.append({"role": "user", "content": f"Tool error: {error} Fix the arguments."})
        try:
            with span("llm.chat", **{"helio.llm.backend": getattr(self.llm, "name", None)}):
                reply = self.llm.chat(messages, tools=self.tool_specs if tools is None else tools, max_tokens=self.max_tokens, timeout_s=self.timeout_s)
        except LLMUnavailable as exc:
            with self._lock:
                self._failures += 1
                if self._failures >= self.trip_after:
                    self._down_until = time.monotonic() + self.cooldown_s
            log.warning("LLM indisponível: %s", exc.message)
            return Proposal(error=exc.message)
        except Exception as exc:  # noqa: BLE001 - a backend bug must degrade the answer, not break it
            log.exception("LLM falhou")
            return Proposal(error=f"{type(exc).__name__}: {exc}")
        with self._lock:
            self._failures = 0
        if not reply.tool_calls:
            return Proposal(tool="none", usage=reply.usage)
        call = reply.tool_calls[0]
        return Proposal(tool=call.name, arguments=call.arguments, usage=reply.usage)


def verified_arguments(args: dict[str, Any], text: str, places: PlaceIndex | None) -> dict[str, Any]:
    """The subset of the model's arguments that the message itself supports."""
    folded = fold(text)
    out: dict[str, Any] = {}
    for key in _NUMERIC:
        value = args.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            if number_in_text(value, text) or (key.endswith("power_w") and number_in_text(value / 1000, text)):
                out[key] = float(value)
    city = args.get("municipality")
    uf = args.get("uf") if isinstance(args.get("uf"), str) else None
    if isinstance(city, str) and city.strip() and places is not None and fold(city) in folded:
        found = places.lookup(city, uf) or places.lookup(city)
        if found is not None:
            out.update(municipality=found.name, uf=found.uf, ibge_code=found.ibge_code)
    if uf and "uf" not in out and places is not None and uf.upper() in places.ufs:
        if re.search(rf"(?<![A-Za-z]){uf.upper()}(?![A-Za-z])", text):
            out["uf"] = uf.upper()
    said = parse_connection(text)
    for key, values in (("system", ("price", "sac")), ("customer_type", ("pf", "pj"))):
        value = args.get(key)
        if value in values and re.search(rf"\b{value}\b", folded):
            out[key] = value
    for key in ("connection", "phase"):
        value = args.get(key)
        # The rules read phase words reliably; the model is believed only where they read none.
        if value in ("single_phase", "two_phase", "three_phase") and (
            said == value or (said is None and re.search(r"fas|phase", folded))
        ):
            out[key] = value
    roof = roof_type(text)
    if args.get("roof_type") is not None and args.get("roof_type") == roof:
        out["roof_type"] = roof  # an enum backed by a roof word in the message
    for key in ("category", "manufacturer", "product_id", "query", "company_id", "end_customer_name", "distributor"):
        value = args.get(key)
        if isinstance(value, str) and value.strip() and (key == "category" or fold(value) in folded):
            out[key] = value.strip()
    return out
