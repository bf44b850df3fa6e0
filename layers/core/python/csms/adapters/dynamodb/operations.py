"""Generic DynamoDB operations the repositories share."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from csms.adapters.dynamodb.schema import PARTITION_KEY, SORT_KEY, GlobalIndex

BATCH_GET_MAX_KEYS = 100


def update_if(table: Any, **request: Any) -> dict[str, Any] | None:
    """UpdateItem whose failed ConditionExpression is an expected outcome (a stale, repeated or misdirected
    write), not an error: returns None then, the response otherwise."""
    try:
        response: dict[str, Any] = table.update_item(**request)
        return response
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise


def cancellation_codes(error: ClientError) -> list[str | None]:
    """The reason code of each item of a cancelled TransactWriteItems, in request order (None: not the cause)."""
    return [
        reason.get("Code") if reason.get("Code") != "None" else None for reason in error.response.get("CancellationReasons", [])
    ]


def collect_page(
    read: Any,
    request: dict[str, Any],
    *,
    limit: int,
    start_key: dict[str, Any] | None,
    key_names: tuple[str, ...],
    max_reads: int = 20,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to `limit` items of a Scan or Query (`read`, e.g. `table.scan`) whose filter may skip most of what
    it reads: reads on until `limit` items matched, the end was reached or `max_reads` pages were read.

    Returns the items and where the next page starts (None at the end). A page cut short resumes right
    after its last item returned, so nothing is skipped or repeated.
    """
    items: list[dict[str, Any]] = []
    start = start_key
    for _ in range(max_reads):
        page = read(**request, Limit=min(max(limit * 4, 100), 1000), **({"ExclusiveStartKey": start} if start else {}))
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if len(items) > limit:
            return items[:limit], {name: items[limit - 1][name] for name in key_names}
        if len(items) == limit or start is None:
            return items, start
    return items, start


def batch_get(table: Any, keys: Sequence[dict[str, Any]], *, consistent: bool = False) -> list[dict[str, Any] | None]:
    """The items of `keys` (at most 100), in the order of `keys`; None for a key with no item. Keys DynamoDB
    leaves unprocessed (throttling) are asked for again after a short wait."""
    if not keys:
        return []
    found: dict[tuple[str, str], dict[str, Any]] = {}
    request: dict[str, Any] = {table.name: {"Keys": list(keys), "ConsistentRead": consistent}}
    for attempt in range(8):
        response = table.meta.client.batch_get_item(RequestItems=request)
        for item in response["Responses"].get(table.name, []):
            found[(item[PARTITION_KEY], item[SORT_KEY])] = item
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return [found.get((key[PARTITION_KEY], key[SORT_KEY])) for key in keys]
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError("BatchGetItem left keys unprocessed after 8 attempts")


def list_by_index(
    table: Any,
    index: GlobalIndex,
    partitions: Sequence[str],
    *,
    limit: int,
    start_key: dict[str, Any] | None,
    descending: bool = False,
    consistent: bool = False,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to `limit` items listed by a keys-only index, partition after partition in the order given (each in
    its sort key's order, or the reverse), read with BatchGetItem; `keep` filters them before the limit counts.

    Returns the items and where the next page starts: the index entry of the last item returned (so nothing is
    skipped or repeated, whatever was read past it), None at the end. A start key in none of the partitions
    (not a key this listing gave) starts nowhere: the page is empty.
    """
    if start_key is not None:
        if start_key.get(index.partition_key) not in partitions:
            return [], None
        partitions = partitions[list(partitions).index(start_key[index.partition_key]) :]
    items: list[dict[str, Any]] = []
    for partition in partitions:
        start = start_key if start_key is not None and start_key[index.partition_key] == partition else None
        while True:
            page = table.query(
                IndexName=index.name,
                KeyConditionExpression=Key(index.partition_key).eq(partition),
                ScanIndexForward=not descending,
                Limit=BATCH_GET_MAX_KEYS,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            entries = page["Items"]
            loaded = batch_get(
                table, [{PARTITION_KEY: e[PARTITION_KEY], SORT_KEY: e[SORT_KEY]} for e in entries], consistent=consistent
            )
            for entry, item in zip(entries, loaded, strict=True):
                if item is None or (keep is not None and not keep(item)):
                    continue  # deleted since the index was read, or filtered out
                items.append(item)
                if len(items) == limit:
                    return items, {
                        name: entry[name] for name in (PARTITION_KEY, SORT_KEY, index.partition_key, index.sort_key)
                    }
            start = page.get("LastEvaluatedKey")
            if start is None:
                break
    return items, None
