"""API Gateway's WebSocket quotas, observed by the station: close codes and $disconnect."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

FRAME_QUOTA = 32 * 1024


async def _closed_by_server(ws, timeout: float = 3.0) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    return ws.close_code, ws.close_reason


def test_a_frame_of_exactly_32_kb_is_delivered(run, local_runtime, station, functions):
    functions.behaviour["message"] = lambda event, context: {"body": str(len(event["body"]))}

    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            await ws.send("x" * FRAME_QUOTA)
            return await asyncio.wait_for(ws.recv(), 2)

    assert run(scenario()) == str(FRAME_QUOTA)


def test_a_frame_over_32_kb_closes_with_1009_and_disconnect_follows(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            await ws.send("x" * (FRAME_QUOTA + 1))
            code = (await _closed_by_server(ws))[0]
            [disconnect] = await functions.wait_for("disconnect")
            return code, disconnect["requestContext"]["disconnectStatusCode"]

    assert run(scenario()) == (1009, 1009)
    assert functions.events["message"] == []


def test_a_message_over_32_kb_in_32_kb_frames_is_delivered(run, local_runtime, station, functions):
    functions.behaviour["message"] = lambda event, context: {"body": str(len(event["body"]))}

    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            await ws.send(["a" * FRAME_QUOTA, "b" * FRAME_QUOTA, "c" * 100])  # one message, three frames
            return await asyncio.wait_for(ws.recv(), 2)

    assert run(scenario()) == str(2 * FRAME_QUOTA + 100)


def test_a_message_over_128_kb_closes_with_1009(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            await ws.send(["x" * FRAME_QUOTA] * 5)
            return (await _closed_by_server(ws))[0]

    assert run(scenario()) == 1009


def test_the_frame_quota_is_configurable(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime(max_frame_bytes=100) as runtime, station(runtime) as ws:
            await ws.send("x" * 101)
            return (await _closed_by_server(ws))[0]

    assert run(scenario()) == 1009


def test_replies_over_the_frame_quota_reach_the_station_whole(run, local_runtime, station, functions):
    functions.behaviour["message"] = lambda event, context: {"body": "é" * FRAME_QUOTA}  # 64 KiB in UTF-8

    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            await ws.send("large please")
            return await asyncio.wait_for(ws.recv(), 2)

    assert run(scenario()) == "é" * FRAME_QUOTA


def test_an_idle_station_is_closed_with_1001_even_if_it_pings(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime(idle_timeout_seconds=0.4) as runtime:
            # The client pings every 0.1 s: control frames are not activity for API Gateway.
            async with station(runtime, ping_interval=0.1, ping_timeout=1) as ws:
                loop = asyncio.get_running_loop()
                started = loop.time()
                code, reason = await _closed_by_server(ws)
                elapsed = loop.time() - started
            [disconnect] = await functions.wait_for("disconnect")
            return code, reason, elapsed, disconnect["requestContext"]

    code, reason, elapsed, context = run(scenario())
    assert (code, reason) == (1001, "Going away")
    assert 0.3 < elapsed < 1.5
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (1001, "Going away")


def test_messages_keep_a_station_from_idling_out(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime(idle_timeout_seconds=0.4) as runtime, station(runtime) as ws:
            for _ in range(6):  # 0.9 s in all, more than twice the idle timeout
                await asyncio.sleep(0.15)
                await ws.send("heartbeat")
                await asyncio.wait_for(ws.recv(), 2)
            return ws.close_code

    assert run(scenario()) is None


def test_a_connection_is_closed_with_1001_at_its_maximum_duration_despite_activity(
    run, local_runtime, station, functions
):
    async def scenario():
        async with local_runtime(max_connection_seconds=0.5) as runtime, station(runtime) as ws:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(ConnectionClosed):
                while True:
                    await ws.send("still here")
                    await asyncio.wait_for(ws.recv(), 2)
                    await asyncio.sleep(0.05)
            return ws.close_code, loop.time() - started

    code, elapsed = run(scenario())
    assert code == 1001
    assert 0.4 < elapsed < 1.5
