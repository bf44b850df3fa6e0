"""Status notifications of long-running station operations: firmware, diagnostics, log uploads
(OCPP 1.6 §4.4, §4.5; Security Whitepaper §4.3, §4.4). The latest of each is kept on the station."""

from __future__ import annotations

from csms.domain.clock import to_iso
from csms.domain.stations import Operation
from csms.ocpp.router import ActionRouter
from csms.ocpp.v16.actions import Action, Initiator
from csms.ocpp.v16.station import call, call_result
from csms.ocpp.v16.types import OcppModel
from csms.ocpp.v16.validation import dump
from csms.station.context import StationContext

router = ActionRouter(initiator=Initiator.STATION)


def _record(ctx: StationContext, operation: Operation, request: OcppModel) -> None:
    notification = {**dump(request), "receivedAt": to_iso(ctx.received_at)}
    ctx.services.stations.record_operation_status(ctx.charge_point_id, operation, notification)


@router.action(Action.DIAGNOSTICS_STATUS_NOTIFICATION)
def diagnostics_status(
    request: call.DiagnosticsStatusNotification, ctx: StationContext
) -> call_result.DiagnosticsStatusNotification:
    _record(ctx, Operation.DIAGNOSTICS, request)
    return call_result.DiagnosticsStatusNotification()


@router.action(Action.FIRMWARE_STATUS_NOTIFICATION)
def firmware_status(
    request: call.FirmwareStatusNotification, ctx: StationContext
) -> call_result.FirmwareStatusNotification:
    _record(ctx, Operation.FIRMWARE, request)
    return call_result.FirmwareStatusNotification()


@router.action(Action.SIGNED_FIRMWARE_STATUS_NOTIFICATION)
def signed_firmware_status(
    request: call.SignedFirmwareStatusNotification, ctx: StationContext
) -> call_result.SignedFirmwareStatusNotification:
    _record(ctx, Operation.FIRMWARE, request)
    return call_result.SignedFirmwareStatusNotification()


@router.action(Action.LOG_STATUS_NOTIFICATION)
def log_status(request: call.LogStatusNotification, ctx: StationContext) -> call_result.LogStatusNotification:
    _record(ctx, Operation.LOG_UPLOAD, request)
    return call_result.LogStatusNotification()
