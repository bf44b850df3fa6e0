"""The table's stream consumer: each record goes to the reactions whose filter pattern it matches.

A reaction is what some part of the CSMS does when an item changes in a certain way (a transaction gained
`stoppedAt`: start its billing hand-off). Its patterns are Lambda filter criteria: together (`FILTER_PATTERNS`)
they are the event source mapping's filter on AWS and the local stream's filter, so records nobody reacts to
(every meter value) never invoke the function; the same patterns route the records that do arrive
(patterns.py). Each record succeeds or is reported in `batchItemFailures`, so only failed ones are retried:
every reaction must be safe to repeat (deterministic execution names, deterministic event ids).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from csms.changes.patterns import matches
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class Change:
    """One stream record, its images as Python values (DynamoDB numbers as Decimal)."""

    event_name: str
    """INSERT, MODIFY or REMOVE."""
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Change:
        stream = record["dynamodb"]
        return cls(record["eventName"], _image(stream.get("OldImage")), _image(stream.get("NewImage")))

    @property
    def item(self) -> Mapping[str, Any]:
        """The item as it is now (as it was, for a removal)."""
        image = self.new if self.new is not None else self.old
        assert image is not None, "a stream record has at least one image"
        return image


@dataclass(frozen=True)
class Reaction:
    name: str
    patterns: tuple[dict[str, Any], ...]
    """Lambda filter patterns of the records it handles (the whole record: eventName, dynamodb.Keys, images)."""
    handle: Callable[[Change, Services], None]

    def applies_to(self, record: Mapping[str, Any]) -> bool:
        return any(matches(pattern, record) for pattern in self.patterns)


def _image(image: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {name: _deserializer.deserialize(value) for name, value in image.items()}


def handle_records(event: Mapping[str, Any], services: Services, reactions: tuple[Reaction, ...]) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            change = Change.from_record(record)
            for reaction in reactions:
                if reaction.applies_to(record):
                    reaction.handle(change, services)
        except Exception:
            logger.exception("Table change not handled: retried", extra={"sequence": record["dynamodb"].get("SequenceNumber")})
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}
