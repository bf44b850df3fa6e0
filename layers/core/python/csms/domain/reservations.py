"""Reservations (OCPP 1.6 §3.13, §5.13 ReserveNow, §5.2 CancelReservation; issue 10 §1): a connector held for one
driver, on the reservation day only, until the driver starts charging there or the reservation runs out.

Lifecycle (`TRANSITIONS`):

    Scheduled --(its ReserveNow goes out a lead time before startAt)--> Accepted | Refused
              --(the driver cancels before it went out)-------------> Cancelled
    Accepted  --(a StartTransaction consumes it)--> Consumed
              --(expiryDate passes: OCPP 1.6 has no expiry message, the CSMS keeps the clock)--> Expired
              --(CancelReservation accepted)--> Cancelled

A reservation without `startAt` (or whose lead time has already begun) is never Scheduled: its ReserveNow goes
out at once, and the reservation exists only once the station accepted it (a refusal leaves nothing stored).
A Scheduled one is stored when it is made; a refusal of its later ReserveNow (or a station that cannot be
reached then) leaves it Refused, since the driver was already told it was made.

Everything here is pure: the checks of a request, which StartTransaction consumes which reservation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from csms.domain.authorization import normalize_id_tag
from csms.domain.clock import to_iso
from csms.domain.limits import SessionLimits

RESERVATION_ID_MAX = 2**31 - 1
"""reservationId is an integer stations keep as int32; never 0 or negative (stations were seen sending -1)."""

ANY_CONNECTOR = 0
"""ReserveNow for connector 0 reserves the station: the driver may use any of its connectors (§5.13)."""

RESERVE_CONNECTOR_ZERO_SUPPORTED = "ReserveConnectorZeroSupported"
"""The configuration key (§9.1.28, Reservation profile) that allows a reservation of connector 0."""

DEFAULT_TIME_ZONE = "UTC"
"""The zone of a station whose operator set none: its reservation day is the UTC day."""


class ReservationStatus(StrEnum):
    SCHEDULED = "Scheduled"  # made with a startAt: its ReserveNow goes out RESERVATION_LEAD_SECONDS before it
    ACCEPTED = "Accepted"  # the station holds the connector
    CONSUMED = "Consumed"  # a StartTransaction of the driver used it
    EXPIRED = "Expired"  # its expiryDate passed unused
    CANCELLED = "Cancelled"
    REFUSED = "Refused"  # a Scheduled one whose ReserveNow the station refused or never answered


TRANSITIONS: Mapping[ReservationStatus, frozenset[ReservationStatus]] = MappingProxyType(
    {
        ReservationStatus.SCHEDULED: frozenset(
            {ReservationStatus.ACCEPTED, ReservationStatus.REFUSED, ReservationStatus.CANCELLED}
        ),
        ReservationStatus.ACCEPTED: frozenset(
            {ReservationStatus.CONSUMED, ReservationStatus.EXPIRED, ReservationStatus.CANCELLED}
        ),
        ReservationStatus.CONSUMED: frozenset(),
        ReservationStatus.EXPIRED: frozenset(),
        ReservationStatus.CANCELLED: frozenset(),
        ReservationStatus.REFUSED: frozenset(),
    }
)

LIVE = frozenset({ReservationStatus.SCHEDULED, ReservationStatus.ACCEPTED})
"""Still to happen: these are listed network-wide (the others only per station or per idTag)."""


def may_become(current: ReservationStatus, new: ReservationStatus) -> bool:
    return new in TRANSITIONS[current]


def reservation_id_from_counter(counter: int) -> int:
    """The counter's value as a reservationId: 1 .. RESERVATION_ID_MAX, wrapping around, never 0 or below."""
    return (counter - 1) % RESERVATION_ID_MAX + 1


