"""Follow-ups written with their cause are done from the stream: once, even when the cause or the batch repeats."""

from __future__ import annotations

from datetime import timedelta

from csms.adapters.dynamodb.follow_ups import FollowUps, event_item, workflow_start_item
from csms.adapters.dynamodb.schema import TTL_ATTRIBUTE
from csms.changes.reactions import REACTIONS
from csms.changes.stream import handle_records
from csms.events.catalog import Event, EventType
from tests.fakes.stream import stream_record


class StepFunctions:
    class exceptions:  # noqa: N801 (the boto3 client's shape)
        class ExecutionAlreadyExists(Exception):
            pass

    def __init__(self):
        self.started = {}

    def start_execution(self, **request):
        if request["name"] in self.started:
            raise self.exceptions.ExecutionAlreadyExists()
        self.started[request["name"]] = request


def test_an_event_item_is_put_once_and_its_stream_record_publishes_it(services, table, clock):
    published = []
    services.events = type("P", (), {"put": lambda self, events: published.extend(events)})()
    event = Event(type=EventType.UNMATCHED_STOP, event_id="e-1", occurred_at=clock.now(), fields={"chargePointId": "CP1", "n": 1.5})
    item = event_item("TX#7", event, now=clock.now())
    follow_ups = FollowUps(table)
    assert follow_ups.put(item) is True
    assert follow_ups.put(item) is False  # the cause repeated: nothing new
    stored = table.get_item(Key={"pk": "TX#7", "sk": "EVENT#e-1"})["Item"]
    assert stored[TTL_ATTRIBUTE] == int((clock.now() + timedelta(days=7)).timestamp())
    record = stream_record("1", "INSERT", stored)
    assert handle_records({"Records": [record]}, services, REACTIONS) == {"batchItemFailures": []}
    (put,) = published
    assert put.detail == {"eventId": "e-1", "schemaVersion": "1.0", "chargePointId": "CP1", "n": 1.5}
    assert put.occurred_at == clock.now() and put.type is EventType.UNMATCHED_STOP


def test_a_workflow_item_starts_its_execution_once(services, table, clock):
    services.step_functions = StepFunctions()
    services.settings = services.settings.model_copy(update={"billing_hand_off_state_machine_arn": "arn:billing"})
    item = workflow_start_item("TX#7", workflow="BillingHandOff", execution_name="tx-7-1", execution_input={"a": 1}, now=clock.now())
    FollowUps(table).put(item)
    record = stream_record("1", "INSERT", table.get_item(Key={"pk": "TX#7", "sk": "RUN#tx-7-1"})["Item"])
    for _ in range(2):  # the stream's retry of the batch
        assert handle_records({"Records": [record]}, services, REACTIONS) == {"batchItemFailures": []}
    assert services.step_functions.started == {
        "tx-7-1": {"stateMachineArn": "arn:billing", "name": "tx-7-1", "input": '{"a": 1}'}
    }


def test_a_workflow_this_function_may_not_start_fails_the_record(services, table, clock):
    services.step_functions = StepFunctions()
    item = workflow_start_item("TX#7", workflow="NoSuchWorkflow", execution_name="x", execution_input={}, now=clock.now())
    record = stream_record("5", "INSERT", item)
    assert handle_records({"Records": [record]}, services, REACTIONS) == {"batchItemFailures": [{"itemIdentifier": "5"}]}
