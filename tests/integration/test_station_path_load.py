"""No hot item on the station path: simultaneous starts across the network never meet in one item, and each
OCPP action stays within its DynamoDB request budget (what `make bench` prints per action)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from contextlib import contextmanager
from typing import Any

import pytest

from csms.adapters.dynamodb.keys import station_key
from csms.adapters.dynamodb.transactions import TransactionRepository
from csms.domain.authorization import IdTagRecord
from csms.runtime.wiring import aws_session
from local.aws import shared_by_threads
from tests.integration.stations import Station

STATIONS = 100


class InFlightTransactions:
    """DynamoDB's rule that moto does not model: a TransactWriteItems is cancelled with TransactionConflict when
    one of its items is part of another transaction in flight (and a single-item write to such an item fails
    with TransactionConflictException). Each transaction here is held in flight until every start's transaction
    is (a barrier), so all of them overlap as when 100 stations start at the same moment, and a shared item
    conflicts deterministically."""

    def __init__(self, client: Any, parties: int) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._owners: dict[tuple[str, str], int] = {}
        self._barrier = threading.Barrier(parties, timeout=30)
        self.conflicts = 0

    @staticmethod
    def _key(key: dict[str, Any]) -> tuple[str, str]:
        return (next(iter(key["pk"].values())), next(iter(key["sk"].values())))

    def _transaction_keys(self, body: dict[str, Any]) -> set[tuple[str, str]]:
        keys = set()
        for item in body["TransactItems"]:
            (operation,) = item.values()
            keys.add(self._key(operation.get("Key") or operation["Item"]))
        return keys

    def before_call(self, model: Any, params: Any, context: dict[str, Any], **_: Any) -> None:
        body = json.loads(params["body"])
        thread = threading.get_ident()
        if model.name == "TransactWriteItems":
            keys = self._transaction_keys(body)
            with self._lock:
                clash = any(self._owners.get(key, thread) != thread for key in keys)
                if not clash:
                    self._owners.update(dict.fromkeys(keys, thread))
            if clash:
                self.conflicts += 1
                self._barrier.abort()  # the others need not wait for this one
                raise self._client.exceptions.TransactionCanceledException(
                    {
                        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                        "CancellationReasons": [{"Code": "TransactionConflict"} for _ in keys],
                    },
                    model.name,
                )
            context["in_flight"] = keys
            with contextlib.suppress(threading.BrokenBarrierError):
                self._barrier.wait()
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            key = self._key(body["Item"] if model.name == "PutItem" else body["Key"])
            with self._lock:
                owner = self._owners.get(key)
            if owner is not None and owner != thread:
                self.conflicts += 1
                raise self._client.exceptions.TransactionConflictException(
                    {"Error": {"Code": "TransactionConflictException", "Message": "in a transaction"}}, model.name
                )

    def after_call(self, context: dict[str, Any], **_: Any) -> None:
        with self._lock:
            for key in context.pop("in_flight", ()):
                self._owners.pop(key, None)


@contextmanager
def overlapping_transactions(services: Any, parties: int):
    client = services.table.meta.client
    in_flight = InFlightTransactions(client, parties)
    client.meta.events.register("before-call.dynamodb", in_flight.before_call)
    client.meta.events.register("after-call.dynamodb", in_flight.after_call)
    try:
        with shared_by_threads():  # one moto request at a time, as in the local runtime
            yield in_flight
    finally:
        client.meta.events.unregister("before-call.dynamodb", in_flight.before_call)
        client.meta.events.unregister("after-call.dynamodb", in_flight.after_call)


def _start_everywhere_at_once(services: Any) -> tuple[list[list], int]:
    for n in range(STATIONS):
        services.table.put_item(Item={**station_key(f"CP{n}"), "chargePointId": f"CP{n}", "registered": True})
        services.id_tags.register(IdTagRecord(id_tag=f"DRIVER{n}", status="Accepted"))
    replies: list[Any] = [None] * STATIONS

    def start(n: int) -> None:
        payload = {"connectorId": 1, "idTag": f"DRIVER{n}", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"}
        replies[n] = Station(services, f"CP{n}").call("StartTransaction", payload)

    with overlapping_transactions(services, STATIONS) as in_flight:
        threads = [threading.Thread(target=start, args=(n,)) for n in range(STATIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return replies, in_flight.conflicts


def test_a_hundred_stations_starting_at_the_same_moment_are_all_accepted_with_distinct_ids(services):
    replies, conflicts = _start_everywhere_at_once(services)
    assert [reply[0] for reply in replies] == [3] * STATIONS, [reply for reply in replies if reply[0] != 3][:3]
    assert all(reply[2]["idTagInfo"]["status"] == "Accepted" for reply in replies)
    assert len({reply[2]["transactionId"] for reply in replies}) == STATIONS
    assert conflicts == 0


def test_one_item_every_start_writes_would_make_simultaneous_starts_fail(services, monkeypatch):
    # The check above can fail: with the former network-wide counter back in each start's transaction, the
    # starts that meet there are cancelled (TransactionConflict) and answered InternalError.
    transact = TransactionRepository._transact

    def with_shared_counter(self: TransactionRepository, writes: dict[str, dict[str, Any]]) -> set[str]:
        if "transaction" in writes:
            writes = writes | {
                "gauge": {
                    "Update": {
                        "TableName": self._table.name,
                        "Key": {"pk": "STATS", "sk": "STATS"},
                        "UpdateExpression": "ADD activeTransactions :one",
                        "ExpressionAttributeValues": {":one": 1},
                    }
                }
            }
        return transact(self, writes)

    monkeypatch.setattr(TransactionRepository, "_transact", with_shared_counter)
    replies, conflicts = _start_everywhere_at_once(services)
    assert conflicts > 0
    assert sum(reply[0] == 4 and reply[2] == "InternalError" for reply in replies) == conflicts


# --- requests per action --------------------------------------------------------------------------------


@pytest.fixture(params=[("DRIVER", None), ("DRIVER_KC-P30", "_")], ids=["a card's tag", "a tag with a vendor suffix"])
def id_tag_sent(request) -> tuple[str, str | None]:
    """The idTag the station sends, and the station's suffix separator: cutting a suffix costs no request (the
    option comes with the authorizer's context)."""
    return request.param