@dataclass(frozen=True, kw_only=True)
class Hold:
    """What the station item keeps on a reserved connector while the reservation is Accepted: all StartTransaction
    needs to tell whether it consumes it, read with the station in one request."""

    reservation_id: int
    connector_id: int
    id_tag: str
    parent_id_tag: str | None = None
    expiry_date: datetime
    limits: SessionLimits | None = None


@dataclass(frozen=True, kw_only=True)
class Reservation:
    reservation_id: int
    charge_point_id: str
    connector_id: int
    """0: any connector of the station."""
    id_tag: str
    parent_id_tag: str | None = None
    expiry_date: datetime
    start_at: datetime | None = None
    """When the driver means to arrive (issue 10 §1): its ReserveNow goes out a lead time before."""
    limits: SessionLimits | None = None
    """Bound to the transaction that consumes it."""
    status: ReservationStatus
    created_at: datetime
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    """When it was consumed, expired, cancelled or refused."""
    transaction_id: int | None = None
    """The transaction that consumed it."""
    refusal: str | None = None
    """Why a Scheduled one was Refused: the station's answer (Occupied, ...) or why it was not delivered."""

    @property
    def hold(self) -> Hold:
        return Hold(
            reservation_id=self.reservation_id,
            connector_id=self.connector_id,
            id_tag=self.id_tag,
            parent_id_tag=self.parent_id_tag,
            expiry_date=self.expiry_date,
            limits=self.limits,
        )

    @property
    def reserve_now(self) -> dict[str, object]:
        """The ReserveNow.req payload (§6.43), as the outbox sends it."""
        payload: dict[str, object] = {
            "connectorId": self.connector_id,
            "expiryDate": to_iso(self.expiry_date),
            "idTag": self.id_tag,
            "reservationId": self.reservation_id,
        }
        if self.parent_id_tag is not None:
            payload["parentIdTag"] = self.parent_id_tag
        return payload


# --- the checks of a request ------------------------------------------------------------------------


class ReservationRefused(ValueError):
    """A request the CSMS refuses before asking the station (nothing is sent, nothing stored)."""


