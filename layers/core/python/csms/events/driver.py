"""Driver events (sessions, reservations): the fields every one of them carries, whatever its type.

Each `detail` has `eventId` (deterministic: the same cause gives the same id, so a retry is recognisably the
same event), `schemaVersion`, `occurredAt`, `chargePointId`, `connectorId`, `transactionId` and `idTag` (null
where the event has none yet, e.g. a reservation not consumed), then the fields of its type.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from csms.domain.clock import to_iso
from csms.events.catalog import Event, EventType, event_id


def driver_event(
    event_type: EventType,
    *,
    cause: Sequence[object],
    occurred_at: datetime,
    charge_point_id: str,
    connector_id: int,
    transaction_id: int | None,
    id_tag: str | None,
    **fields: Any,
) -> Event:
    """`cause`: what makes this event this one (e.g. the transaction and the threshold crossed), its id's seed."""
    return Event(
        type=event_type,
        event_id=event_id(event_type, *cause),
        occurred_at=occurred_at,
        fields={
            "occurredAt": to_iso(occurred_at),
            "chargePointId": charge_point_id,
            "connectorId": connector_id,
            "transactionId": transaction_id,
            "idTag": id_tag,
            **fields,
        },
    )
