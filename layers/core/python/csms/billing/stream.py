"""What the table's stream does for billing (csms.changes): a transaction that gained `stoppedAt` starts its
BillingHandOff execution; an unmatched stop's insert becomes an `UnmatchedStop` event. Kept light: the pricing
engine loads only in the workflow's tasks, not at the stream function's cold start."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from csms.adapters.dynamodb.keys import STATION_PREFIX, TRANSACTION_PREFIX, TRANSACTION_SK, UNMATCHED_STOP_PREFIX
from csms.adapters.dynamodb.schema import PARTITION_KEY, SORT_KEY
from csms.adapters.dynamodb.transactions import transaction_from_item
from csms.changes.stream import Change, Reaction
from csms.domain.clock import from_iso, to_iso
from csms.domain.transactions import Transaction
from csms.events.catalog import Event, EventType, event_id
from csms.ocpp.frames import plain_json
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

TRANSACTION_STOPPED: dict[str, Any] = {
    # The update that set stoppedAt (no earlier image had it).
    "eventName": ["MODIFY"],
    "dynamodb": {
        "Keys": {SORT_KEY: {"S": [TRANSACTION_SK]}, PARTITION_KEY: {"S": [{"prefix": TRANSACTION_PREFIX}]}},
        "NewImage": {"stoppedAt": {"S": [{"exists": True}]}},
        "OldImage": {"stoppedAt": {"S": [{"exists": False}]}},
    },
}
"""Other reactions to a transaction's stop use this very pattern (one filter of the stream's few)."""

UNMATCHED_STOP_INSERTED: dict[str, Any] = {
    # A StopTransaction for a transaction the CSMS does not know (keys.unmatched_stop_key).
    "eventName": ["INSERT"],
    "dynamodb": {
        "Keys": {
            PARTITION_KEY: {"S": [{"prefix": STATION_PREFIX}]},
            SORT_KEY: {"S": [{"prefix": UNMATCHED_STOP_PREFIX}]},
        }
    },
}


def start_billing_hand_off(change: Change, services: Services) -> None:
    transaction = transaction_from_item(dict(change.item))
    client = services.step_functions
    # Started before (a retried batch): the execution named after the transaction runs once.
    with contextlib.suppress(client.exceptions.ExecutionAlreadyExists):
        client.start_execution(
            stateMachineArn=services.settings.billing_hand_off_state_machine_arn,
            name=execution_name(transaction),
            input=json.dumps({"transactionId": transaction.transaction_id, "chargePointId": transaction.charge_point_id}),
        )
    logger.info("Billing hand-off started", extra={"transaction_id": transaction.transaction_id})


def put_unmatched_stop(change: Change, services: Services) -> None:
    item = change.item
    services.events.put([unmatched_stop_event(item["chargePointId"], int(item["transactionId"]), plain_json(item["stop"]))])


def execution_name(transaction: Transaction) -> str:
    """`BillingHandOff` execution of a transaction (at most 80 of [A-Za-z0-9-_]): transaction ids wrap around,
    so the instant the CSMS accepted its start is part of the name."""
    created = transaction.created_at or transaction.start.started_at
    return f"tx-{transaction.transaction_id}-{re.sub(r'[^0-9]', '', to_iso(created))}"


def unmatched_stop_event(charge_point_id: str, transaction_id: int, stop: dict[str, Any]) -> Event:
    return Event(
        type=EventType.UNMATCHED_STOP,
        event_id=event_id(EventType.UNMATCHED_STOP, charge_point_id, transaction_id, stop.get("timestamp")),
        occurred_at=from_iso(stop.get("receivedAt") or stop["timestamp"]),
        fields={"chargePointId": charge_point_id, "transactionId": transaction_id, "stop": stop},
    )


REACTIONS: tuple[Reaction, ...] = (
    Reaction("billing hand-off", (TRANSACTION_STOPPED,), start_billing_hand_off),
    Reaction("unmatched stop", (UNMATCHED_STOP_INSERTED,), put_unmatched_stop),
)
