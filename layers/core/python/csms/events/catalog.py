"""The event types, their sources and schema versions: one source of truth for publishers, the local
runtime, the tests and the partner guide."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
_EVENT_IDS = uuid.UUID("6f1c9a52-1f39-4bb5-9a40-4b8e2f0c7d11")
"""Namespace of the deterministic event ids (UUID v5 of the event's cause)."""


class EventType(StrEnum):
    """The `detail-type` of each event."""

    UNMATCHED_STOP = "UnmatchedStop"
    CDR_ISSUED = "CdrIssued"
    RESERVATION_CONFIRMED = "ReservationConfirmed"
    RESERVATION_REFUSED = "ReservationRefused"
    RESERVATION_CONSUMED = "ReservationConsumed"
    RESERVATION_EXPIRED = "ReservationExpired"
    RESERVATION_CANCELLED = "ReservationCancelled"
    SESSION_LIMIT_REACHED = "SessionLimitReached"
    SESSION_LIMIT_STOP_FAILED = "SessionLimitStopFailed"
    SESSION_STARTED = "SessionStarted"
    THRESHOLD_REACHED = "ThresholdReached"
    SESSION_ENDED = "SessionEnded"
    ALLOCATION_CHANGED = "AllocationChanged"
    ALLOCATION_IGNORED = "AllocationIgnored"


class Source(StrEnum):
    BILLING = "csms.billing"
    SESSIONS = "csms.sessions"
    RESERVATIONS = "csms.reservations"
    ENERGY = "csms.energy"
    """Load management (the operator's: partner rules never match it)."""


@dataclass(frozen=True)
class EventKind:
    source: Source
    schema_version: str


EVENT_KINDS: Mapping[EventType, EventKind] = MappingProxyType(
    {
        EventType.UNMATCHED_STOP: EventKind(Source.BILLING, "1.0"),
        EventType.CDR_ISSUED: EventKind(Source.BILLING, "1.0"),
        EventType.RESERVATION_CONFIRMED: EventKind(Source.RESERVATIONS, "1.0"),
        EventType.RESERVATION_REFUSED: EventKind(Source.RESERVATIONS, "1.0"),
        EventType.RESERVATION_CONSUMED: EventKind(Source.RESERVATIONS, "1.0"),
        EventType.RESERVATION_EXPIRED: EventKind(Source.RESERVATIONS, "1.0"),
        EventType.RESERVATION_CANCELLED: EventKind(Source.RESERVATIONS, "1.0"),
        EventType.SESSION_LIMIT_REACHED: EventKind(Source.SESSIONS, "1.0"),
        EventType.SESSION_LIMIT_STOP_FAILED: EventKind(Source.SESSIONS, "1.0"),
        EventType.SESSION_STARTED: EventKind(Source.SESSIONS, "1.0"),
        EventType.THRESHOLD_REACHED: EventKind(Source.SESSIONS, "1.0"),
        EventType.SESSION_ENDED: EventKind(Source.SESSIONS, "1.0"),
        EventType.ALLOCATION_CHANGED: EventKind(Source.ENERGY, "1.1"),
        EventType.ALLOCATION_IGNORED: EventKind(Source.ENERGY, "1.1"),
    }
)


@dataclass(frozen=True, kw_only=True)
class Event:
    """One event to put: its type, when it happened, and the `detail` fields of its own."""

    type: EventType
    event_id: str
    occurred_at: datetime
    fields: Mapping[str, Any]

    @property
    def source(self) -> Source:
        return EVENT_KINDS[self.type].source

    @property
    def detail(self) -> dict[str, Any]:
        return {"eventId": self.event_id, "schemaVersion": EVENT_KINDS[self.type].schema_version, **self.fields}


def event_id(event_type: EventType, *cause: object) -> str:
    """The same cause gives the same id, whoever computes it and however often: partners deduplicate on it."""
    return str(uuid.uuid5(_EVENT_IDS, "|".join([event_type.value, *map(str, cause)])))


@cache
def schema(event_type: EventType) -> dict[str, Any]:
    """The JSON Schema (Draft 4) of the complete EventBridge event of this type."""
    loaded: dict[str, Any] = json.loads((SCHEMAS_DIR / f"{event_type.value}.json").read_text())
    return loaded
