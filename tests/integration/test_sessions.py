"""Issue 10 §2-§3 against emulated DynamoDB: app sessions through the operator API (the station stand-in answers
RemoteStartTransaction), bound to the StartTransaction that follows; limits checked on meter values, the marker
set once, the SessionLimit workflow's tasks, and the stream's reaction to the stop."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from csms.adapters.dynamodb.keys import transaction_pk
from csms.changes.reactions import REACTIONS
from csms.changes.stream import handle_records
from csms.domain.authorization import IdTagRecord
from csms.domain.limits import LimitKind
from csms.sessions.workflow import SessionLimitTask, run_session_limit_task
from tests.examples import STANDARD_TARIFF
from tests.fakes.stream import stream_record
from tests.integration.stations import Station
from tests.integration.test_operator_api import Client, connect, stations  # noqa: F401  (stations: a fixture)


@pytest.fixture
def api(stations) -> Client:  # noqa: F811
    return Client()


@pytest.fixture
def scripted(stations):  # noqa: F811  (the station stand-in answering commands)
    return stations


@pytest.fixture
def station(api, services, scripted):
    connect(services)
    scripted.replies["RemoteStartTransaction"] = {"status": "Accepted"}
    api.put("/id-tags/DRIVER", {"limits": {"maxEnergyWh": 30_000, "maxSoC": 90}, "notifyAtEnergyWh": [10_000]})
    return Station(services, "CP1")


def start(station: Station, connector: int = 1, *, id_tag: str = "DRIVER", at: str = "2026-11-24T10:00:00Z") -> int:
    answer = station.result("StartTransaction", {"connectorId": connector, "idTag": id_tag, "meterStart": 1000, "timestamp": at})
    assert answer["idTagInfo"]["status"] == "Accepted"
    return answer["transactionId"]


def meter(station: Station, transaction_id: int, at: str, wh: int | None = None, soc: int | None = None) -> None:
    sampled = []
    if wh is not None:
        sampled.append({"value": str(wh), "unit": "Wh"})
    if soc is not None:
        sampled.append({"value": str(soc), "measurand": "SoC", "unit": "Percent", "location": "EV"})
    station.result("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [{"timestamp": at, "sampledValue": sampled}]})


def follow_ups(table, transaction_id: int) -> dict[str, list[dict[str, Any]]]:
    """The transaction's workflow starts and limit events (the session's driver notifications, SessionStarted and
    ThresholdReached, are tests/integration/test_session_events.py's)."""
    items = table.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": transaction_pk(transaction_id)})["Items"]
    found: dict[str, list[dict[str, Any]]] = {"RUN": [], "EVENT": []}
    for item in items:
        kind = item["sk"].split("#")[0]
        if kind == "EVENT" and not item["eventType"].startswith("SessionLimit"):
            continue
        if kind in found:
            found[kind].append(item)
    return found


# --- POST /sessions and its binding ---------------------------------------------------------------------------


