"""$default: one OCPP-J frame from a station; the reply travels back as the route response."""

from __future__ import annotations

import base64
from typing import Any

from csms.gateway.events import MessageEvent
from csms.runtime.wiring import Services
from csms.station.context import StationContext
from csms.station.dispatcher import handle_frame


def on_message(event: MessageEvent, services: Services) -> dict[str, Any]:
    context = event.request_context
    identity = context.authorizer
    body = event.body or ""
    if event.is_base64_encoded:
        body = base64.b64decode(body).decode(errors="replace")
    station = StationContext(
        charge_point_id=identity.charge_point_id,
        connection_id=context.connection_id,
        services=services,
        lenient=identity.lenient,
        boot_status=identity.boot_status or None,
        id_tag_suffix_separator=identity.id_tag_suffix_separator or None,
        received_at=services.clock.now(),
    )
    reply = handle_frame(body, station)
    return {"statusCode": 200, **({"body": reply} if reply is not None else {})}
