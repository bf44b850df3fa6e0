"""Sites: stations sharing one grid connection, the circuits inside it, and how its capacity is shared now
(docs/load-management.md)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from csms.adapters.dynamodb.follow_ups import FollowUps, run_item
from csms.domain.allocation import allocate, charging_sessions
from csms.domain.load_control import idle_connectors, steered_sessions
from csms.domain.sites import Site, validate_site
from csms.operator.errors import ResourceNotFound, documented
from csms.operator.models import SiteDefinition, SiteList, SiteSummary, SiteView
from csms.operator.pagination import DEFAULT_PAGE_SIZE, KIND_INDEX_PAGE_KEY, Limit, NextToken, decode_token, encode_token
from csms.operator.parameters import ServicesDependency
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

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
