"""App sessions (issue 10 §2): the driver's app starts a charge with POST /sessions and follows it; the limits it
gives (or its id tag's) stop the session by itself.

A session is Requested once the station accepted RemoteStartTransaction, Started when the StartTransaction that
follows binds it (its `transactionId`), Stopped with the transaction; Rejected when the station refused or could
not be reached; Expired when accepted but never started within SESSION_START_WINDOW_SECONDS.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import Field

from csms.domain.limits import LimitKind
from csms.domain.sessions import AppSession, AppSessionStatus
from csms.operator.errors import CommandFailed, InvalidValue, ResourceNotFound, SessionStartNotAnswered, documented
from csms.operator.models import (
    ApiModel,
    EnergyThresholds,
    JsonObject,
    NextPageToken,
    Priority,
    SessionLimitsModel,
    Timestamp,
)
from csms.operator.pagination import (
    DEFAULT_PAGE_SIZE,
    KIND_INDEX_PAGE_KEY,
    STATION_INDEX_PAGE_KEY,
    Limit,
    NextToken,
    decode_token,
    encode_token,
)
from csms.operator.parameters import ServicesDependency
from csms.runtime.observability import logger
from csms.runtime.wiring import Services
from csms.sessions.service import start_session


class SessionRequest(ApiModel):
    charge_point_id: str = Field(min_length=1, max_length=255)
    connector_id: int = Field(ge=1, description="The connector asked for (a station may start on another one)")
    id_tag: str = Field(min_length=1, max_length=20, description="A registered idTag: the driver's app identity")
    limits: SessionLimitsModel | None = Field(None, description="Replace the id tag's default limits field by field")
    notify_at_energy_wh: EnergyThresholds | None = None
    priority: Priority | None = Field(None, description="This session's priority on a shared site, over the id tag's")


class SessionView(ApiModel):
    session_id: str
    charge_point_id: str
    connector_id: int
    id_tag: str
    status: AppSessionStatus = Field(
        description="Requested (the station accepted RemoteStartTransaction), Started, Stopped, Rejected, or Expired "
        "(accepted, but no StartTransaction came within SESSION_START_WINDOW_SECONDS)"
    )
    requested_at: Timestamp
    limits: SessionLimitsModel | None = Field(None, description="The limits it runs with (the id tag's included)")
    notify_at_energy_wh: list[int] | None = None
    command_id: str | None = Field(None, description="The RemoteStartTransaction (GET /commands/{commandId})")
    response: JsonObject | None = Field(None, description="The station's answer to RemoteStartTransaction, or the error")
    transaction_id: int | None = None
    started_at: Timestamp | None = None
    stopped_at: Timestamp | None = None
    limit_reached: LimitKind | None = Field(None, description="The limit that stopped it")
    priority: int | None = Field(None, description="Asked for this session (else its id tag's binds at the start)")

    @classmethod
    def from_session(cls, session: AppSession, *, status: AppSessionStatus) -> SessionView:
        return cls(
            session_id=session.session_id,
            charge_point_id=session.charge_point_id,
            connector_id=session.connector_id,
            id_tag=session.id_tag,
            status=status,
            requested_at=session.requested_at,
            limits=SessionLimitsModel.from_limits(session.limits),
            notify_at_energy_wh=list(session.notify_at_energy_wh) or None,
            command_id=session.command_id,
            response=session.response,
            transaction_id=session.transaction_id,
            started_at=session.started_at,
            stopped_at=session.stopped_at,
            limit_reached=session.limit_reached,
            priority=session.priority,
        )


class SessionList(ApiModel):
    items: list[SessionView]
    next_token: NextPageToken = None


router = Router()
TAGS = ["Sessions"]

SessionId = Annotated[str, Path(alias="sessionId", min_length=1, max_length=64, description="The sessionId POST /sessions gave")]


def _view(services: Services, session: AppSession) -> SessionView:
    return SessionView.from_session(
        session, status=session.status_at(services.clock.now(), services.settings.session_start_window)
    )


def _answer(status: HTTPStatus, view: SessionView) -> SessionView:
    return Response(status_code=status, content_type="application/json", body=view)  # type: ignore[return-value]


@router.post(
    "/sessions",
    summary="Start a charging session from the driver's app",
    description=(
        "Sends RemoteStartTransaction (OCPP 1.6 §5.11) for the idTag on the connector and waits for the station's "
        "answer. 201 `status: Requested` when it accepts: the StartTransaction that follows (when the driver plugs in) "
        "makes it Started, and binds its `limits` (over the id tag's defaults, field by field) and `notifyAtEnergyWh` "
        "to the transaction. 409 `status: Rejected` with the station's `response` when it refuses (or is not connected); "
        "502 when it answers CALLERROR; 504 when it does not answer in time (the session stays Requested and may still "
        "start). 404: unknown charge point. 400: the idTag is not registered, or maxCost is in another currency than "
        "the tariff that prices the session (or none does). 409 also when the idTag would be refused (Blocked, Expired, "
        "Invalid, or already in a transaction)."
    ),
    tags=TAGS,
    responses=documented(
        201, "Requested: the station accepted RemoteStartTransaction", 400, 404, 409, 502, 504,
        extra={409: {"description": "Rejected by the station (the body is the session, with its response), not "
                     "connected, or the idTag would be refused", "content": {"application/json": {"model": SessionView}}}},
    ),  # fmt: skip
)
def post_session(request: Annotated[SessionRequest, Body()], services: ServicesDependency) -> SessionView:
    outcome = start_session(
        services,
        charge_point_id=request.charge_point_id,
        connector_id=request.connector_id,
        id_tag=request.id_tag,
        requested=request.limits.to_limits() if request.limits else None,
        notify_at_energy_wh=tuple(request.notify_at_energy_wh or ()),
        priority=request.priority,
    )
    view = _view(services, outcome.session)
    logger.info("App session requested", extra={"session_id": view.session_id, "status": view.status})
    if outcome.unanswered and outcome.command is not None:
        raise SessionStartNotAnswered(view.session_id, outcome.command, services.settings.command_wait_seconds)
    if view.status is AppSessionStatus.REJECTED:
        if outcome.command is not None and outcome.command.response is None:  # CALLERROR, an invalid answer
            raise CommandFailed(outcome.command)
        return _answer(HTTPStatus.CONFLICT, view)
    return _answer(HTTPStatus.CREATED, view)


@router.get("/sessions/<sessionId>", summary="An app session", tags=TAGS, responses=documented(200, "The session", 404))
def get_session(session_id: SessionId, services: ServicesDependency) -> SessionView:
    session = services.app_sessions.get(session_id)
    if session is None:
        raise ResourceNotFound(f"Unknown session {session_id}")
    return _view(services, session)


@router.get(
    "/sessions",
    summary="List app sessions",
    description=(
        "An idTag's sessions (what a driver's app shows), or a charge point's, newest first; give `idTag`, "
        "`chargePointId` or both. `status` keeps only sessions in that status. Follow `nextToken` until it is null."
    ),
    tags=TAGS,
    responses=documented(200, "A page of sessions", 400),
)
def list_sessions(
    services: ServicesDependency,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId", min_length=1, max_length=255)] = None,
    id_tag: Annotated[str | None, Query(alias="idTag", min_length=1, max_length=20)] = None,
    status: Annotated[AppSessionStatus | None, Query(description="Only sessions in this status")] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
) -> SessionList:
    if charge_point_id is None and id_tag is None:
        raise InvalidValue("query", "give idTag or chargePointId (or both)")
    key_names = KIND_INDEX_PAGE_KEY if id_tag is not None else STATION_INDEX_PAGE_KEY
    sessions, next_key = services.app_sessions.list_page(
        charge_point_id=charge_point_id,
        id_tag=id_tag,
        status=status,
        limit=limit,
        start_key=decode_token(next_token, key_names),
        now=services.clock.now(),
        window=services.settings.session_start_window,
    )
    return SessionList(items=[_view(services, session) for session in sessions], next_token=encode_token(next_key))
