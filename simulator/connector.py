"""What a simulated station holds per connector: its status and meter, the session on it, its reservation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ocpp.v16.enums import ChargePointStatus

BUSY = (
    ChargePointStatus.preparing,
    ChargePointStatus.charging,
    ChargePointStatus.suspended_ev,
    ChargePointStatus.suspended_evse,
    ChargePointStatus.finishing,
)
"""Statuses of a connector in use (§4.9)."""


@dataclass
class Session:
    """A charging session on one connector, from plug-in to unplug."""

    connector_id: int
    id_tag: str
    remote: bool
    duration: float | None
    """Nominal seconds until the driver ends it; None: until stopped (remotely, by a reset, or a full battery)."""
    charging_profile: dict[str, Any] | None = None
    reservation_id: int | None = None
    transaction_id: int | None = None
    started_at: datetime | None = None
    meter_start: int = 0
    energy_wh: Decimal = Decimal(0)
    soc: Decimal = Decimal(40)
    power_w: Decimal = Decimal(0)
    stop_reason: str | None = None
    refusal: str | None = None
    """Why the session did not start: the AuthorizationStatus answered, "no answer", or "reserved"."""
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    begin_sample: dict[str, Any] | None = None
    task: asyncio.Task[None] | None = None
    last_accrual: float | None = None

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stop_requested.set()


@dataclass
class Connector:
    id: int
    meter_wh: int = 0
    status: str = ChargePointStatus.available
    operative: bool = True
    scheduled_operative: bool | None = None
    """ChangeAvailability answered Scheduled: applied when the running transaction ends (§5.2)."""
    session: Session | None = None


@dataclass
class Reservation:
    id: int
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry: datetime
    timer: asyncio.Task[None] | None = None

