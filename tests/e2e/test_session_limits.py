"""Issue 10 "Done when", session limits: against the local runtime, a station built on the `ocpp` package
(the simulator's ChargePoint) charges an app session with a limit; the CSMS stops it by itself with one
RemoteStopTransaction (the SessionLimit workflow, run by moto's interpreter with a real Wait), the transaction
and the session say which limit stopped it, and each of the session's driver events (SessionStarted,
SessionLimitReached, SessionEnded) is written once to the events file."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from csms.domain.clock import from_iso
from csms.events.catalog import EventType, schema
from infra.workflows import SESSION_LIMIT
from simulator.station import SimulatedChargePoint
from tests.e2e.conftest import eventually
from tests.e2e.operator_client import OperatorApi
from tests.e2e.test_operator_commands import started_station, stopped
from tests.examples import STANDARD_TARIFF
from tests.fakes.clock import RunningClock

pytestmark = pytest.mark.e2e


def events_of(events_file, event_type: EventType) -> list[dict[str, Any]]:
    lines = events_file.read_text().splitlines() if events_file.exists() else []
    return [event for event in map(json.loads, lines) if event["detail-type"] == event_type]


def remote_stops(station: SimulatedChargePoint) -> list[Any]:
    return [received for received in station.received_calls if received.action == "RemoteStopTransaction"]


async def limited_session(runtime, events_file, limits: dict[str, Any], *, power_w: int, tariff: bool = False) -> dict[str, Any]:
    """An app session with `limits` on a station charging at `power_w` (a minute of it every 3 s), until the CSMS
    stops it; returns the transaction, checked to be stopped once by the CSMS for its limit."""
    api = OperatorApi(runtime.api_url)
    if tariff:
        assert (await api.request("PUT", "/tariffs/STANDARD", STANDARD_TARIFF))[0] == 201
        assert (await api.request("PUT", "/charge-points/CP-LIMIT", {"tariffId": "STANDARD"}))[0] == 201
    assert (await api.request("PUT", "/id-tags/APP-DRIVER", {"status": "Accepted"}))[0] == 201
    station, running = await started_station(runtime, "CP-LIMIT", ev_power_w=power_w)
    station.time_scale = 0.05  # a 60 s sample interval is 3 s here
    status, session = await api.request(
        "POST", "/sessions", {"chargePointId": "CP-LIMIT", "connectorId": 1, "idTag": "APP-DRIVER", "limits": limits}
    )
    assert status == 201, session

    async def stopped_transaction() -> dict[str, Any] | None:
        _, shown = await api.request("GET", f"/sessions/{session['sessionId']}")
        if shown["status"] != "Stopped":
            return None
        _, transaction = await api.request("GET", f"/transactions/{shown['transactionId']}")
        return {"session": shown, "transaction": transaction}

    done: dict[str, Any] = {}

    async def check() -> bool:
        found = await stopped_transaction()
        if found:
            done.update(found)
        return bool(found)

    await _eventually_async(check, timeout=40)
    # Exactly one RemoteStopTransaction, and the station stopped for it.
    assert len(remote_stops(station)) == 1
    transaction = done["transaction"]
    assert transaction["stopReason"] == "Remote"
    assert done["session"]["limitReached"] == transaction["limitReached"]
    # The driver's events of the session: each once, each its own eventId, each as its schema says.
    ended = await eventually(lambda: session_events(events_file, transaction["transactionId"], EventType.SESSION_ENDED), timeout=20)
    await stopped(station, running)
    told = session_events(events_file, transaction["transactionId"])
    assert sorted(event["detail-type"] for event in told) == sorted(
        [EventType.SESSION_STARTED, EventType.SESSION_LIMIT_REACHED, EventType.SESSION_ENDED]
    )
    assert len({event["detail"]["eventId"] for event in told}) == len(told)
    for event in told:
        jsonschema.Draft4Validator(schema(EventType(event["detail-type"]))).validate(event)
        assert event["source"] == "csms.sessions"
    (reached,) = session_events(events_file, transaction["transactionId"], EventType.SESSION_LIMIT_REACHED)
    assert reached["detail"]["limitReached"] == transaction["limitReached"]
    assert events_of(events_file, EventType.SESSION_LIMIT_STOP_FAILED) == []
    transaction["ended"] = ended[0]["detail"]
    return transaction


def session_events(events_file, transaction_id: int, event_type: EventType | None = None) -> list[dict[str, Any]]:
    """The csms.sessions events of one transaction in the events file (of one type, if given)."""
    lines = events_file.read_text().splitlines() if events_file.exists() else []
    return [
        event
        for event in map(json.loads, lines)
        if event["source"] == "csms.sessions"
        and event["detail"].get("transactionId") == transaction_id
        and (event_type is None or event["detail-type"] == event_type)
    ]


async def _eventually_async(check, *, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the session was not stopped in time"
        await asyncio.sleep(0.1)


def test_a_session_with_an_energy_limit_is_stopped_once_the_meter_passes_it(run_local, tmp_path):
    events_file = tmp_path / "events.jsonl"

    async def scenario(runtime):
        return await limited_session(runtime, events_file, {"maxEnergyWh": 400}, power_w=11_000)

    transaction = run_local(scenario, events_file=events_file)
    assert transaction["limitReached"] == "energy"
    # Recorded as reached, so reached: never stopped before the limit; and at the predicted crossing, not up to a
    # sample (183 Wh) later. The station stamps whole seconds, a second of it being 61 Wh: the prediction is late by
    # a fraction of that second at most.
    assert 400 <= transaction["energyWh"] < 400 + 183
    assert transaction["ended"]["energyWh"] == transaction["energyWh"]


def test_a_session_with_a_duration_limit_is_stopped_when_the_time_is_up(run_local, tmp_path):
    events_file = tmp_path / "events.jsonl"

    async def scenario(runtime):
        return await limited_session(runtime, events_file, {"maxDurationSeconds": 2}, power_w=11_000)

    transaction = run_local(scenario, events_file=events_file)
    assert transaction["limitReached"] == "duration"
    assert (from_iso(transaction["stoppedAt"]) - from_iso(transaction["startedAt"])).total_seconds() >= 2


def test_a_session_with_a_cost_limit_is_stopped_when_the_running_cost_passes_it(run_local, tmp_path):
    events_file = tmp_path / "events.jsonl"

    async def scenario(runtime):
        # 1.00 flat + 0.30/kWh + 2.00/h, 20 % VAT: 1.20 at the start, 1.50 after about 0.8 kWh.
        limits = {"maxCost": {"amount": "1.50", "currency": "EUR"}}
        return await limited_session(runtime, events_file, limits, power_w=22_000, tariff=True)

    transaction = run_local(scenario, events_file=events_file)
    assert transaction["limitReached"] == "cost"
    assert transaction["energyWh"] >= 500
    # The cost the driver is told at the end is at least the limit, in its currency.
    cost = transaction["ended"]["cost"]
    assert cost["currency"] == "EUR" and Decimal(cost["amount"]) >= Decimal("1.50")


def test_a_station_that_refuses_every_stop_gets_the_configured_tries_then_one_session_limit_stop_failed(run_local, tmp_path):
    """The SessionLimit definition's retries as moto runs them, their 20 s doubling intervals on the CSMS clock (the
    test moves it on; nothing in the definition or the code is shortened)."""
    events_file = tmp_path / "events.jsonl"
    definition = json.loads(SESSION_LIMIT.definition_path.read_text())  # the one the stack deploys
    (retry,) = definition["States"]["StopSession"]["Retry"]
    tries = 1 + retry["MaxAttempts"]
    clock = RunningClock(datetime.now(UTC))  # the station stamps real time: the CSMS clock starts there too

    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        assert (await api.request("PUT", "/id-tags/APP-DRIVER", {"status": "Accepted"}))[0] == 201
        station, running = await started_station(
            runtime, "CP-REFUSES", ev_power_w=11_000, answers={"RemoteStopTransaction": {"status": "Rejected"}}
        )
        station.time_scale = 0.05
        body = {"chargePointId": "CP-REFUSES", "connectorId": 1, "idTag": "APP-DRIVER", "limits": {"maxEnergyWh": 200}}
        status, _ = await api.request("POST", "/sessions", body)
        assert status == 201
        await eventually(lambda: remote_stops(station), timeout=20)

        async def move_the_clock_on() -> None:
            while True:  # each retry interval ends by the clock: a few real seconds for the 140 s of waits
                clock.advance(seconds=5)
                await asyncio.sleep(0.05)

        mover = asyncio.create_task(move_the_clock_on())
        try:
            failed = await eventually(lambda: events_of(events_file, EventType.SESSION_LIMIT_STOP_FAILED), timeout=30)
        finally:
            mover.cancel()
        refused = len(remote_stops(station))
        await stopped(station, running)
        return failed, refused

    failed, refused = run_local(scenario, clock=clock, events_file=events_file)
    assert refused == tries
    (event,) = failed
    jsonschema.Draft4Validator(schema(EventType.SESSION_LIMIT_STOP_FAILED)).validate(event)
    assert event["source"] == "csms.sessions"
    assert event["detail"]["limitReached"] == "energy" and event["detail"]["error"] == "StopRefused"
