"""Table stream records shaped as DynamoDB Streams sends them to Lambda (NEW_AND_OLD_IMAGES)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer

_serializer = TypeSerializer()


def _image(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def stream_record(sequence: str, event_name: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None) -> dict[str, Any]:
    """A record of `event_name` (INSERT, MODIFY, REMOVE) of the item `new` (was `old`)."""
    item = new if new is not None else old
    assert item is not None
    stream: dict[str, Any] = {"SequenceNumber": sequence, "Keys": _image({"pk": item["pk"], "sk": item["sk"]})}
    if new is not None:
        stream["NewImage"] = _image(new)
    if old is not None:
        stream["OldImage"] = _image(old)
    return {"eventName": event_name, "dynamodb": stream}
