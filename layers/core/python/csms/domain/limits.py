"""Session limits: when the CSMS stops a session by itself (issue 10 §3), in the shape OCPP 2.1 standardised
for a transaction's limit (`TransactionLimitType`: maxCost, maxEnergy in Wh, maxTime in s, maxSoC).

A limit comes from an id tag (its default, for card sessions), a session started from the app or a
reservation; the session's or reservation's replaces the id tag's field by field (`overriding`). A limit is
reached when the value is at or past it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any


class LimitKind(StrEnum):
    """Which limit stopped a session (`limitReached` on the transaction and in SessionLimitReached)."""

    ENERGY = "energy"
    COST = "cost"
    DURATION = "duration"
    SOC = "soc"


@dataclass(frozen=True)
class Money:
    amount: Decimal
    """Including VAT, in `currency` (ISO 4217), compared with the running cost in the tariff's currency."""
    currency: str


@dataclass(frozen=True, kw_only=True)
class SessionLimits:
    max_cost: Money | None = None
    max_energy_wh: int | None = None
    max_duration_seconds: int | None = None
    max_soc: int | None = None
    """State of charge, percent."""

    @property
    def empty(self) -> bool:
        return all(getattr(self, field.name) is None for field in fields(self))

    def overriding(self, defaults: SessionLimits | None) -> SessionLimits:
        """These limits over `defaults`, field by field: a field set here wins, the others are the defaults'."""
        if defaults is None:
            return self
        set_here = {field.name: getattr(self, field.name) for field in fields(self) if getattr(self, field.name) is not None}
        return replace(defaults, **set_here)

    def to_json(self) -> dict[str, Any]:
        """The API's and the items' shape: `{maxCost: {amount: "30.00", currency}, maxEnergyWh, maxDurationSeconds,
        maxSoC}`, only what is set (the amount a decimal string, as money is)."""
        document: dict[str, Any] = {}
        if self.max_cost is not None:
            document["maxCost"] = {"amount": str(self.max_cost.amount), "currency": self.max_cost.currency}
        for name, value in (
            ("maxEnergyWh", self.max_energy_wh),
            ("maxDurationSeconds", self.max_duration_seconds),
            ("maxSoC", self.max_soc),
        ):
            if value is not None:
                document[name] = value
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> SessionLimits:
        """From `to_json`'s shape (validated before: the API's model, or an item this code wrote)."""
        cost = document.get("maxCost")

        def whole(name: str) -> int | None:
            return int(document[name]) if document.get(name) is not None else None

        return cls(
            max_cost=Money(Decimal(str(cost["amount"])), cost["currency"]) if cost else None,
            max_energy_wh=whole("maxEnergyWh"),
            max_duration_seconds=whole("maxDurationSeconds"),
            max_soc=whole("maxSoC"),
        )


def session_limits(*, id_tag: SessionLimits | None, requested: SessionLimits | None = None) -> SessionLimits | None:
    """The limits a session runs with: its id tag's defaults (all a card session gets), each replaced by the field
    the app session or the reservation gave (issue 10 §5). None when nothing limits it."""
    chosen = requested.overriding(id_tag) if requested is not None else id_tag
    return None if chosen is None or chosen.empty else chosen
