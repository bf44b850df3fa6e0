"""Reservations for drivers' apps (issue 10 §1): a connector held for a driver on the station's current day.

POST sends ReserveNow through the command outbox and waits for the station like the commands route does; what
the answer changes is recorded by the answer itself (reservations/answers.py), so a late answer still counts,
and the route reads the outcome back. Checks the CSMS can make itself (400, connector 0) send nothing.
"""

from __future__ import annotations

import time
from datetime import timedelta
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import Field, StrictInt

from csms.adapters.dynamodb.follow_ups import event_item
from csms.adapters.dynamodb.keys import reservation_pk
from csms.commands.service import send_command, wait_for
from csms.domain import reservations as rules
from csms.domain import station_identity
from csms.domain.commands import Command, CommandStatus
from csms.domain.limits import session_limits
from csms.domain.reservations import NotCancellable, Reservation, ReservationStatus
from csms.domain.stations import Station, StationNotFound
from csms.ocpp.v16.actions import Action
from csms.operator.errors import (
    CommandFailed,
    CommandNotAnswered,
    InvalidValue,
    ResourceNotFound,
    StationDeclined,
    documented,
)
from csms.operator.models import ApiModel, NextPageToken, SessionLimitsModel, Timestamp, UtcDateTime
from csms.operator.pagination import (
    DEFAULT_PAGE_SIZE,
    KIND_INDEX_PAGE_KEY,
    LIVE_INDEX_PAGE_KEY,
    STATION_INDEX_PAGE_KEY,
    Limit,
    NextToken,
    decode_token,
    encode_token,
)
from csms.operator.parameters import ServicesDependency
from csms.reservations import events
from csms.reservations.answers import reservation_context, start_follow_up
from csms.runtime.observability import logger, metrics
from csms.runtime.wiring import Services
from csms.sessions.service import check_cost_limit_at


class ReservationRequest(ApiModel):
    """POST /reservations: a connector held for a driver, on the station's current day, until expiryDate."""

    charge_point_id: str = Field(pattern=station_identity.PATTERN, max_length=station_identity.MAX_LENGTH)
    connector_id: StrictInt = Field(ge=0, le=2**31 - 1, description="0: any connector of the station")
    id_tag: str = Field(min_length=1, max_length=20, description="The driver's idTag (CiString20)")
    parent_id_tag: str | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="Group tag: an idTag sharing it may use the reservation too (default: the idTag's registered parent)",
    )
    expiry_date: UtcDateTime = Field(
        description="Until when the connector is held: ahead, and within the station's current day in its time zone "
        "(UTC if it has none). UTC if no offset"
    )
    start_at: UtcDateTime | None = Field(
        None,
        description="When the driver means to arrive, later the same day: the station is asked only "
        "RESERVATION_LEAD_SECONDS (default 900) before (the reservation is Scheduled until then)",
    )
    limits: SessionLimitsModel | None = Field(None, description="Bound to the session that uses the reservation")


class ReservationView(ApiModel):
    reservation_id: int
    status: ReservationStatus = Field(
        description="Scheduled (startAt, not sent yet), Accepted (held), Consumed, Expired, Cancelled, or Refused (a "
        "Scheduled one the station refused or could not be asked)"
    )
    charge_point_id: str
    connector_id: int = Field(description="0: any connector of the station")
    id_tag: str
    parent_id_tag: str | None = None
    expiry_date: Timestamp
    start_at: Timestamp | None = None
    limits: SessionLimitsModel | None = None
    created_at: Timestamp
    accepted_at: Timestamp | None = None
    ended_at: Timestamp | None = Field(None, description="When it was consumed, expired, cancelled or refused")
    transaction_id: int | None = Field(None, description="The transaction that consumed it")
    refusal: str | None = Field(None, description="Refused: the station's answer, or why it could not be asked")

    @classmethod
    def from_reservation(cls, reservation: Reservation) -> ReservationView:
        return cls(
            reservation_id=reservation.reservation_id,
            status=reservation.status,
            charge_point_id=reservation.charge_point_id,
            connector_id=reservation.connector_id,
            id_tag=reservation.id_tag,
            parent_id_tag=reservation.parent_id_tag,
            expiry_date=reservation.expiry_date,
            start_at=reservation.start_at,
            limits=SessionLimitsModel.from_limits(reservation.limits),
            created_at=reservation.created_at,
            accepted_at=reservation.accepted_at,
            ended_at=reservation.ended_at,
            transaction_id=reservation.transaction_id,
            refusal=reservation.refusal,
        )


class ReservationList(ApiModel):
    items: list[ReservationView]
    next_token: NextPageToken = None


router = Router()
TAGS = ["Reservations"]

ReservationId = Annotated[int, Path(alias="reservationId", ge=1, le=rules.RESERVATION_ID_MAX)]


