"""The table's stream and its event source mapping, on this machine: what Lambda's poller does on AWS.

Every change moto makes to the table becomes a stream record shaped as DynamoDB Streams shapes it (moto's own
`StreamRecord`); the records that match the mapping's filter criteria (the same patterns the stack gives the
event source mapping, matched as the stream function routes them, by `csms.changes.patterns`: a unit test holds it
to moto's full EventBridge matcher on these patterns, and it costs a fraction of it on every write) are
handed to the consuming function in batches, in order, and the ones it reports in `batchItemFailures` are
tried again with backoff, then logged and dropped (the stack sends them to its on-failure queue).

moto itself would keep every record of the table in memory for ever (its shard has no 24 h trim): the shard's
`add` is replaced while the runtime runs, so a record is only kept until the function has taken it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from moto.dynamodb.models.table import StreamRecord, StreamShard

from csms.changes.patterns import matches

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Awaitable[Any]]
MAX_BATCH = 100
RETRY_DELAYS: tuple[float, ...] = (0.2, 1.0, 5.0)
"""Seconds before each new try of the records a batch reported as failed."""


class LocalTableStream:
    def __init__(self, invoke: Invoke, *, function: str, filter_patterns: Sequence[dict[str, Any]]) -> None:
        self._invoke = invoke
        self._function = function
        self._patterns = list(filter_patterns)
        self._queue: asyncio.Queue[dict[str, Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._sequence = 0

    def matches(self, record: dict[str, Any]) -> bool:
        return any(matches(pattern, record) for pattern in self._patterns)

    @contextlib.contextmanager
    def capturing(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        """While active, the table's changes (made on any thread) reach the consumer on `loop`."""
        self._loop = loop
        self._queue = asyncio.Queue()
        original = StreamShard.add
        stream = self

        @functools.wraps(original)
        def add(shard: StreamShard, old: Any, new: Any) -> None:
            event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
            stream._sequence += 1  # under moto's request lock: one change at a time
            view_type = shard.table.stream_specification["StreamViewType"]  # type: ignore[index]
            record = StreamRecord(shard.table, view_type, event_name, old, new, stream._sequence).record
            record["eventSourceARN"] = f"{shard.table.table_arn}/stream/{shard.table.latest_stream_label}"
            record["dynamodb"]["ApproximateCreationDateTime"] = int(record["dynamodb"]["ApproximateCreationDateTime"].timestamp())
            if stream.matches(record):
                loop.call_soon_threadsafe(stream._queue.put_nowait, record)  # type: ignore[union-attr]

        StreamShard.add = add  # type: ignore[method-assign]
        try:
            yield
        finally:
            StreamShard.add = original  # type: ignore[method-assign]

    def start(self) -> None:
        self._consumer = asyncio.create_task(self._consume())

    async def stop(self) -> None:
        """Deliver what is already queued, then stop."""
        if self._consumer is None or self._queue is None:
            return
        await self._queue.join()
        self._consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._consumer
        self._consumer = None

    async def _consume(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._deliver(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _deliver(self, records: list[dict[str, Any]]) -> None:
        for delay in (*RETRY_DELAYS, None):
            try:
                result = await self._invoke(self._function, {"Records": records})
                failed = {failure["itemIdentifier"] for failure in (result or {}).get("batchItemFailures", [])}
            except Exception:
                logger.exception("%s failed on a batch of %d stream records", self._function, len(records))
                failed = {record["dynamodb"]["SequenceNumber"] for record in records}
            records = [record for record in records if record["dynamodb"]["SequenceNumber"] in failed]
            if not records:
                return
            if delay is None:
                logger.error("%s: %d stream records given up after every retry", self._function, len(records))
                return
            await asyncio.sleep(delay)
