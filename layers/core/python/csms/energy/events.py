"""The operator's load-management events (source `csms.energy`; schemas in events/schemas): what the site's
capacity is shared as, and a station that does not follow its share. Emitted as follow-ups with the load control's
version they belong to, so each is put once per cause (deterministic ids)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from csms.domain.allocation import SiteAllocation
from csms.domain.clock import to_iso
from csms.domain.load_control import ConnectorControl, StationControl
from csms.domain.sites import Site
from csms.events.catalog import Event, EventType, event_id


def allocation_changed(site: Site, allocation: SiteAllocation, version: int, cause: str, now: datetime) -> Event:
    return Event(
        type=EventType.ALLOCATION_CHANGED,
        event_id=event_id(EventType.ALLOCATION_CHANGED, site.site_id, version),
        occurred_at=now,
        fields={
            "occurredAt": to_iso(now),
            "siteId": site.site_id,
            "version": version,
            "siteVersion": site.version,
            "cause": cause,
            "maxCurrentA": site.max_current_a,
            "totalCurrentA": allocation.total_current_a,
            "allocations": [
                {
                    "chargePointId": share.charge_point_id,
                    "connectorId": share.connector_id,
                    "transactionId": share.transaction_id,
                    "priority": share.priority,
                    "allocatedCurrentA": share.current_a,
                    "paused": share.paused,
                    "limitedBy": share.bound.value,
                    **({"circuitId": share.circuit_id} if share.circuit_id else {}),
                }
                for share in allocation.allocations
            ],
        },
    )


def allocation_ignored(
    site_id: str, control: ConnectorControl, now: datetime, *, reason: str = "rejected", measured_a: Decimal | None = None
) -> Event:
    return Event(
        type=EventType.ALLOCATION_IGNORED,
        event_id=event_id(
            EventType.ALLOCATION_IGNORED, site_id, control.charge_point_id, control.connector_id, control.transaction_id
        ),
        occurred_at=now,
        fields={
            "occurredAt": to_iso(now),
            "siteId": site_id,
            "chargePointId": control.charge_point_id,
            "connectorId": control.connector_id,
            "transactionId": control.transaction_id,
            "allocatedCurrentA": _ignored_limit(control, measured=measured_a is not None),
            "measuredCurrentA": measured_a,
            "reason": reason,
        },
    )


def _ignored_limit(control: ConnectorControl, *, measured: bool) -> Decimal:
    """Measured above its limit: the limit its station accepted; rejected: the limit it was offered."""
    if measured and control.confirmed_a is not None:
        return control.confirmed_a
    return control.target_a


def default_ignored(site_id: str, station: StationControl, version: int, now: datetime) -> Event:
    """A station that rejected every variant of its TxDefaultProfile (connector 0, no transaction): a car starting
    there may draw what the CSMS cannot know, so its idle connectors count at their bound."""
    return Event(
        type=EventType.ALLOCATION_IGNORED,
        event_id=event_id(EventType.ALLOCATION_IGNORED, site_id, station.charge_point_id, 0, "default", version),
        occurred_at=now,
        fields={
            "occurredAt": to_iso(now),
            "siteId": site_id,
            "chargePointId": station.charge_point_id,
            "connectorId": 0,
            "transactionId": None,
            "allocatedCurrentA": station.default_target_a or Decimal(0),
            "measuredCurrentA": None,
            "reason": "rejected",
        },
    )