def test_an_accepted_app_session_is_requested_then_started_by_the_start_that_binds_its_limits(api, station, services, table, scripted):
    answers = scripted
    posted = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "driver",
                                    "limits": {"maxEnergyWh": 20_000, "maxDurationSeconds": 3600}})  # fmt: skip
    assert posted.status == 201, posted.json
    session = posted.json
    assert session["status"] == "Requested" and session["response"] == {"status": "Accepted"}
    # The session's limits over the tag's, field by field; its thresholds the tag's, as none were given.
    assert session["limits"] == {"maxEnergyWh": 20_000, "maxDurationSeconds": 3600, "maxSoC": 90}
    assert session["notifyAtEnergyWh"] == [10_000]
    assert answers.sent[-1][1][2:] == ["RemoteStartTransaction", {"connectorId": 1, "idTag": "DRIVER"}]

    transaction_id = start(station)
    started = api.get(f"/sessions/{session['sessionId']}").json
    assert (started["status"], started["transactionId"], started["startedAt"]) == ("Started", transaction_id, "2026-11-24T10:00:00.000Z")
    transaction = api.get(f"/transactions/{transaction_id}").json
    assert transaction["limits"] == session["limits"] and transaction["sessionId"] == session["sessionId"]
    assert table.get_item(Key={"pk": transaction_pk(transaction_id), "sk": "TRANSACTION"})["Item"]["notifyAtEnergyWh"] == [10_000]
    # The duration timer starts with the transaction: stop at the StartTransaction timestamp + the duration.
    (timer,) = follow_ups(table, transaction_id)["RUN"]
    assert timer["workflow"] == "SessionLimit" and timer["input"]["stopAt"] == "2026-11-24T11:00:00.000Z"
    assert timer["input"]["limit"] == "duration"
    # The pending start is gone: a second start of the tag is a card session with the tag's limits.
    assert services.id_tags.get("DRIVER").pending_starts == ()
    stop = {"transactionId": transaction_id, "meterStop": 2000, "timestamp": "2026-11-24T10:05:00Z"}
    station.result("StopTransaction", stop)
    second = start(station, at="2026-11-24T10:06:00Z")
    assert api.get(f"/transactions/{second}").json["limits"] == {"maxEnergyWh": 30_000, "maxSoC": 90}
    assert api.get(f"/transactions/{second}").json["sessionId"] is None


def test_a_station_that_starts_on_another_connector_binds_the_session_all_the_same(api, station):
    session = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER"}).json
    transaction_id = start(station, connector=2)
    assert api.get(f"/sessions/{session['sessionId']}").json["transactionId"] == transaction_id


def test_the_sessions_priority_wins_over_its_id_tags_and_binds_at_the_start(api, station, services):
    api.put("/id-tags/DRIVER", {"priority": 2})
    session = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER", "priority": 7}).json
    assert session["priority"] == 7
    transaction_id = start(station)
    assert services.transactions.get(transaction_id).start.priority == 7
    assert services.stations.get("CP1").session_on(1).priority == 7  # what a site's allocation reads
    assert api.post("/sessions", {"chargePointId": "CP1", "connectorId": 2, "idTag": "DRIVER", "priority": 10}).status == 422


def test_a_card_session_takes_its_id_tags_priority(api, station, services):
    api.put("/id-tags/DRIVER", {"priority": -3})
    assert services.transactions.get(start(station)).start.priority == -3


def test_a_session_whose_start_never_comes_expires_and_binds_nothing(api, station, clock):
    session = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER", "limits": {"maxEnergyWh": 5}}).json
    clock.advance(minutes=10)  # SESSION_START_WINDOW_SECONDS: 600 by default
    assert api.get(f"/sessions/{session['sessionId']}").json["status"] == "Expired"
    transaction_id = start(station, at="2026-11-24T10:10:00Z")
    assert api.get(f"/transactions/{transaction_id}").json["limits"] == {"maxEnergyWh": 30_000, "maxSoC": 90}
    assert api.get(f"/sessions/{session['sessionId']}").json["status"] == "Expired"


def test_a_refused_remote_start_is_a_409_with_the_answer_and_leaves_nothing_to_bind(api, station, services, scripted):
    answers = scripted
    answers.replies["RemoteStartTransaction"] = {"status": "Rejected"}
    refused = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER", "limits": {"maxEnergyWh": 5}})
    assert refused.status == 409
    assert (refused.json["status"], refused.json["response"]) == ("Rejected", {"status": "Rejected"})
    assert api.get(f"/sessions/{refused.json['sessionId']}").json["status"] == "Rejected"
    assert services.id_tags.get("DRIVER").pending_starts == ()
    transaction_id = start(station)
    assert api.get(f"/transactions/{transaction_id}").json["limits"]["maxEnergyWh"] == 30_000


