"""Who sent a message and what the handlers may use to answer it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from csms.domain.clock import utc_now
from csms.runtime.wiring import Services


@dataclass(frozen=True)
class StationContext:
    charge_point_id: str
    connection_id: str
    services: Services
    lenient: bool = False
    boot_status: str | None = None
    """The station's boot status when this connection opened (the authorizer read it)."""
    received_at: datetime = field(default_factory=utc_now)
