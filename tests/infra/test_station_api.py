"""The WebSocket API: authorized $connect, two-way $default, $disconnect; a logged, throttled stage."""

from __future__ import annotations

import json
from typing import Any

from csms.gateway.authorizer import ORIGIN_HEADER
from infra.manifest import CHARGE_POINT_ID_QUERY_PARAMETER, FUNCTIONS, WEBSOCKET_AUTHORIZER
from infra.stack import STAGE_NAME
from tests.infra.conftest import FULL_CONTEXT, Synthesized


def routes_by_key(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    api = {"Ref": synthesized.logical_id(synthesized.stack.station_api.api)}
    return {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in synthesized.resources("AWS::ApiGatewayV2::Route").values()
        if route["Properties"]["ApiId"] == api
    }


def authorizer(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    (item,) = synthesized.resources("AWS::ApiGatewayV2::Authorizer").items()
    return item[0], item[1]["Properties"]


def stage(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.json["Resources"][synthesized.logical_id(synthesized.stack.station_api.stage)]["Properties"]


def test_connect_is_behind_the_lambda_request_authorizer(deployed: Synthesized):
    authorizer_id, properties = authorizer(deployed)
    assert properties["AuthorizerType"] == "REQUEST"
    function = deployed.logical_id(deployed.stack.functions[WEBSOCKET_AUTHORIZER])
    assert {"Fn::GetAtt": [function, "Arn"]} in properties["AuthorizerUri"]["Fn::Join"][1]
    connect = routes_by_key(deployed)["$connect"]
    assert connect["AuthorizationType"] == "CUSTOM"
    assert connect["AuthorizerId"] == {"Ref": authorizer_id}


def test_stations_without_a_password_reach_the_authorizer(deployed: Synthesized):
    # A missing identity source means 401 before the authorizer runs: it must never be Authorization.
    identity_source = authorizer(deployed)[1]["IdentitySource"]
    assert identity_source == [
        f"route.request.querystring.{CHARGE_POINT_ID_QUERY_PARAMETER}",
        f"route.request.header.{ORIGIN_HEADER}",
    ]
    assert not any("authorization" in source.lower() for source in identity_source)


def test_default_is_two_way_the_handlers_return_value_is_the_reply(deployed: Synthesized):
    routes = routes_by_key(deployed)
    assert routes["$default"]["RouteResponseSelectionExpression"] == "$default"
    (response,) = deployed.resources("AWS::ApiGatewayV2::RouteResponse").values()
    assert response["Properties"]["RouteResponseKey"] == "$default"
    assert "RouteResponseSelectionExpression" not in routes["$disconnect"]
    assert "RouteResponseSelectionExpression" not in routes["$connect"]


def test_the_stage_logs_every_connection_and_message_as_json(deployed: Synthesized):
    properties = stage(deployed)
    assert properties["StageName"] == STAGE_NAME
    assert properties["AutoDeploy"] is True
    log_group = deployed.logical_id(deployed.stack.station_api.access_log_group)
    assert properties["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": [log_group, "Arn"]}
    fields = json.loads(properties["AccessLogSettings"]["Format"])
    assert {"requestId", "routeKey", "status", "connectionId", "chargePointId", "authorizerStatus"} <= set(fields)
    assert deployed.json["Resources"][log_group]["Properties"]["RetentionInDays"] == 30


def test_websocket_logging_has_its_account_role(deployed: Synthesized):
    # API Gateway refuses WebSocket stage logging until the region's CloudWatch role is set.
    (account,) = deployed.resources("AWS::ApiGateway::Account").values()
    assert account["DeletionPolicy"] == "Retain"
    assert account_logging_dependency(deployed)
    api_gateway = {"Service": "apigateway.amazonaws.com"}
    (role_id,) = [
        role_id
        for role_id, role in deployed.resources("AWS::IAM::Role").items()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == api_gateway
    ]
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_an_account_whose_logging_role_another_stack_manages_keeps_it(full: Synthesized):
    assert not full.resources("AWS::ApiGateway::Account")
    assert "DependsOn" not in full.json["Resources"][full.logical_id(full.stack.station_api.stage)]


def account_logging_dependency(synthesized: Synthesized) -> bool:
    (account_id,) = synthesized.resources("AWS::ApiGateway::Account")
    stage_id = synthesized.logical_id(synthesized.stack.station_api.stage)
    return account_id in synthesized.json["Resources"][stage_id]["DependsOn"]


def test_the_stage_is_throttled(deployed: Synthesized, full: Synthesized):
    assert stage(deployed)["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 2000, "ThrottlingRateLimit": 1000}
    throttle = FULL_CONTEXT["stationApiThrottle"]
    assert stage(full)["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": throttle["burstLimit"],
        "ThrottlingRateLimit": throttle["rateLimit"],
    }


def test_only_the_functions_that_post_may_manage_connections(deployed: Synthesized):
    for spec in FUNCTIONS:
        actions = [statement["Action"] for statement in deployed.function_statements(spec.name)]
        assert ("execute-api:ManageConnections" in actions) == (spec.posts_to_connections or spec.closes_connections), spec.name


def test_managing_connections_is_limited_to_sending_and_closing_on_this_stage(deployed: Synthesized):
    api = deployed.logical_id(deployed.stack.station_api.api)
    for spec in FUNCTIONS:
        statements = [s for s in deployed.function_statements(spec.name) if s["Action"] == "execute-api:ManageConnections"]
        if not statements:
            continue
        (statement,) = statements
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        suffixes = sorted(resource["Fn::Join"][1][-1] for resource in resources)
        expected = [f"/{STAGE_NAME}/{method}/@connections/*" for method, used in
                    (("DELETE", spec.closes_connections), ("POST", spec.posts_to_connections)) if used]
        assert suffixes == expected, spec.name
        assert all({"Ref": api} in resource["Fn::Join"][1] for resource in resources)


def test_functions_that_post_know_the_https_management_url_of_the_stage(deployed: Synthesized):
    api = deployed.logical_id(deployed.stack.station_api.api)
    expected = {
        "Fn::Join": [
            "",
            [
                "https://",
                {"Ref": api},
                ".execute-api.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                f"/{STAGE_NAME}",
            ],
        ]
    }
    for spec in FUNCTIONS:
        function = deployed.json["Resources"][deployed.logical_id(deployed.stack.functions[spec.name])]
        variables = function["Properties"]["Environment"]["Variables"]
        if spec.posts_to_connections or spec.closes_connections:
            assert variables["CONNECTIONS_ENDPOINT_URL"] == expected
        else:
            assert "CONNECTIONS_ENDPOINT_URL" not in variables


def test_websocket_api_url_is_an_output(deployed: Synthesized):
    value = deployed.template.find_outputs("WebSocketApiUrl")["WebSocketApiUrl"]["Value"]
    assert value["Fn::Join"][1][0] == "wss://"
    assert value["Fn::Join"][1][-1] == f"/{STAGE_NAME}"
