"""Stations: registration by the operator, and what the CSMS knows of each one."""

from __future__ import annotations

import io
from datetime import timedelta
from enum import StrEnum
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from csms.adapters.dynamodb.keys import station_key
from csms.domain.passwords import hash_password
from csms.domain.start_links import start_link
from csms.domain.stations import StationNotFound
from csms.operator.errors import InvalidValue, documented
from csms.operator.models import (
    ChargePointList,
    ChargePointRegistration,
    ChargePointSummary,
    ChargePointView,
    NetworkCountsView,
    is_iana_zone,
)
from csms.operator.pagination import DEFAULT_PAGE_SIZE, KIND_INDEX_PAGE_KEY, Limit, NextToken, decode_token, encode_token
from csms.operator.parameters import ChargePointId, ConnectorId, ServicesDependency
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

router = Router()
TAGS = ["Charge points"]

# Body field -> the Station field it sets, and how its value is kept.
_REGISTRATION_FIELDS: dict[str, tuple[str, Any]] = {
    "password": ("password_hash", lambda secret: hash_password(secret.get_secret_value())),
    "description": ("description", lambda value: value),
    "lenient": ("lenient", lambda value: value),
    "time_zone": ("time_zone", lambda value: value),
    "id_tag_suffix_separator": ("id_tag_suffix_separator", lambda value: value),
}


@router.put(
    "/charge-points/<chargePointId>",
    summary="Register a charge point, or change its registration",
    description=(
        "Fields left out keep their value, `null` clears one. Only the registration is written: the station's "
        "connection, boot information and connector statuses are left as they are. A password is stored as a "
        "salted hash only and never returned."
    ),
    tags=TAGS,
    responses=documented(
        200,
        "Registration changed",
        extra={201: {"description": "Registered", "content": {"application/json": {"model": ChargePointView}}}},
    ),
)
def register_charge_point(
    charge_point_id: ChargePointId,
    services: ServicesDependency,
    registration: Annotated[ChargePointRegistration | None, Body()] = None,
) -> ChargePointView:
    registration = registration or ChargePointRegistration()
    if registration.time_zone is not None and not is_iana_zone(registration.time_zone):
        # Like an unknown currency in a tariff (issue 9 §6): the value is well formed, the zone does not exist.
        raise InvalidValue("body.timeZone", f"unknown time zone {registration.time_zone!r}: an IANA name such as Europe/Paris")
    changes: dict[str, Any] = {}
    for name in registration.model_fields_set - {"tariff_id"}:
        field, kept = _REGISTRATION_FIELDS[name]
        value = getattr(registration, name)
        changes[field] = None if value is None else kept(value)
    created = services.stations.register(charge_point_id, changes)
    if "tariff_id" in registration.model_fields_set:
        # With the tariff's reference count, in one transaction: a tariff in use cannot be deleted.
        services.tariffs.assign(station_key(charge_point_id), registration.tariff_id)
    logger.info(
        "Charge point registered" if created else "Charge point registration changed",
        extra={"charge_point_id": charge_point_id, "fields": sorted(registration.model_fields_set)},  # names, never values
    )
    view = _view(services, charge_point_id)
    return Response(  # type: ignore[return-value]  # validated against ChargePointView all the same
        status_code=HTTPStatus.CREATED if created else HTTPStatus.OK, content_type="application/json", body=view
    )


@router.get(
    "/charge-points/<chargePointId>",
    summary="What the CSMS knows of a charge point",
    description=(
        "Registration, connection, boot information and status, each connector's status, last seen, the "
        "configuration snapshot, local list version, installed charging profiles and the latest firmware, "
        "diagnostics and log upload statuses."
    ),
    tags=TAGS,
    responses=documented(200, "The charge point", 404),
)
def get_charge_point(charge_point_id: ChargePointId, services: ServicesDependency) -> ChargePointView:
    return _view(services, charge_point_id)


@router.delete(
    "/charge-points/<chargePointId>",
    summary="Remove a charge point",
    description="Removes its registration and state, and closes its connection if it is connected. "
    "Its transactions and command history are kept.",
    tags=TAGS,
    responses=documented(204, "Removed", 404, extra={204: {"description": "Removed", "content": {}}}),
)
def delete_charge_point(charge_point_id: ChargePointId, services: ServicesDependency) -> None:
    removed = services.stations.delete(charge_point_id)
    if removed is None:
        raise StationNotFound(charge_point_id)
    services.tariffs.release(removed.tariff_id)
    # Removed first: a station that reconnects at once finds no registration.
    if removed.connection_id:
        services.connections.close(removed.connection_id)
    logger.info(
        "Charge point removed", extra={"charge_point_id": charge_point_id, "was_connected": bool(removed.connection_id)}
    )
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type=None, body="")  # type: ignore[return-value]