@pytest.fixture
def requests_per_action(aws, settings, clock, id_tag_sent):
    """DynamoDB requests of each OCPP action, counted with botocore's `before-call` event on the services'
    session (as `make bench` counts them), on services built after the hook is in place."""
    from csms.runtime.wiring import Services

    counted: Counter[str] = Counter()

    def on_call(model: Any, **_: Any) -> None:
        if model.service_model.service_name == "dynamodb":
            counted[model.name] += 1

    session = aws_session()
    session.events.register("before-call", on_call)
    try:
        services = Services(settings, clock=clock)
        services.table.put_item(Item={**station_key("CP1"), "chargePointId": "CP1", "registered": True})
        services.id_tags.register(IdTagRecord(id_tag="DRIVER", status="Accepted"))
        station = Station(services, "CP1", id_tag_suffix_separator=id_tag_sent[1])

        def measure(action: str, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
            counted.clear()
            answer = station.result(action, payload)
            return answer, sum(counted.values())

        yield measure
    finally:
        session.events.unregister("before-call", on_call)


def test_station_messages_stay_within_their_request_budget(requests_per_action, id_tag_sent):
    measure = requests_per_action
    id_tag = id_tag_sent[0]
    measure("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    _, heartbeat = measure("Heartbeat", {})
    started, start = measure(
        "StartTransaction", {"connectorId": 1, "idTag": id_tag, "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"}
    )
    assert started["idTagInfo"]["status"] == "Accepted"
    transaction_id = started["transactionId"]
    reading = {"timestamp": "2026-11-24T10:05:00Z", "sampledValue": [{"value": "1500", "unit": "Wh"}]}
    _, meter_values = measure("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [reading]})
    power = {"timestamp": "2026-11-24T10:06:00Z", "sampledValue": [{"value": "11000", "measurand": "Power.Active.Import", "unit": "W"}]}
    _, meter_values_without_energy = measure(
        "MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [power]}
    )
    _, outside_a_transaction = measure("MeterValues", {"connectorId": 1, "meterValue": [reading]})
    with_soc = [{"value": "1600", "unit": "Wh"}, {"value": "79", "measurand": "SoC", "unit": "Percent", "location": "EV"}]
    _, meter_values_with_soc = measure(
        "MeterValues",
        {"connectorId": 1, "transactionId": transaction_id, "meterValue": [{"timestamp": "2026-11-24T10:07:00Z", "sampledValue": with_soc}]},
    )
    with_soc[1]["value"] = "81"  # past 80 %: its ThresholdReached is one more write
    _, meter_values_crossing = measure(
        "MeterValues",
        {"connectorId": 1, "transactionId": transaction_id, "meterValue": [{"timestamp": "2026-11-24T10:08:00Z", "sampledValue": with_soc}]},
    )
    assert start <= 3
    assert heartbeat <= 1
    assert max(meter_values, meter_values_without_energy, outside_a_transaction, meter_values_with_soc) <= 2
    assert meter_values_crossing <= 3
    stop = {"transactionId": transaction_id, "meterStop": 3000, "timestamp": "2026-11-24T10:30:00Z", "idTag": id_tag}
    stopped, stop_requests = measure("StopTransaction", stop)
    assert stopped["idTagInfo"]["status"] == "Accepted"
    assert stop_requests <= 4  # billing happens off the reply path (the table's stream)


def test_a_start_that_consumes_a_reservation_stays_within_the_start_budget(requests_per_action, services):
    """The station item (its holds) comes with the id tag in one BatchGetItem; the reservation's end, its event and
    the hold's release are parts of the start's one TransactWriteItems."""
    from datetime import timedelta

    from csms.domain.limits import SessionLimits
    from csms.domain.reservations import Reservation, ReservationStatus
    from tests.fakes.clock import EPOCH

    reservation = Reservation(
        reservation_id=9, charge_point_id="CP1", connector_id=1, id_tag="DRIVER", expiry_date=EPOCH + timedelta(hours=1),
        status=ReservationStatus.ACCEPTED, created_at=EPOCH, limits=SessionLimits(max_energy_wh=1000),
    )  # fmt: skip
    assert services.reservations.record_accepted(reservation, follow_ups=[])
    started, requests = requests_per_action(
        "StartTransaction", {"connectorId": 1, "idTag": "DRIVER", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"}
    )
    assert requests <= 3
    assert services.reservations.get(9).transaction_id == started["transactionId"]


def test_a_site_members_messages_stay_within_their_budgets_and_compute_no_allocation(requests_per_action, services):
    """A station of a site: its start and its suspension write their load control's run in the writes they make
    anyway or in one more put; the allocation is computed from the stream, never here (issue 11 §4)."""
    services.table.update_item(Key=station_key("CP1"), UpdateExpression="SET siteId = :site", ExpressionAttributeValues={":site": "depot"})
    _, boot = requests_per_action("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    started, start = requests_per_action(
        "StartTransaction", {"connectorId": 1, "idTag": "DRIVER", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"}
    )
    _, charging = requests_per_action("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
    _, suspended = requests_per_action("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "SuspendedEV"})
    stop = {"transactionId": started["transactionId"], "meterStop": 3000, "timestamp": "2026-11-24T10:30:00Z"}
    _, stop_requests = requests_per_action("StopTransaction", stop)
    assert (boot, start, stop_requests) == (3, 3, 2)  # the boot's run: one put of its own; the stop's comes from the stream
    assert suspended == charging + 1  # entering SuspendedEV: the run's put
    runs = services.table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :run)", ExpressionAttributeValues={":pk": "SITE#depot", ":run": "ALLOC#"}
    )["Items"]
    assert sorted(run["sk"].split("#")[1] for run in runs) == ["BOOT", "START", "STATUS"]


def test_a_status_costs_a_second_write_only_when_charging_or_a_fault_begins_or_ends(requests_per_action, services):
    """The network's counts read the live key a status flags (`GET /network/counts`): the status's own write cannot
    set it, so a status that changes it costs one more UpdateItem; the other statuses, most of them, cost one."""
    services.stations.record_connection("CP1", "conn-1", connected_at=services.clock.now(), source_ip=None)

    def requests(connector_id: int, status: str, error_code: str = "NoError") -> int:
        return requests_per_action("StatusNotification", {"connectorId": connector_id, "errorCode": error_code, "status": status})[1]

    assert [requests(1, "Available"), requests(1, "Preparing"), requests(1, "Charging"), requests(1, "Charging")] == [1, 1, 2, 1]
    assert [requests(2, "Faulted", "GroundFailure"), requests(1, "SuspendedEV"), requests(2, "Available")] == [2, 2, 2]
    assert [requests(1, "Finishing"), requests(1, "Available")] == [1, 1]
