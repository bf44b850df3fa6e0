"""One frame from a station in, at most one frame out (the $default route response).

CALL -> validate against the 1.6 schema -> boot gate -> the action's handler -> CALLRESULT, or a CALLERROR
with the code of whatever went wrong (OCPP-J 1.6 §4.2.3). CALLRESULT / CALLERROR frames answer calls the
CSMS made; they never get a reply (OCPP-J §4.1.1).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from csms.domain import registration
from csms.ocpp.errors import ActionNotImplementedError, ActionNotSupportedError, InternalError, OcppError, SecurityError
from csms.ocpp.frames import Call, CallError, CallResult, FrameError, parse_frame
from csms.ocpp.router import ActionRouter
from csms.ocpp.v16.actions import Action, Initiator, parse_action
from csms.ocpp.v16.validation import dump, parse_request
from csms.runtime.observability import count_per_action, logger, metrics
from csms.station import core, data_transfer, notifications, security, transactions
from csms.station.context import StationContext

station_router = ActionRouter(initiator=Initiator.STATION)
for module in (core, transactions, notifications, security, data_transfer):
    station_router.include_router(module.router)


class BootedConnections:
    """Connections this Lambda instance has seen booted, so the boot gate reads the table at most once per
    instance and connection (the authorizer's context predates a boot made on the same connection).
    Bounded: the oldest are forgotten first, which only costs a read."""

    def __init__(self, capacity: int = 10_000):
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, connection_id: str) -> None:
        self._ids[connection_id] = None
        self._ids.move_to_end(connection_id)
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)

    def discard(self, connection_id: str) -> None:
        self._ids.pop(connection_id, None)

    def __contains__(self, connection_id: str) -> bool:
        return connection_id in self._ids


booted_connections = BootedConnections()


def handle_frame(text: str, ctx: StationContext) -> str | None:
    """The reply to send back to the station, if any."""
    try:
        frame = parse_frame(text)
    except FrameError as error:
        logger.warning("Malformed frame", extra={"charge_point_id": ctx.charge_point_id, "error": str(error.error)})
        metrics.add_metric(name="MalformedFrames", unit=MetricUnit.Count, value=1)
        return error.to_call_error().to_json() if error.answerable else None
    if isinstance(frame, Call):
        return _handle_call(frame, ctx).to_json()
    # An answer to a central-system call; answers are never answered (OCPP-J §4.1.1).
    _record_answer(frame, ctx)
    return None


ANSWER_RETRY_DELAYS: tuple[float, ...] = (0.05, 0.25)
"""Seconds before each new try to record a station's answer (a throttled or conflicting write)."""


def _record_answer(frame: CallResult | CallError, ctx: StationContext) -> None:
    """The station sends an answer once: a write that fails is tried again (recording is idempotent), and one
    that still fails is logged with its message id and counted, never silently dropped."""
    # Imported here: the command service (outbox, effects of answers) is a station's answer's, not every message's.
    from csms.commands.service import handle_answer

    extra = {"charge_point_id": ctx.charge_point_id, "message_id": frame.message_id}
    for attempt, delay in enumerate((*ANSWER_RETRY_DELAYS, None), start=1):
        try:
            handle_answer(ctx.services, ctx.charge_point_id, frame, lenient=ctx.lenient)
            return
        except Exception:
            if delay is None:
                logger.exception("A station's answer could not be recorded", extra=extra | {"attempts": attempt})
                metrics.add_metric(name="UnrecordedAnswers", unit=MetricUnit.Count, value=1)
                return
            logger.warning("Recording a station's answer failed; trying again", extra=extra | {"attempt": attempt}, exc_info=True)
            time.sleep(delay)


def _handle_call(call: Call, ctx: StationContext) -> CallResult | CallError:
    metrics.add_metric(name="StationMessages", unit=MetricUnit.Count, value=1)
    try:
        return CallResult(call.message_id, _answer(call, ctx))
    except OcppError as error:
        logger.info(
            "Answered with a CallError",
            extra={
                "charge_point_id": ctx.charge_point_id,
                "action": call.action,
                "code": str(error.code),
                "description": error.description,
            },
        )
        metrics.add_metric(name="CallErrors", unit=MetricUnit.Count, value=1)
        return CallError.from_exception(call.message_id, error)
    except Exception:
        logger.exception("Handler failed", extra={"charge_point_id": ctx.charge_point_id, "action": call.action})
        metrics.add_metric(name="InternalErrors", unit=MetricUnit.Count, value=1)
        return CallError.from_exception(call.message_id, InternalError())


def _answer(call: Call, ctx: StationContext) -> dict[str, Any]:
    action = parse_action(call.action)
    if action is None:
        raise ActionNotImplementedError(f"Unknown action {call.action}")
    count_per_action("StationMessages", action)
    handler = station_router.resolve(action)
    if handler is None:  # a central-system action sent by a station
        raise ActionNotSupportedError(f"{action} is not accepted from a charge point")
    if action is not Action.BOOT_NOTIFICATION:
        _require_boot(ctx)
    parsed = parse_request(action, call.payload, lenient=ctx.lenient)
    if parsed.violations:
        logger.warning(
            "Schema violation accepted in lenient mode",
            extra={"charge_point_id": ctx.charge_point_id, "action": call.action, "violations": list(parsed.violations)},
        )
        metrics.add_metric(name="LenientViolations", unit=MetricUnit.Count, value=1)
    response = handler(parsed.message, ctx)
    if action is Action.BOOT_NOTIFICATION:
        if registration.may_send_requests(response.status):
            booted_connections.add(ctx.connection_id)
        else:
            booted_connections.discard(ctx.connection_id)
    return dump(response)


def _require_boot(ctx: StationContext) -> None:
    """OCPP 1.6 §4.2: no request before a boot answered Accepted or Pending. The code is the one OCPP 2.0.1
    B02.FR.09 / B03.FR.08 later prescribed for this case."""
    if registration.may_send_requests(ctx.boot_status) or ctx.connection_id in booted_connections:
        return
    # The connection may have opened before this boot, handled by another instance: ask the table.
    station = ctx.services.stations.get(ctx.charge_point_id)
    if station is None or not registration.may_send_requests(station.boot_status):
        raise SecurityError("The charge point has not been accepted: send a BootNotification first")
    booted_connections.add(ctx.connection_id)
