"""The opening handshake: path rule, authorizer semantics, $connect's answer and subprotocol."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from local.authorizer import HandshakeRefused, authorizer_context


def _refused_status(run, local_runtime, open_station) -> tuple[int, bytes]:
    async def scenario():
        async with local_runtime() as runtime:
            with pytest.raises(InvalidStatus) as refused:
                async with open_station(runtime):
                    pass
            return refused.value.response.status_code, refused.value.response.body

    return run(scenario())


def _policy(effect: str, resource: str) -> dict:
    return {
        "principalId": "CP001",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }


@pytest.mark.parametrize(
    ("path", "status"),
    [("/ocpp", 404), ("/", 404), ("/other/CP001", 404), ("/ocpp/", 400), ("/ocpp/CP001/extra", 400),
     ("/ocpp/..%2F..%2Fetc", 400), ("/ocpp/CP%00", 400), ("/ocpp/CP%3F", 400), ("/ocpp/CP%23", 400), ("/ocpp/CP%5C1", 400),
     ("/ocpp/Hall%201", 400), ("/ocpp/%F0%9F%98%80", 400), ("/ocpp/%FF%FE", 400), ("/ocpp/%FE%FF", 400),
     ("/ocpp/" + "A" * 49, 400), ("/ocpp/" + "x" * 2100, 400)],
)  # fmt: skip
def test_anything_but_ocpp_slash_a_valid_identity_is_refused_and_invokes_nothing(
    run, local_runtime, functions, path, status
):
    async def scenario():
        async with local_runtime() as runtime:
            base = runtime.ws_url.removesuffix("/ocpp")
            with pytest.raises(InvalidStatus) as refused:
                async with connect(base + path, open_timeout=5):
                    pass
            return refused.value.response.status_code

    assert run(scenario()) == status
    assert functions.events["authorizer"] == []


def test_authorizer_raising_unauthorized_is_401_and_connect_is_not_invoked(run, local_runtime, station, functions):
    class AuthorizerRefusal(Exception):
        pass

    def unauthorized(event, context):
        raise AuthorizerRefusal("Unauthorized")  # only the message matters to API Gateway

    functions.behaviour["authorizer"] = unauthorized
    status, body = _refused_status(run, local_runtime, station)
    assert status == 401
    assert json.loads(body) == {"message": "Unauthorized"}
    assert functions.events["connect"] == []


def test_authorizer_raising_anything_else_is_500(run, local_runtime, station, functions):
    def broken(event, context):
        raise ValueError("table not found")

    functions.behaviour["authorizer"] = broken
    assert _refused_status(run, local_runtime, station)[0] == 500
    assert functions.events["connect"] == []


def test_authorizer_deny_policy_is_403(run, local_runtime, station, functions):
    functions.behaviour["authorizer"] = lambda event, context: _policy("Deny", event["methodArn"])
    assert _refused_status(run, local_runtime, station)[0] == 403
    assert functions.events["connect"] == []


def test_authorizer_allowing_another_resource_is_403(run, local_runtime, station, functions):
    functions.behaviour["authorizer"] = lambda event, context: _policy(
        "Allow", "arn:aws:execute-api:us-east-1:123456789012:otherapi/local/$connect"
    )
    assert _refused_status(run, local_runtime, station)[0] == 403
    assert functions.events["connect"] == []


def test_connect_answering_non_2xx_refuses_the_handshake_with_that_status(run, local_runtime, station, functions):
    functions.behaviour["connect"] = lambda event, context: {"statusCode": 409}
    assert _refused_status(run, local_runtime, station)[0] == 409
    assert functions.events["message"] == functions.events["disconnect"] == []


def test_connect_raising_is_500(run, local_runtime, station, functions):
    def broken(event, context):
        raise RuntimeError("boom")

    functions.behaviour["connect"] = broken
    assert _refused_status(run, local_runtime, station)[0] == 500


def test_the_subprotocol_is_the_one_the_connect_function_answers(run, local_runtime, station, functions):
    offered = []

    def trim_to_16(event, context):
        offered.append(event["headers"]["Sec-WebSocket-Protocol"])
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "ocpp1.6"}}

    functions.behaviour["connect"] = trim_to_16

    async def scenario():
        async with local_runtime() as runtime, station(runtime, subprotocols=["ocpp1.5", "ocpp1.6"]) as ws:
            return ws.subprotocol, ws.response.headers.get_all("Sec-WebSocket-Protocol")

    assert run(scenario()) == ("ocpp1.6", ["ocpp1.6"])
    assert offered == ["ocpp1.5, ocpp1.6"]


def test_the_gateway_does_not_negotiate_a_subprotocol_itself(run, local_runtime, station, functions):
    functions.behaviour["connect"] = lambda event, context: {"statusCode": 200}

    async def scenario():
        async with local_runtime() as runtime, station(runtime) as ws:
            return ws.subprotocol, ws.response.headers.get("Sec-WebSocket-Protocol")

    assert run(scenario()) == (None, None)


def test_policy_with_wildcards_and_action_lists_is_evaluated_like_iam():
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc/local/$connect"
    result = {
        "principalId": "CP001",
        "policyDocument": {
            "Statement": {
                "Action": ["sqs:*", "execute-api:invoke"],
                "Effect": "Allow",
                "Resource": "arn:aws:execute-api:*:*:abc/*",
            }
        },
        "context": {"tenant": "acme"},
    }
    assert authorizer_context(result, arn) == {"principalId": "CP001", "tenant": "acme"}
    result["policyDocument"]["Statement"] = [
        result["policyDocument"]["Statement"],
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": arn},
    ]
    with pytest.raises(HandshakeRefused) as refused:
        authorizer_context(result, arn)
    assert refused.value.status == 403


@pytest.mark.parametrize(
    "result",
    [
        None,
        {"policyDocument": {"Statement": []}},
        {"principalId": "x"},
        {"principalId": "x", "policyDocument": {"Statement": []}, "context": {"nested": {"a": 1}}},
    ],
)
def test_an_invalid_authorizer_response_is_500(result):
    with pytest.raises(HandshakeRefused) as refused:
        authorizer_context(result, "arn:aws:execute-api:us-east-1:123456789012:abc/local/$connect")
    assert refused.value.status == 500