@router.post(
    "/reservations",
    summary="Reserve a connector for a driver",
    description=(
        "Sends ReserveNow (OCPP 1.6 §5.13) and waits for the station's answer. 201 once it accepted "
        "(`status: Accepted`); with a `startAt` more than RESERVATION_LEAD_SECONDS ahead, 201 at once with "
        "`status: Scheduled` (the station is asked then; a refusal then makes it Refused and emits "
        "ReservationRefused). 409: the station answered Occupied, Faulted, Unavailable or Rejected (its answer in "
        "`response`; nothing is stored), is not connected, or takes no reservation of connector 0 (its "
        "ReserveConnectorZeroSupported, asked with GetConfiguration when unknown, is not true; nothing sent). "
        "400: expiryDate past or after the end of the station's day in its time zone, startAt not between now and "
        "expiryDate (nothing sent). 404: unknown charge point. 502: CALLERROR. 504: no answer in time (a late "
        "Accepted still makes the reservation: GET /reservations/{reservationId})."
    ),
    tags=TAGS,
    responses=documented(
        201,
        "Reserved (Accepted), or Scheduled",
        400,
        404,
        409,
        502,
        504,
    ),
)
def create_reservation(request: Annotated[ReservationRequest, Body()], services: ServicesDependency) -> ReservationView:
    started = time.monotonic()
    station = services.stations.get(request.charge_point_id)
    if station is None:
        raise StationNotFound(request.charge_point_id)
    now = services.clock.now()
    rules.check_times(now=now, expiry_date=request.expiry_date, start_at=request.start_at, time_zone=station.time_zone)
    if request.connector_id == rules.ANY_CONNECTOR:
        rules.check_connector(rules.ANY_CONNECTOR, connector_zero_supported=_connector_zero_supported(services, station))
    registered = services.id_tags.get(request.id_tag)
    parent_id_tag = request.parent_id_tag
    if parent_id_tag is None:
        parent_id_tag = registered.parent_id_tag if registered else None
    limits = request.limits.to_limits() if request.limits else None
    if limits is not None and limits.max_cost is not None:
        effective = session_limits(id_tag=registered.limits if registered else None, requested=limits)
        tariff = registered.tariff_id if registered else None
        check_cost_limit_at(services, effective, id_tag_tariff=tariff, station=station, location="body.limits.maxCost")
    send_at = rules.send_at(start_at=request.start_at, lead=_lead(services), now=now)
    reservation = Reservation(
        reservation_id=services.reservations.next_reservation_id(),
        charge_point_id=request.charge_point_id,
        connector_id=request.connector_id,
        id_tag=request.id_tag,
        parent_id_tag=parent_id_tag,
        expiry_date=request.expiry_date,
        start_at=request.start_at,
        limits=limits,
        status=ReservationStatus.SCHEDULED if send_at else ReservationStatus.ACCEPTED,
        created_at=now,
    )
    metrics.add_metric(name="ReservationRequests", unit=MetricUnit.Count, value=1)
    if send_at is not None:
        services.reservations.create_scheduled(reservation, follow_ups=[start_follow_up(reservation, send_at=send_at, now=now)])
        logger.info("Reservation scheduled", extra={"reservation_id": reservation.reservation_id, "send_at": send_at.isoformat()})
        return _created(reservation)
    context = reservation_context(reservation)
    command = send_command(services, reservation.charge_point_id, Action.RESERVE_NOW, reservation.reserve_now, context=context)
    answered = _answered(services, command, started, reservation_id=reservation.reservation_id)
    status = (answered.response or {})["status"]
    if status != "Accepted":
        raise StationDeclined(
            answered,
            HTTPStatus.CONFLICT,
            f"Charge point {reservation.charge_point_id} answered ReserveNow with {status}: nothing is reserved",
            reservation_id=reservation.reservation_id,  # the id its ReservationRefused event carries
        )
    recorded = services.reservations.get(reservation.reservation_id)
    if recorded is None:  # its station was removed while it answered
        raise ResourceNotFound(f"Charge point {reservation.charge_point_id} is no longer registered")
    return _created(recorded)


@router.get(
    "/reservations/<reservationId>",
    summary="A reservation",
    tags=TAGS,
    responses=documented(200, "The reservation", 404),
)
def get_reservation(reservation_id: ReservationId, services: ServicesDependency) -> ReservationView:
    return ReservationView.from_reservation(_existing(services, reservation_id))


@router.get(
    "/reservations",
    summary="List reservations",
    description=(
        "With `chargePointId`: that station's, newest first; with `idTag` (alone): that driver's, newest first; "
        "with neither: the live ones of the whole network (Scheduled and Accepted, in no particular order). "
        "`status` filters any of them. Follow `nextToken` until it is null."
    ),
    tags=TAGS,
    responses=documented(200, "A page of reservations", 400),
)
def list_reservations(
    services: ServicesDependency,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId", min_length=1, max_length=255)] = None,
    id_tag: Annotated[str | None, Query(alias="idTag", min_length=1, max_length=20)] = None,
    status: Annotated[ReservationStatus | None, Query(description="Only reservations in this status")] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
) -> ReservationList:
    if charge_point_id is None and id_tag is None and status is not None and status not in rules.LIVE:
        raise InvalidValue("query.status", f"{status} reservations are listed per chargePointId or idTag: name one")
    key_names = LIVE_INDEX_PAGE_KEY
    if charge_point_id is not None:
        key_names = STATION_INDEX_PAGE_KEY
    elif id_tag is not None:
        key_names = KIND_INDEX_PAGE_KEY
    items, next_key = services.reservations.list_page(
        charge_point_id=charge_point_id,
        id_tag=id_tag,
        status=status,
        limit=limit,
        start_key=decode_token(next_token, key_names),
    )
    return ReservationList(
        items=[ReservationView.from_reservation(item) for item in items], next_token=encode_token(next_key)
    )


