"""What misbehaving or unlucky stations see: broken frames, ghost connections, oversize frames, bad credentials."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from csms.adapters.dynamodb.keys import station_key
from csms.domain.passwords import hash_password
from tests.e2e.conftest import table

pytestmark = pytest.mark.e2e

BOOT = [2, "boot-1", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "Wallbox"}]


async def open_socket(runtime, charge_point_id="CP001", subprotocols=("ocpp1.6",), **options):
    return await websockets.connect(
        runtime.station_url(charge_point_id), subprotocols=list(subprotocols) if subprotocols else None, **options
    )


async def exchange(socket, frame) -> list:
    await socket.send(frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(await asyncio.wait_for(socket.recv(), timeout=10))


def test_broken_and_invalid_frames_get_the_right_call_errors(run_local):
    async def scenario(runtime):
        async with await open_socket(runtime) as socket:
            assert (await exchange(socket, BOOT))[2]["status"] == "Accepted"
            cases = [
                ("this is not json", [4, "-1", "FormationViolation"]),
                ([2, "m1", "Heartbeat", {}, "extra"], [4, "m1", "FormationViolation"]),
                ([7, "m2", "Heartbeat", {}], [4, "m2", "ProtocolError"]),
                ([2, "m3", "TeleportCar", {}], [4, "m3", "NotImplemented"]),
                ([2, "m4", "RemoteStartTransaction", {"idTag": "X"}], [4, "m4", "NotSupported"]),
                ([2, "m5", "StatusNotification", {"connectorId": "one", "errorCode": "NoError", "status": "Available"}], [4, "m5", "TypeConstraintViolation"]),
                ([2, "m6", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Asleep"}], [4, "m6", "PropertyConstraintViolation"]),
                ([2, "m7", "Authorize", {}], [4, "m7", "ProtocolError"]),
                ([2, "m8", "Authorize", {"idTag": "X" * 21}], [4, "m8", "TypeConstraintViolation"]),
                ([2, "m9", "Heartbeat", {"unexpected": True}], [4, "m9", "FormationViolation"]),
                ([2, "m10", "MeterValues", {"connectorId": 1, "meterValue": []}], [4, "m10", "OccurenceConstraintViolation"]),
            ]
            for frame, expected in cases:
                assert (await exchange(socket, frame))[:3] == expected, frame
            # The connection survives all of that.
            assert (await exchange(socket, [2, "ok", "Heartbeat", {}]))[0] == 3

    run_local(scenario)


def test_a_station_that_has_not_booted_gets_security_error(run_local):
    async def scenario(runtime):
        table().put_item(Item={**station_key("CP777"), "chargePointId": "CP777", "registered": True})
        async with await open_socket(runtime, "CP777") as socket:
            assert (await exchange(socket, [2, "h", "Heartbeat", {}]))[:3] == [4, "h", "SecurityError"]
            assert (await exchange(socket, BOOT))[2]["status"] == "Accepted"
            assert (await exchange(socket, [2, "h2", "Heartbeat", {}]))[0] == 3

    run_local(scenario)


def test_the_newest_connection_wins_and_the_old_ones_late_disconnect_changes_nothing(run_local):
    async def scenario(runtime):
        first = await open_socket(runtime)
        await exchange(first, BOOT)
        first_id = table().get_item(Key=station_key("CP001"))["Item"]["connectionId"]
        second = await open_socket(runtime)
        # The CSMS closes the ghost: the first socket is closed by the server.
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(first.recv(), timeout=10)
        await asyncio.sleep(0.3)  # let the first connection's $disconnect run
        current = table().get_item(Key=station_key("CP001"))["Item"]["connectionId"]
        assert current != first_id
        assert (await exchange(second, [2, "h", "Heartbeat", {}]))[0] == 3
        await second.close()

    run_local(scenario)


def test_a_frame_over_32_kb_closes_the_connection_with_1009(run_local):
    async def scenario(runtime):
        async with await open_socket(runtime) as socket:
            await exchange(socket, BOOT)
            await socket.send(json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "A" * 40_000}]))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(socket.recv(), timeout=10)
            assert socket.close_code == 1009

    run_local(scenario)


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_a_station_with_a_password_needs_the_right_credentials(run_local):
    async def scenario(runtime):
        table().put_item(Item={**station_key("CP042"), "chargePointId": "CP042", "registered": True,
                               "passwordHash": hash_password("a-long-authorization-key")})
        for headers in ({}, basic("CP042", "wrong"), basic("CP043", "a-long-authorization-key")):
            with pytest.raises(InvalidStatus) as refused:
                await open_socket(runtime, "CP042", additional_headers=headers)
            assert refused.value.response.status_code == 401
        async with await open_socket(runtime, "CP042", additional_headers=basic("CP042", "a-long-authorization-key")) as socket:
            assert (await exchange(socket, BOOT))[2]["status"] == "Accepted"

    run_local(scenario)


def test_unknown_stations_are_refused_when_the_policy_says_reject(run_local):
    async def scenario(runtime):
        with pytest.raises(InvalidStatus) as refused:
            await open_socket(runtime, "STRANGER")
        assert refused.value.response.status_code == 403

    run_local(scenario, unknown_station_policy="reject")


def test_subprotocol_negotiation_over_the_wire(run_local):
    async def scenario(runtime):
        async with await open_socket(runtime, subprotocols=("ocpp1.5", "ocpp1.6")) as socket:
            assert socket.subprotocol == "ocpp1.6"
        async with await open_socket(runtime, subprotocols=None) as socket:  # real stations sometimes offer none
            assert socket.subprotocol is None
            assert (await exchange(socket, BOOT))[2]["status"] == "Accepted"
        with pytest.raises(InvalidStatus) as refused:
            await open_socket(runtime, subprotocols=("ocpp2.0.1",))
        assert refused.value.response.status_code == 400

    run_local(scenario)


def test_of_two_connections_opened_at_the_same_moment_exactly_one_stays(run_local):
    async def try_open(runtime):
        try:
            return await open_socket(runtime)
        except InvalidStatus:  # refused at the handshake: superseded while it opened
            return None

    async def is_open(socket) -> bool:
        try:
            await exchange(socket, BOOT)
            reply = await exchange(socket, [2, "hb", "Heartbeat", {}])
        except ConnectionClosed:
            return False
        try:  # a ghost is answered, then closed
            await asyncio.wait_for(socket.recv(), timeout=0.5)
        except ConnectionClosed:
            return False
        except TimeoutError:
            pass
        return reply[0] == 3

    async def scenario(runtime):
        for _ in range(10):
            sockets = [socket for socket in await asyncio.gather(try_open(runtime), try_open(runtime)) if socket]
            survivors = [socket for socket, alive in zip(sockets, [await is_open(socket) for socket in sockets], strict=True) if alive]
            assert len(survivors) == 1
            # The station item names one current connection, and the survivor is it: it is answered, not closed.
            assert table().get_item(Key=station_key("CP001"))["Item"].get("connectionId")
            assert (await exchange(survivors[0], [2, "hb2", "Heartbeat", {}]))[0] == 3
            with pytest.raises(TimeoutError):  # a ghost would be closed right after its heartbeat's answer
                await asyncio.wait_for(survivors[0].recv(), timeout=0.3)
            for socket in sockets:
                await socket.close()

    run_local(scenario)