def test_a_session_for_an_unknown_station_or_tag_or_in_the_wrong_currency_is_refused_before_anything_is_sent(api, station, scripted):
    answers = scripted
    sent = len(answers.sent)
    assert api.post("/sessions", {"chargePointId": "NOPE", "connectorId": 1, "idTag": "DRIVER"}).status == 404
    unknown = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "STRANGER"})
    assert unknown.status == 400 and unknown.json["errors"][0]["location"] == "body.idTag"
    no_tariff = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER",
                                       "limits": {"maxCost": {"amount": "30.00", "currency": "EUR"}}})  # fmt: skip
    assert no_tariff.status == 400 and no_tariff.json["errors"][0]["location"] == "body.limits.maxCost"
    api.put("/tariffs/STD", STANDARD_TARIFF)
    api.put("/charge-points/CP1", {"tariffId": "STD"})
    other = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER",
                                   "limits": {"maxCost": {"amount": "30.00", "currency": "CHF"}}})  # fmt: skip
    assert other.status == 400 and other.json["errors"][0]["location"] == "body.limits.maxCost.currency"
    assert api.post("/sessions", {"chargePointId": "CP1", "connectorId": 0, "idTag": "DRIVER"}).status == 422
    assert api.put("/id-tags/T2", {"tariffId": "STD", "limits": {"maxCost": {"amount": "1", "currency": "USD"}}}).status == 400
    assert len(answers.sent) == sent
    api.put("/id-tags/BLOCKED", {"status": "Blocked"})
    assert api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "BLOCKED"}).status == 409


def test_sessions_are_listed_by_id_tag_and_by_station_with_a_status_filter(api, station, scripted, clock):
    answers = scripted
    first = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER"}).json
    clock.advance(seconds=1)
    answers.replies["RemoteStartTransaction"] = {"status": "Rejected"}
    second = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 2, "idTag": "DRIVER"}).json
    listed = api.get("/sessions", idTag="driver").json
    assert [item["sessionId"] for item in listed["items"]] == [second["sessionId"], first["sessionId"]]  # newest first
    assert [item["sessionId"] for item in api.get("/sessions", chargePointId="CP1", status="Rejected").json["items"]] == [second["sessionId"]]
    assert [item["sessionId"] for item in api.get("/sessions", idTag="DRIVER", status="Requested").json["items"]] == [first["sessionId"]]
    page = api.get("/sessions", chargePointId="CP1", limit=1).json
    assert len(page["items"]) == 1 and page["nextToken"]
    assert api.get("/sessions", chargePointId="CP1", limit=1, nextToken=page["nextToken"]).json["items"][0]["sessionId"] == first["sessionId"]
    assert api.get("/sessions").status == 400


# --- limits on meter values -------------------------------------------------------------------------------------


def test_the_meter_value_that_reaches_the_energy_limit_plans_one_stop_and_the_workflow_records_the_limit(api, station, table, services):
    transaction_id = start(station)  # the tag's limits: 30 kWh, 90 % SoC
    meter(station, transaction_id, "2026-11-24T10:10:00Z", wh=1000 + 14_000)  # at this pace, not before the next sample
    assert follow_ups(table, transaction_id) == {"RUN": [], "EVENT": []}
    meter(station, transaction_id, "2026-11-24T10:20:00Z", wh=1000 + 30_000)
    meter(station, transaction_id, "2026-11-24T10:21:00Z", wh=1000 + 31_000)  # past it again: nothing more
    (run,) = follow_ups(table, transaction_id)["RUN"]
    assert run["input"] == {"transactionId": transaction_id, "chargePointId": "CP1", "limit": "energy", "stopAt": "2026-11-24T10:00:00.000Z"}
    # Planned, not yet reached: the workflow records it when it stops the session.
    assert follow_ups(table, transaction_id)["EVENT"] == []
    assert api.get(f"/transactions/{transaction_id}").json.get("limitReached") is None
    assert run_session_limit_task(task("reach", transaction_id, "energy"), services) == {"stop": True}
    assert run_session_limit_task(task("reach", transaction_id, "energy"), services) == {"stop": True}  # a retried task
    (event,) = follow_ups(table, transaction_id)["EVENT"]
    assert event["eventType"] == "SessionLimitReached" and event["detail"]["limitReached"] == "energy"
    assert api.get(f"/transactions/{transaction_id}").json["limitReached"] == "energy"


