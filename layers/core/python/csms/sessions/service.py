"""Starting a session from the driver's app (POST /sessions): RemoteStartTransaction through the outbox, the
station's answer waited for like the command route, and what the request carries left on the id tag for the
StartTransaction that follows to bind (binding.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from csms.billing.tariff_choice import choose_tariff
from csms.commands.service import StationNotConnected, send_command, wait_for
from csms.domain.authorization import IdTagRecord, authorize
from csms.domain.commands import Command, CommandStatus
from csms.domain.limits import SessionLimits, session_limits
from csms.domain.reservations import held_for_another
from csms.domain.sessions import AppSession, AppSessionStatus, PendingStart
from csms.domain.stations import Station, StationNotFound
from csms.ocpp.v16.actions import Action
from csms.runtime.wiring import Services


class UnknownIdTag(LookupError):
    """The session's idTag is not registered: 400 naming body.idTag (the app registers its drivers' tags first)."""


class IdTagRefused(Exception):
    """The idTag is registered but would not be accepted now (Blocked, Expired, Invalid, ConcurrentTx): 409."""

    def __init__(self, id_tag: str, status: str):
        super().__init__(f"idTag {id_tag} is {status}: the station would refuse it")
        self.status = status


class ConnectorReserved(Exception):
    """The connector is held by an Accepted reservation for another driver: 409."""

    def __init__(self, connector_id: int, reservation_id: int):
        super().__init__(f"Connector {connector_id} is reserved for another driver (reservation {reservation_id})")
        self.reservation_id = reservation_id


class CostLimitInapplicable(ValueError):
    """maxCost in another currency than the tariff that prices the session, or no tariff at all: 400 naming the field."""

    def __init__(self, location: str, message: str):
        super().__init__(message)
        self.location = location


@dataclass(frozen=True)
class StartOutcome:
    session: AppSession
    command: Command | None
    """The RemoteStartTransaction as it stands when the wait ended (None: it could not even be sent)."""

    @property
    def unanswered(self) -> bool:
        return self.command is not None and (not self.command.done or self.command.status is CommandStatus.TIMED_OUT)


def check_cost_limit(services: Services, limits: SessionLimits | None, tariff_id: str | None, location: str) -> None:
    """A cost limit is compared with the running cost in the tariff's currency: one in another currency is refused
    where the tariff is known (`tariff_id`, else the network default)."""
    cost = limits.max_cost if limits else None
    tariff_id = tariff_id or services.settings.default_tariff_id
    if cost is None or tariff_id is None:
        return
    stored = services.tariffs.get(tariff_id)
    if stored is None:
        return
    if stored.tariff.currency != cost.currency:
        raise CostLimitInapplicable(
            f"{location}.currency",
            f"the tariff {tariff_id} prices in {stored.tariff.currency}: a cost limit in {cost.currency} cannot apply",
        )


def check_cost_limit_at(
    services: Services, limits: SessionLimits | None, *, id_tag_tariff: str | None, station: Station, location: str
) -> None:
    """A cost limit for a session of an idTag (with its own tariff, if any) at `station`: some tariff must price it
    there, in the limit's currency (issue 10 §5), else the request is refused before anything is sent."""
    if limits is None or limits.max_cost is None:
        return
    choice = choose_tariff(
        id_tag_tariff=id_tag_tariff, station_tariff=station.tariff_id, default_tariff=services.settings.default_tariff_id
    )
    if choice is None:
        raise CostLimitInapplicable(location, "no tariff prices sessions of this idTag at this charge point")
    check_cost_limit(services, limits, choice.tariff_id, location)


def start_session(
    services: Services,
    *,
    charge_point_id: str,
    connector_id: int,
    id_tag: str,
    requested: SessionLimits | None,
    notify_at_energy_wh: tuple[int, ...],
    priority: int | None = None,
) -> StartOutcome:
    station = services.stations.get(charge_point_id)
    if station is None:
        raise StationNotFound(charge_point_id)
    record = services.id_tags.get(id_tag)
    if record is None:
        raise UnknownIdTag(id_tag)
    now = services.clock.now()
    window = services.settings.session_start_window
    authorization = authorize(
        record,
        now=now,
        allow_concurrent_transactions=services.settings.allow_concurrent_transactions,
        stale_after=timedelta(hours=services.settings.stale_transaction_hours),
    )
    if not authorization.accepted:
        raise IdTagRefused(id_tag, authorization.status)
    hold = held_for_another(
        station.holds, connector_id=connector_id, id_tag=record.id_tag, parent_id_tag=record.parent_id_tag, now=now
    )
    if hold is not None:
        raise ConnectorReserved(connector_id, hold.reservation_id)
    limits = session_limits(id_tag=record.limits, requested=requested)
    location = "body.limits.maxCost" if requested and requested.max_cost else "idTag limits.maxCost"
    check_cost_limit_at(services, limits, id_tag_tariff=record.tariff_id, station=station, location=location)
    session = AppSession(
        session_id=str(uuid.uuid4()),
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        id_tag=record.id_tag,
        requested_at=now,
        status=AppSessionStatus.REQUESTED,
        limits=limits,
        notify_at_energy_wh=notify_at_energy_wh or record.notify_at_energy_wh,
        priority=priority,
    )
    services.app_sessions.create(session)
    # Left on the tag before the command goes: the StartTransaction may follow the station's answer at once.
    pending = PendingStart(
        session_id=session.session_id,
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        requested_at=now,
        limits=limits,
        notify_at_energy_wh=session.notify_at_energy_wh,
        priority=priority,
    )
    stale = tuple(start for start in record.pending_starts if not start.live(now, window))
    services.id_tags.add_pending_start(id_tag, pending, stale=stale)
    try:
        command = send_command(
            services, charge_point_id, Action.REMOTE_START_TRANSACTION, {"connectorId": connector_id, "idTag": record.id_tag}
        )
    except StationNotConnected:
        return StartOutcome(_refused(services, record, pending, None, {"error": "StationNotConnected"}), None)
    outcome = wait_for(services, command.command_id, seconds=services.settings.command_wait_seconds)
    if not outcome.done or outcome.status is CommandStatus.TIMED_OUT:
        # It may still start (a late answer, then its StartTransaction binds it); else it shows Expired.
        return StartOutcome(services.app_sessions.get(session.session_id) or session, outcome)
    if outcome.status is CommandStatus.ANSWERED and (outcome.response or {}).get("status") == "Accepted":
        answered = services.app_sessions.record_answer(
            session.session_id, command_id=outcome.command_id, response=dict(outcome.response or {}),
            status=AppSessionStatus.REQUESTED,
        )  # fmt: skip
        return StartOutcome(answered or session, outcome)
    response: dict[str, object] = (
        dict(outcome.response) if outcome.response is not None else {"error": dict(outcome.error or {})}
    )
    return StartOutcome(_refused(services, record, pending, outcome.command_id, response), outcome)


def _refused(
    services: Services, record: IdTagRecord, pending: PendingStart, command_id: str | None, response: dict[str, object]
) -> AppSession:
    """Nothing half-done: the pending start goes, the session reads Rejected with the station's answer."""
    services.id_tags.remove_pending_start(record.id_tag, pending)
    refused = services.app_sessions.record_answer(
        pending.session_id, command_id=command_id, response=response, status=AppSessionStatus.REJECTED
    )
    assert refused is not None, "the session was created above"
    return refused
