"""A charging station as the CSMS knows it: registration, connection, boot, connectors and their sessions.

Connector statuses follow the OCPP 1.6 state machine of §4.9 (StatusNotification): the station is the
authority on its connectors, so a transition the table does not allow is still recorded (and reported as
unexpected), never refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from csms.domain import registration
from csms.domain.priorities import DEFAULT_PRIORITY
from csms.domain.reservations import Hold
from csms.ocpp.v16.enums import ChargePointErrorCode as ErrorCode
from csms.ocpp.v16.enums import ChargePointStatus as Status

STATION_CONNECTOR = 0
"""Connector 0 is the station as a whole (§4.9): it is only ever Available, Unavailable or Faulted."""

_STATION_STATUSES = frozenset({Status.AVAILABLE, Status.UNAVAILABLE, Status.FAULTED})

# OCPP 1.6 §4.9, the table of valid state transitions (A2 ... I8): from a status, the statuses a connector
# may report next. A status reported again (Available -> Available) is a repeat, not a transition.
TRANSITIONS: Mapping[Status, frozenset[Status]] = MappingProxyType(
    {
        Status.AVAILABLE: frozenset(
            {Status.PREPARING, Status.CHARGING, Status.SUSPENDED_EV, Status.SUSPENDED_EVSE, Status.RESERVED,
             Status.UNAVAILABLE, Status.FAULTED}
        ),  # fmt: skip
        Status.PREPARING: frozenset(
            {Status.AVAILABLE, Status.CHARGING, Status.SUSPENDED_EV, Status.SUSPENDED_EVSE, Status.FINISHING,
             Status.FAULTED}
        ),  # fmt: skip
        Status.CHARGING: frozenset(
            {Status.AVAILABLE, Status.SUSPENDED_EV, Status.SUSPENDED_EVSE, Status.FINISHING, Status.UNAVAILABLE,
             Status.FAULTED}
        ),  # fmt: skip
        Status.SUSPENDED_EV: frozenset(
            {Status.AVAILABLE, Status.CHARGING, Status.SUSPENDED_EVSE, Status.FINISHING, Status.UNAVAILABLE,
             Status.FAULTED}
        ),  # fmt: skip
        Status.SUSPENDED_EVSE: frozenset(
            {Status.AVAILABLE, Status.CHARGING, Status.SUSPENDED_EV, Status.FINISHING, Status.UNAVAILABLE,
             Status.FAULTED}
        ),  # fmt: skip
        Status.FINISHING: frozenset({Status.AVAILABLE, Status.PREPARING, Status.UNAVAILABLE, Status.FAULTED}),
        Status.RESERVED: frozenset({Status.AVAILABLE, Status.PREPARING, Status.UNAVAILABLE, Status.FAULTED}),
        Status.UNAVAILABLE: frozenset(
            {Status.AVAILABLE, Status.PREPARING, Status.CHARGING, Status.SUSPENDED_EV, Status.SUSPENDED_EVSE,
             Status.FAULTED}
        ),  # fmt: skip
        Status.FAULTED: frozenset(set(Status) - {Status.FAULTED}),
    }
)

OCCUPIED = frozenset(
    {Status.PREPARING, Status.CHARGING, Status.SUSPENDED_EV, Status.SUSPENDED_EVSE, Status.FINISHING}
)
"""A car is (or is being) plugged in: the connector cannot be reserved or offered to another driver."""


class Operation(StrEnum):
    """Long-running station operations whose latest status notification the station keeps (OCPP 1.6 §4.4, §4.5;
    Security Whitepaper §4.3, §4.4)."""

    FIRMWARE = "firmware"
    DIAGNOSTICS = "diagnostics"
    LOG_UPLOAD = "log"


def parse_status(value: str | None) -> Status | None:
    """The status a station reported; None for a value outside the 1.6 enum (a lenient station's)."""
    try:
        return Status(value) if value is not None else None
    except ValueError:
        return None


def is_expected_transition(connector_id: int, previous: str | None, new: str) -> bool:
    """Whether §4.9 allows a connector to go from `previous` (None: nothing known yet) to `new`."""
    target = parse_status(new)
    if target is None:
        return False
    if connector_id == STATION_CONNECTOR:
        return target in _STATION_STATUSES
    source = parse_status(previous)
    if previous is None or source == target:
        return True
    return source is not None and target in TRANSITIONS[source]


class StationNotFound(LookupError):
    """No station of that identity: never registered, or removed."""


@dataclass(frozen=True, kw_only=True)
class ActiveSession:
    """The transaction in progress on a connector, as the station item points at it."""

    transaction_id: int
    connector_id: int
    id_tag: str
    started_at: datetime
    priority: int = DEFAULT_PRIORITY
    """Bound at its start: what a shared site's allocation reads without reading the transaction."""


@dataclass(frozen=True, kw_only=True)
class Connector:
    connector_id: int
    status: str | None = None
    """As the station sent it (a lenient station may send a value outside the 1.6 enum)."""
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    reported_at: datetime | None = None
    """The station's timestamp of its last StatusNotification."""
    session: ActiveSession | None = None
    reservation: Hold | None = None
    """The reservation the station holds on this connector (on connector 0: for any connector), while Accepted."""

    @property
    def occupied(self) -> bool:
        return parse_status(self.status) in OCCUPIED

    @property
    def faulted(self) -> bool:
        """Faulted, or reporting an error whatever its status (§4.9: an errorCode other than NoError, e.g. a
        HighTemperature while still Charging). A lenient station's unknown code counts as an error."""
        if parse_status(self.status) is Status.FAULTED:
            return True
        return self.error_code is not None and self.error_code != ErrorCode.NO_ERROR


@dataclass(frozen=True, kw_only=True)
class OutstandingCall:
    """The one central-system CALL a station may have unanswered (OCPP-J 4.1.1)."""

    command_id: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class Station:
    charge_point_id: str
    registered: bool = False
    description: str | None = None
    lenient: bool = False
    tariff_id: str | None = None
    time_zone: str | None = None
    """IANA zone the station's tariff restrictions are evaluated in (None: UTC)."""
    id_tag_suffix_separator: str | None = None
    """Where the vendor suffix this station appends to idTags begins (see authorization.without_vendor_suffix)."""
    password_hash: str | None = None
    site_id: str | None = None
    """The site whose grid connection it shares (domain/sites.py), if any."""
    boot_status: str | None = None
    boot: dict[str, Any] | None = None
    """Its last BootNotification as sent (vendor, model, serial numbers, firmware)."""
    last_boot_at: datetime | None = None
    connection_id: str | None = None
    connected_at: datetime | None = None
    disconnected_at: datetime | None = None
    last_seen_at: datetime | None = None
    connectors: tuple[Connector, ...] = ()
    """Every connector the station reported a status or started a session on, by connector id."""
    local_list_version: int | None = None
    firmware_status: dict[str, Any] | None = None
    diagnostics_status: dict[str, Any] | None = None
    log_status: dict[str, Any] | None = None
    outstanding_call: OutstandingCall | None = None
    _by_id: dict[int, Connector] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {connector.connector_id: connector for connector in self.connectors})

    @property
    def connected(self) -> bool:
        return self.connection_id is not None

    @property
    def may_send_requests(self) -> bool:
        return registration.may_send_requests(self.boot_status)

    @property
    def charging(self) -> bool:
        """Connected, with a connector Charging. An offline station's statuses are the last it sent, not the
        present: it counts as offline, neither charging nor faulted (the network's counts, the console's filter)."""
        return self.connected and any(parse_status(connector.status) is Status.CHARGING for connector in self.connectors)

    @property
    def faulted(self) -> bool:
        """Connected, with a connector (or the station itself, connector 0) faulted or reporting an error."""
        return self.connected and any(connector.faulted for connector in self.connectors)

    def connector(self, connector_id: int) -> Connector | None:
        return self._by_id.get(connector_id)

    def session_on(self, connector_id: int) -> ActiveSession | None:
        """The session in progress on a connector: read from the station alone, no history to search."""
        connector = self._by_id.get(connector_id)
        return connector.session if connector else None

    @property
    def active_sessions(self) -> tuple[ActiveSession, ...]:
        return tuple(connector.session for connector in self.connectors if connector.session is not None)

    @property
    def holds(self) -> tuple[Hold, ...]:
        """The reservations the station holds now, connector by connector."""
        return tuple(connector.reservation for connector in self.connectors if connector.reservation is not None)


@dataclass(frozen=True, kw_only=True)
class NetworkCounts:
    """The whole network's stations at a moment: how many the CSMS knows, how many are connected, and of those
    how many charge and how many report a fault (a station may do both)."""

    total: int
    """Every station the CSMS knows: registered, or connected once without being registered."""
    connected: int
    charging: int
    faulted: int
    counted_at: datetime

    @property
    def offline(self) -> int:
        # The total and the connected are counted a moment apart: a station new in between never makes it negative.
        return max(self.total - self.connected, 0)


@dataclass(frozen=True, kw_only=True)
class StatusChange:
    """A connector status the CSMS recorded, and the one it replaced."""

    connector_id: int
    previous: str | None
    current: str
    session: ActiveSession | None = None
    """The session in progress on the connector when the status was reported, if any."""
    site_id: str | None = None
    """The site the station belongs to, if any."""

    @property
    def expected(self) -> bool:
        return is_expected_transition(self.connector_id, self.previous, self.current)