def test_a_driver_who_stops_before_the_predicted_crossing_records_no_limit_and_no_event(api, station, table, services, clock):
    transaction_id = start(station)
    clock.advance(minutes=10)
    meter(station, transaction_id, "2026-11-24T10:10:00Z", wh=1000 + 27_500)  # predicts 30 kWh in 54.6 s
    (run,) = follow_ups(table, transaction_id)["RUN"]
    assert run["input"]["stopAt"] == "2026-11-24T10:10:54.636Z"
    station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 1000 + 28_000, "timestamp": "2026-11-24T10:10:30Z"})
    clock.advance(seconds=55)
    assert run_session_limit_task(task("reach", transaction_id, "energy"), services) == {"stop": False}
    assert follow_ups(table, transaction_id)["EVENT"] == []
    assert api.get(f"/transactions/{transaction_id}").json.get("limitReached") is None


def test_the_stop_is_timed_for_the_predicted_crossing_when_it_comes_before_the_next_sample(api, station, table, services, clock):
    transaction_id = start(station)
    clock.advance(minutes=10)
    meter(station, transaction_id, "2026-11-24T10:10:00Z", wh=1000 + 27_500)  # 2750 Wh a minute
    (run,) = follow_ups(table, transaction_id)["RUN"]
    # 2500 Wh to go at 27 500 Wh in up to 601 s (whole-second stamps): before the next sample, in 54.6 s.
    assert run["input"]["stopAt"] == "2026-11-24T10:10:54.636Z"


def test_without_prediction_the_limit_stops_at_the_sample_past_it(station, table, services, clock):
    services.settings = services.settings.model_copy(update={"predict_limit_crossing": False})
    transaction_id = start(station)
    meter(station, transaction_id, "2026-11-24T10:10:00Z", wh=1000 + 27_500)
    assert follow_ups(table, transaction_id)["RUN"] == []


def test_state_of_charge_and_cost_limits(api, station, table, services, clock):
    transaction_id = start(station)
    meter(station, transaction_id, "2026-11-24T10:01:00Z", soc=90)
    (run,) = follow_ups(table, transaction_id)["RUN"]
    assert run["input"]["limit"] == "soc"

    # Cost: 0.30/kWh, 2.00/h, 1.00 flat, 20 % VAT; 5.00 incl. VAT is reached at 8.5 kWh in 30 min
    # (1.2 * (1 + 0.30 * 8.5 + 2 * 0.5) = 5.46).
    api.put("/tariffs/STD", STANDARD_TARIFF)
    api.put("/id-tags/PAYG", {"tariffId": "STD", "limits": {"maxCost": {"amount": "5.00", "currency": "EUR"}}})
    priced = start(station, 2, id_tag="PAYG")
    meter(station, priced, "2026-11-24T10:15:00Z", wh=1000 + 2_000)
    assert follow_ups(table, priced)["RUN"] == []
    meter(station, priced, "2026-11-24T10:30:00Z", wh=1000 + 8_500)
    (run,) = follow_ups(table, priced)["RUN"]
    assert run["input"]["limit"] == "cost"


@contextmanager
def dynamodb_requests(services: Any) -> Iterator[Counter[str]]:
    """The DynamoDB requests made meanwhile, by operation (botocore's `before-call` on the services' own client)."""
    counted: Counter[str] = Counter()

    def on_call(model: Any, **_: Any) -> None:
        counted[model.name] += 1

    events = services.table.meta.client.meta.events
    events.register("before-call.dynamodb", on_call)
    try:
        yield counted
    finally:
        events.unregister("before-call.dynamodb", on_call)


