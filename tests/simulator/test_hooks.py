"""The test hooks the end-to-end tests rely on: delayed, silent and failing answers, and the record of calls."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest
from ocpp.exceptions import InternalError
from ocpp.v16 import call

from tests.simulator.central_system import CentralSystem
from tests.simulator.conftest import connected


def test_a_delayed_answer_comes_after_the_delay_and_is_recorded(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, delays={"GetLocalListVersion": 0.3}) as (station, csms):
                started = asyncio.get_running_loop().time()
                await csms.call(call.GetLocalListVersion())
                assert asyncio.get_running_loop().time() - started >= 0.3
                record = station.received_calls[-1]
                assert record.action == "GetLocalListVersion" and record.payload == {}
                assert record.outcome == "CallResult" and record.response == {"listVersion": 0}
                assert (record.answered_at - record.received_at).total_seconds() >= 0.3
                assert not record.overlapped

    run(scenario)


def test_a_silent_action_is_never_answered_and_the_next_call_does_not_count_as_overlapping(run):
    async def scenario():
        async with CentralSystem(response_timeout=0.2) as central:
            async with connected(central, silent={"GetDiagnostics"}) as (station, csms):
                with pytest.raises(asyncio.TimeoutError):
                    await csms.call(call.GetDiagnostics(location="ftp://x/"))
                assert (await csms.call(call.ClearCache())).status == "Accepted"
                silent, cleared = station.received_calls
                assert silent.outcome == "Silent" and silent.answered_at is None and silent.response is None
                assert not cleared.overlapped and station.overlapping_calls == []
                assert central.sent("DiagnosticsStatusNotification") == []  # nothing follows an unanswered call

    run(scenario)


def test_a_failure_hook_answers_with_that_call_error(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, failures={"UnlockConnector": "InternalError"}) as (station, csms):
                with pytest.raises(InternalError):
                    await csms.call(call.UnlockConnector(connector_id=1), suppress=False)
                record = station.received_calls[-1]
                assert record.outcome == "CallError" and record.response["errorCode"] == "InternalError"
                station.failures.clear()  # hooks can change while the station runs
                assert (await csms.call(call.UnlockConnector(connector_id=1))).status == "Unlocked"
                assert station.stats.command_errors == 1

    run(scenario)


def test_a_call_arriving_while_another_is_being_handled_is_marked_as_overlapping(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, delays={"Reset": 0.2}) as (station, csms):
                # Bypass the central system's one-call-at-a-time lock: two raw CALLs back to back.
                await csms.connection.send(json.dumps([2, "first", "Reset", {"type": "Soft"}]))
                await csms.connection.send(json.dumps([2, "second", "GetLocalListVersion", {}]))
                second = await station.wait_for_call("GetLocalListVersion")
                first = await station.wait_for_call("Reset")
                assert not first.overlapped and second.overlapped
                assert station.overlapping_calls == [second]
                # The quick answer went out first: each call is answered on its own.
                assert second.answered_at < first.answered_at
                assert [c.unique_id for c in station.received_calls] == ["first", "second"]
                await central.wait_for("BootNotification", count=2)  # and the Reset did reboot the station

    run(scenario)


def test_calls_sent_one_after_the_other_never_overlap(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, delays={"ChangeAvailability": 0.05}) as (station, csms):
                requests = [call.ChangeAvailability(connector_id=1, type="Operative"), call.ClearCache(), call.GetConfiguration(key=["HeartbeatInterval"])]
                await asyncio.gather(*(csms.call(r) for r in requests))  # the ocpp package's lock serialises them
                assert len(station.received_calls) == 3 and station.overlapping_calls == []
                for earlier, later in itertools.pairwise(station.received_calls):
                    assert earlier.answered_at <= later.received_at

    run(scenario)