@router.delete(
    "/reservations/<reservationId>",
    summary="Cancel a reservation",
    description=(
        "An Accepted reservation: sends CancelReservation and waits; 200 with `status: Cancelled` when the station "
        "accepts, 502 with its answer in `response` when it rejects (the reservation stays). A Scheduled one whose "
        "ReserveNow has not gone out is cancelled without asking the station. 409: it is no longer to happen "
        "(Consumed, Expired, Cancelled, Refused), its ReserveNow is on its way, or the station is not connected."
    ),
    tags=TAGS,
    responses=documented(200, "Cancelled", 404, 409, 502, 504),
)
def cancel_reservation(reservation_id: ReservationId, services: ServicesDependency) -> ReservationView:
    started = time.monotonic()
    reservation = _existing(services, reservation_id)
    now = services.clock.now()
    if reservation.status is ReservationStatus.SCHEDULED:
        cancelled = event_item(reservation_pk(reservation_id), events.cancelled(reservation, at=now), now=now)
        if services.reservations.cancel_scheduled(reservation_id, at=now, follow_ups=[cancelled]):
            return ReservationView.from_reservation(_existing(services, reservation_id))
        reservation = _existing(services, reservation_id)
        if reservation.status is ReservationStatus.SCHEDULED:
            raise NotCancellable(f"Reservation {reservation_id}'s ReserveNow is on its way to the station: try again shortly")
    if not rules.may_become(reservation.status, ReservationStatus.CANCELLED):
        raise NotCancellable(f"Reservation {reservation_id} is {reservation.status}: there is nothing to cancel")
    command = send_command(services, reservation.charge_point_id, Action.CANCEL_RESERVATION, {"reservationId": reservation_id})
    answered = _answered(services, command, started, reservation_id=reservation_id)
    status = (answered.response or {})["status"]
    if status != "Accepted":
        raise StationDeclined(
            answered,
            HTTPStatus.BAD_GATEWAY,
            f"Charge point {reservation.charge_point_id} answered CancelReservation with {status}: "
            "the reservation stays",
            reservation_id=reservation_id,
        )
    return ReservationView.from_reservation(_existing(services, reservation_id))


def _existing(services: Services, reservation_id: int) -> Reservation:
    reservation = services.reservations.get(reservation_id)
    if reservation is None:
        raise ResourceNotFound(f"Unknown reservation {reservation_id}")
    return reservation


def _lead(services: Services) -> timedelta:
    return timedelta(seconds=services.settings.reservation_lead_seconds)


def _connector_zero_supported(services: Services, station: Station) -> bool:
    """From the stored configuration; asked with GetConfiguration (through the outbox) when it was never reported."""
    key = rules.RESERVE_CONNECTOR_ZERO_SUPPORTED
    configuration = services.station_config.configuration(station.charge_point_id)
    if configuration is None or (key not in configuration.keys and key not in configuration.unknown_keys):
        command = send_command(services, station.charge_point_id, Action.GET_CONFIGURATION, {"key": [key]})
        _answered(services, command, time.monotonic())  # its effect stores what the station reported
        configuration = services.station_config.configuration(station.charge_point_id)
    value = configuration.keys.get(key) if configuration else None
    return rules.connector_zero_supported(value.value if value else None)


def _answered(services: Services, command: Command, started: float, *, reservation_id: int | None = None) -> Command:
    """The command once the station answered it, within what is left of the request's wait (a request may send
    two commands): 504 without an answer, 502 for a CALLERROR (409 if the station was gone)."""
    seconds = max(0.0, services.settings.command_wait_seconds - (time.monotonic() - started))
    outcome = wait_for(services, command.command_id, seconds=seconds)
    if not outcome.done or outcome.status is CommandStatus.TIMED_OUT:
        look_at = f"/reservations/{reservation_id}" if reservation_id is not None else None
        seconds = services.settings.command_wait_seconds
        raise CommandNotAnswered(outcome, seconds, outcome_at=look_at, reservation_id=reservation_id)
    if outcome.status is CommandStatus.FAILED:
        raise CommandFailed(outcome)
    return outcome


def _created(reservation: Reservation) -> ReservationView:
    logger.info(
        "Reservation made",
        extra={
            "reservation_id": reservation.reservation_id,
            "charge_point_id": reservation.charge_point_id,
            "status": reservation.status,
        },
    )
    return Response(  # type: ignore[return-value]  # validated against ReservationView all the same
        status_code=HTTPStatus.CREATED, content_type="application/json", body=ReservationView.from_reservation(reservation)
    )
