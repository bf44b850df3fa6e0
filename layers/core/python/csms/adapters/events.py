"""Putting events on the CSMS bus (EventBridge PutEvents), with the failed entries of a batch tried again."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import boto3

from csms.events.catalog import Event
from csms.ocpp.frames import decimal_to_json

MAX_ENTRIES_PER_REQUEST = 10  # PutEvents takes at most 10 entries
RETRY_DELAYS: tuple[float, ...] = (0.1, 0.5, 2.0)
"""Seconds before each new try of the entries EventBridge did not take (throttled or failed internally)."""


class EventsNotPut(RuntimeError):
    """EventBridge refused some entries after every retry: the caller fails, so its own retry (a stream's,
    a workflow's) puts them again, with the same eventIds."""


class EventPublisher:
    def __init__(self, session: boto3.session.Session, bus_name: str | None):
        self._session = session
        self._bus_name = bus_name

    @cached_property
    def _client(self) -> Any:
        return self._session.client("events")

    def put(self, events: Sequence[Event]) -> None:
        if not self._bus_name:
            raise RuntimeError("EVENT_BUS_NAME is not set: this function does not publish events")
        for start in range(0, len(events), MAX_ENTRIES_PER_REQUEST):
            self._put_batch([self._entry(event) for event in events[start : start + MAX_ENTRIES_PER_REQUEST]])

    def _put_batch(self, entries: list[dict[str, Any]]) -> None:
        for delay in (*RETRY_DELAYS, None):
            results = self._client.put_events(Entries=entries)["Entries"]
            entries = [entry for entry, result in zip(entries, results, strict=True) if "ErrorCode" in result]
            if not entries:
                return
            if delay is None:
                raise EventsNotPut(f"{len(entries)} events not put: {[entry['DetailType'] for entry in entries]}")
            time.sleep(delay)

    def _entry(self, event: Event) -> dict[str, Any]:
        return {
            "EventBusName": self._bus_name,
            "Source": event.source.value,
            "DetailType": event.type.value,
            "Time": event.occurred_at,
            "Detail": json.dumps(event.detail, default=decimal_to_json, separators=(",", ":")),
        }
