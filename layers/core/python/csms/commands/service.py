"""Sending commands to stations through the durable outbox (OCPP-J 1.6 §4.1.1: one CALL outstanding at a time).

send   validate -> store the command and queue it -> pump
pump   take the station's single outstanding-call slot for the oldest queued command -> mark it Sent -> post it
answer match the CALLRESULT / CALLERROR to its command -> validate -> record once -> effects -> free the slot
       -> tell a waiting workflow -> pump the next one
A call whose answer never comes frees the slot when it expires (COMMAND_TIMEOUT_SECONDS); a late answer is
still recorded. Callers wait by reading the command (wait_for), which also pumps a queue stuck behind an
expired call.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from csms.adapters.dynamodb.commands import QueueEntryGone, SlotTaken
from csms.commands import effects
from csms.domain.commands import Command, CommandStatus, QueuedCall
from csms.domain.local_list import ListTooLarge, split_local_list
from csms.domain.stations import StationNotFound
from csms.ocpp.errors import OcppError
from csms.ocpp.frames import Call, CallError, CallResult
from csms.ocpp.v16.actions import ACTIONS, Action, Initiator, parse_action
from csms.ocpp.v16.messages import messages_sent_by
from csms.ocpp.v16.validation import dump, parse_request, parse_response
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

# The models of every command and of its answer, built at import (a function's init) rather than in its first
# command's invocation; a station's messages' models are not loaded (issue 7: cold start).
messages_sent_by(Initiator.CENTRAL_SYSTEM)

NOT_CONNECTED = "StationNotConnected"
LOAD_CONTROL_CONTEXT = "loadControlSite"
"""In a command's context: the site whose load control sent it (its answer makes the site's control run again)."""
MAX_DISPATCHES_PER_PUMP = 20  # a queue of commands to a gone station fails through in one pump, boundedly


class InvalidCommand(ValueError):
    """The request is not one a central system can send (unknown action, or its payload breaks the 1.6 schema)."""


class StationNotConnected(RuntimeError):
    pass


def send_command(
    services: Services,
    charge_point_id: str,
    action: str,
    payload: dict[str, Any],
    *,
    task_token: str | None = None,
    context: dict[str, Any] | None = None,
    command_id: str | None = None,
    supersede_key: str | None = None,
) -> Command:
    """Validate and queue one command; it goes out now if the station has no other call outstanding.
    `action` is the name an operator or a workflow gave: anything but a central-system action is refused.
    `context`: what the answer's effects need beyond the request (e.g. a reservation's limits, effects.py).
    `command_id`: a deterministic id makes a repeated send queue it once (a second enqueue is refused);
    `supersede_key`: what a newer command may take its place by while it is unsent (CommandRepository.drop_queued)."""
    known = parse_action(action)
    if known is None:
        raise InvalidCommand(f"{action} is not an OCPP 1.6 action a central system sends")
    (command,) = _send(
        services, charge_point_id, known, [_validate(known, payload)],
        task_token=task_token, context=context, command_id=command_id, supersede_key=supersede_key,
    )  # fmt: skip
    return command


def send_local_list(services: Services, charge_point_id: str, payload: dict[str, Any]) -> list[Command]:
    """SendLocalList, split into several updates when the list does not fit one frame."""
    try:
        parts = split_local_list(_validate(Action.SEND_LOCAL_LIST, payload))  # parts of a valid list are valid
    except ListTooLarge as error:
        raise InvalidCommand(str(error)) from None
    return _send(services, charge_point_id, Action.SEND_LOCAL_LIST, parts)


def _send(
    services: Services,
    charge_point_id: str,
    action: Action,
    wire_payloads: list[dict[str, Any]],
    *,
    task_token: str | None = None,
    context: dict[str, Any] | None = None,
    command_id: str | None = None,
    supersede_key: str | None = None,
) -> list[Command]:
    """Queue validated payloads, in order, and pump."""
    station = services.stations.get(charge_point_id)
    if station is None:
        raise StationNotFound(charge_point_id)
    if not station.connection_id:
        raise StationNotConnected(charge_point_id)
    commands = []
    for position, wire in enumerate(wire_payloads):
        shown, prepared = effects.prepare(action, wire)
        command = Command(
            command_id=command_id or str(uuid.uuid4()),
            charge_point_id=charge_point_id,
            action=action,
            request=shown,
            status=CommandStatus.QUEUED,
            created_at=services.clock.now(),
            task_token=task_token,
            context={**(prepared or {}), **(context or {})} or None,
        )
        services.commands.enqueue(command, wire, position=position, supersede_key=supersede_key)
        commands.append(command)
    pump(services, charge_point_id)
    return commands


def _validate(action: Action, payload: dict[str, Any]) -> dict[str, Any]:
    if Initiator.CENTRAL_SYSTEM not in ACTIONS[action].initiated_by:
        raise InvalidCommand(f"{action} is not an OCPP 1.6 action a central system sends")
    try:
        return dump(parse_request(action, payload).message)
    except OcppError as error:
        raise InvalidCommand(f"{error.code}: {error.description}") from None


def pump(services: Services, charge_point_id: str) -> None:
    """Send the oldest queued command if the station's slot is free (or expired). Safe to call any time."""
    timeout = timedelta(seconds=services.settings.command_timeout_seconds)
    for _ in range(MAX_DISPATCHES_PER_PUMP):
        queued = services.commands.next_queued(charge_point_id)
        if queued is None:
            return
        station = services.stations.get(charge_point_id)
        now = services.clock.now()
        if station is None:
            return
        unanswered = station.outstanding_call
        if unanswered is not None and unanswered.expires_at >= now:
            return  # its turn comes when that call is answered or expires
        try:
            # Sent before it leaves: the answer can arrive (in another invocation) before post returns.
            services.commands.hand_over(charge_point_id, queued, now=now, expires_at=now + timeout)
        except SlotTaken:
            return
        except QueueEntryGone:
            continue
        if unanswered is not None:
            _time_out(services, unanswered.command_id)
        if station.connection_id and _post(services, station.connection_id, queued):
            return
        _complete(
            services,
            charge_point_id,
            queued.command_id,
            status=CommandStatus.FAILED,
            error={"code": NOT_CONNECTED, "description": "The station is not connected"},
            pump_next=False,
        )


