"""The $connect authorizer, $connect and $disconnect against emulated DynamoDB."""

from __future__ import annotations

import base64

import pytest

from csms.adapters.dynamodb.keys import station_key
from csms.domain.passwords import hash_password
from csms.gateway.authorizer import Unauthorized, authorize_connection
from csms.gateway.connection import close_connection, negotiate_subprotocol, open_connection
from csms.gateway.events import AuthorizerEvent, ConnectEvent, DisconnectEvent
from csms.runtime.settings import UnknownStationPolicy

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:api123/prod/$connect"
CONTEXT = {
    "extendedRequestId": "x", "requestTime": "24/Nov/2026:10:00:00 +0000", "stage": "prod", "connectedAt": 1795000000000,
    "requestTimeEpoch": 1795000000000, "identity": {"sourceIp": "203.0.113.7"}, "requestId": "r",
    "domainName": "api123.execute-api.us-east-1.amazonaws.com", "apiId": "api123", "messageDirection": "IN",
}


def authorizer_event(charge_point_id="CP1", headers=None):
    return AuthorizerEvent.model_validate({
        "type": "REQUEST", "methodArn": METHOD_ARN, "headers": headers or {},
        "queryStringParameters": {"chargePointId": charge_point_id} if charge_point_id else None,
        "requestContext": CONTEXT | {"connectionId": "c1", "routeKey": "$connect", "eventType": "CONNECT"},
    })


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def effect(policy):
    return policy["policyDocument"]["Statement"][0]["Effect"]


@pytest.fixture
def station_with_password(table):
    table.put_item(Item={**station_key("CP1"), "chargePointId": "CP1", "registered": True, "lenient": True,
                         "idTagSuffixSeparator": "_", "bootStatus": "Accepted", "passwordHash": hash_password("0123456789abcdef")})


def test_right_credentials_are_allowed_with_the_station_context(services, station_with_password):
    policy = authorize_connection(authorizer_event(headers=basic("CP1", "0123456789abcdef")), services)
    assert effect(policy) == "Allow"
    assert policy["policyDocument"]["Statement"][0]["Resource"] == METHOD_ARN
    assert policy["context"] == {"chargePointId": "CP1", "lenient": "true", "bootStatus": "Accepted", "idTagSuffixSeparator": "_"}


@pytest.mark.parametrize(
    "headers",
    [{}, basic("CP1", "wrong-password-xx"), basic("CP2", "0123456789abcdef"), {"Authorization": "Bearer token"}],
    ids=["missing", "wrong password", "username is not the station", "not basic"],
)
def test_wrong_or_missing_credentials_are_unauthorized(services, station_with_password, headers):
    with pytest.raises(Unauthorized, match="^Unauthorized$"):
        authorize_connection(authorizer_event(headers=headers), services)


def test_authorization_header_name_is_case_insensitive(services, station_with_password):
    headers = {"authorization": basic("CP1", "0123456789abcdef")["Authorization"]}
    assert effect(authorize_connection(authorizer_event(headers=headers), services)) == "Allow"


def test_unknown_station_is_denied_under_the_reject_policy(services):
    assert effect(authorize_connection(authorizer_event("STRANGER"), services)) == "Deny"


@pytest.mark.parametrize("policy", [UnknownStationPolicy.ACCEPT, UnknownStationPolicy.PENDING])
def test_unknown_station_may_connect_under_accept_and_pending(services, policy):
    services.settings = services.settings.model_copy(update={"unknown_station_policy": policy})
    answer = authorize_connection(authorizer_event("STRANGER"), services)
    assert effect(answer) == "Allow"
    assert answer["context"] == {"chargePointId": "STRANGER", "lenient": "false", "bootStatus": "", "idTagSuffixSeparator": ""}


def test_missing_station_id_is_denied(services):
    assert effect(authorize_connection(authorizer_event(None), services)) == "Deny"


@pytest.mark.parametrize("identity", ["Hall 1", "../../etc", "CP\x00", "CP\\1", "\ufffd\ufffd", "A" * 49, "x" * 2100])
def test_an_identity_outside_the_rule_is_denied_even_where_every_station_is_accepted(services, table, identity):
    services.settings = services.settings.model_copy(update={"unknown_station_policy": UnknownStationPolicy.ACCEPT})
    assert effect(authorize_connection(authorizer_event(identity), services)) == "Deny"
    assert table.scan()["Items"] == []


def test_connections_bypassing_the_front_door_are_denied(services, station_with_password):
    services.settings = services.settings.model_copy(update={"origin_secret": "front-door-secret"})
    creds = basic("CP1", "0123456789abcdef")
    assert effect(authorize_connection(authorizer_event(headers=creds), services)) == "Deny"
    allowed = authorize_connection(authorizer_event(headers=creds | {"X-Origin-Verify": "front-door-secret"}), services)
    assert effect(allowed) == "Allow"


