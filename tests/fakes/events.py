"""Events as a bus target receives them, and a publisher that keeps what it is given (for handler tests)."""

from __future__ import annotations

import json
from typing import Any

from csms.domain.clock import to_iso
from csms.events.catalog import Event
from csms.ocpp.frames import decimal_to_json


def as_delivered(event: Event) -> dict[str, Any]:
    """The complete EventBridge event a target receives for `event` (what the JSON Schemas describe)."""
    return {
        "version": "0",
        "id": "00000000-0000-0000-0000-000000000000",
        "detail-type": event.type.value,
        "source": event.source.value,
        "account": "123456789012",
        "time": to_iso(event.occurred_at),
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(json.dumps(event.detail, default=decimal_to_json)),
    }


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def put(self, events: list[Event]) -> None:
        self.events.extend(events)
