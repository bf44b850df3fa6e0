"""Sites: stations sharing one grid connection, the circuits inside it, and how its capacity is shared now
(docs/load-management.md)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any, Self

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import Field, PlainSerializer, WithJsonSchema

from csms.adapters.dynamodb.follow_ups import FollowUps, run_item
from csms.domain import station_identity
from csms.domain.allocation import Bound, ConnectorAllocation, SiteAllocation, allocate, charging_sessions
from csms.domain.load_control import idle_connectors, steered_sessions
from csms.domain.measured_current import MIN_CHARGING_CURRENT_A
from csms.domain.sites import DEFAULT_SAFE_CURRENT_A, Circuit, ConnectorSetting, Phases, Site, validate_site
from csms.ocpp.frames import decimal_to_json
from csms.operator.errors import ResourceNotFound, documented
from csms.operator.models import ApiModel, NextPageToken, Timestamp
from csms.operator.pagination import DEFAULT_PAGE_SIZE, KIND_INDEX_PAGE_KEY, Limit, NextToken, decode_token, encode_token
from csms.operator.parameters import ServicesDependency
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

MAX_SITE_STATIONS = 500
MAX_CURRENT_A = 10_000


_TENTH = Decimal("0.1")
_AS_NUMBER = PlainSerializer(decimal_to_json, when_used="json")  # never a string
ChargingCurrent = Annotated[
    Decimal,
    Field(ge=MIN_CHARGING_CURRENT_A, le=MAX_CURRENT_A, multiple_of=_TENTH),
    _AS_NUMBER,
    WithJsonSchema({"type": "number", "minimum": 6, "maximum": MAX_CURRENT_A, "multipleOf": 0.1, "description": "A per phase"}),
]
"""A limit that must carry at least one session (6 A), with at most one decimal (OCPP 1.6 §7.7)."""
SafeCurrent = Annotated[
    Decimal,
    Field(ge=0, le=MAX_CURRENT_A, multiple_of=_TENTH),
    _AS_NUMBER,
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": MAX_CURRENT_A, "multipleOf": 0.1, "description": "A per phase"}),
]
Amperes = Annotated[Decimal, _AS_NUMBER, WithJsonSchema({"type": "number", "description": "A per phase"})]
Volts = Annotated[
    Decimal,
    Field(gt=0, le=1000),
    _AS_NUMBER,
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 1000, "description": "V, phase-to-neutral"}),
]
StationIdentity = Annotated[str, Field(pattern=station_identity.PATTERN)]


class CircuitDefinition(ApiModel):
    circuit_id: str = Field(min_length=1, max_length=36, pattern=r"^[\x21-\x7e]+$")
    max_current_a: ChargingCurrent = Field(description="The circuit's limit per phase; the site's applies too")
    charge_points: list[StationIdentity] = Field(max_length=MAX_SITE_STATIONS, description="Its stations, all among the site's")


class ConnectorDefinition(ApiModel):
    charge_point_id: StationIdentity
    connector_id: int = Field(
        strict=True, ge=0, le=2**31 - 1, description="0: the station as a whole (its maximum over all its connectors)"
    )
    max_current_a: ChargingCurrent | None = Field(None, description="The most it may draw, per phase")
    phases: Phases | None = Field(
        None, description="1: a single-phase socket or car on a three-phase site (on connector 0: the station's default)"
    )


class SiteDefinition(ApiModel):
    """PUT body: the whole definition, replacing the previous one."""

    name: str = Field(min_length=1, max_length=200)
    max_current_a: ChargingCurrent = Field(description="The grid connection's limit per phase (its main fuse)")
    phases: Phases
    voltage_v: Volts
    charge_points: list[StationIdentity] = Field(
        max_length=MAX_SITE_STATIONS, description="The site's stations (registered ones; a station belongs to one site)"
    )
    circuits: list[CircuitDefinition] = Field(default_factory=list, max_length=100)
    connectors: list[ConnectorDefinition] = Field(
        default_factory=list, max_length=4 * MAX_SITE_STATIONS, description="Per-connector settings, where they differ"
    )
    safe_current_a: SafeCurrent = Field(
        DEFAULT_SAFE_CURRENT_A,
        description="What a session may draw until the CSMS's allocation reaches its station: 0 or 6 A up to maxCurrentA",
    )

    def to_site(self, site_id: str) -> Site:
        return Site(
            site_id=site_id,
            name=self.name,
            max_current_a=self.max_current_a,
            phases=self.phases,
            voltage_v=self.voltage_v,
            safe_current_a=self.safe_current_a,
            charge_point_ids=tuple(self.charge_points),
            circuits=tuple(
                Circuit(circuit_id=c.circuit_id, max_current_a=c.max_current_a, charge_point_ids=tuple(c.charge_points))
                for c in self.circuits
            ),
            connectors=tuple(
                ConnectorSetting(
                    charge_point_id=c.charge_point_id, connector_id=c.connector_id, max_current_a=c.max_current_a, phases=c.phases
                )
                for c in self.connectors
            ),
        )


class SiteSummary(ApiModel):
    site_id: str
    name: str
    max_current_a: Amperes
    phases: int
    voltage_v: Volts
    safe_current_a: Amperes
    charge_points: list[str]
    circuits: list[CircuitDefinition]
    connectors: list[ConnectorDefinition]
    version: int = Field(description="One more with each PUT")
    updated_at: Timestamp | None = None

    @classmethod
    def site_fields(cls, site: Site) -> dict[str, Any]:
        return {
            "site_id": site.site_id,
            "name": site.name,
            "max_current_a": site.max_current_a,
            "phases": site.phases,
            "voltage_v": site.voltage_v,
            "safe_current_a": site.safe_current_a,
            "charge_points": list(site.charge_point_ids),
            "circuits": [
                CircuitDefinition(circuit_id=c.circuit_id, max_current_a=c.max_current_a, charge_points=list(c.charge_point_ids))
                for c in site.circuits
            ],
            "connectors": [
                ConnectorDefinition(
                    charge_point_id=c.charge_point_id, connector_id=c.connector_id, max_current_a=c.max_current_a, phases=c.phases
                )
                for c in site.connectors
            ],
            "version": site.version,
            "updated_at": site.updated_at,
        }

    @classmethod
    def from_site(cls, site: Site) -> Self:
        return cls(**cls.site_fields(site))


class ConnectorAllocationView(ApiModel):
    charge_point_id: str
    connector_id: int
    transaction_id: int
    priority: int
    allocated_current_a: Amperes = Field(description="A per phase: 0 (paused) or at least 6")
    measured_current_a: Amperes | None = Field(None, description="The current it last measured (Current.Import), A per phase")
    paused: bool
    phases: int = Field(description="The phases it draws on")
    limited_by: Bound = Field(
        description="What holds it where it is (for a paused session: which limit had no room for its 6 A): its "
        "connector's maximum, its own measured use (the rest is lent), its station's, circuit's or site's limit, or "
        "`ignored` (its station draws more than allocated) or `unreachable` (its station is not connected: what it may "
        "draw counts as used until it is back)"
    )
    circuit_id: str | None = Field(None, description="The circuit, when limitedBy is circuit")

    @classmethod
    def from_allocation(cls, allocation: ConnectorAllocation, *, measured_a: Decimal | None = None) -> ConnectorAllocationView:
        return cls(
            measured_current_a=measured_a,
            charge_point_id=allocation.charge_point_id,
            connector_id=allocation.connector_id,
            transaction_id=allocation.transaction_id,
            priority=allocation.priority,
            allocated_current_a=allocation.current_a,
            paused=allocation.paused,
            phases=allocation.phases,
            limited_by=allocation.bound,
            circuit_id=allocation.circuit_id,
        )


class SiteView(SiteSummary):
    allocations: list[ConnectorAllocationView] = Field(description="Each session in progress at the site's stations")

    @classmethod
    def build(cls, site: Site, allocation: SiteAllocation, *, measured: Mapping[int, Decimal] | None = None) -> SiteView:
        """`measured`: each session's last measured current, by transaction id."""
        return cls(
            **cls.site_fields(site),
            allocations=[
                ConnectorAllocationView.from_allocation(a, measured_a=(measured or {}).get(a.transaction_id))
                for a in allocation.allocations
            ],
        )


