"""Opaque page tokens: where a listing resumes (a DynamoDB key), base64url-encoded JSON.

A token is only ever read back as a key with exactly the attributes the listing uses, all strings,
so a made-up or foreign token is refused (400) rather than handed to DynamoDB.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from csms.adapters.dynamodb.schema import KIND_INDEX, LIVE_INDEX, PARTITION_KEY, SORT_KEY, STATION_INDEX

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")]
NextToken = Annotated[str | None, Query(alias="nextToken", max_length=2048, description="nextToken of the previous page")]

# The key attributes a listing resumes from: the table's key and the key of the index it Queries.
TABLE_PAGE_KEY = (PARTITION_KEY, SORT_KEY)
STATION_INDEX_PAGE_KEY = (PARTITION_KEY, SORT_KEY, STATION_INDEX.partition_key, STATION_INDEX.sort_key)
KIND_INDEX_PAGE_KEY = (PARTITION_KEY, SORT_KEY, KIND_INDEX.partition_key, KIND_INDEX.sort_key)
LIVE_INDEX_PAGE_KEY = (PARTITION_KEY, SORT_KEY, LIVE_INDEX.partition_key, LIVE_INDEX.sort_key)


class InvalidPageToken(ValueError):
    pass


def encode_token(key: dict[str, Any] | None) -> str | None:
    if key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str | None, key_names: tuple[str, ...]) -> dict[str, str] | None:
    if token is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidPageToken("nextToken is not a token this listing gave") from None
    if (
        not isinstance(key, dict)
        or set(key) != set(key_names)
        or not all(isinstance(value, str) and value for value in key.values())
    ):
        raise InvalidPageToken("nextToken is not a token this listing gave")
    return key
