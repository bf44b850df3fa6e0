"""moto's EventBridge -> SQS path made to cost per event what one event touches, not what the queue holds.

The stack's rules send driver events to a function's SQS queue (`local.event_queues`); under 300 stations the
queue holds a few hundred messages whenever its function falls behind, and moto 5.2.5 then spends most of the
time it holds `local.aws.MOTO_LOCK` on two things. `scaled_messaging()` changes them while active (`local.aws.
emulated_aws` enters it); nothing in site-packages is modified, and moto answers exactly as before:

1. **Queue attributes for one value.** SendMessage reads `ContentBasedDeduplication`, and ReceiveMessage the
   `MessageRetentionPeriod` once per message received, through `Queue.attributes`, which computes every attribute
   of the queue, among them three counts that each walk every message the queue holds (reading the clock for each):
   O(queue) per message sent, O(batch x queue) per batch received. While active, those two methods see the
   attributes as a mapping that computes only the value asked for (`_QueueAttributes`; a test holds it equal to
   moto's dictionary).
2. **A rule target's input paths parsed once.** For every event and target, moto builds a JSONPath parser
   (`jsonpath_ng.ext.parse`: a parser generator's tables, each time) for each of the eight paths of its default
   input template: they are parsed once per distinct text instead (the parsed paths are never changed).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import jsonpath_ng.ext
from moto.core.utils import camelcase_to_underscores
from moto.sqs.models import Queue, SQSBackend

from local.patching import SharedPatches

_one_value_at_a_time: ContextVar[bool] = ContextVar("_one_value_at_a_time", default=False)


class _QueueAttributes(Mapping[str, Any]):
    """`Queue.attributes` computed per name asked for: the same names and values as moto's dictionary."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:  # type: ignore[attr-defined]
            names += queue.KMS_ATTRIBUTES
        if queue.policy:
            names.append("Policy")
        if queue.redrive_policy:
            names.append("RedrivePolicy")
        self._names = dict.fromkeys(names)

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if name == "Policy" and self._queue.policy:
            value: Any = self._queue.policy
        elif name == "RedrivePolicy" and self._queue.redrive_policy:
            value = json.dumps(self._queue.redrive_policy)
        else:
            value = getattr(self._queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _attributes(original: property) -> property:
    def attributes(queue: Queue) -> Any:
        return _QueueAttributes(queue) if _one_value_at_a_time.get() else original.fget(queue)  # type: ignore[misc]

    return property(attributes)


def _reading_one_value_at_a_time(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(*args: Any, **kwargs: Any) -> Any:
        token = _one_value_at_a_time.set(True)
        try:
            return original(*args, **kwargs)
        finally:
            _one_value_at_a_time.reset(token)

    return method


_PATCHES: tuple[tuple[Any, str, Callable[[Any], Any]], ...] = (
    (Queue, "attributes", _attributes),
    (SQSBackend, "send_message", _reading_one_value_at_a_time),
    (SQSBackend, "is_message_valid_based_on_retention_period", _reading_one_value_at_a_time),
    (jsonpath_ng.ext, "parse", lambda parse: functools.lru_cache(maxsize=256)(parse)),
)


def _install(patches: SharedPatches) -> None:
    for owner, name, wrap in _PATCHES:
        patches.replace(owner, name, wrap(owner.__dict__[name]))


_patches = SharedPatches(_install)


def scaled_messaging() -> contextlib.AbstractContextManager[None]:
    """Apply the changes of the module docstring while active; nested uses share one installation."""
    return _patches.active()
