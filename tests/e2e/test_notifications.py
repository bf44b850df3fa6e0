"""Issue 10's notification "Done when", against the local runtime with a station built on the `ocpp` package: a
session whose SoC climbs past 80 % emits one ThresholdReached, one starting at 85 % emits none; a driver's webhook
(an HTTP server here) receives that driver's SessionStarted, ThresholdReached and SessionEnded, signed with the
driver's secret (verified here); every event is written exactly once to the events file, valid against its schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
from ocpp.v16 import call

from csms.events.catalog import EventType, schema
from tests.e2e.conftest import eventually
from tests.e2e.operator_client import OperatorApi
from tests.e2e.test_billing import connected, disconnected
from tests.examples import STANDARD_TARIFF
from tests.fakes.webhook import webhook_server

pytestmark = pytest.mark.e2e

SECRET = "the-driver-app-s-secret"
SESSION_EVENTS = {EventType.SESSION_STARTED, EventType.THRESHOLD_REACHED, EventType.SESSION_ENDED}


def lines(events_file) -> list[dict]:
    return [json.loads(line) for line in events_file.read_text().splitlines()] if events_file.exists() else []


def meter_value(minute: int, wh: int, soc: int) -> dict:
    return {
        "timestamp": f"2026-11-24T10:{minute:02d}:00Z",
        "sampledValue": [
            {"value": str(wh), "unit": "Wh", "measurand": "Energy.Active.Import.Register"},
            {"value": str(soc), "unit": "Percent", "measurand": "SoC", "location": "EV"},
        ],
    }


async def charge(station, id_tag: str, connector_id: int, socs: list[int]) -> int:
    started = await station.call(
        call.StartTransaction(connector_id=connector_id, id_tag=id_tag, meter_start=0, timestamp="2026-11-24T10:00:00Z")
    )
    transaction_id = started.transaction_id
    for minute, soc in enumerate(socs, start=1):
        await station.call(
            call.MeterValues(connector_id=connector_id, transaction_id=transaction_id, meter_value=[meter_value(minute, minute * 1000, soc)])
        )
    await station.call(
        call.StopTransaction(transaction_id=transaction_id, meter_stop=len(socs) * 1000, timestamp="2026-11-24T10:30:00Z")
    )
    return transaction_id


def test_a_driver_is_told_of_the_session_by_webhook_and_80_percent_only_on_an_upward_crossing(run_local, tmp_path, monkeypatch):
    events_file = tmp_path / "events.jsonl"
    monkeypatch.setenv("WEBHOOK_RETRY_SECONDS", "0")  # the first POST fails: its retry comes at once here

    async def scenario(runtime):
        with webhook_server() as webhook:
            webhook.answers = [503]
            api = OperatorApi(runtime.api_url)
            assert (await api.request("PUT", "/tariffs/STANDARD", STANDARD_TARIFF))[0] == 201
            assert (await api.request("PUT", "/charge-points/CP-N", {"tariffId": "STANDARD"}))[0] == 201
            notify = {"webhookUrl": webhook.url, "webhookSecret": SECRET}
            status, view = await api.request("PUT", "/id-tags/CLIMBER", {"notify": notify})
            assert status == 201 and SECRET not in json.dumps(view)
            assert (await api.request("PUT", "/id-tags/FULL", {}))[0] == 201  # no webhook: told nothing

            station, socket, task = await connected(runtime, "CP-N")
            climbing = await charge(station, "CLIMBER", 1, [70, 76, 79, 82, 78, 86])
            full = await charge(station, "FULL", 2, [85, 87, 79, 88])
            await disconnected(socket, task)

            def delivered():
                types = [post.headers["X-CSMS-Event-Type"] for post in webhook.received]
                return SESSION_EVENTS <= set(types) and types.count("SessionEnded") >= 1
            await eventually(delivered, timeout=30)

            def ended_twice():
                return sum(line["detail-type"] == "SessionEnded" for line in lines(events_file)) == 2
            await eventually(ended_twice, timeout=30)
            await runtime.table_streams[0].stop()  # every stream record delivered: no further event can come
            return climbing, full, list(webhook.received)

    climbing, full, received = run_local(scenario, events_file=events_file)

    events = [event for event in lines(events_file) if event["source"] == "csms.sessions"]
    for event in events:
        jsonschema.Draft4Validator(schema(EventType(event["detail-type"]))).validate(event)
    ids = [event["detail"]["eventId"] for event in events]
    assert len(ids) == len(set(ids)), "an event written twice"
    by_session = {
        transaction_id: sorted(event["detail-type"] for event in events if event["detail"]["transactionId"] == transaction_id)
        for transaction_id in (climbing, full)
    }
    assert by_session == {climbing: ["SessionEnded", "SessionStarted", "ThresholdReached"], full: ["SessionEnded", "SessionStarted"]}
    (threshold,) = [event["detail"] for event in events if event["detail-type"] == "ThresholdReached"]
    assert (threshold["measurand"], threshold["threshold"], threshold["value"]) == ("SoC", 80, 82)

    # The webhook got the climbing driver's events (one refused with 503 and posted again), signed, and none of FULL's.
    assert all(post.signed_with(SECRET) for post in received)
    assert {post.json["transactionId"] for post in received} == {climbing}
    assert sorted({post.headers["X-CSMS-Event-Type"] for post in received}) == ["SessionEnded", "SessionStarted", "ThresholdReached"]
    assert {post.json["eventId"] for post in received} == {event["detail"]["eventId"] for event in events if event["detail"]["transactionId"] == climbing}
    assert len(received) == 4  # three events, the first tried twice
    ended = next(post.json for post in received if post.headers["X-CSMS-Event-Type"] == "SessionEnded")
    assert (ended["energyWh"], ended["durationSeconds"], ended["cost"]["currency"]) == (6000, 1800, "EUR")
