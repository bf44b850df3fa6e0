"""The reservation events (source `csms.reservations`): one of each type at most per reservation, so the
reservation's id (unique: a counter gives it) is each event's cause, the seed of its deterministic `eventId`."""

from __future__ import annotations

from datetime import datetime

from csms.domain.clock import to_iso
from csms.domain.reservations import Hold, Reservation
from csms.events.catalog import Event, EventType
from csms.events.driver import driver_event


def _about(event_type: EventType, reservation: Reservation, *, occurred_at: datetime, **fields: object) -> Event:
    return driver_event(
        event_type,
        cause=(reservation.reservation_id,),
        occurred_at=occurred_at,
        charge_point_id=reservation.charge_point_id,
        connector_id=reservation.connector_id,
        transaction_id=None,
        id_tag=reservation.id_tag,
        reservationId=reservation.reservation_id,
        expiryDate=to_iso(reservation.expiry_date),
        **fields,
    )


def confirmed(reservation: Reservation, *, at: datetime) -> Event:
    start_at = to_iso(reservation.start_at) if reservation.start_at else None
    return _about(EventType.RESERVATION_CONFIRMED, reservation, occurred_at=at, startAt=start_at)


def refused(reservation: Reservation, *, refusal: str, at: datetime) -> Event:
    return _about(EventType.RESERVATION_REFUSED, reservation, occurred_at=at, refusal=refusal)


def expired(reservation: Reservation) -> Event:
    return _about(EventType.RESERVATION_EXPIRED, reservation, occurred_at=reservation.expiry_date)


def cancelled(reservation: Reservation, *, at: datetime) -> Event:
    return _about(EventType.RESERVATION_CANCELLED, reservation, occurred_at=at)


def consumed(
    hold: Hold,
    *,
    charge_point_id: str,
    connector_id: int,
    transaction_id: int,
    id_tag: str,
    at: datetime,
) -> Event:
    """`connector_id`, `id_tag`: the transaction's (a connector-0 reservation is consumed on a real connector, and
    by a tag sharing the reserved parent)."""
    return driver_event(
        EventType.RESERVATION_CONSUMED,
        cause=(hold.reservation_id,),
        occurred_at=at,
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        transaction_id=transaction_id,
        id_tag=id_tag,
        reservationId=hold.reservation_id,
        expiryDate=to_iso(hold.expiry_date),
        reservedConnectorId=hold.connector_id,
    )
