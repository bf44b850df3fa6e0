"""The CSMS table: its key schema, defined once.

The repositories, the local runtime, the tests and the CDK stack all build the table from this
module, so a key can never differ between them. One table, generic keys (`pk`/`sk`), item kinds
told apart by key prefixes (see the repositories for each item's layout).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expiresAt"
"""Epoch seconds; DynamoDB deletes the item within about two days after it. Cleanup only, never a timer."""


@dataclass(frozen=True)
class GlobalIndex:
    name: str
    partition_key: str
    sort_key: str
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"
    """KEYS_ONLY: an update that changes no key attribute of the index does not write it."""


STATION_INDEX = GlobalIndex(name="byStation", partition_key="gsi1pk", sort_key="gsi1sk")
"""Things that belong to a station but are keyed by their own id (transactions), newest last."""

KIND_INDEX = GlobalIndex(name="byKind", partition_key="kind", sort_key="kindKey", projection="KEYS_ONLY")
"""Every item of a kind the operator lists (stations, id tags, transactions by month): the listings Query it
for keys, then read the items (BatchGetItem). Sparse: only those items carry `kind`; the writes that create
them set it, and no later write changes it, so heartbeats and claims never write this index."""

LIVE_INDEX = GlobalIndex(name="live", partition_key="liveShard", sort_key="liveKey", projection="KEYS_ONLY")
"""What is live now: connected stations (their key flagged while charging or faulted, keys.py) and active
transactions. Sparse: the attributes exist only while the item is live (set with the connection or the start,
removed by the write that ends it), spread over `LIVE_SHARDS` partitions so that no index partition takes every
connect or start of the network."""

LIVE_SHARDS = 16

GLOBAL_INDEXES: tuple[GlobalIndex, ...] = (STATION_INDEX, KIND_INDEX, LIVE_INDEX)

STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"
"""The table's stream: what follows from a change is done from it (csms.changes), old image included so that a
filter can match the very update that set an attribute (a transaction's `stoppedAt`)."""


def create_table_request(table_name: str) -> dict[str, Any]:
    """The `CreateTable` request for this schema (moto in tests and the local runtime)."""
    key_attributes = {PARTITION_KEY, SORT_KEY}
    for index in GLOBAL_INDEXES:
        key_attributes |= {index.partition_key, index.sort_key}
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in sorted(key_attributes)],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": index.projection},
            }
            for index in GLOBAL_INDEXES
        ],
    }