def _time_out(services: Services, command_id: str) -> None:
    """The call whose slot expired stays in the history as TimedOut, not Sent forever; a workflow waiting on it
    learns it now rather than at its own timeout."""
    error = {"code": CommandStatus.TIMED_OUT.value, "description": "The station did not answer in time"}
    timed_out = services.commands.record_outcome(
        command_id, status=CommandStatus.TIMED_OUT, at=services.clock.now(), error=error
    )
    if timed_out is not None:
        _notify_workflow(services, timed_out)
        _notify_owner(services, timed_out)


def _post(services: Services, connection_id: str, queued: QueuedCall) -> bool:
    frame = Call(queued.command_id, queued.action, queued.payload).to_json()
    return services.connections.send(connection_id, frame)


def handle_answer(services: Services, charge_point_id: str, frame: CallResult | CallError, *, lenient: bool = False) -> None:
    """A CALLRESULT or CALLERROR from a station: complete the command it answers (once)."""
    command = services.commands.get(frame.message_id)
    if command is None or command.charge_point_id != charge_point_id:
        logger.warning(
            "Answer to no command of this station",
            extra={"charge_point_id": charge_point_id, "message_id": frame.message_id},
        )
        return
    late = command.status is CommandStatus.TIMED_OUT  # its workflow, if any, was told already
    if isinstance(frame, CallError):
        error = {"code": str(frame.code), "description": frame.description, "details": frame.details}
        _complete(services, charge_point_id, command.command_id, status=CommandStatus.FAILED, error=error, late=late)
        return
    try:
        parsed = parse_response(command.action, frame.payload, lenient=lenient)
    except OcppError as invalid:
        error = {"code": str(invalid.code), "description": f"The station's answer breaks the 1.6 schema: {invalid.description}"}
        _complete(
            services, charge_point_id, command.command_id,
            status=CommandStatus.FAILED, error=error, response=frame.payload, late=late,
        )  # fmt: skip
        return
    response = dump(parsed.message)
    if command.status in (CommandStatus.SENT, CommandStatus.TIMED_OUT):
        # What the answer changes is recorded before the command reads Answered: whoever sees it answered (the
        # operator's API call waiting on it) sees its effects too. Effects set values, so a repeat is harmless.
        effects.apply(services, replace(command, status=CommandStatus.ANSWERED, response=response))
    _complete(services, charge_point_id, command.command_id, status=CommandStatus.ANSWERED, response=response, late=late)


def _complete(
    services: Services,
    charge_point_id: str,
    command_id: str,
    *,
    status: CommandStatus,
    response: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    pump_next: bool = True,
    late: bool = False,
) -> None:
    completed = services.commands.record_outcome(
        command_id,
        status=status,
        at=services.clock.now(),
        response=response,
        error=error,
        expected=(CommandStatus.SENT, CommandStatus.TIMED_OUT),
    )
    if completed is None:
        return  # answered before: a retransmission or a very late duplicate changes nothing
    services.commands.release_slot(charge_point_id, command_id)
    if not late:
        _notify_workflow(services, completed)
    _notify_owner(services, completed)
    if pump_next:
        pump(services, charge_point_id)


def _notify_owner(services: Services, command: Command) -> None:
    """A site's profile answered (or not): its site's load control looks again (energy/answers.py)."""
    if command.context and command.context.get(LOAD_CONTROL_CONTEXT):
        from csms.energy.answers import profile_done  # only for load control: no import at every cold start

        profile_done(services, command)


def _notify_workflow(services: Services, command: Command) -> None:
    if not command.task_token:
        return
    if command.status is CommandStatus.ANSWERED:
        services.workflows.succeed(
            command.task_token, {"commandId": command.command_id, "action": command.action, "response": command.response}
        )
    else:
        error = command.error or {}
        services.workflows.fail(command.task_token, error=error.get("code", "Failed"), cause=error.get("description", ""))


def wait_for(services: Services, command_id: str, *, seconds: float) -> Command:
    """Read the command until it is done or the time is up; returns its last state."""
    deadline = time.monotonic() + seconds
    delay = 0.05
    next_pump = time.monotonic() + 2
    while True:
        command = services.commands.get(command_id)
        if command is None:
            raise LookupError(command_id)
        if command.done or time.monotonic() >= deadline:
            return command
        if command.status is CommandStatus.QUEUED and time.monotonic() >= next_pump:
            pump(services, command.charge_point_id)  # its predecessor's slot may have expired
            next_pump = time.monotonic() + 2
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.5)
