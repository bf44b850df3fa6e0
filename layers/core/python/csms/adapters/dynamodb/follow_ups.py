"""Follow-ups: an event to put on the bus, a workflow to start, a site's load control to run, written as items with
the change that causes them.

- event to put       `eventType`, `source`, `occurredAt`, `detail` (the event's complete detail)
- workflow to start  `workflow` (its WorkflowSpec name), `executionName`, `input`
- load control run `siteId`, `cause`, `chargePointId`?, `transactionId` and `measuredA` (IGNORED: the samples above
                   its limit); key `ALLOC#{cause}` in the site's partition, so the stream delivers a site's runs in
                   order to one invocation at a time (one writer per site), which runs the site's load control once
                   per cause (csms/energy/stream.py). Causes: `START#{tx}`, `STOP#{tx}`,
                   `STATUS#{station}#{connector}#{at}`, `SITE#{version}`, `BOOT#{station}#{at}`,
                   `CONNECT#{station}#{connectionId}`, `ANSWER#{commandId}#{status}`, `IGNORED#{tx}#{at}`,
                   `DRAW#{tx}#{at}` (a reading that changes what the session lends), `DELETED#{version}`

A change and its follow-ups go in one TransactWriteItems (or a follow-up is written once its cause is
recorded): the table's stream then puts the event or starts the workflow (csms.changes.follow_ups), retrying
until it is done, so nothing is lost if a process dies between the two, and nothing is done twice: the key
is the event's deterministic id or the execution's deterministic name, and the item is only ever created once
(a repeat of the cause finds it there). They expire after FOLLOW_UP_RETENTION (TTL: cleanup only).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from csms.adapters.dynamodb.keys import event_to_put_key, load_control_run_key, workflow_start_key
from csms.adapters.dynamodb.schema import TTL_ATTRIBUTE
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.clock import to_iso
from csms.events.catalog import Event

FOLLOW_UP_RETENTION = timedelta(days=7)  # the stream keeps records 24 h; a week to look into what happened


def event_item(subject_pk: str, event: Event, *, now: datetime) -> dict[str, Any]:
    return {
        **event_to_put_key(subject_pk, event.event_id),
        "eventType": event.type.value,
        "source": event.source.value,
        "occurredAt": to_iso(event.occurred_at),
        "detail": to_item_value(event.detail),
        TTL_ATTRIBUTE: int((now + FOLLOW_UP_RETENTION).timestamp()),
    }


def workflow_start_item(
    subject_pk: str, *, workflow: str, execution_name: str, execution_input: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        **workflow_start_key(subject_pk, execution_name),
        "workflow": workflow,
        "executionName": execution_name,
        "input": to_item_value(execution_input),
        TTL_ATTRIBUTE: int((now + FOLLOW_UP_RETENTION).timestamp()),
    }


def run_item(
    site_id: str,
    cause: str,
    *,
    now: datetime,
    charge_point_id: str | None = None,
    measured: tuple[int, tuple[Decimal, ...]] | None = None,
) -> dict[str, Any]:
    """A follow-up that runs the site's load control (put with `put_once`, or `FollowUps.put`). `measured`: the
    transaction whose station ignores its limit, and the samples that show it."""
    return {
        **load_control_run_key(site_id, cause),
        "siteId": site_id,
        "cause": cause,
        **({"chargePointId": charge_point_id} if charge_point_id else {}),
        **({"transactionId": measured[0], "measuredA": list(measured[1])} if measured else {}),
        TTL_ATTRIBUTE: int((now + FOLLOW_UP_RETENTION).timestamp()),
    }


def put_once(table_name: str, item: dict[str, Any]) -> dict[str, Any]:
    """The TransactWriteItems part that creates a follow-up item unless it exists (the cause was repeated)."""
    return {"Put": {"TableName": table_name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


class FollowUps:
    """Writes a follow-up on its own, when its cause is already recorded (a repeat of it changes nothing)."""

    def __init__(self, table: Any):
        self._table = table

    def put(self, item: dict[str, Any]) -> bool:
        """True if it was new."""
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
