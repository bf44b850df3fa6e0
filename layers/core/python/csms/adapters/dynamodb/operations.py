"""Generic DynamoDB operations the repositories share."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


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