class SiteList(ApiModel):
    items: list[SiteSummary]
    next_token: NextPageToken = None


router = Router()
TAGS = ["Sites"]

SiteId = Annotated[
    str,
    Path(
        alias="siteId", min_length=1, max_length=36, pattern=r"^[A-Za-z0-9._~-]+$", description="Letters, digits, . _ ~ -"
    ),
]


@router.put(
    "/sites/<siteId>",
    summary="Define a site, or replace its definition",
    description=(
        "The stations that share one grid connection (`maxCurrentA` per phase), the circuits inside it (each limit "
        "applies within the site's) and per-connector settings (`connectorId` 0: the station as a whole). A station "
        "belongs to at most one site and one of its circuits (409 otherwise) and must be registered (404 naming it). "
        "The whole definition is replaced; the answer shows how the site's capacity is shared now."
    ),
    tags=TAGS,
    responses=documented(
        200,
        "Replaced",
        400,
        404,
        409,
        extra={201: {"description": "Created", "content": {"application/json": {"model": SiteView}}}},
    ),
)
def put_site(site_id: SiteId, services: ServicesDependency, definition: Annotated[SiteDefinition, Body()]) -> SiteView:
    site = definition.to_site(site_id)
    validate_site(site)
    stored, created = services.sites.put(site, now=services.clock.now())
    _run_load_control(services, site_id, f"SITE#{stored.version}")
    logger.info(
        "Site defined" if created else "Site replaced",
        extra={"site_id": site_id, "version": stored.version, "stations": len(stored.charge_point_ids)},
    )
    return Response(  # type: ignore[return-value]
        status_code=HTTPStatus.CREATED if created else HTTPStatus.OK,
        content_type="application/json",
        body=_view(services, stored).model_dump(mode="json", by_alias=True),
    )


