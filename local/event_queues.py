"""A function's event queue on this machine: what the stack's rule -> SQS queue -> event source mapping does.

The rule (the manifest's `receives_events` pattern, the very one the stack deploys), the queue and its
dead-letter queue (the same maxReceiveCount) are created in moto, whose EventBridge sends every matching event
put on the CSMS bus to the queue. This poller plays Lambda's SQS poller: it receives batches, invokes the
function with them as Lambda shapes an SQS event, deletes the messages it did not report failed and leaves the
others to the visibility the function gave them (its backoff); moto moves a message received
`max_receives` times to the dead-letter queue. The poller works on moto's SQS backend directly, as the Lambda
service works outside the function's role, so least-privilege runs judge only what the function itself asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import boto3

from infra.manifest import FunctionSpec
from local.aws import ACCOUNT_ID, MOTO_LOCK, REGION

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Awaitable[Any]]
BATCH_SIZE = 10
IDLE_POLL_SECONDS = 0.1
"""How often an empty queue is looked at (Lambda long-polls; moto's long poll would hold every request)."""


def queue_name(function: str) -> str:
    return f"{function}-events"


def dead_letter_queue_name(function: str) -> str:
    return f"{function}-events-dead-letters"


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"


class LocalEventQueue:
    def __init__(self, invoke: Invoke, *, spec: FunctionSpec, bus_name: str) -> None:
        if spec.receives_events is None:
            raise ValueError(f"{spec.name} receives no events")
        self._invoke = invoke
        self._spec = spec
        self._bus_name = bus_name
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.name = queue_name(spec.name)

    def create(self) -> None:
        """The queues and the rule, in emulated AWS."""
        spec = self._spec
        sqs = boto3.client("sqs", region_name=REGION)
        dead_letters = dead_letter_queue_name(spec.name)
        sqs.create_queue(QueueName=dead_letters)
        redrive = {"deadLetterTargetArn": queue_arn(dead_letters), "maxReceiveCount": str(spec.max_receives)}
        sqs.create_queue(
            QueueName=self.name,
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": str(6 * spec.timeout_seconds)},
        )
        events = boto3.client("events", region_name=REGION)
        rule = f"{spec.name}-events"
        events.put_rule(Name=rule, EventBusName=self._bus_name, EventPattern=json.dumps(spec.receives_events))
        events.put_targets(Rule=rule, EventBusName=self._bus_name, Targets=[{"Id": "queue", "Arn": queue_arn(self.name)}])

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        """Ends polling after the batch in hand. The flag as well as the cancellation: Python 3.11's wait_for (the
        invocation's timeout) can swallow a cancellation that arrives as the invocation completes."""
        if self._task is None:
            return
        self._stopping = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _poll(self) -> None:
        while not self._stopping:
            try:
                busy = await self._poll_once()
            except Exception:  # the poller never stops: a message not deleted comes back after its visibility
                logger.exception("%s: polling its queue failed", self._spec.name)
                busy = False
            if not busy:
                await asyncio.sleep(IDLE_POLL_SECONDS)

    async def _poll_once(self) -> bool:
        records = await asyncio.to_thread(self._receive)
        if not records:
            return False
        try:
            result = await self._invoke(self._spec.name, {"Records": records})
            failed = {failure["itemIdentifier"] for failure in (result or {}).get("batchItemFailures", [])}
        except Exception:  # the whole batch comes back when its visibility ends, as on AWS
            logger.exception("%s failed on a batch of %d messages", self._spec.name, len(records))
            return True
        done = [record["receiptHandle"] for record in records if record["messageId"] not in failed]
        await asyncio.to_thread(self._delete, done)
        return True

    def _backend(self) -> Any:
        from moto.sqs.models import sqs_backends

        return sqs_backends[ACCOUNT_ID][REGION]

    def _receive(self) -> list[dict[str, Any]]:
        with MOTO_LOCK:  # received messages stay invisible for the queue's visibility timeout, as the poller's are
            backend = self._backend()
            visibility = backend.get_queue(self.name).visibility_timeout
            messages = backend.receive_message(self.name, BATCH_SIZE, 0, visibility)
        return [
            {
                "messageId": message.id,
                "receiptHandle": message.receipt_handle,
                "body": message.body,
                "attributes": {
                    "ApproximateReceiveCount": str(message.approximate_receive_count),
                    "SentTimestamp": str(message.sent_timestamp),
                },
                "messageAttributes": {},
                "md5OfBody": message.body_md5,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn(self.name),
                "awsRegion": REGION,
            }
            for message in messages
        ]

    def _delete(self, receipt_handles: list[str]) -> None:
        with MOTO_LOCK:
            for handle in receipt_handles:
                self._backend().delete_message(self.name, handle)
