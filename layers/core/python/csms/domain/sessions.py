"""App sessions (issue 10 §2): a driver's app asks for a charge with POST /sessions; the CSMS sends
RemoteStartTransaction and binds what the request carries (limits, energy thresholds) to the transaction the
StartTransaction that follows creates.

Lifecycle: Requested -> Started (the StartTransaction came: its transactionId) -> Stopped (its StopTransaction),
or Rejected (the station refused the RemoteStartTransaction or could not be reached), or Expired (accepted, but
no StartTransaction came within the start window: the driver never plugged in; OCPP 1.6 §5.11 leaves it to the
station's ConnectionTimeOut, so the CSMS keeps its own window, SESSION_START_WINDOW_SECONDS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from csms.domain.limits import LimitKind, SessionLimits


class AppSessionStatus(StrEnum):
    REQUESTED = "Requested"
    STARTED = "Started"
    STOPPED = "Stopped"
    REJECTED = "Rejected"
    EXPIRED = "Expired"
    """Shown, never stored: a Requested session past its start window."""


@dataclass(frozen=True, kw_only=True)
class PendingStart:
    """What an accepted app session waits to bind, kept on its id tag's item (StartTransaction reads that item
    anyway) under the station and connector it was asked for."""

    session_id: str
    charge_point_id: str
    connector_id: int
    requested_at: datetime
    limits: SessionLimits | None = None
    notify_at_energy_wh: tuple[int, ...] = ()
    priority: int | None = None
    """Asked for the session itself: wins over the id tag's (priorities.session_priority)."""

    def live(self, now: datetime, window: timedelta) -> bool:
        return now - self.requested_at < window


@dataclass(frozen=True, kw_only=True)
class AppSession:
    session_id: str
    charge_point_id: str
    connector_id: int
    id_tag: str
    requested_at: datetime
    status: AppSessionStatus
    limits: SessionLimits | None = None
    notify_at_energy_wh: tuple[int, ...] = ()
    priority: int | None = None
    """Asked for this session (a paid fast charge): wins over the id tag's on a shared site."""
    command_id: str | None = None
    response: dict[str, object] | None = field(default=None)
    """The station's answer to RemoteStartTransaction (or the error when it could not be reached)."""
    transaction_id: int | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    limit_reached: LimitKind | None = None

    def status_at(self, now: datetime, window: timedelta) -> AppSessionStatus:
        """What the app is shown: a request whose StartTransaction never came has Expired."""
        if self.status is AppSessionStatus.REQUESTED and now - self.requested_at >= window:
            return AppSessionStatus.EXPIRED
        return self.status


def pending_start_for(
    pending: tuple[PendingStart, ...], *, charge_point_id: str, connector_id: int, now: datetime, window: timedelta
) -> PendingStart | None:
    """The app session a StartTransaction of this tag at this station binds to: the one asked for this connector,
    else the station's only one (a station may start on another connector than asked: RemoteStartTransaction's
    connectorId is optional in OCPP 1.6 §5.11 and some stations pick a free one). Stale ones never bind."""
    live = [start for start in pending if start.charge_point_id == charge_point_id and start.live(now, window)]
    exact = [start for start in live if start.connector_id == connector_id]
    if exact:
        return max(exact, key=lambda start: start.requested_at)
    return live[0] if len(live) == 1 else None