@router.get(
    "/sites/<siteId>",
    summary="A site, and how its capacity is shared now",
    description=(
        "Its definition, and each session in progress at its stations: its priority, the current it is allocated "
        "(0: paused) and what limits it."
    ),
    tags=TAGS,
    responses=documented(200, "The site", 404),
)
def get_site(site_id: SiteId, services: ServicesDependency) -> SiteView:
    site = services.sites.get(site_id)
    if site is None:
        raise ResourceNotFound(f"Unknown site {site_id}")
    return _view(services, site)


@router.get(
    "/sites",
    summary="List sites",
    description="Pages of at most `limit` sites in id order (their definitions); follow `nextToken` until it is null.",
    tags=TAGS,
    responses=documented(200, "A page of sites", 400),
)
def list_sites(services: ServicesDependency, limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None) -> SiteList:
    sites, next_key = services.sites.list_page(limit=limit, start_key=decode_token(next_token, KIND_INDEX_PAGE_KEY))
    return SiteList(items=[SiteSummary.from_site(site) for site in sites], next_token=encode_token(next_key))


@router.delete(
    "/sites/<siteId>",
    summary="Remove a site",
    description="Its stations leave it (and may join another site); their sessions are no longer shared out.",
    tags=TAGS,
    responses=documented(204, "Removed", 404, 409, extra={204: {"description": "Removed", "content": {}}}),
)
def delete_site(site_id: SiteId, services: ServicesDependency) -> None:
    removed = services.sites.delete(site_id, now=services.clock.now())
    if removed is None:
        raise ResourceNotFound(f"Unknown site {site_id}")
    _run_load_control(services, site_id, f"DELETED#{removed.version}")
    logger.info("Site removed", extra={"site_id": site_id})
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type=None, body="")  # type: ignore[return-value]


def _run_load_control(services: Services, site_id: str, cause: str) -> None:
    """The site's stations get profiles for the new definition (from the stream: csms/energy/control.py)."""
    FollowUps(services.table).put(run_item(site_id, cause, now=services.clock.now()))


def _view(services: Services, site: Site) -> SiteView:
    """The site with the allocation its sessions get now, computed from the sessions its stations' items point at
    (one BatchGetItem per 100 stations) as its load control sees them (stations flagged or not connected count as
    used, sessions drawing little lend), with each session's last measured current (its transaction's, one BatchGetItem per 100
    sessions)."""
    stations = services.stations.get_many(site.charge_point_ids)
    stored = services.load_control.get(site.site_id)
    controls = {control.key: control for control in stored.controls}
    known = {station.charge_point_id: station for station in stored.stations}
    transactions = services.transactions.get_many([session.transaction_id for session in charging_sessions(site, stations)])
    drawn = {transaction_id: transaction.samples_under_limit_a for transaction_id, transaction in transactions.items()}
    sessions = steered_sessions(site, stations, controls, drawn, known)
    measured = {
        transaction_id: transaction.measured_current_a
        for transaction_id, transaction in transactions.items()
        if transaction.measured_current_a is not None
    }
    return SiteView.build(site, allocate(site, sessions, idle_connectors(site, stations, known)), measured=measured)
