"""What a StartTransaction binds to its transaction (issue 10 §2, §3): the limits and energy thresholds of the
app session it starts, or of its id tag, the duration timer, and for a cost limit the tariff version that prices it.

Kept apart from the handler: it needs only the id tag and station items StartTransaction reads anyway (pending app
starts live on the tag) and adds parts to the start's one TransactWriteItems, so the start stays within its request
budget; a cost limit adds the one read of the tariff version in force, so that no meter value reads more than it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from csms.adapters.dynamodb.follow_ups import put_once
from csms.adapters.dynamodb.sessions import AppSessionRepository
from csms.billing.tariff_choice import choose_tariff
from csms.domain.authorization import IdTagRecord
from csms.domain.clock import to_iso
from csms.domain.limits import SessionLimits, session_limits
from csms.domain.priorities import session_priority
from csms.domain.sessions import PendingStart, pending_start_for
from csms.domain.stations import Station
from csms.domain.transactions import CostTariff, TransactionStart
from csms.runtime.observability import logger
from csms.runtime.wiring import Services
from csms.sessions.limits import duration_timer


@dataclass(frozen=True)
class Binding:
    start: TransactionStart
    """The start with its limits, thresholds and app session."""
    app_start: PendingStart | None
    """The app session it starts, whose pending start the tag's claim removes."""


def bind(record: IdTagRecord | None, start: TransactionStart, *, accepted: bool, now: datetime, window: timedelta) -> Binding:
    """Only an accepted start binds (any other is told to stop, OCPP 1.6 §4.8). Card sessions get their tag's
    default limits; an app session's, or else the consumed reservation's (already on `start`), replace them field
    by field. The app session's priority wins over the tag's (already on `start`)."""
    if record is None or not accepted:
        return Binding(start, None)
    app_start = pending_start_for(
        record.pending_starts, charge_point_id=start.charge_point_id, connector_id=start.connector_id, now=now, window=window
    )
    bound = replace(
        start,
        limits=session_limits(id_tag=record.limits, requested=_requested(app_start, reserved=start.limits)),
        notify_at_energy_wh=(app_start.notify_at_energy_wh if app_start else ()) or record.notify_at_energy_wh,
        session_id=app_start.session_id if app_start else None,
        priority=session_priority(app_start.priority if app_start else None, record.priority),
    )
    return Binding(bound, app_start)


def with_cost_tariff(
    services: Services, binding: Binding, record: IdTagRecord | None, station: Station | None, *, now: datetime
) -> Binding:
    """A session with a cost limit gets the tariff version that prices it (billing's choice: the id tag's tariff over
    the station's over the network default, the version in force now, when the CSMS accepts the start): one read,
    here, instead of the station, the id tag and the tariff's history at its first meter value. None in the limit's
    currency, none bound: the limit is not applied (POST /sessions and PUT /id-tags refuse that where they can)."""
    limits = binding.start.limits
    if limits is None or limits.max_cost is None:
        return binding
    choice = choose_tariff(
        id_tag_tariff=record.tariff_id if record else None,
        station_tariff=station.tariff_id if station else None,
        default_tariff=services.settings.default_tariff_id,
    )
    stored = services.tariffs.version_at(choice.tariff_id, now) if choice else None
    if choice is None or stored is None:
        logger.warning("No tariff prices a session with a cost limit", extra={"charge_point_id": binding.start.charge_point_id})
        return binding
    if stored.tariff.currency != limits.max_cost.currency:
        logger.warning(
            "Cost limit in another currency than the session's tariff: not applied",
            extra={
                "charge_point_id": binding.start.charge_point_id,
                "limit": limits.max_cost.currency,
                "tariff": stored.tariff.currency,
            },
        )
        return binding
    bound = CostTariff(choice.tariff_id, stored.version, stored.effective_at, (station.time_zone if station else None) or "UTC")
    return replace(binding, start=replace(binding.start, cost_tariff=bound))


def _requested(app_start: PendingStart | None, *, reserved: SessionLimits | None) -> SessionLimits | None:
    """What the driver asked for: the app session's limits over the reservation's, field by field."""
    if app_start is None or app_start.limits is None:
        return reserved
    return app_start.limits.overriding(reserved)


def start_writes(table_name: str, transaction_id: int, binding: Binding, *, now: datetime) -> dict[str, dict[str, Any]]:
    """The optional TransactWriteItems parts of the start: its app session Started, its duration timer."""
    writes: dict[str, dict[str, Any]] = {}
    if binding.app_start is not None:
        writes["appSession"] = AppSessionRepository.started_update(
            table_name, binding.app_start.session_id, transaction_id=transaction_id, started_at=to_iso(binding.start.started_at)
        )
    timer = duration_timer(transaction_id, binding.start, now=now)
    if timer is not None:
        writes["durationTimer"] = put_once(table_name, timer)
    return writes
