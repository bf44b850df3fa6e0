"""Central-system commands: any OCPP 1.6 (and Security Whitepaper) CALL a CSMS sends, through the durable
outbox (`csms.commands.service`), with the station's answer coming back to the caller.

The body is the action's OCPP request payload, field names as in OCPP, validated against the 1.6 schema
by the outbox before anything is sent (400 with the CallError code the station would have answered).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any, Union

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import Field, PlainValidator

from csms.commands.service import send_command, send_local_list, wait_for
from csms.domain.commands import Command, CommandStatus
from csms.domain.stations import StationNotFound
from csms.ocpp.frames import plain_json
from csms.ocpp.v16.actions import CENTRAL_SYSTEM_ACTIONS, Action
from csms.ocpp.v16.messages import messages
from csms.operator.command_examples import COMMAND_EXAMPLES
from csms.operator.errors import CommandFailed, CommandNotAnswered, ResourceNotFound, documented
from csms.operator.models import ApiModel, JsonObject, NextPageToken, Timestamp
from csms.operator.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    STATION_INDEX_PAGE_KEY,
    NextToken,
    decode_token,
    encode_token,
)
from csms.operator.parameters import ChargePointId, ConnectorId, ServicesDependency, Wait
from csms.runtime.observability import logger, metrics
from csms.runtime.wiring import Services


class CommandError(ApiModel):
    code: str = Field(description="CallError code (OCPP-J 4.2.3), or StationNotConnected")
    description: str | None = None
    details: Any = None


class CommandView(ApiModel):
    """One central-system CALL: what was asked, its state, and the station's answer."""

    command_id: str = Field(description="The OCPP message id of the CALL")
    charge_point_id: str
    action: str
    status: CommandStatus
    request: JsonObject = Field(description="The payload as sent (secrets such as a new AuthorizationKey redacted)")
    response: JsonObject | None = Field(None, description="The station's CALLRESULT payload")
    error: CommandError | None = None
    created_at: Timestamp
    sent_at: Timestamp | None = None
    answered_at: Timestamp | None = None
    parts: list[str] | None = Field(
        None,
        description="A SendLocalList too large for one frame goes as several updates: their command ids in order "
        "(this view is the last one's)",
    )

    @classmethod
    def from_command(cls, command: Command, *, parts: list[Command] | None = None) -> CommandView:
        error = None
        if command.error:
            error = CommandError(
                code=command.error.get("code", ""),
                description=command.error.get("description"),
                details=plain_json(command.error.get("details")),
            )
        return cls(
            command_id=command.command_id,
            charge_point_id=command.charge_point_id,
            action=command.action,
            status=command.status,
            request=plain_json(command.request),
            response=plain_json(command.response) if command.response is not None else None,
            error=error,
            created_at=command.created_at,
            sent_at=command.sent_at,
            answered_at=command.answered_at,
            parts=[part.command_id for part in parts] if parts and len(parts) > 1 else None,
        )


class CommandList(ApiModel):
    items: list[CommandView]
    next_token: NextPageToken = None


router = Router()
TAGS = ["Commands"]
COMMAND_ACTIONS = sorted(CENTRAL_SYSTEM_ACTIONS)


class _Payload(dict[str, Any]):
    """A request payload that never shows its values in a repr (Powertools logs route arguments at DEBUG, and a
    payload may carry a secret: ChangeConfiguration of AuthorizationKey)."""

    def __repr__(self) -> str:
        return f"<OCPP payload: {', '.join(self)}>"


def _json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("the OCPP request payload must be a JSON object")
    return _Payload(value)


# Validated here only as "a JSON object": the outbox validates it against the action's 1.6 schema, the one
# validation every command goes through (and the one that names the CallError code). Documented as any of
# the request models: OpenAPI cannot tie a body schema to the value of a path parameter.
_REQUEST_MODELS = tuple(messages(action).request for action in COMMAND_ACTIONS)
OcppRequestPayload = Annotated[
    dict[str, Any], PlainValidator(_json_object, json_schema_input_type=Union[_REQUEST_MODELS])  # noqa: UP007
]

_COMMAND_RESPONSES = documented(
    200,
    "The station's answer: `response` is its CALLRESULT payload",
    400,
    404,
    409,
    502,
    504,
    extra={
        202: {"description": "Sent or queued (wait=false)", "content": {"application/json": {"model": CommandView}}}
    },
)

