"""Every central-system command of OCPP 1.6 through the operator API to a station simulator built on the
`ocpp` package, over the local runtime; and the ways a command can go wrong."""

from __future__ import annotations

import asyncio

import pytest

from csms.ocpp.v16.actions import CENTRAL_SYSTEM_ACTIONS
from csms.operator.command_examples import COMMAND_EXAMPLES
from simulator.station import SimulatedChargePoint
from tests.e2e.operator_client import OperatorApi

pytestmark = pytest.mark.e2e


async def started_station(runtime, charge_point_id="CP100", **hooks) -> tuple[SimulatedChargePoint, asyncio.Task]:
    station = SimulatedChargePoint(charge_point_id, time_scale=0.01, reconnect_delay=(0.05, 0.5), **hooks)
    running = asyncio.create_task(station.run(runtime.station_url(charge_point_id)))
    await asyncio.wait_for(station.wait_booted(), timeout=20)
    return station, running


async def stopped(station: SimulatedChargePoint, running: asyncio.Task) -> None:
    await station.stop()
    await running
    assert station.errors == []


def test_every_central_system_action_reaches_the_station_and_its_answer_comes_back(run_local):
    assert set(COMMAND_EXAMPLES) == set(CENTRAL_SYSTEM_ACTIONS)

    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        station, running = await started_station(runtime)
        answers = {}
        for action in sorted(CENTRAL_SYSTEM_ACTIONS, key=lambda name: name == "Reset"):  # Reset reboots: last
            status, body = await api.command("CP100", action, COMMAND_EXAMPLES[action])
            answers[action] = (status, body)
        assert {action: status for action, (status, _) in answers.items()} == dict.fromkeys(CENTRAL_SYSTEM_ACTIONS, 200)
        received = [call.action for call in station.received_calls]
        assert set(received) >= set(CENTRAL_SYSTEM_ACTIONS)
        # What came back is what the station answered, call by call.
        by_id = {call.unique_id: call for call in station.received_calls}
        for action, (_, body) in answers.items():
            call = by_id[body["commandId"]]
            assert call.action == action and body["response"] == call.response, action
        assert station.overlapping_calls == []
        await stopped(station, running)

    run_local(scenario)


def test_answers_change_what_the_operator_sees(run_local):
    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        station, running = await started_station(runtime)
        assert (await api.command("CP100", "GetConfiguration", {}))[0] == 200
        assert (await api.command("CP100", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}))[1]["response"] == {"status": "Accepted"}
        assert (await api.command("CP100", "SetChargingProfile", COMMAND_EXAMPLES["SetChargingProfile"]))[1]["response"] == {"status": "Accepted"}
        assert (await api.command("CP100", "SendLocalList", COMMAND_EXAMPLES["SendLocalList"]))[1]["response"] == {"status": "Accepted"}
        status, seen = await api.request("GET", "/charge-points/CP100")
        assert status == 200 and seen["connected"] is True
        keys = seen["configuration"]["keys"]
        assert keys["HeartbeatInterval"] == {"value": "120", "readonly": False}  # reported, then changed
        assert "AuthorizationKey" not in keys  # write-only, never kept
        assert seen["localListVersion"] == 2
        (profile,) = seen["chargingProfiles"]
        assert profile["connectorId"] == 1
        assert profile["chargingProfile"] == COMMAND_EXAMPLES["SetChargingProfile"]["csChargingProfiles"]
        status, history = await api.request("GET", "/charge-points/CP100/commands")
        assert status == 200
        assert [command["action"] for command in history["items"]] == [
            "SendLocalList", "SetChargingProfile", "ChangeConfiguration", "GetConfiguration"
        ]  # newest first
        await stopped(station, running)

    run_local(scenario)


def test_two_commands_at_once_reach_the_station_one_after_the_other(run_local):
    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        station, running = await started_station(runtime, delays={"ClearCache": 1.0})
        first, second = await asyncio.gather(
            api.command("CP100", "ClearCache", {}), api.command("CP100", "GetLocalListVersion", {})
        )
        assert first[0] == 200 and second[0] == 200
        calls = [call for call in station.received_calls if call.action in ("ClearCache", "GetLocalListVersion")]
        assert len(calls) == 2 and station.overlapping_calls == []
        earlier, later = sorted(calls, key=lambda call: call.received_at)
        assert later.received_at >= earlier.answered_at
        await stopped(station, running)

    run_local(scenario)


def test_what_goes_wrong_gets_the_right_status(run_local, monkeypatch):
    monkeypatch.setenv("COMMAND_WAIT_SECONDS", "1")

    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        station, running = await started_station(
            runtime, failures={"UnlockConnector": "InternalError"}, delays={"GetDiagnostics": 2.5}
        )
        status, body = await api.command("CP100", "UnlockConnector", {"connectorId": 1})
        assert status == 502 and body["code"] == "InternalError"
        status, body = await api.command("CP100", "Reset", {"type": "Gentle"})
        assert status == 400 and "type" in body["message"]
        status, body = await api.command("CP100", "Heartbeat", {})
        assert status == 400 and "not an OCPP 1.6 action a central system sends" in body["message"]
        status, body = await api.command("NOBODY", "Reset", {"type": "Soft"})
        assert status == 404 and "NOBODY" in body["message"]
        assert (await api.request("PUT", "/charge-points/OFFLINE1", {"description": "not plugged in yet"}))[0] == 201
        status, body = await api.command("OFFLINE1", "Reset", {"type": "Soft"})
        assert status == 409 and body["message"] == "Charge point OFFLINE1 is not connected"
        # Not answered within the wait: 504, the command stays recorded and the late answer is kept.
        status, body = await api.command("CP100", "GetDiagnostics", COMMAND_EXAMPLES["GetDiagnostics"])
        assert status == 504
        command_id = body["commandId"]
        for _ in range(50):
            status, command = await api.request("GET", f"/commands/{command_id}")
            if command["status"] == "Answered":
                break
            await asyncio.sleep(0.1)
        assert command["status"] == "Answered" and "fileName" in command["response"]
        # Without waiting: 202 and a command id to look up.
        status, body = await api.command("CP100", "ClearCache", {}, query="?wait=false")
        assert status == 202 and body["commandId"]
        await stopped(station, running)

    run_local(scenario)


def test_a_remote_session_is_started_and_stopped_by_connector(run_local):
    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        assert (await api.request("PUT", "/id-tags/APP-USER-7", {"status": "Accepted"}))[0] == 201
        station, running = await started_station(runtime)
        status, body = await api.command("CP100", "RemoteStartTransaction", {"connectorId": 2, "idTag": "APP-USER-7"})
        assert status == 200 and body["response"] == {"status": "Accepted"}
        for _ in range(100):  # the station authorizes, then starts the transaction after answering
            status, active = await api.request("GET", "/transactions?chargePointId=CP100&active=true")
            if active["items"]:
                break
            await asyncio.sleep(0.1)
        (transaction,) = active["items"]
        assert transaction["connectorId"] == 2 and transaction["idTag"] == "APP-USER-7"
        status, body = await api.request("POST", "/charge-points/CP100/connectors/2/stop")
        assert status == 200 and body["response"] == {"status": "Accepted"}
        for _ in range(100):
            status, stopped_transaction = await api.request("GET", f"/transactions/{transaction['transactionId']}")
            if stopped_transaction.get("stoppedAt"):
                break
            await asyncio.sleep(0.1)
        assert stopped_transaction["stopReason"] == "Remote"
        assert (await api.request("POST", "/charge-points/CP100/connectors/2/stop"))[0] == 404  # nothing runs there now
        await stopped(station, running)

    run_local(scenario)
