"""The @connections API, driven by the real boto3 client inside the emulated AWS (moto lets it through)."""

from __future__ import annotations

import asyncio
import datetime
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from local.aws import emulated_aws


@pytest.fixture(autouse=True)
def aws():
    with emulated_aws("csms-test"):
        yield


def _client(runtime):
    return boto3.client("apigatewaymanagementapi", endpoint_url=runtime.connections_url)


async def _connection_id(functions) -> str:
    [event] = await functions.wait_for("connect")
    return event["requestContext"]["connectionId"]


def test_post_sends_the_data_to_the_station_as_one_text_message(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            connection_id = await _connection_id(functions)
            assert "=" in connection_id  # travels URL-encoded as %3D
            call = '[2,"42","Reset",{"type":"Soft"}]'
            response = await asyncio.to_thread(
                _client(runtime).post_to_connection, ConnectionId=connection_id, Data=call.encode()
            )
            return response["ResponseMetadata"]["HTTPStatusCode"], await asyncio.wait_for(ws.recv(), 2), call

    status, received, sent = run(scenario())
    assert status == 200
    assert received == sent


def test_get_describes_the_connection(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime() as runtime, station(runtime, user_agent_header="Wallbox/1.2") as ws:
            connection_id = await _connection_id(functions)
            await ws.send("hello")
            await ws.recv()
            return await asyncio.to_thread(_client(runtime).get_connection, ConnectionId=connection_id)

    described = run(scenario())
    assert described["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert described["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "Wallbox/1.2"}
    connected_at, last_active_at = described["ConnectedAt"], described["LastActiveAt"]
    assert connected_at.tzinfo is not None
    now = datetime.datetime.now(datetime.UTC)
    assert now - datetime.timedelta(seconds=10) < connected_at <= last_active_at <= now


def test_delete_closes_the_socket_with_1000_and_disconnect_follows(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            connection_id = await _connection_id(functions)
            client = _client(runtime)
            response = await asyncio.to_thread(client.delete_connection, ConnectionId=connection_id)
            await asyncio.wait_for(ws.wait_closed(), 2)
            [disconnect] = await functions.wait_for("disconnect")
            with pytest.raises(client.exceptions.GoneException):
                await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b"late")
            return response["ResponseMetadata"]["HTTPStatusCode"], ws.close_code, disconnect["requestContext"]

    status, close_code, context = run(scenario())
    assert status == 204
    assert close_code == 1000
    assert context["disconnectStatusCode"] == 1000


@pytest.mark.parametrize("operation", ["post_to_connection", "get_connection", "delete_connection"])
def test_an_unknown_connection_is_gone(run, local_runtime, operation):
    async def scenario():
        async with local_runtime() as runtime:
            client = _client(runtime)
            arguments = {"ConnectionId": "L0SM9cOFvHcCIhw="}
            if operation == "post_to_connection":
                arguments["Data"] = b"{}"
            with pytest.raises(client.exceptions.GoneException) as gone:
                await asyncio.to_thread(getattr(client, operation), **arguments)
            return gone.value.response

    response = run(scenario())
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 410
    assert response["Error"]["Code"] == "GoneException"


def test_a_station_that_closed_is_gone(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime() as runtime:
            async with station(runtime):
                connection_id = await _connection_id(functions)
            await functions.wait_for("disconnect")
            client = _client(runtime)
            with pytest.raises(client.exceptions.GoneException):
                await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b"[]")

    run(scenario())


def test_a_payload_over_128_kb_is_413(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime() as runtime, station(runtime):
            connection_id = await _connection_id(functions)
            client = _client(runtime)
            with pytest.raises(client.exceptions.PayloadTooLargeException) as too_large:
                await asyncio.to_thread(
                    client.post_to_connection, ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1)
                )
            fits = await asyncio.to_thread(
                client.post_to_connection, ConnectionId=connection_id, Data=json.dumps(["x" * 1000]).encode()
            )
            return too_large.value.response["ResponseMetadata"]["HTTPStatusCode"], fits

    status, fits = run(scenario())
    assert status == 413
    assert fits["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_another_stage_is_forbidden(run, local_runtime):
    async def scenario():
        async with local_runtime() as runtime:
            client = boto3.client(
                "apigatewaymanagementapi", endpoint_url=runtime.connections_url.replace("/local", "/prod")
            )
            with pytest.raises(ClientError) as forbidden:
                await asyncio.to_thread(client.get_connection, ConnectionId="L0SM9cOFvHcCIhw=")
            return forbidden.value.response["Error"]["Code"]

    assert run(scenario()) == "ForbiddenException"
