"""The table's stream consumer: a transaction that gained `stoppedAt` starts its BillingHandOff execution; an
unmatched stop's insert becomes an `UnmatchedStop` event. Only those records reach it (the event source
mapping's filter criteria, `FILTER_PATTERNS`: the same patterns the local runtime applies). Each record
succeeds or is reported in `batchItemFailures`, so only failed ones are retried (see service.py for why a
stream).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from csms.adapters.dynamodb.transactions import transaction_from_item
from csms.billing.service import execution_name, unmatched_stop_event
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

FILTER_PATTERNS: tuple[dict[str, Any], ...] = (
    # A transaction's stop: the update that set stoppedAt (no earlier image had it).
    {
        "eventName": ["MODIFY"],
        "dynamodb": {
            "Keys": {"sk": {"S": ["TRANSACTION"]}, "pk": {"S": [{"prefix": "TX#"}]}},
            "NewImage": {"stoppedAt": {"S": [{"exists": True}]}},
            "OldImage": {"stoppedAt": {"S": [{"exists": False}]}},
        },
    },
    # A StopTransaction for a transaction the CSMS does not know (keys.unmatched_stop_key).
    {
        "eventName": ["INSERT"],
        "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "CP#"}]}, "sk": {"S": [{"prefix": "STOP#"}]}}},
    },
)

_deserializer = TypeDeserializer()


def _image(image: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in image.items()}


def handle_table_changes(event: dict[str, Any], services: Services) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            _handle(record, services)
        except Exception:
            logger.exception("Table change not handled: retried", extra={"sequence": record["dynamodb"].get("SequenceNumber")})
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}


def _handle(record: dict[str, Any], services: Services) -> None:
    item = _image(record["dynamodb"]["NewImage"])
    if item["sk"].startswith("STOP#"):
        services.events.put(
            [unmatched_stop_event(item["chargePointId"], int(item["transactionId"]), _plain(item["stop"]))]
        )
        return
    transaction = transaction_from_item(item)
    client = services.billing_hand_off
    # Started before (a retried batch): the execution named after the transaction runs once.
    with contextlib.suppress(client.exceptions.ExecutionAlreadyExists):
        client.start_execution(
            stateMachineArn=services.settings.billing_hand_off_state_machine_arn,
            name=execution_name(transaction),
            input=json.dumps({"transactionId": transaction.transaction_id, "chargePointId": transaction.charge_point_id}),
        )
    logger.info("Billing hand-off started", extra={"transaction_id": transaction.transaction_id})


def _plain(value: Any) -> Any:
    from csms.adapters.dynamodb.values import plain_json

    return plain_json(value)
