"""$connect and $disconnect: the station's current connection, kept on its station item."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from csms.adapters.dynamodb.follow_ups import FollowUps, run_item
from csms.domain import registration
from csms.gateway.events import ConnectEvent, DisconnectEvent, header, http_response
from csms.runtime.observability import logger, metrics
from csms.runtime.wiring import Services

OCPP16 = "ocpp1.6"


def negotiate_subprotocol(offered_header: str | None, *, allow_missing: bool) -> tuple[bool, str | None]:
    """(accept, subprotocol to answer). Stations send lists such as "ocpp1.5, ocpp1.6"; some send none."""
    offered = [item.strip() for item in (offered_header or "").split(",") if item.strip()]
    if OCPP16 in offered:
        return True, OCPP16
    return (not offered and allow_missing), None


def open_connection(event: ConnectEvent, services: Services) -> dict[str, Any]:
    context = event.request_context
    charge_point_id = context.authorizer.charge_point_id
    accept, subprotocol = negotiate_subprotocol(
        header(event.headers, "Sec-WebSocket-Protocol"), allow_missing=services.settings.allow_missing_subprotocol
    )
    if not accept:
        logger.info(
            "Refused a connection that does not speak OCPP 1.6",
            extra={"charge_point_id": charge_point_id, "offered": header(event.headers, "Sec-WebSocket-Protocol")},
        )
        metrics.add_metric(name="RefusedSubprotocols", unit=MetricUnit.Count, value=1)
        return http_response(400)
    connection = services.stations.record_connection(
        charge_point_id,
        context.connection_id,
        connected_at=services.clock.now(),
        source_ip=context.identity.source_ip,
    )
    previous = connection.previous
    if previous:
        # The newest connection wins: a station that lost power leaves a ghost socket behind.
        try:
            services.connections.close(previous)
        except Exception:  # best effort: the ghost may be unreachable, the new connection still stands
            logger.exception("Could not close the previous connection", extra={"charge_point_id": charge_point_id})
        metrics.add_metric(name="ReplacedConnections", unit=MetricUnit.Count, value=1)
    if services.stations.current_connection(charge_point_id) != context.connection_id:
        # Two connections of one station opened at the same moment: the other one recorded itself after this one
        # and could not close it, since this one was not open yet. Refused now, it never opens.
        logger.info(
            "Connection superseded while it opened",
            extra={"charge_point_id": charge_point_id, "connection_id": context.connection_id},
        )
        metrics.add_metric(name="SupersededConnections", unit=MetricUnit.Count, value=1)
        return http_response(409)
    if connection.site_id and registration.may_send_requests(connection.boot_status):
        # Back after a disconnection: while away its sessions counted at what they may draw and got no profile; its
        # site's load control sends it what it missed (from the stream: the $connect answers at once). Once per
        # connection: the run's key names it.
        cause = f"CONNECT#{charge_point_id}#{context.connection_id}"
        run = run_item(connection.site_id, cause, now=services.clock.now(), charge_point_id=charge_point_id)
        FollowUps(services.table).put(run)
    metrics.add_metric(name="StationConnections", unit=MetricUnit.Count, value=1)
    logger.info(
        "Station connected",
        extra={"charge_point_id": charge_point_id, "connection_id": context.connection_id, "replaced": previous},
    )
    return http_response(200, {"Sec-WebSocket-Protocol": subprotocol} if subprotocol else None)


def close_connection(event: DisconnectEvent, services: Services) -> dict[str, Any]:
    context = event.request_context
    charge_point_id = context.authorizer.charge_point_id
    forgotten = services.stations.forget_connection(charge_point_id, context.connection_id, disconnected_at=services.clock.now())
    metrics.add_metric(name="StationDisconnections", unit=MetricUnit.Count, value=1)
    logger.info(
        "Station disconnected",
        extra={
            "charge_point_id": charge_point_id,
            "connection_id": context.connection_id,
            "status_code": context.disconnect_status_code,
            "was_current": forgotten,
        },
    )
    return http_response(200)
