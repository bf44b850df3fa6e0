"""Exceptions -> HTTP answers, as tables (Powertools looks handlers up along the exception's MRO, so the
most specific entry wins). Every error body is an `ErrorBody` whose `message` says what went wrong.

Two tables, for the cold start: `ERROR_RESPONSES` holds what any route may raise and is installed with the
app; `on_demand_error_responses` holds the errors of the modules the API loads on demand (commands, app
sessions, tariffs, billing, sites), and is built (importing them) only when an exception that no entry of the
first one names reaches its `Exception` entry: a request that raises none of them never pays for those imports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit

from csms.domain.commands import Command
from csms.domain.reservations import InvalidReservation, ReservationRefused
from csms.domain.stations import StationNotFound
from csms.ocpp.frames import plain_json
from csms.operator.models import ErrorBody, FieldError
from csms.operator.pagination import InvalidPageToken
from csms.runtime.observability import logger, metrics

if TYPE_CHECKING:  # imported by on_demand_error_responses, when one of them is raised
    from csms.adapters.dynamodb.sites import NotRegistered
    from csms.adapters.dynamodb.tariffs import TariffNotFound
    from csms.commands.service import StationNotConnected
    from csms.domain.sites import SiteRejected
    from csms.domain.tariffs.validation import TariffRejected
    from csms.sessions.service import CostLimitInapplicable, UnknownIdTag


class ResourceNotFound(LookupError):
    """A charge point, id tag, transaction or command that does not exist; the argument is the message."""


class InvalidValue(ValueError):
    """A field whose value the schema cannot judge (a time zone name): 400, naming the field."""

    def __init__(self, location: str, message: str):
        super().__init__(message)
        self.location = location


class CommandFailed(Exception):
    """The station answered CALLERROR, an answer that breaks the 1.6 schema, or could not be reached."""

    def __init__(self, command: Command):
        super().__init__(command.command_id)
        self.command = command


class CommandNotAnswered(Exception):
    """No answer within the wait; the command stays recorded and a late answer is still stored."""

    def __init__(self, command: Command, seconds: float, *, outcome_at: str | None = None, reservation_id: int | None = None):
        super().__init__(command.command_id)
        self.command = command
        self.seconds = seconds
        self.outcome_at = outcome_at or f"/commands/{command.command_id}"
        """Where the late answer's outcome will show."""
        self.reservation_id = reservation_id


class StationDeclined(Exception):
    """The station answered, but declined what was asked (ReserveNow Occupied, CancelReservation Rejected): its
    answer goes back in the body. `status`: 409 when the request cannot be met as things are, 502 when the
    station contradicts what the CSMS knows."""

    def __init__(self, command: Command, status: HTTPStatus, message: str, *, reservation_id: int | None = None):
        super().__init__(message)
        self.command = command
        self.status = status
        self.reservation_id = reservation_id


class SessionStartNotAnswered(Exception):
    """The station did not answer an app session's RemoteStartTransaction within the wait: the session stays
    Requested (a late answer and its StartTransaction still start it)."""

    def __init__(self, session_id: str, command: Command, seconds: float):
        super().__init__(session_id)
        self.session_id = session_id
        self.command = command
        self.seconds = seconds


Describe = Callable[[Any], tuple[int, ErrorBody]]


def _station_not_found(error: StationNotFound | NotRegistered) -> tuple[int, ErrorBody]:
    message = f"Unknown charge point {error}: register it with PUT /charge-points/{error}"
    return HTTPStatus.NOT_FOUND, ErrorBody(message=message)


def _station_not_connected(error: StationNotConnected) -> tuple[int, ErrorBody]:
    return HTTPStatus.CONFLICT, ErrorBody(message=f"Charge point {error} is not connected")


def _command_failed(error: CommandFailed) -> tuple[int, ErrorBody]:
    from csms.commands.service import NOT_CONNECTED  # loaded by the command that failed

    command, failure = error.command, error.command.error or {}
    code = failure.get("code", "")
    if code == NOT_CONNECTED:  # its connection was gone when the CALL went out
        status, message = HTTPStatus.CONFLICT, f"Charge point {command.charge_point_id} is not connected"
    else:
        status = HTTPStatus.BAD_GATEWAY
        message = (
            f"Charge point {command.charge_point_id} answered {command.action} with {code}: "
            f"{failure.get('description', '')}"
        )
    return status, ErrorBody(
        message=message,
        command_id=command.command_id,
        status=command.status,
        code=code,
        description=failure.get("description"),
        details=plain_json(failure.get("details")),
    )