def test_no_secret_reaches_the_logs(services, station_with_password, capsys):
    with pytest.raises(Unauthorized):
        authorize_connection(authorizer_event(headers=basic("CP1", "guess-guess-guess")), services)
    output = capsys.readouterr()
    assert "guess-guess-guess" not in output.out + output.err
    assert "scrypt$" not in output.out + output.err


@pytest.mark.parametrize(
    ("offered", "allow_missing", "expected"),
    [
        ("ocpp1.6", True, (True, "ocpp1.6")),
        ("ocpp1.5, ocpp1.6", True, (True, "ocpp1.6")),
        (" ocpp2.0.1 ,ocpp1.6 ", True, (True, "ocpp1.6")),
        ("ocpp2.0.1", True, (False, None)),
        (None, True, (True, None)),
        ("", False, (False, None)),
    ],
)
def test_subprotocol_negotiation(offered, allow_missing, expected):
    assert negotiate_subprotocol(offered, allow_missing=allow_missing) == expected


class RecordingConnections:
    def __init__(self):
        self.closed = []

    def close(self, connection_id):
        self.closed.append(connection_id)
        return True


def connect_event(connection_id, protocol="ocpp1.6", *, charge_point_id="CP1"):
    headers = {"Sec-WebSocket-Protocol": protocol} if protocol else {}
    return ConnectEvent.model_validate({
        "headers": headers, "multiValueHeaders": {}, "isBase64Encoded": False,
        "queryStringParameters": {"chargePointId": charge_point_id},
        "requestContext": CONTEXT | {"connectionId": connection_id, "routeKey": "$connect", "eventType": "CONNECT",
                                     "authorizer": {"principalId": charge_point_id, "chargePointId": charge_point_id}},
    })


def disconnect_event(connection_id, *, charge_point_id="CP1"):
    return DisconnectEvent.model_validate({
        "headers": {}, "multiValueHeaders": {}, "isBase64Encoded": False,
        "requestContext": CONTEXT | {"connectionId": connection_id, "routeKey": "$disconnect", "eventType": "DISCONNECT",
                                     "disconnectStatusCode": 1006, "disconnectReason": "",
                                     "authorizer": {"principalId": charge_point_id, "chargePointId": charge_point_id}},
    })


def test_connect_answers_the_subprotocol_and_records_the_connection(services, table):
    services.connections = RecordingConnections()
    assert open_connection(connect_event("c1"), services) == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "ocpp1.6"}}
    item = table.get_item(Key=station_key("CP1"))["Item"]
    assert item["connectionId"] == "c1" and item["sourceIp"] == "203.0.113.7"
    assert open_connection(connect_event("c0", protocol=None), services) == {"statusCode": 200}
    assert open_connection(connect_event("cx", protocol="ocpp2.0.1"), services) == {"statusCode": 400}


def test_the_newest_connection_wins_and_a_late_disconnect_changes_nothing(services, table):
    services.connections = RecordingConnections()
    open_connection(connect_event("old"), services)
    open_connection(connect_event("new"), services)
    assert services.connections.closed == ["old"]  # the ghost socket is closed
    close_connection(disconnect_event("old"), services)
    assert table.get_item(Key=station_key("CP1"))["Item"]["connectionId"] == "new"
    close_connection(disconnect_event("new"), services)
    item = table.get_item(Key=station_key("CP1"))["Item"]
    assert "connectionId" not in item and "disconnectedAt" in item


def test_of_two_connections_opened_at_once_the_one_superseded_while_opening_is_refused(services, table):
    services.connections = RecordingConnections()
    record = services.stations.record_connection
    answers = {}

    def record_while_another_opens(charge_point_id, connection_id, **details):
        previous = record(charge_point_id, connection_id, **details)
        if connection_id == "first":  # the second connection records itself before the first one is open
            answers["second"] = open_connection(connect_event("second"), services)
        return previous

    services.stations.record_connection = record_while_another_opens
    answers["first"] = open_connection(connect_event("first"), services)
    assert (answers["first"]["statusCode"], answers["second"]["statusCode"]) == (409, 200)
    assert table.get_item(Key=station_key("CP1"))["Item"]["connectionId"] == "second"


def test_a_ghost_connection_is_closed_at_its_first_heartbeat_and_still_answered(services, table):
    from tests.integration.stations import Station

    services.connections = RecordingConnections()
    table.put_item(Item={**station_key("CP1"), "chargePointId": "CP1", "registered": True, "bootStatus": "Accepted", "connectionId": "current"})
    ghost = Station(services, "CP1", connection_id="ghost")
    assert "currentTime" in ghost.result("Heartbeat", {})
    assert services.connections.closed == ["ghost"]
    assert "currentTime" in Station(services, "CP1", connection_id="current").result("Heartbeat", {})
    assert services.connections.closed == ["ghost"]
