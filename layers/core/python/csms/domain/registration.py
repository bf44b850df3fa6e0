"""Whether a booting station is accepted (OCPP 1.6 §4.2) and what it may send before that."""

from __future__ import annotations

from csms.ocpp.v16.enums import RegistrationStatus
from csms.runtime.settings import UnknownStationPolicy

ACCEPTED = RegistrationStatus.ACCEPTED
PENDING = RegistrationStatus.PENDING
REJECTED = RegistrationStatus.REJECTED

_STATUS_FOR_UNKNOWN_STATION = {
    UnknownStationPolicy.ACCEPT: ACCEPTED,
    UnknownStationPolicy.PENDING: PENDING,
    UnknownStationPolicy.REJECT: REJECTED,
}


def boot_status(*, registered: bool, policy: UnknownStationPolicy) -> RegistrationStatus:
    """The RegistrationStatus answered to a BootNotification."""
    return ACCEPTED if registered else _STATUS_FOR_UNKNOWN_STATION[policy]


def may_send_requests(boot_status_: str | None) -> bool:
    """OCPP 1.6 §4.2: until a BootNotification was answered Accepted or Pending, a station SHALL NOT send
    any other request; while Rejected it SHALL NOT send any message."""
    return boot_status_ in (ACCEPTED, PENDING)
