"""What a station's answers to ReserveNow and CancelReservation change (commands/effects.py calls these in the
message function, before the command reads Answered): the reservation is recorded from the answer itself, so an
answer that arrives after the API stopped waiting still leaves it recorded, and exactly once.

A ReserveNow of ours carries the reservation's context (`reservation_context`); one an operator sends through
the commands route carries none and records nothing (its reservationId is not one the counter gave).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from csms.adapters.dynamodb.follow_ups import FollowUps, event_item, workflow_start_item
from csms.adapters.dynamodb.keys import reservation_pk
from csms.domain.clock import from_iso, to_iso
from csms.domain.commands import Command
from csms.domain.limits import SessionLimits
from csms.domain.reservations import Reservation, ReservationStatus
from csms.reservations import events
from csms.runtime.wiring import Services

CONTEXT_KEY = "reservation"
RESERVATION_EXPIRY = "ReservationExpiry"
RESERVATION_START = "ReservationStart"


def reservation_context(reservation: Reservation) -> dict[str, Any]:
    """What the answer's effect needs that ReserveNow.req does not carry (the command's `context`)."""
    scheduled = reservation.status is ReservationStatus.SCHEDULED  # stored before its ReserveNow went out
    context: dict[str, Any] = {"createdAt": to_iso(reservation.created_at), "scheduled": scheduled}
    if reservation.start_at is not None:
        context["startAt"] = to_iso(reservation.start_at)
    if reservation.limits is not None and not reservation.limits.empty:
        context["limits"] = reservation.limits.to_json()
    return {CONTEXT_KEY: context}


def _requested(command: Command, context: dict[str, Any]) -> Reservation:
    request = command.request
    return Reservation(
        reservation_id=int(request["reservationId"]),
        charge_point_id=command.charge_point_id,
        connector_id=int(request["connectorId"]),
        id_tag=request["idTag"],
        parent_id_tag=request.get("parentIdTag"),
        expiry_date=from_iso(request["expiryDate"]),
        start_at=from_iso(context["startAt"]) if context.get("startAt") else None,
        limits=SessionLimits.from_json(context["limits"]) if context.get("limits") else None,
        status=ReservationStatus.SCHEDULED if context.get("scheduled") else ReservationStatus.ACCEPTED,
        created_at=from_iso(context["createdAt"]),
    )


def execution_name(reservation: Reservation, workflow: str) -> str:
    """Deterministic (a repeated cause starts nothing new), unique per reservation and workflow."""
    created = to_iso(reservation.created_at).replace(":", "").replace("-", "").replace(".", "")
    return f"reservation-{reservation.reservation_id}-{created}-{workflow}"


def expiry_follow_up(reservation: Reservation, *, now: datetime) -> dict[str, Any]:
    return workflow_start_item(
        reservation_pk(reservation.reservation_id),
        workflow=RESERVATION_EXPIRY,
        execution_name=execution_name(reservation, RESERVATION_EXPIRY),
        execution_input={"reservationId": reservation.reservation_id, "expiryDate": to_iso(reservation.expiry_date)},
        now=now,
    )


def start_follow_up(reservation: Reservation, *, send_at: datetime, now: datetime) -> dict[str, Any]:
    return workflow_start_item(
        reservation_pk(reservation.reservation_id),
        workflow=RESERVATION_START,
        execution_name=execution_name(reservation, RESERVATION_START),
        execution_input={"reservationId": reservation.reservation_id, "sendAt": to_iso(send_at)},
        now=now,
    )


def reserve_now_answered(services: Services, command: Command, response: dict[str, Any]) -> None:
    """Accepted: the reservation is recorded Accepted with its hold, ReservationConfirmed and its expiry workflow.
    Occupied, Faulted, Unavailable, Rejected: ReservationRefused; nothing else is left of an immediate reservation,
    a Scheduled one becomes Refused."""
    context = (command.context or {}).get(CONTEXT_KEY)
    if context is None:
        return
    requested = _requested(command, context)
    now = services.clock.now()
    pk = reservation_pk(requested.reservation_id)
    if response["status"] == "Accepted":
        accepted = replace(requested, status=ReservationStatus.ACCEPTED, accepted_at=now)
        services.reservations.record_accepted(
            accepted,
            follow_ups=[event_item(pk, events.confirmed(accepted, at=now), now=now), expiry_follow_up(accepted, now=now)],
        )
        return
    refused = event_item(pk, events.refused(requested, refusal=response["status"], at=now), now=now)
    if requested.status is ReservationStatus.SCHEDULED:
        services.reservations.record_refused(requested.reservation_id, refusal=response["status"], at=now, follow_ups=[refused])
    else:
        FollowUps(services.table).put(refused)


def cancel_reservation_answered(services: Services, command: Command, response: dict[str, Any]) -> None:
    """Accepted: the station no longer holds it, whoever asked (the API or an operator's own command)."""
    if response["status"] != "Accepted":
        return
    reservation = services.reservations.get(int(command.request["reservationId"]))
    if reservation is None or reservation.charge_point_id != command.charge_point_id:
        return  # no station ends another's reservation
    if reservation.status is not ReservationStatus.ACCEPTED:
        return
    now = services.clock.now()
    cancelled = event_item(reservation_pk(reservation.reservation_id), events.cancelled(reservation, at=now), now=now)
    services.reservations.end(reservation, ReservationStatus.CANCELLED, at=now, follow_ups=[cancelled])
