"""Delivering driver events to their webhooks: the `notifications` function's work on one SQS batch.

Each message is the EventBridge event as the rule delivered it. Its `detail.idTag` names the driver; a tag
with no webhook (or no tag) means nobody to tell: done. Otherwise the detail is POSTed (the exact bytes signed)
and a 2xx ends its delivery. Anything else fails only that message (`batchItemFailures`) after setting how long
it stays invisible: the backoff of its attempt (`ApproximateReceiveCount`). After MAX_ATTEMPTS receives the
queue moves it to its dead-letter queue, which is alarmed. Drivers deduplicate on `detail.eventId`: delivery is
at least once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from csms.adapters.webhooks import PostOutcome, post_json
from csms.domain.notifications import EVENT_TYPE_HEADER, SIGNATURE_HEADER, retry_delay_seconds, signature
from csms.events.catalog import Source
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

Post = Callable[[str, bytes, dict[str, str]], PostOutcome]


EVENT_PATTERN: Mapping[str, Any] = {"source": [Source.SESSIONS.value, Source.RESERVATIONS.value]}
"""The CSMS bus rule that feeds the queue: every driver event. The stack deploys it, the local runtime creates
the very same rule in moto."""


def body_of(event: Mapping[str, Any]) -> bytes:
    """The POST body: the event's detail as compact JSON (the signature covers exactly these bytes)."""
    return json.dumps(event["detail"], separators=(",", ":"), ensure_ascii=False).encode()


def deliver(event: Mapping[str, Any], services: Services, post: Post = post_json) -> bool:
    """True when delivered or nobody is to be told; False when the driver's endpoint did not take it."""
    id_tag = event["detail"].get("idTag")
    webhook = services.id_tags.webhook(id_tag) if id_tag else None
    if webhook is None:
        return True
    body = body_of(event)
    outcome = post(
        webhook.url,
        body,
        {SIGNATURE_HEADER: signature(webhook.secret, body), EVENT_TYPE_HEADER: event["detail-type"]},
    )
    if not outcome.delivered:
        logger.warning(
            "Webhook did not take the event",
            extra={"event_id": event["detail"].get("eventId"), "event_type": event["detail-type"], "error": outcome.error},
        )
    return outcome.delivered


def handle_messages(batch: Mapping[str, Any], services: Services, post: Post = post_json) -> dict[str, Any]:
    """One SQS batch (ReportBatchItemFailures): the messages not delivered are reported, each made visible again
    after its attempt's backoff."""
    failures = []
    for record in batch.get("Records", []):
        try:
            delivered = deliver(json.loads(record["body"]), services, post)
        except Exception:
            logger.exception("Driver event not handled", extra={"message_id": record["messageId"]})
            delivered = False
        if not delivered:
            _back_off(record, services)
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def _back_off(record: Mapping[str, Any], services: Services) -> None:
    attempt = int(record["attributes"]["ApproximateReceiveCount"])
    delay = retry_delay_seconds(attempt, base_seconds=services.settings.webhook_retry_seconds)
    services.sqs.change_message_visibility(
        QueueUrl=queue_url(record["eventSourceARN"]), ReceiptHandle=record["receiptHandle"], VisibilityTimeout=delay
    )


def queue_url(queue_arn: str) -> str:
    """`arn:aws:sqs:<region>:<account>:<name>` -> its URL (no GetQueueUrl request, nor its grant)."""
    _, partition, _, region, account, name = queue_arn.split(":", 5)
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{domain}/{account}/{name}"
