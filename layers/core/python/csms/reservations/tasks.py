"""The reservation workflows' Lambda tasks (the `reservations` function):

- ReservationExpiry (infra/workflows/reservation_expiry.asl.json) waits until expiryDate, then `expire`: OCPP 1.6
  has no expiry message, so the CSMS marks it Expired (only if still Accepted) and releases its hold.
- ReservationStart (reservation_start.asl.json) waits until a lead time before startAt, then `claim` (still
  Scheduled? then its ReserveNow may go), the `command` function sends it and waits for the answer (whose effect
  records Accepted or Refused, reservations/answers.py); a ReserveNow that could not be delivered or was never
  answered ends in `refuse`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from csms.adapters.dynamodb.follow_ups import event_item
from csms.adapters.dynamodb.keys import reservation_pk
from csms.domain.reservations import ReservationStatus
from csms.ocpp.v16.actions import Action
from csms.reservations import events
from csms.reservations.answers import reservation_context
from csms.runtime.observability import logger
from csms.runtime.wiring import Services


class NotExpiredYet(Exception):
    """The wait ended before expiryDate by the CSMS's clock: the workflow retries the task."""


class ReservationTask(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    step: Literal["expire", "claim", "refuse"]
    reservation_id: int = Field(alias="reservationId")
    failure: dict[str, Any] | None = None
    """refuse: the SendReserveNow state's error (`Error`, `Cause`), as its Catch passes it."""


def run_reservation_task(task: ReservationTask, services: Services) -> dict[str, Any]:
    if task.step == "expire":
        return expire(services, task.reservation_id)
    if task.step == "claim":
        return claim(services, task.reservation_id)
    return refuse(services, task.reservation_id, (task.failure or {}).get("Error") or "NotDelivered")


def expire(services: Services, reservation_id: int) -> dict[str, Any]:
    reservation = services.reservations.get(reservation_id)
    if reservation is None or reservation.status is not ReservationStatus.ACCEPTED:
        return {"status": reservation.status.value if reservation else None}  # consumed or cancelled before
    now = services.clock.now()
    if now < reservation.expiry_date:
        raise NotExpiredYet(f"reservation {reservation_id} expires at {reservation.expiry_date.isoformat()}")
    expired = event_item(reservation_pk(reservation_id), events.expired(reservation), now=now)
    ended = services.reservations.end(reservation, ReservationStatus.EXPIRED, at=now, follow_ups=[expired])
    logger.info("Reservation expired", extra={"reservation_id": reservation_id, "ended": ended})
    return {"status": ReservationStatus.EXPIRED.value if ended else None}


def claim(services: Services, reservation_id: int) -> dict[str, Any]:
    """The command the workflow's SendReserveNow state hands to the `command` function, if it is still to go."""
    reservation = services.reservations.claim_for_sending(reservation_id, at=services.clock.now())
    if reservation is None:
        return {"send": False}
    return {
        "send": True,
        "chargePointId": reservation.charge_point_id,
        "action": Action.RESERVE_NOW.value,
        "payload": reservation.reserve_now,
        "context": reservation_context(reservation),
    }


def refuse(services: Services, reservation_id: int, refusal: str) -> dict[str, Any]:
    """The scheduled ReserveNow could not be delivered (station gone or unknown), failed (CallError) or was never
    answered (`States.Timeout`): the reservation is not held, and the driver is told."""
    reservation = services.reservations.get(reservation_id)
    if reservation is None or reservation.status is not ReservationStatus.SCHEDULED:
        return {"status": reservation.status.value if reservation else None}  # its answer's effect recorded it
    reason = "TimedOut" if refusal == "States.Timeout" else refusal
    now = services.clock.now()
    refused = event_item(reservation_pk(reservation_id), events.refused(reservation, refusal=reason, at=now), now=now)
    done = services.reservations.record_refused(reservation_id, refusal=reason, at=now, follow_ups=[refused])
    return {"status": ReservationStatus.REFUSED.value if done else None}
