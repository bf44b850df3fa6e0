"""The CSMS event bus on this machine: created in moto, and every event put on it appended to a JSON Lines file.

Each line is the complete EventBridge event a partner's target receives (`version`, `id`, `detail-type`,
`source`, `account`, `time`, `region`, `resources`, `detail`), one line per event put: whoever puts it (a
function through the SDK, or a workflow's `events:putEvents` service integration, which moto's interpreter
sends through the SDK too), it goes through moto's `EventsBackend.put_events`, which is wrapped here while the
runtime runs. `CSMS_EVENTS_FILE`, default `.csms/events.jsonl`.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto.events.models import EventsBackend

from local.aws import REGION

DEFAULT_EVENTS_FILE = Path(".csms/events.jsonl")


def _event_time(value: Any) -> str:
    """EventBridge's `time`: UTC to the second, Z suffix (PutEvents' `Time`, or now when the entry had none)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str) and value:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        moment = datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalEventBus:
    def __init__(self, name: str, events_file: Path) -> None:
        self.name = name
        self.events_file = events_file
        self._lock = threading.Lock()

    @contextmanager
    def running(self) -> Iterator[None]:
        """Create the bus (inside emulated AWS) and record what is put on it until the context ends."""
        boto3.client("events", region_name=REGION).create_event_bus(Name=self.name)
        self.events_file.parent.mkdir(parents=True, exist_ok=True)
        original = EventsBackend.put_events
        bus = self

        @functools.wraps(original)
        def put_events(backend: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
            results = original(backend, events)
            bus._record(backend, events, results)
            return results

        EventsBackend.put_events = put_events  # type: ignore[method-assign]
        try:
            yield
        finally:
            EventsBackend.put_events = original  # type: ignore[method-assign]

    def _record(self, backend: EventsBackend, entries: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
        lines = []
        for entry, result in zip(entries, results, strict=True):
            bus_name = (entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
            if "EventId" not in result or bus_name != self.name:
                continue
            event = {
                "version": "0",
                "id": result["EventId"],
                "detail-type": entry["DetailType"],
                "source": entry["Source"],
                "account": backend.account_id,
                "time": _event_time(entry.get("Time")),
                "region": backend.region_name,
                "resources": entry.get("Resources", []),
                "detail": json.loads(entry["Detail"]),
            }
            lines.append(json.dumps(event, separators=(",", ":")) + "\n")
        if lines:
            with self._lock, self.events_file.open("a", encoding="utf-8") as file:
                file.writelines(lines)
