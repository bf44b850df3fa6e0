"""Reactions to follow-up items (adapters/dynamodb/follow_ups.py): put the event, start the workflow, run a site's
load control (adapters/dynamodb/load_control.py).

Every kind is matched by one filter pattern (an insert whose sort key starts with one of their prefixes) and told
apart here by that prefix: the stream's filters are few (reactions.MAX_FILTERS), a new kind of follow-up needs none."""

from __future__ import annotations

import contextlib
import json
import re

from csms.adapters.dynamodb.keys import EVENT_PREFIX, LOAD_CONTROL_RUN_PREFIX, WORKFLOW_START_PREFIX
from csms.adapters.dynamodb.schema import SORT_KEY
from csms.changes.stream import Change, Reaction
from csms.domain.clock import from_iso
from csms.energy.stream import run_load_control
from csms.events.catalog import Event, EventType
from csms.ocpp.frames import plain_json
from csms.runtime.observability import logger
from csms.runtime.wiring import Services


def _inserted(*prefixes: str) -> dict[str, object]:
    return {"eventName": ["INSERT"], "dynamodb": {"Keys": {SORT_KEY: {"S": [{"prefix": prefix} for prefix in prefixes]}}}}


def put_event(change: Change, services: Services) -> None:
    item = change.item
    detail = plain_json(item["detail"])
    fields = {name: value for name, value in detail.items() if name not in ("eventId", "schemaVersion")}
    event = Event(
        type=EventType(item["eventType"]), event_id=detail["eventId"], occurred_at=from_iso(item["occurredAt"]), fields=fields
    )
    services.events.put([event])


def start_workflow(change: Change, services: Services) -> None:
    item = change.item
    client = services.step_functions
    # Started before (a retried batch): the execution's name is taken, it runs once.
    with contextlib.suppress(client.exceptions.ExecutionAlreadyExists):
        client.start_execution(
            stateMachineArn=state_machine_arn(services, item["workflow"]),
            name=item["executionName"],
            input=json.dumps(plain_json(item["input"])),
        )
    logger.info("Workflow started", extra={"workflow": item["workflow"], "execution": item["executionName"]})


def state_machine_arn(services: Services, workflow: str) -> str:
    """The ARN of a workflow this function starts (`ReservationExpiry` -> setting reservation_expiry_state_machine_arn)."""
    setting = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", workflow).lower() + "_state_machine_arn"
    arn = getattr(services.settings, setting, None)
    if not arn:
        raise RuntimeError(f"{setting.upper()} is not set: this function does not start {workflow}")
    return str(arn)


_BY_PREFIX = {EVENT_PREFIX: put_event, WORKFLOW_START_PREFIX: start_workflow, LOAD_CONTROL_RUN_PREFIX: run_load_control}
FOLLOW_UP_INSERTED = _inserted(*_BY_PREFIX)


def follow_up(change: Change, services: Services) -> None:
    sort_key = str(change.item[SORT_KEY])
    for prefix, handle in _BY_PREFIX.items():
        if sort_key.startswith(prefix):
            handle(change, services)
            return


REACTIONS: tuple[Reaction, ...] = (Reaction("follow-up", (FOLLOW_UP_INSERTED,), follow_up),)
