"""The events the functions receive have exactly the keys API Gateway WebSocket sends."""

from __future__ import annotations

import re

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)

from local.events import request_time

CONTEXT_COMMON = {
    "routeKey",
    "eventType",
    "extendedRequestId",
    "requestTime",
    "messageDirection",
    "stage",
    "connectedAt",
    "requestTimeEpoch",
    "identity",
    "requestId",
    "domainName",
    "connectionId",
    "apiId",
}
API_GATEWAY_ID = re.compile(r"^[A-Za-z0-9+/]{15}=$")  # e.g. 'L0SM9cOFvHcCIhw='
REQUEST_TIME = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
AUTHORIZER = {"principalId": "CP:1+&=@", "chargePointId": "CP:1+&=@", "securityProfile": 1, "lenient": False}


def _one_station_session(run, local_runtime, station, functions):
    async def scenario():
        async with local_runtime() as runtime:
            async with station(runtime, "CP:1+&=@", user_agent_header="Wallbox/1.2") as ws:
                await ws.send('[2,"1","Heartbeat",{}]')
                assert await ws.recv() == '[2,"1","Heartbeat",{}]'
            await functions.wait_for("disconnect")

    run(scenario())


def test_authorizer_gets_a_request_authorizer_event_with_the_station_id_in_the_query(
    run, local_runtime, station, functions
):
    _one_station_session(run, local_runtime, station, functions)

    [event] = functions.events["authorizer"]
    assert set(event) == {
        "type",
        "methodArn",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "stageVariables",
        "requestContext",
    }
    assert event["type"] == "REQUEST"
    api_id = event["requestContext"]["apiId"]
    assert event["methodArn"] == f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/local/$connect"
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    assert event["queryStringParameters"] == {"chargePointId": "CP:1+&=@"}  # percent-decoded
    assert event["multiValueQueryStringParameters"] == {"chargePointId": ["CP:1+&=@"]}
    assert event["headers"]["Authorization"].startswith("Basic ")
    assert event["headers"]["Sec-WebSocket-Protocol"] == "ocpp1.6"
    assert event["multiValueHeaders"]["User-Agent"] == ["Wallbox/1.2"]
    assert set(event["requestContext"]) == CONTEXT_COMMON  # no authorizer yet
    assert event["requestContext"]["eventType"] == "CONNECT"


def test_connect_event_is_shaped_like_api_gateways_and_carries_the_authorizer_context(
    run, local_runtime, station, functions
):
    _one_station_session(run, local_runtime, station, functions)

    [event] = functions.events["connect"]
    APIGatewayWebSocketConnectEventModel.model_validate(event)
    assert set(event) == {
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "requestContext",
        "isBase64Encoded",
    }
    assert event["isBase64Encoded"] is False
    assert event["queryStringParameters"] == {"chargePointId": "CP:1+&=@"}
    assert {"Host", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "X-Amzn-Trace-Id", "X-Forwarded-For"} <= set(
        event["headers"]
    )
    context = event["requestContext"]
    assert set(context) == CONTEXT_COMMON | {"authorizer"}
    assert context["routeKey"] == "$connect"
    assert context["eventType"] == "CONNECT"
    assert context["messageDirection"] == "IN"
    assert context["stage"] == "local"
    assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "Wallbox/1.2"}
    assert context["authorizer"] == AUTHORIZER
    assert API_GATEWAY_ID.match(context["connectionId"])
    assert API_GATEWAY_ID.match(context["requestId"])
    assert REQUEST_TIME.match(context["requestTime"])
    assert context["requestTimeEpoch"] >= context["connectedAt"] > 1_700_000_000_000  # milliseconds
    assert context["connectionId"] == functions.events["authorizer"][0]["requestContext"]["connectionId"]


def test_message_event_has_the_body_and_no_headers(run, local_runtime, station, functions):
    _one_station_session(run, local_runtime, station, functions)

    [event] = functions.events["message"]
    APIGatewayWebSocketMessageEventModel.model_validate(event)
    assert set(event) == {"requestContext", "body", "isBase64Encoded"}
    assert event["body"] == '[2,"1","Heartbeat",{}]'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert set(context) == CONTEXT_COMMON | {"messageId", "authorizer"}
    assert (context["routeKey"], context["eventType"], context["messageDirection"]) == ("$default", "MESSAGE", "IN")
    assert API_GATEWAY_ID.match(context["messageId"])
    assert context["authorizer"] == AUTHORIZER
    assert context["connectionId"] == functions.events["connect"][0]["requestContext"]["connectionId"]
    assert context["connectedAt"] == functions.events["connect"][0]["requestContext"]["connectedAt"]


def test_disconnect_event_tells_who_closed_and_why(run, local_runtime, station, functions):
    _one_station_session(run, local_runtime, station, functions)

    [event] = functions.events["disconnect"]
    APIGatewayWebSocketDisconnectEventModel.model_validate(event)
    assert set(event) == {"headers", "multiValueHeaders", "requestContext", "isBase64Encoded"}
    context = event["requestContext"]
    assert set(context) == CONTEXT_COMMON | {"disconnectStatusCode", "disconnectReason", "authorizer"}
    assert (context["routeKey"], context["eventType"]) == ("$disconnect", "DISCONNECT")
    assert context["disconnectStatusCode"] == 1000  # the client closed normally
    assert context["disconnectReason"] == ""
    assert context["authorizer"] == AUTHORIZER
    assert context["connectionId"] == functions.events["connect"][0]["requestContext"]["connectionId"]


def test_the_function_gets_a_lambda_like_context(run, local_runtime, station, functions):
    _one_station_session(run, local_runtime, station, functions)

    [context] = functions.contexts["message"]
    assert context.function_name == "message"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:message"
    assert context.log_group_name == "/aws/lambda/message"
    assert 0 < context.get_remaining_time_in_millis() <= 29_000


def test_request_time_uses_english_month_names_in_utc():
    assert request_time(1_795_480_735_000) == "24/Nov/2026:00:38:55 +0000"
