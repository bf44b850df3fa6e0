"""A station talking to the $default dispatcher in process, for handler tests."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

from csms.station.context import StationContext
from csms.station.dispatcher import handle_frame
from tests.fakes.clock import EPOCH

NOW = EPOCH
"""The services' clock starts here: timestamps the tests write are relative to it."""


class Station:
    """Sends frames through the dispatcher the way the $default function does, and reads the replies."""

    def __init__(self, services, charge_point_id: str = "CP1", *, connection_id: str | None = None, **context: Any):
        self.services = services
        self.charge_point_id = charge_point_id
        self.context = {"boot_status": "Accepted"} | context
        self._ids = itertools.count(1)
        self.connection_id = connection_id or f"conn-{uuid.uuid4().hex[:12]}"  # by default a new connection

    def send_raw(self, text: str) -> list | None:
        ctx = StationContext(
            charge_point_id=self.charge_point_id,
            connection_id=self.connection_id,
            services=self.services,
            received_at=self.services.clock.now(),
            **self.context,
        )
        reply = handle_frame(text, ctx)
        return json.loads(reply) if reply is not None else None

    def call(self, action: str, payload: dict[str, Any]) -> list:
        message_id = f"m{next(self._ids)}"
        reply = self.send_raw(json.dumps([2, message_id, action, payload]))
        assert reply[1] == message_id
        return reply

    def result(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        reply = self.call(action, payload)
        assert reply[0] == 3, f"expected a CALLRESULT, got {reply}"
        return reply[2]

    def error_code(self, action: str, payload: dict[str, Any]) -> str:
        reply = self.call(action, payload)
        assert reply[0] == 4, f"expected a CALLERROR, got {reply}"
        return reply[2]