def _command_not_answered(error: CommandNotAnswered) -> tuple[int, ErrorBody]:
    command = error.command
    return HTTPStatus.GATEWAY_TIMEOUT, ErrorBody(
        message=(
            f"Charge point {command.charge_point_id} did not answer {command.action} within {error.seconds:g} s; "
            f"the command stays recorded and a late answer is kept: GET {error.outcome_at}"
        ),
        command_id=command.command_id,
        status=command.status,
        reservation_id=error.reservation_id,
    )


def _station_declined(error: StationDeclined) -> tuple[int, ErrorBody]:
    command = error.command
    return error.status, ErrorBody(
        message=str(error),
        command_id=command.command_id,
        status=command.status,
        response=plain_json(command.response),
        reservation_id=error.reservation_id,
    )


def _invalid_reservation(error: InvalidReservation) -> tuple[int, ErrorBody]:
    return _invalid_value(InvalidValue(error.field, str(error)))


def _session_not_answered(error: SessionStartNotAnswered) -> tuple[int, ErrorBody]:
    command = error.command
    return HTTPStatus.GATEWAY_TIMEOUT, ErrorBody(
        message=(
            f"Charge point {command.charge_point_id} did not answer RemoteStartTransaction within {error.seconds:g} s; "
            f"session {error.session_id} stays Requested and may still start: GET /sessions/{error.session_id}"
        ),
        command_id=command.command_id,
        status=command.status,
    )


def _unknown_id_tag(error: UnknownIdTag) -> tuple[int, ErrorBody]:
    problem = FieldError(location="body.idTag", message=f"Unknown idTag {error}", type="value_error")
    message = f"Invalid request: body.idTag: unknown idTag {error}: register it with PUT /id-tags/{error}"
    return HTTPStatus.BAD_REQUEST, ErrorBody(message=message, errors=[problem])


def _cost_limit(error: CostLimitInapplicable) -> tuple[int, ErrorBody]:
    problem = FieldError(location=error.location, message=str(error), type="value_error")
    return HTTPStatus.BAD_REQUEST, ErrorBody(message=f"Invalid request: {error.location}: {error}", errors=[problem])


def _invalid_request(error: RequestValidationError) -> tuple[int, ErrorBody]:
    # Never the offending input itself: it may be a password.
    problems = [
        FieldError(
            location=".".join(str(part) for part in problem.get("loc", ())),
            message=str(problem.get("msg", "")),
            type=str(problem.get("type", "")),
        )
        for problem in error.errors()
    ]
    summary = "; ".join(f"{problem.location}: {problem.message}" for problem in problems)
    return HTTPStatus.UNPROCESSABLE_ENTITY, ErrorBody(message=f"Invalid request: {summary}", errors=problems)


def _unexpected(error: Exception) -> tuple[int, ErrorBody]:
    for kind in type(error).__mro__:
        describe = on_demand_error_responses().get(kind)
        if describe is not None:
            return describe(error)
    logger.exception("Operator API request failed")
    return HTTPStatus.INTERNAL_SERVER_ERROR, ErrorBody(message="Internal server error")


def _tariff_rejected(error: TariffRejected) -> tuple[int, ErrorBody]:
    problems = [FieldError(location=problem.path, message=problem.message, type="ocpi") for problem in error.errors]
    return HTTPStatus.BAD_REQUEST, ErrorBody(message=f"Invalid OCPI 2.2.1 Tariff: {error}", errors=problems)


def _invalid_value(error: InvalidValue) -> tuple[int, ErrorBody]:
    problem = FieldError(location=error.location, message=str(error), type="value_error")
    return HTTPStatus.BAD_REQUEST, ErrorBody(message=f"Invalid request: {error.location}: {error}", errors=[problem])


def _site_rejected(error: SiteRejected) -> tuple[int, ErrorBody]:
    return _invalid_value(InvalidValue(f"body.{error.location}", str(error)))


def _unknown_tariff(error: TariffNotFound) -> tuple[int, ErrorBody]:
    return HTTPStatus.BAD_REQUEST, ErrorBody(message=f"Unknown tariff {error}: create it with PUT /tariffs/{error}")


ERROR_RESPONSES: Mapping[type[Exception], Describe] = {
    StationNotFound: _station_not_found,
    InvalidPageToken: lambda error: (HTTPStatus.BAD_REQUEST, ErrorBody(message=str(error))),
    ResourceNotFound: lambda error: (HTTPStatus.NOT_FOUND, ErrorBody(message=str(error))),
    InvalidValue: _invalid_value,
    CommandFailed: _command_failed,
    CommandNotAnswered: _command_not_answered,
    StationDeclined: _station_declined,
    InvalidReservation: _invalid_reservation,
    ReservationRefused: lambda error: (HTTPStatus.CONFLICT, ErrorBody(message=str(error))),  # connector 0, not cancellable
    SessionStartNotAnswered: _session_not_answered,
    RequestValidationError: _invalid_request,
    NotFoundError: lambda error: (HTTPStatus.NOT_FOUND, ErrorBody(message="No such route: see GET /openapi.json")),
    ServiceError: lambda error: (error.status_code, ErrorBody(message=error.msg)),
    Exception: _unexpected,
}