def test_a_limited_session_keeps_the_station_path_within_its_request_budget(api, station, services, clock):
    api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER", "limits": {"maxDurationSeconds": 60}})
    with dynamodb_requests(services) as starting:
        transaction_id = start(station)  # binds the app session, starts its duration timer
    with dynamodb_requests(services) as metering:
        meter(station, transaction_id, "2026-11-24T10:01:00Z", wh=2000)
    assert 0 < sum(starting.values()) <= 3 and 0 < sum(metering.values()) <= 2, (starting, metering)


def test_a_cost_limited_session_prices_its_meter_values_from_the_tariff_version_bound_at_its_start(
    api, station, services, table, clock
):
    api.put("/tariffs/STD", STANDARD_TARIFF)
    for tag in ("PAYG", "PAYG2"):
        api.put(f"/id-tags/{tag}", {"tariffId": "STD", "limits": {"maxCost": {"amount": "50.00", "currency": "EUR"}}})
    first, second = start(station, 1, id_tag="PAYG"), start(station, 2, id_tag="PAYG2")
    assert api.get(f"/transactions/{first}").json["limits"]["maxCost"] == {"amount": "50.00", "currency": "EUR"}
    def requests_of(transaction_id: int) -> Counter[str]:
        with dynamodb_requests(services) as counted:
            meter(station, transaction_id, "2026-11-24T10:01:00Z", wh=2000)
        return counted

    # The reading's own update and write, and the bound version once per function instance: no station, id tag or
    # tariff history read.
    assert requests_of(first) == Counter({"UpdateItem": 1, "BatchWriteItem": 1, "GetItem": 1})
    assert requests_of(second) == Counter({"UpdateItem": 1, "BatchWriteItem": 1})
    # A new version of the tariff prices later sessions; these keep the one in force at their start: 30 kWh at
    # 0.30/kWh with 1.00 flat and 2.00/h, 20 % VAT, is 1.2 * (1 + 9 + 0.5 * 2) = 13.20, not past 50.00...
    clock.advance(minutes=30)
    api.put("/tariffs/STD", {**STANDARD_TARIFF, "elements": [{"price_components": [{"type": "ENERGY", "price": 5, "step_size": 1}]}]})
    meter(station, first, "2026-11-24T10:30:00Z", wh=1000 + 30_000)
    assert follow_ups(table, first)["RUN"] == []
    # ...while the new version (5.00/kWh) prices a session started after it.
    api.put("/id-tags/PAYG3", {"tariffId": "STD", "limits": {"maxCost": {"amount": "50.00", "currency": "EUR"}}})
    third = start(station, 3, id_tag="PAYG3", at="2026-11-24T10:31:00Z")
    meter(station, third, "2026-11-24T10:40:00Z", wh=1000 + 30_000)
    (run,) = follow_ups(table, third)["RUN"]
    assert run["input"]["limit"] == "cost"


# --- the SessionLimit workflow's tasks and the stream -------------------------------------------------------------


def task(step: str, transaction_id: int, limit: str, **fields: Any) -> SessionLimitTask:
    return SessionLimitTask.model_validate({"step": step, "transactionId": transaction_id, "limit": limit, **fields})


def test_the_duration_claims_the_marker_unless_another_limit_came_first(api, station, services, table):
    for tag in ("TIMED", "TIMED2"):
        api.put(f"/id-tags/{tag}", {"limits": {"maxDurationSeconds": 60, "maxEnergyWh": 100}})
    first = start(station, id_tag="TIMED")
    assert run_session_limit_task(task("reach", first, "duration"), services) == {"stop": True}
    assert run_session_limit_task(task("reach", first, "duration"), services) == {"stop": True}  # a retried task
    meter(station, first, "2026-11-24T10:01:00Z", wh=5000)  # energy too, after: too late
    assert services.transactions.get(first).limit_reached is LimitKind.DURATION
    assert [event["detail"]["limitReached"] for event in follow_ups(table, first)["EVENT"]] == ["duration"]

    second = start(station, 2, id_tag="TIMED2", at="2026-11-24T10:02:00Z")
    meter(station, second, "2026-11-24T10:03:00Z", wh=5000)  # energy is due at once, before the duration
    assert run_session_limit_task(task("reach", second, "energy"), services) == {"stop": True}
    assert run_session_limit_task(task("reach", second, "duration"), services) == {"stop": False}
    assert [event["detail"]["limitReached"] for event in follow_ups(table, second)["EVENT"]] == ["energy"]