class InvalidReservation(ReservationRefused):
    """400: a time that cannot be; `field` names the request field at fault (`body.expiryDate`)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class ConnectorZeroNotSupported(ReservationRefused):
    """409: connector 0 on a station whose ReserveConnectorZeroSupported is not true (§5.13)."""


class NotCancellable(ReservationRefused):
    """409: the reservation is no longer to happen, or its ReserveNow is on its way (the answer decides)."""


def station_zone(time_zone: str | None) -> ZoneInfo:
    return ZoneInfo(time_zone or DEFAULT_TIME_ZONE)


def end_of_day(moment: datetime, zone: ZoneInfo) -> datetime:
    """The end of `moment`'s calendar day in `zone` (the next local midnight), as an aware datetime. A day of a
    daylight-saving change is 23 or 25 hours long: the local midnight is found in the zone, not by adding 24 h."""
    local_day = moment.astimezone(zone).date()
    return datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone)


def check_times(
    *, now: datetime, expiry_date: datetime, start_at: datetime | None, time_zone: str | None
) -> None:
    """The reservation day is the station's calendar day in its time zone, today there: the reservation must end
    within it (at its end at the latest), after now and after `start_at`, which itself lies ahead."""
    day_end = end_of_day(now, station_zone(time_zone))
    zone_name = time_zone or DEFAULT_TIME_ZONE
    if expiry_date <= now:
        raise InvalidReservation("body.expiryDate", "expiryDate is in the past")
    if expiry_date > day_end:
        raise InvalidReservation(
            "body.expiryDate",
            f"expiryDate is after the end of the reservation day at the station ({day_end.isoformat()}, {zone_name})",
        )
    if start_at is not None:
        if start_at <= now:
            raise InvalidReservation("body.startAt", "startAt is in the past")
        if start_at >= expiry_date:
            raise InvalidReservation("body.startAt", "startAt must come before expiryDate")


def check_connector(connector_id: int, *, connector_zero_supported: bool) -> None:
    if connector_id == ANY_CONNECTOR and not connector_zero_supported:
        raise ConnectorZeroNotSupported(
            f"the station does not take reservations of connector 0 ({RESERVE_CONNECTOR_ZERO_SUPPORTED} is not true)"
        )


def connector_zero_supported(value: str | None) -> bool:
    """The configuration value as the station reported it; absent means false (§9.1.28)."""
    return value is not None and value.strip().lower() == "true"


def send_at(*, start_at: datetime | None, lead: timedelta, now: datetime) -> datetime | None:
    """When a reservation's ReserveNow goes out: a lead time before the driver arrives, so the connector is not
    held for others longer than needed. None: now (no startAt, or its lead time has begun)."""
    if start_at is None or start_at - lead <= now:
        return None
    return start_at - lead


# --- which StartTransaction consumes which reservation ------------------------------------------------


class Match(StrEnum):
    RESERVATION_ID = "reservationId"
    ID_TAG = "idTag"
    PARENT_ID_TAG = "parentIdTag"


@dataclass(frozen=True)
class Consumption:
    hold: Hold
    match: Match


@dataclass(frozen=True)
class Mismatch:
    """The start names a reservation of this station (reservationId) that its idTag may not use: it is not
    consumed (the reservation stays held for its driver) and the operator is told."""

    hold: Hold


def _same_tag(one: str | None, other: str | None) -> bool:
    """idTags compare as CiString (§7.28); a missing one matches nothing."""
    return one is not None and other is not None and normalize_id_tag(one) == normalize_id_tag(other)


def _tag_match(hold: Hold, id_tag: str, parent_id_tag: str | None) -> Match | None:
    if _same_tag(hold.id_tag, id_tag):
        return Match.ID_TAG
    if _same_tag(hold.parent_id_tag, parent_id_tag):
        return Match.PARENT_ID_TAG
    return None


def held_for_another(
    holds: Iterable[Hold], *, connector_id: int, id_tag: str, parent_id_tag: str | None, now: datetime
) -> Hold | None:
    """The reservation that keeps `connector_id` for another driver (not `id_tag`, nor one sharing its parent) until
    it expires: a remote start there is refused before anything is sent, since some stations start a transaction on
    a reserved connector whatever the idTag (§5.13: only the reserved idTag or its parent may use it). A reservation
    of connector 0 keeps some connector free, not this one: the station decides."""
    for hold in holds:
        if hold.connector_id == connector_id and hold.expiry_date > now and _tag_match(hold, id_tag, parent_id_tag) is None:
            return hold
    return None


def consumed_by_start(
    holds: Iterable[Hold],
    *,
    connector_id: int,
    id_tag: str,
    parent_id_tag: str | None,
    reservation_id: int | None,
) -> Consumption | Mismatch | None:
    """Which of the station's reservations a StartTransaction consumes (§3.13, §5.13; OCTT 046, 049, 053).

    - A start whose `reservationId` names one of them consumes it when its idTag is the reserved one or shares the
      reserved parentIdTag (the idTag's own parent, as the CSMS knows it). Whatever the connector: the station says
      the transaction results from that reservation, and it is the authority on its reservations.
    - A start without (or with an unknown) reservationId consumes the reservation its idTag (or parent) matches
      on its connector, else one of connector 0 (any connector).
    - A start whose reservationId names one of them for another driver consumes nothing: `Mismatch`.
    """
    held = list(holds)
    if reservation_id is not None:
        for hold in held:
            if hold.reservation_id == reservation_id:
                match = _tag_match(hold, id_tag, parent_id_tag)
                return Consumption(hold, Match.RESERVATION_ID) if match is not None else Mismatch(hold)
    for wanted_connector in (connector_id, ANY_CONNECTOR):
        for hold in held:
            if hold.connector_id == wanted_connector:
                match = _tag_match(hold, id_tag, parent_id_tag)
                if match is not None:
                    return Consumption(hold, match)
    return None