@router.get(
    "/charge-points",
    summary="List charge points",
    description=(
        "Pages of at most `limit` stations in no particular order; follow `nextToken` until it is null. "
        "Includes stations that connected without being registered (`registered: false`)."
    ),
    tags=TAGS,
    responses=documented(200, "A page of charge points", 400),
)
def list_charge_points(
    services: ServicesDependency, limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None
) -> ChargePointList:
    stations, next_key = services.stations.list_page(limit=limit, start_key=decode_token(next_token, KIND_INDEX_PAGE_KEY))
    return ChargePointList(
        items=[ChargePointSummary.from_station(station) for station in stations], next_token=encode_token(next_key)
    )


COUNTS_MAX_AGE = timedelta(seconds=3)
"""How old the last count may be and still be the answer. The console asks every 3 s: one console has the network
counted at each refresh, and any number of them share one count every 3 s (see station_counts.py for its cost)."""


@router.get(
    "/network/counts",
    summary="How many stations are connected, charging, faulted and offline",
    description=(
        "The whole network, however many stations it has (not a page of `GET /charge-points`): every station known, "
        "the connected ones, those of them charging or faulted, and the offline ones. Counted from indexes the "
        "station path keeps anyway, never by reading every station; a count is at most "
        f"{COUNTS_MAX_AGE.seconds} s old (`countedAt`) however many clients ask, so a station's change shows within "
        "a few seconds. A status that started or stopped charging shows as soon as the station sent it; a station "
        "whose connection dropped without a $disconnect stays connected until it reconnects."
    ),
    tags=TAGS,
    responses=documented(200, "The network's counts"),
)
def network_counts(services: ServicesDependency) -> NetworkCountsView:
    now = services.clock.now()
    counts = services.station_counts.last()
    if counts is None or not now - COUNTS_MAX_AGE < counts.counted_at <= now:  # too old, or from a clock ahead
        counts = services.station_counts.count(at=now)
        services.station_counts.store(counts)
    return NetworkCountsView.from_counts(counts)


class QrCodeFormat(StrEnum):
    SVG = "svg"
    PNG = "png"


_QR_CONTENT_TYPES = {QrCodeFormat.SVG: "image/svg+xml", QrCodeFormat.PNG: "image/png"}


@router.get(
    "/charge-points/<chargePointId>/connectors/<connectorId>/qr",
    summary="The QR code to print on a connector",
    description=(
        "Encodes the connector's start link: the driver's phone opens it and the app starts a session there "
        "(the URL comes from the deployment's `QR_URL_TEMPLATE`, the station identity percent-encoded in it). "
        "SVG by default, PNG with `format=png`; dark on an opaque white background with the standard quiet zone, "
        "error correction level M or better, so that a worn or scratched sticker still scans. Only for a registered "
        "charge point (404 otherwise); any connector number from 1, reported by the station or not yet installed."
    ),
    tags=TAGS,
    responses=documented(
        200,
        "The QR code",
        404,
        extra={
            200: {
                "description": "The QR code",
                "content": {
                    _QR_CONTENT_TYPES[QrCodeFormat.SVG]: {"schema": {"type": "string"}},
                    _QR_CONTENT_TYPES[QrCodeFormat.PNG]: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        },
    ),
)
def connector_qr_code(  # type: ignore[no-untyped-def]  # see below
    charge_point_id: ChargePointId,
    connector_id: ConnectorId,
    services: ServicesDependency,
    image_format: Annotated[QrCodeFormat, Query(alias="format", description="svg (default) or png")] = QrCodeFormat.SVG,
):
    """No return annotation: Powertools validates an annotated return as JSON and would read the PNG's bytes as
    UTF-8. Unannotated, an image response passes as it is and its bytes go out base64-encoded
    (`isBase64Encoded`), as API Gateway's payload format 2.0 wants a binary body."""
    import segno  # about 35 ms of import: paid by the first QR code, not by every cold start of the API

    station = services.stations.get(charge_point_id)
    if station is None or not station.registered:
        raise StationNotFound(charge_point_id)
    code = segno.make_qr(start_link(services.settings.qr_url_template, charge_point_id, connector_id), error="m")
    image = io.BytesIO()
    # ISO/IEC 18004 asks for a quiet zone of 4 modules; white, not transparent, whatever it is printed on.
    code.save(image, kind=image_format.value, scale=10, border=4, dark="#000", light="#fff")
    body = image.getvalue()
    return Response(
        status_code=HTTPStatus.OK,
        content_type=_QR_CONTENT_TYPES[image_format],
        body=body.decode() if image_format is QrCodeFormat.SVG else body,  # SVG is text, sent as such
    )


def _view(services: Services, charge_point_id: str) -> ChargePointView:
    station = services.stations.get(charge_point_id)
    if station is None:
        raise StationNotFound(charge_point_id)
    return ChargePointView.build(
        station,
        configuration=services.station_config.configuration(charge_point_id),
        profiles=services.station_config.profiles(charge_point_id),
    )
