"""Network-wide levels counted from the live index: connected stations and active transactions.

No item holds a counter: one written by every connect and every start of the network would be where all
of them conflict (TransactionConflict) and throttle. Instead the writes that make an item live (a
connection, a start) put it in the live index and the writes that end it take it out (see keys.py); the
gauges function counts the index's shards once a minute (Query with Select=COUNT, which reads keys only).
A $disconnect that never arrives leaves a station counted until its next connection replaces the ghost.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from csms.adapters.dynamodb.keys import active_shards, connected_shards
from csms.adapters.dynamodb.schema import LIVE_INDEX

CONNECTED_STATIONS = "connectedStations"
ACTIVE_TRANSACTIONS = "activeTransactions"


class GaugeRepository:
    def __init__(self, table: Any):
        self._table = table

    def read(self) -> dict[str, int]:
        return {
            CONNECTED_STATIONS: self._count(connected_shards()),
            ACTIVE_TRANSACTIONS: self._count(active_shards()),
        }

    def _count(self, shards: list[str]) -> int:
        total = 0
        for shard in shards:
            request: dict[str, Any] = {
                "IndexName": LIVE_INDEX.name,
                "KeyConditionExpression": Key(LIVE_INDEX.partition_key).eq(shard),
                "Select": "COUNT",
            }
            while True:  # a count stops at 1 MB read, like any Query: follow it to the shard's end
                page = self._table.query(**request)
                total += page["Count"]
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return total