def test_a_stop_that_failed_is_reported_once_unless_the_session_stopped(station, services, table):
    transaction_id = start(station)
    assert run_session_limit_task(task("running", transaction_id, "energy"), services) == {"running": True}
    for _ in range(2):
        run_session_limit_task(task("stopFailed", transaction_id, "energy", error="StopRefused"), services)
    (event,) = follow_ups(table, transaction_id)["EVENT"]
    assert event["eventType"] == "SessionLimitStopFailed" and event["detail"]["error"] == "StopRefused"
    station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 2000, "timestamp": "2026-11-24T10:05:00Z"})
    assert run_session_limit_task(task("running", transaction_id, "energy"), services) == {"running": False}


class StepFunctions:
    class exceptions:  # noqa: N801 (the boto3 client's shape)
        class ExecutionDoesNotExist(Exception):
            pass

        class ExecutionAlreadyExists(Exception):
            pass

    def __init__(self):
        self.stopped: list[str] = []

    def start_execution(self, **request: Any) -> None:
        pass

    def stop_execution(self, **request: Any) -> None:
        self.stopped.append(request["executionArn"])


def test_the_stop_of_a_transaction_stops_its_duration_timer_and_its_app_session(api, station, services, table):
    services.step_functions = StepFunctions()
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:SessionLimit"
    services.settings = services.settings.model_copy(
        update={"session_limit_state_machine_arn": machine, "billing_hand_off_state_machine_arn": "arn:billing"}
    )
    session = api.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER", "limits": {"maxDurationSeconds": 3600}}).json
    transaction_id = start(station)
    meter(station, transaction_id, "2026-11-24T10:30:00Z", wh=1000 + 30_000)  # the energy limit stops it
    assert run_session_limit_task(task("reach", transaction_id, "energy"), services) == {"stop": True}
    key = {"pk": transaction_pk(transaction_id), "sk": "TRANSACTION"}
    before = table.get_item(Key=key)["Item"]
    station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 31_500, "timestamp": "2026-11-24T10:31:00Z", "reason": "Remote"})
    after = table.get_item(Key=key)["Item"]
    assert handle_records({"Records": [stream_record("1", "MODIFY", after, before)]}, services, REACTIONS)["batchItemFailures"] == []
    (stopped,) = services.step_functions.stopped
    assert stopped.startswith("arn:aws:states:us-east-1:123456789012:execution:SessionLimit:limit-") and stopped.endswith("-duration")
    shown = api.get(f"/sessions/{session['sessionId']}").json
    assert (shown["status"], shown["limitReached"], shown["stoppedAt"]) == ("Stopped", "energy", "2026-11-24T10:31:00.000Z")


def test_only_the_session_duration_not_reached_is_stopped(station, services, table):
    # A session stopped by its duration is being stopped by that very execution: nothing to stop.
    services.step_functions = StepFunctions()
    services.settings = services.settings.model_copy(
        update={"session_limit_state_machine_arn": "arn:aws:states:r:1:stateMachine:S", "billing_hand_off_state_machine_arn": "arn:b"}
    )
    services.id_tags.register(IdTagRecord(id_tag="T", status="Accepted"))
    transaction_id = start(station, id_tag="T")
    key = {"pk": transaction_pk(transaction_id), "sk": "TRANSACTION"}
    before = table.get_item(Key=key)["Item"]
    station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 1500, "timestamp": "2026-11-24T10:31:00Z"})
    after = table.get_item(Key=key)["Item"]
    handle_records({"Records": [stream_record("1", "MODIFY", after, before)]}, services, REACTIONS)
    assert services.step_functions.stopped == []  # no duration limit: no timer
