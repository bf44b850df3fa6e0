"""Who sent a message and what the handlers may use to answer it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csms.runtime.wiring import Services


@dataclass(frozen=True)
class StationContext:
    charge_point_id: str
    connection_id: str
    services: Services
    received_at: datetime
    """When the CSMS received the message, from the services' clock: the 'now' of every rule the handlers apply."""
    lenient: bool = False
    boot_status: str | None = None
    """The station's boot status when this connection opened (the authorizer read it)."""
    id_tag_suffix_separator: str | None = None
    """The station's vendor idTag suffix option when this connection opened (the authorizer read it)."""
