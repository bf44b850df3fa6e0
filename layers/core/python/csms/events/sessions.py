"""The session events drivers hear of (source `csms.sessions`): SessionStarted, ThresholdReached, SessionEnded.

Every session, card or app, gets them. Their ids derive from the session (station, transactionId and the
instant the CSMS accepted its start: transaction ids wrap around) and what happened to it, so each is at most
once per cause, however often it is computed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from csms.domain.limits import Money
from csms.domain.thresholds import Crossing
from csms.domain.transactions import Transaction
from csms.events.catalog import Event, EventType
from csms.events.driver import driver_event
from csms.ocpp.frames import decimal_to_json


def _session_cause(transaction: Transaction) -> tuple[object, ...]:
    accepted = transaction.created_at or transaction.start.started_at
    return (transaction.charge_point_id, transaction.transaction_id, accepted.isoformat())


def _event(event_type: EventType, transaction: Transaction, *cause: object, occurred_at: datetime, **fields: object) -> Event:
    return driver_event(
        event_type,
        cause=(*_session_cause(transaction), *cause),
        occurred_at=occurred_at,
        charge_point_id=transaction.charge_point_id,
        connector_id=transaction.connector_id,
        transaction_id=transaction.transaction_id,
        id_tag=transaction.id_tag,
        **fields,
    )


def session_started(transaction: Transaction) -> Event:
    """When the station says it started (its StartTransaction timestamp)."""
    return _event(EventType.SESSION_STARTED, transaction, occurred_at=transaction.start.started_at)


def threshold_reached(transaction: Transaction, crossing: Crossing, *, read_at: datetime) -> Event:
    return _event(
        EventType.THRESHOLD_REACHED,
        transaction,
        crossing.measurand,
        crossing.threshold,
        occurred_at=read_at,
        measurand=crossing.measurand,
        threshold=decimal_to_json(crossing.threshold),
        value=decimal_to_json(crossing.value),
    )


def session_ended(transaction: Transaction, *, cost: Money | None) -> Event:
    """A stopped session: its energy, its duration from the StartTransaction to the StopTransaction timestamp,
    and its cost including VAT (None when no tariff applies to it)."""
    stop = transaction.stop
    if stop is None:
        raise ValueError(f"transaction {transaction.transaction_id} has not stopped")
    duration = max(0, int((stop.stopped_at - transaction.start.started_at).total_seconds()))
    return _event(
        EventType.SESSION_ENDED,
        transaction,
        occurred_at=stop.stopped_at,
        energyWh=decimal_to_json(Decimal(stop.meter_stop - transaction.start.meter_start)),
        durationSeconds=duration,
        cost={"amount": str(cost.amount), "currency": cost.currency} if cost is not None else None,
    )
