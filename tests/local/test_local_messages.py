"""$default: route responses, concurrency, errors, as API Gateway delivers messages."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from websockets.exceptions import ConnectionClosedError


def test_the_route_response_body_goes_back_to_the_station(run, local_runtime, station, functions):
    functions.behaviour["message"] = lambda event, context: {
        "statusCode": 200,
        "body": '[3,"19223201",{"status":"Accepted"}]',
    }

    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            await ws.send('[2,"19223201","BootNotification",{}]')
            return await asyncio.wait_for(ws.recv(), 2)

    assert run(scenario()) == '[3,"19223201",{"status":"Accepted"}]'


def test_a_result_without_body_sends_nothing(run, local_runtime, station, functions):
    # The station's CALLRESULT to a central-system call has no route response.
    functions.behaviour["message"] = lambda event, context: (
        {"statusCode": 200} if event["body"] == "no reply" else {"statusCode": 200, "body": "reply"}
    )

    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            await ws.send("no reply")
            await functions.wait_for("message", 1)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.3)
            await ws.send("something")
            return await asyncio.wait_for(ws.recv(), 2)

    assert run(scenario()) == "reply"


def test_messages_are_dispatched_without_waiting_for_the_previous_reply(run, local_runtime, station, functions):
    # Each invocation waits for the other one: only concurrent dispatch lets both finish.
    both_running = threading.Barrier(2, timeout=3)

    def wait_for_the_other(event, context):
        both_running.wait()
        return {"statusCode": 200, "body": "done " + event["body"]}

    functions.behaviour["message"] = wait_for_the_other

    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            await ws.send("first")
            await ws.send("second")
            return {await asyncio.wait_for(ws.recv(), 4), await asyncio.wait_for(ws.recv(), 4)}

    assert run(scenario()) == {"done first", "done second"}


def test_a_failing_function_makes_the_gateway_send_internal_server_error(run, local_runtime, station, functions):
    def broken(event, context):
        raise KeyError("bug")

    functions.behaviour["message"] = broken

    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            await ws.send("[2,1,")
            return json.loads(await asyncio.wait_for(ws.recv(), 2))

    reply = run(scenario())
    [event] = functions.events["message"]
    assert reply == {
        "message": "Internal server error",
        "connectionId": event["requestContext"]["connectionId"],
        "requestId": event["requestContext"]["requestId"],
    }


def test_a_binary_frame_closes_the_connection_with_1003(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            await ws.send(b"\x00\x01")
            with pytest.raises(ConnectionClosedError):
                await asyncio.wait_for(ws.recv(), 2)
            return ws.close_code

    assert run(scenario()) == 1003
    assert functions.events["message"] == []