@cache
def on_demand_error_responses() -> Mapping[type[Exception], Describe]:
    """The errors of commands, app sessions, tariffs, billing and sites (see the module docstring)."""
    from csms.adapters.dynamodb.sites import NotRegistered, SiteBusy
    from csms.adapters.dynamodb.tariffs import AssignmentConflict, TariffInUse, TariffNotFound
    from csms.billing.service import NoTariffApplies, NotCorrectable
    from csms.commands.service import InvalidCommand, StationNotConnected
    from csms.domain.sites import MembershipConflict, SiteRejected
    from csms.domain.tariffs.validation import TariffRejected
    from csms.sessions.service import ConnectorReserved, CostLimitInapplicable, IdTagRefused, UnknownIdTag

    return {
        UnknownIdTag: _unknown_id_tag,
        IdTagRefused: lambda error: (HTTPStatus.CONFLICT, ErrorBody(message=str(error))),
        ConnectorReserved: lambda error: (HTTPStatus.CONFLICT, ErrorBody(message=str(error))),
        CostLimitInapplicable: _cost_limit,
        StationNotConnected: _station_not_connected,
        InvalidCommand: lambda error: (HTTPStatus.BAD_REQUEST, ErrorBody(message=str(error))),
        TariffRejected: _tariff_rejected,
        NotCorrectable: lambda error: (HTTPStatus.CONFLICT, ErrorBody(message=str(error))),
        NoTariffApplies: lambda error: (HTTPStatus.CONFLICT, ErrorBody(message=str(error))),
        TariffNotFound: _unknown_tariff,  # named by a charge point or id tag (a tariff route's own 404 is ResourceNotFound)
        TariffInUse: lambda error: (HTTPStatus.CONFLICT, ErrorBody(message=str(error))),
        AssignmentConflict: lambda error: (HTTPStatus.CONFLICT, ErrorBody(message="Changed concurrently: try again")),
        SiteRejected: _site_rejected,
        NotRegistered: _station_not_found,  # named by a site
        MembershipConflict: lambda error: (HTTPStatus.CONFLICT, ErrorBody(message=str(error))),
        SiteBusy: lambda error: (
            HTTPStatus.CONFLICT,
            ErrorBody(message=f"Site {error} is being changed by another request: retry"),
        ),
    }


def install_error_responses(app: APIGatewayHttpResolver) -> None:
    for exception, describe in ERROR_RESPONSES.items():
        app.exception_handler(exception)(_responder(describe))


def _responder(describe: Describe) -> Callable[[Exception], Response[dict[str, Any]]]:
    def respond(error: Exception) -> Response[dict[str, Any]]:
        status, body = describe(error)
        metrics.add_metric(name="OperatorErrors", unit=MetricUnit.Count, value=1)
        return Response(
            status_code=int(status),
            content_type=content_types.APPLICATION_JSON,
            body=body.model_dump(mode="json", by_alias=True, exclude_none=True),
        )

    return respond


_ERROR_DESCRIPTIONS: Mapping[int, str] = {
    400: "Bad request: an OCPP payload or action the central system cannot send, an invalid tariff (each OCPI path at "
    "fault in `errors`), a site definition or a reservation time at fault (the field in `errors`), an unknown idTag or a "
    "cost limit in another currency than the tariff (the field in `errors`), or a bad nextToken",
    404: "Not found",
    409: "The charge point is not connected, the tariff is still assigned, the CDR cannot be corrected, the "
    "reservation cannot be made or cancelled (a station's refusal in `response`), a station would be in two "
    "sites or circuits, or the idTag would be refused",
    422: "The request does not match this API's schema",
    502: "The charge point answered CALLERROR (code and description given), an answer that breaks the 1.6 schema, or "
    "refused to cancel a reservation the CSMS holds for it (its answer in `response`)",
    504: "The charge point did not answer in time; the command stays recorded (GET /commands/{commandId})",
}


def documented(
    success: int, description: str, *errors: int, extra: Mapping[int, OpenAPIResponse] | None = None
) -> dict[int, OpenAPIResponse]:
    """A route's OpenAPI responses: the success (its body from the return annotation), then each error with
    the ErrorBody schema. 422 is always there: every route validates its request."""
    responses: dict[int, OpenAPIResponse] = {success: {"description": description}}
    responses.update(extra or {})
    for code in (*errors, 422):
        responses[code] = {
            "description": _ERROR_DESCRIPTIONS[code],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
    return responses
