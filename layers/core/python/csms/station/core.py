"""Core profile: BootNotification, Heartbeat, StatusNotification (OCPP 1.6 §4.2, §4.6, §4.9)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from csms.adapters.dynamodb.follow_ups import FollowUps, run_item
from csms.domain import registration
from csms.domain.clock import to_iso
from csms.domain.stations import StatusChange
from csms.ocpp.router import ActionRouter
from csms.ocpp.v16.actions import Action, Initiator
from csms.ocpp.v16.station import call, call_result
from csms.ocpp.v16.validation import dump
from csms.runtime.observability import logger, metrics
from csms.runtime.settings import UnknownStationPolicy
from csms.station.context import StationContext

router = ActionRouter(initiator=Initiator.STATION)


@router.action(Action.BOOT_NOTIFICATION)
def boot_notification(request: call.BootNotification, ctx: StationContext) -> call_result.BootNotification:
    settings = ctx.services.settings
    # Read at each boot, not taken from the connection's authorizer context: a station held Pending keeps its
    # connection open (§4.2), and the operator who registers it meanwhile must see its next boot Accepted.
    station = ctx.services.stations.get(ctx.charge_point_id)
    registered = station is not None and station.registered
    status = registration.boot_status(registered=registered, policy=settings.unknown_station_policy)
    auto_register = not registered and settings.unknown_station_policy is UnknownStationPolicy.ACCEPT
    site_id = ctx.services.stations.record_boot(
        ctx.charge_point_id, boot=dump(request), status=status, at=ctx.received_at, register=auto_register
    )
    if site_id is not None and status == registration.ACCEPTED:
        # Its site's load control sends it the TxDefaultProfile and its sessions' profiles again (§4.2: it may have
        # rebooted without them), from the stream: the boot answers at once.
        _run_load_control(ctx, site_id, f"BOOT#{ctx.charge_point_id}#{to_iso(ctx.received_at)}")
    interval = (
        settings.heartbeat_interval_seconds
        if status == registration.ACCEPTED
        else settings.boot_retry_interval_seconds
    )
    return call_result.BootNotification(current_time=ctx.received_at, interval=interval, status=status)


SUSPENDED = frozenset({"SuspendedEV", "SuspendedEVSE"})


def _suspension_changed(change: StatusChange) -> bool:
    """Entering or leaving SuspendedEV/SuspendedEVSE (§4.9): the car stopped or resumed drawing."""
    return (change.previous in SUSPENDED) != (change.current in SUSPENDED)


def _run_load_control(ctx: StationContext, site_id: str, cause: str) -> None:
    FollowUps(ctx.services.table).put(run_item(site_id, cause, now=ctx.received_at, charge_point_id=ctx.charge_point_id))


@router.action(Action.HEARTBEAT)
def heartbeat(request: call.Heartbeat, ctx: StationContext) -> call_result.Heartbeat:
    heartbeat = ctx.services.stations.record_heartbeat(ctx.charge_point_id, ctx.connection_id, at=ctx.received_at)
    if heartbeat.superseded:
        # A ghost: the station opened a newer connection, which could not close this one (both opened at once).
        logger.info("Closing a superseded connection", extra={"charge_point_id": ctx.charge_point_id})
        ctx.services.connections.close(ctx.connection_id)
    call_expires_at = heartbeat.call_expires_at
    if call_expires_at is not None and call_expires_at < ctx.received_at:
        # A command went unanswered: let the next queued one go out now rather than at the next enqueue.
        from csms.commands.service import pump  # here: rarely needed, and the outbox's code is not every message's

        pump(ctx.services, ctx.charge_point_id)
    return call_result.Heartbeat(current_time=ctx.received_at)


@router.action(Action.STATUS_NOTIFICATION)
def status_notification(request: call.StatusNotification, ctx: StationContext) -> call_result.StatusNotification:
    """Connector 0 is the whole station (§4.9). A late notification older than the stored one is ignored."""
    status = dump(request)
    status.pop("connectorId")
    status.pop("timestamp", None)
    change = ctx.services.stations.record_connector_status(
        ctx.charge_point_id,
        request.connector_id,
        status,
        reported_at=request.timestamp or ctx.received_at,
        at=ctx.received_at,
    )
    if change is not None and change.session is not None and change.current != change.previous:
        # The bill's parking time starts when the car stops charging (SuspendedEV, Finishing): keep the session's
        # status changes with it (a second write only for a change while a session runs on the connector).
        ctx.services.transactions.record_status(
            change.session.transaction_id,
            charge_point_id=ctx.charge_point_id,
            status=change.current,
            at=request.timestamp or ctx.received_at,
        )
    if change is not None and change.session is not None and change.site_id is not None and _suspension_changed(change):
        # Capacity lending follows what a session draws: a car that stopped or resumed drawing shares anew.
        _run_load_control(ctx, change.site_id, f"STATUS#{ctx.charge_point_id}#{change.connector_id}#{to_iso(ctx.received_at)}")
    if change is not None and not change.expected:
        # The station is the authority on its connectors: recorded all the same, and made visible (§4.9).
        logger.warning(
            "Connector status transition outside the OCPP 1.6 state machine",
            extra={"charge_point_id": ctx.charge_point_id, "connector_id": change.connector_id,
                   "previous": change.previous, "current": change.current},
        )  # fmt: skip
        metrics.add_metric(name="UnexpectedStatusTransitions", unit=MetricUnit.Count, value=1)
    return call_result.StatusNotification()