@router.post(
    "/charge-points/<chargePointId>/commands/<action>",
    summary="Send a command to a charge point",
    description=(
        "`action` is any central-system 1.6 action; the body is its OCPP request payload (field names as in OCPP; "
        "may be omitted for actions without fields). Commands to one station go out one at a time (OCPP-J 4.1.1): "
        "a command sent while another is outstanding waits its turn. 200: the station answered (`response`); "
        "502: it answered CALLERROR (`code`, `description`) or an invalid answer; 504: no answer within the wait "
        "(the command stays recorded and a late answer is kept); 409: not connected; 404: unknown station; "
        "400: the payload breaks the 1.6 schema or the action is not a central-system one (nothing was sent). "
        "ChangeConfiguration of AuthorizationKey rotates the station's password once it accepts."
    ),
    tags=TAGS,
    responses=_COMMAND_RESPONSES,
)
def send_to_charge_point(
    charge_point_id: ChargePointId,
    action: Annotated[str, Path(description="The OCPP action", json_schema_extra={"enum": COMMAND_ACTIONS})],
    services: ServicesDependency,
    payload: Annotated[
        OcppRequestPayload | None,
        Body(
            description="The action's OCPP 1.6 request payload",
            openapi_examples={name: {"summary": name, "value": example} for name, example in COMMAND_EXAMPLES.items()},
        ),
    ] = None,
    wait: Wait = True,
) -> CommandView:
    payload = dict(payload or {})
    if action == Action.SEND_LOCAL_LIST:  # split into several differential updates when it does not fit one 32 KB frame
        commands = send_local_list(services, charge_point_id, payload)
    else:
        commands = [send_command(services, charge_point_id, action, payload)]
    return _run(services, commands, wait=wait)


@router.post(
    "/charge-points/<chargePointId>/connectors/<connectorId>/stop",
    summary="Stop the session on a connector",
    description="RemoteStopTransaction of the connector's active transaction, for when its transactionId is not at hand. "
    "Answers as a command (see the commands route); 404 when the connector has no active transaction.",
    tags=TAGS,
    responses=_COMMAND_RESPONSES,
)
def stop_connector(
    charge_point_id: ChargePointId,
    connector_id: ConnectorId,
    services: ServicesDependency,
    wait: Wait = True,
) -> CommandView:
    station = services.stations.get(charge_point_id)
    if station is None:
        raise StationNotFound(charge_point_id)
    session = station.session_on(connector_id)  # the connector points at its transaction: no history to search
    if session is None:
        raise ResourceNotFound(f"No active transaction on connector {connector_id} of {charge_point_id}")
    payload = {"transactionId": session.transaction_id}
    command = send_command(services, charge_point_id, Action.REMOTE_STOP_TRANSACTION, payload)
    return _run(services, [command], wait=wait)


@router.get(
    "/charge-points/<chargePointId>/commands",
    summary="A charge point's command history, newest first",
    description="Pages of at most `limit` commands, newest first; follow `nextToken` until it is null.",
    tags=TAGS,
    responses=documented(200, "Its commands", 400),
)
def list_commands(
    charge_point_id: ChargePointId,
    services: ServicesDependency,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Commands per page")] = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
) -> CommandList:
    history, next_key = services.commands.list_page_for_station(
        charge_point_id, limit=limit, start_key=decode_token(next_token, STATION_INDEX_PAGE_KEY)
    )
    return CommandList(items=[CommandView.from_command(command) for command in history], next_token=encode_token(next_key))


@router.get(
    "/commands/<commandId>",
    summary="A command's state and the station's answer",
    tags=TAGS,
    responses=documented(200, "The command", 404),
)
def get_command(
    command_id: Annotated[str, Path(alias="commandId", min_length=1, max_length=64)], services: ServicesDependency
) -> CommandView:
    command = services.commands.get(command_id)
    if command is None:
        raise ResourceNotFound(f"Unknown command {command_id}")
    return CommandView.from_command(command)


def _run(services: Services, commands: list[Command], *, wait: bool) -> CommandView:
    """Wait for the last of the commands (the parts of one SendLocalList go out in order) and answer with it."""
    last = commands[-1]
    metrics.add_metric(name="OperatorCommands", unit=MetricUnit.Count, value=len(commands))
    logger.info(
        "Command sent",
        extra={
            "charge_point_id": last.charge_point_id,
            "action": last.action,
            "command_id": last.command_id,
            "parts": len(commands),
        },
    )
    if not wait:
        return Response(  # type: ignore[return-value]
            status_code=HTTPStatus.ACCEPTED,
            content_type="application/json",
            body=CommandView.from_command(services.commands.get(last.command_id) or last, parts=commands),
        )
    seconds = services.settings.command_wait_seconds
    outcome = wait_for(services, last.command_id, seconds=seconds)
    if not outcome.done or outcome.status is CommandStatus.TIMED_OUT:
        metrics.add_metric(name="OperatorCommandsUnanswered", unit=MetricUnit.Count, value=1)
        raise CommandNotAnswered(outcome, seconds)
    if outcome.status is CommandStatus.FAILED:
        raise CommandFailed(outcome)
    return CommandView.from_command(outcome, parts=commands)
