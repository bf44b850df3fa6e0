"""The network's counts: how many stations there are, connected, charging and faulted, counted from the indexes.

No item is written by every station's change (see gauges.py for why): the counts are read from the two sparse,
keys-only indexes the station item is already in (keys.py):

- every station: the byKind partition `STATION`, a Query with Select=COUNT;
- connected, charging, faulted: the sixteen `CONNECTED#` shards of the live index, one Query each (followed to
  the shard's end). Its ScannedCount is the connected stations; its filter (`#` in the live key) returns only the
  flagged ones, whose flags (`#CHARGING`, `#FAULTED`) are counted here.

What it costs: DynamoDB charges a Query by the size of the index entries it reads, filtered or not (0.5 read unit
per 4 KB, eventually consistent). A station's byKind entry is about 50 bytes and its live entry about 60, so one
count of a network of 10,000 connected stations reads about 480 KB + 580 KB: about 130 read units in 17 requests
(at least 17 × 0.5 for an empty network), $0.000016 at $0.125 per million read units. The operator API counts at
most once every few seconds whoever asks, and answers from the last count otherwise (`NETWORK`/`COUNTS`: one
GetItem, 0.5 read unit):

| item                 | pk        | sk       | attributes                                          |
|----------------------|-----------|----------|-----------------------------------------------------|
| the network's counts | `NETWORK` | `COUNTS` | `total`, `connected`, `charging`, `faulted`, `countedAt` |
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from csms.adapters.dynamodb.keys import (
    CHARGING_FLAG,
    FAULTED_FLAG,
    LIVE_FLAG_SEPARATOR,
    STATION_KIND,
    connected_shards,
    connected_station_flags,
    network_counts_key,
)
from csms.adapters.dynamodb.schema import KIND_INDEX, LIVE_INDEX
from csms.domain.clock import from_iso, to_iso
from csms.domain.stations import NetworkCounts


class StationCountRepository:
    def __init__(self, table: Any):
        self._table = table

    def count(self, *, at: datetime) -> NetworkCounts:
        """Count the whole network now (about 130 read units for 10,000 connected stations, see above)."""
        total = 0
        for page in self._pages(
            IndexName=KIND_INDEX.name, KeyConditionExpression=Key(KIND_INDEX.partition_key).eq(STATION_KIND), Select="COUNT"
        ):
            total += page["Count"]
        connected = charging = faulted = 0
        for shard in connected_shards():
            for page in self._pages(
                IndexName=LIVE_INDEX.name,
                KeyConditionExpression=Key(LIVE_INDEX.partition_key).eq(shard),
                FilterExpression=Attr(LIVE_INDEX.sort_key).contains(LIVE_FLAG_SEPARATOR),
                ProjectionExpression="#liveKey",
                ExpressionAttributeNames={"#liveKey": LIVE_INDEX.sort_key},
            ):
                connected += page["ScannedCount"]  # read before the filter: every connected station of the page
                for entry in page["Items"]:
                    flags = connected_station_flags(entry[LIVE_INDEX.sort_key])
                    charging += CHARGING_FLAG in flags
                    faulted += FAULTED_FLAG in flags
        return NetworkCounts(total=total, connected=connected, charging=charging, faulted=faulted, counted_at=at)

    def last(self) -> NetworkCounts | None:
        """The last count stored, if any (eventually consistent: a count is seconds old anyway)."""
        item = self._table.get_item(Key=network_counts_key()).get("Item")
        if item is None:
            return None
        return NetworkCounts(
            total=int(item["total"]),
            connected=int(item["connected"]),
            charging=int(item["charging"]),
            faulted=int(item["faulted"]),
            counted_at=from_iso(item["countedAt"]),
        )

    def store(self, counts: NetworkCounts) -> None:
        self._table.put_item(
            Item={
                **network_counts_key(),
                "total": counts.total,
                "connected": counts.connected,
                "charging": counts.charging,
                "faulted": counts.faulted,
                "countedAt": to_iso(counts.counted_at),
            }
        )

    def _pages(self, **request: Any) -> Iterator[dict[str, Any]]:
        while True:  # a Query stops at 1 MB read, a count too: follow it to the partition's end
            page = self._table.query(**request)
            yield page
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
