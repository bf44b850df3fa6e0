"""The local HTTP API in front of the `api` function: requests become payload 2.0 events as API Gateway HTTP APIs
build them, the function's answer becomes the response, errors and timeouts answer as HTTP APIs do."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from csms.runtime.settings import get_settings
from csms.runtime.wiring import get_services
from local.aws import emulated_aws
from local.runtime import LocalConfig, LocalRuntime


def request(
    url: str, method: str, path: str, body: bytes | None = None, headers: list[tuple[str, str]] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One blocking HTTP request (run it in a thread)."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers or []:
            connection.putheader(name, value)
        if body is not None and not any(name.lower() == "transfer-encoding" for name, _ in headers or []):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


async def fetch(runtime: LocalRuntime, method: str, path: str, body: bytes | None = None, **kwargs: Any):
    return await asyncio.to_thread(request, runtime.api_url, method, path, body, **kwargs)


def test_a_request_becomes_an_http_api_payload_2_0_event(run, local_runtime, functions):
    async def scenario():
        async with local_runtime() as runtime:
            await fetch(
                runtime,
                "GET",
                "/charge-points/CP%20001/commands?limit=2&x=a&x=b&q=a%20b",
                headers=[("User-Agent", "curl/8"), ("X-Custom", "1"), ("X-Custom", "2"), ("Cookie", "a=1; b=2")],
            )
            return runtime.api_url

    api_url = run(scenario())
    (event,) = functions.events["api"]
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/charge-points/CP 001/commands"  # HTTP APIs decode the path...
    assert event["rawQueryString"] == "limit=2&x=a&x=b&q=a%20b"  # ...not the raw query string
    assert event["queryStringParameters"] == {"limit": "2", "x": "a,b", "q": "a b"}
    assert event["cookies"] == ["a=1", "b=2"]
    headers = event["headers"]
    assert all(name == name.lower() for name in headers) and "cookie" not in headers
    assert headers["x-custom"] == "1,2" and headers["user-agent"] == "curl/8"
    assert headers["host"] == urlsplit(api_url).netloc and headers["x-forwarded-for"] == "127.0.0.1"
    assert "pathParameters" not in event and "body" not in event and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/charge-points/CP 001/commands",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "curl/8",
    }
    assert (context["routeKey"], context["stage"], context["accountId"]) == ("$default", "$default", "123456789012")
    assert context["apiId"] and context["domainName"] == urlsplit(api_url).netloc
    assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", context["requestId"])  # e.g. 'JNW2LiqXoAMEVHw='
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["x-amzn-trace-id"])
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["time"])
    assert abs(context["timeEpoch"] - time.time() * 1000) < 60_000


def test_text_bodies_arrive_as_text_and_binary_ones_base64(run, local_runtime, functions):
    async def scenario():
        async with local_runtime() as runtime:
            await fetch(runtime, "PUT", "/id-tags/A", b'{"status":"Blocked"}', headers=[("Content-Type", "application/json")])
            await fetch(runtime, "POST", "/upload", b"\x00\xffbin", headers=[("Content-Type", "application/octet-stream")])
            await fetch(runtime, "POST", "/chunked", b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", headers=[("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")])

    run(scenario())
    text, binary, chunked = functions.events["api"]
    assert (text["body"], text["isBase64Encoded"], text["requestContext"]["http"]["method"]) == ('{"status":"Blocked"}', False, "PUT")
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == b"\x00\xffbin"
    assert chunked["body"] == "hello world"


def test_the_function_answer_becomes_the_response(run, local_runtime, functions):
    answers = iter(
        [
            {"statusCode": 201, "headers": {"Content-Type": "application/json", "X-Thing": "yes"}, "cookies": ["s=1", "t=2"], "body": '{"ok":true}'},
            {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": base64.b64encode(b"\x89PNG").decode(), "isBase64Encoded": True},
            {"statusCode": 204, "headers": {}, "body": ""},
            {"no": "statusCode"},  # payload 2.0: taken as a 200 JSON body
        ]
    )
    functions.behaviour["api"] = lambda event, context: next(answers)

    async def scenario():
        async with local_runtime() as runtime:
            return [await fetch(runtime, "GET", f"/{n}") for n in range(4)]

    created, image, empty, bare = run(scenario())
    assert created[0] == 201 and created[2] == b'{"ok":true}'
    assert created[1]["X-Thing"] == "yes" and created[1].get_all("Set-Cookie") == ["s=1", "t=2"] and created[1]["apigw-requestid"]
    assert image[0] == 200 and image[1]["Content-Type"] == "image/png" and image[2] == b"\x89PNG"
    assert empty[0] == 204 and empty[2] == b""
    assert bare[0] == 200 and bare[1]["Content-Type"] == "application/json" and json.loads(bare[2]) == {"no": "statusCode"}


def test_a_failing_function_is_a_500_with_api_gateways_message(run, local_runtime, functions):
    def fail(event, context):
        raise RuntimeError("boom")

    functions.behaviour["api"] = fail

    async def scenario():
        async with local_runtime() as runtime:
            return await fetch(runtime, "GET", "/charge-points")

    status, _, body = run(scenario())
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})


def test_a_request_outlasting_the_integration_timeout_is_a_503(run, local_runtime, functions):
    release = threading.Event()
    functions.behaviour["api"] = lambda event, context: release.wait(5) and {"statusCode": 200, "body": "late"}

    async def scenario():
        async with local_runtime() as runtime:
            assert runtime.http_api.timeout_seconds == 29  # the function's (and API Gateway's) limit
            runtime.http_api.timeout_seconds = 0.2
            started = time.monotonic()
            answer = await fetch(runtime, "GET", "/commands/slow")
            release.set()
            return answer, time.monotonic() - started

    (status, _, body), elapsed = run(scenario())
    assert (status, json.loads(body)) == (503, {"message": "Service Unavailable"})
    assert elapsed < 2


def test_a_request_waiting_on_its_function_does_not_hold_up_stations(run, local_runtime, station, functions):
    """An operator waiting for a command's answer: the station's answer must still get through meanwhile."""
    answered = threading.Event()

    def api(event, context):
        assert answered.wait(5), "the station's message never ran"
        return {"statusCode": 200, "body": "answered"}

    def message(event, context):
        answered.set()
        return {"statusCode": 200, "body": "ok"}

    functions.behaviour["api"] = api
    functions.behaviour["message"] = message

    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            waiting = asyncio.create_task(fetch(runtime, "POST", "/charge-points/CP001/commands/Reset", b'{"type":"Soft"}'))
            await functions.wait_for("api")
            await ws.send('[3,"m1",{"status":"Accepted"}]')
            assert await asyncio.wait_for(ws.recv(), 3) == "ok"
            return await waiting

    status, _, body = run(scenario())
    assert (status, body) == (200, b"answered")


def test_keep_alive_connections_and_oversized_bodies(run, local_runtime, functions):
    async def scenario():
        async with local_runtime() as runtime:
            address = urlsplit(runtime.api_url)

            def two_requests() -> list[int]:
                connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
                statuses, sockets = [], []
                for _ in range(2):
                    connection.request("GET", "/charge-points")
                    response = connection.getresponse()
                    response.read()
                    statuses.append(response.status)
                    sockets.append(connection.sock)  # None once the server said Connection: close
                connection.close()
                assert sockets[0] is not None and sockets[0] is sockets[1]  # both requests on one connection
                return statuses

            def too_large() -> int:
                connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
                connection.putrequest("POST", "/charge-points")
                connection.putheader("Content-Length", str(11 * 1024 * 1024))
                connection.endheaders()
                status = connection.getresponse().status
                connection.close()
                return status

            return await asyncio.to_thread(two_requests), await asyncio.to_thread(too_large)

    statuses, too_large = run(scenario())
    assert statuses == [200, 200] and len(functions.events["api"]) == 2
    assert too_large == 413


def test_the_real_operator_api_answers_over_http(run):
    """The `api` function loaded from lambdas/api, against emulated DynamoDB, through the local HTTP API."""
    table_name = "csms-http-api"
    get_settings.cache_clear()
    get_services.cache_clear()

    async def scenario():
        async with LocalRuntime(LocalConfig(ws_port=0, connections_port=0, api_port=0, table_name=table_name)) as runtime:
            registered = await fetch(runtime, "PUT", "/charge-points/CP001", b'{"description":"Lobby"}', headers=[("Content-Type", "application/json")])
            read = await fetch(runtime, "GET", "/charge-points/CP001")
            missing = await fetch(runtime, "POST", "/charge-points/CP001/commands/Reset", b'{"type":"Soft"}')
            docs = await fetch(runtime, "GET", "/openapi.json")
            return registered, read, missing, docs

    try:
        with emulated_aws(table_name):
            registered, read, not_connected, docs = run(scenario(), timeout=30)
            stored = boto3.resource("dynamodb").Table(table_name).get_item(Key={"pk": "CP#CP001", "sk": "STATION"})["Item"]
    finally:
        get_settings.cache_clear()
        get_services.cache_clear()
    assert registered[0] == 201 and json.loads(registered[2])["description"] == "Lobby"
    assert read[0] == 200 and json.loads(read[2])["connected"] is False
    assert not_connected[0] == 409 and "not connected" in json.loads(not_connected[2])["message"]
    assert docs[0] == 200 and "/charge-points/{chargePointId}" in json.loads(docs[2])["paths"]
    assert stored["description"] == "Lobby" and stored["registered"] is True


@pytest.mark.parametrize(
    ("framing", "message"),
    [
        (b"Content-Length: abc\r\n\r\n", "Bad Request: malformed Content-Length"),
        (b"Content-Length: -5\r\n\r\n", "Bad Request: malformed Content-Length"),
        (b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "Bad Request: conflicting Content-Length headers"),
        (b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", "Bad Request: malformed chunk size"),
        (b"Transfer-Encoding: chunked\r\n\r\n1\r\n{}\r\n0\r\n\r\n", "Bad Request: a chunk is longer than its size"),
    ],
)
def test_a_body_whose_end_cannot_be_found_is_a_400_not_a_dropped_connection(run, local_runtime, functions, framing, message):
    async def scenario():
        async with local_runtime() as runtime:
            address = urlsplit(runtime.api_url)
            reader, writer = await asyncio.open_connection(address.hostname, address.port)
            writer.write(b"PUT /charge-points/CP1 HTTP/1.1\r\nHost: x\r\n" + framing)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), timeout=5)  # read to the end: the server closes
            writer.close()
            return answer

    head, _, body = run(scenario()).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in head
    assert json.loads(body) == {"message": message}
    assert functions.events.get("api", []) == []
