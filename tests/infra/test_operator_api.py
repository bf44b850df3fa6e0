"""The operator API: an HTTP API proxying every route to the operator function, IAM or JWT, throttled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from infra.config import OperatorApiAuthorization, Throttle
from infra.manifest import HTTP_API_FUNCTION
from infra.operator_api import OperatorApi
from tests.infra.conftest import FULL_CONTEXT, Synthesized
from tests.infra.test_functions_and_table import function_properties

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example"


def operator_api(stand_in_code: Path, authorization: OperatorApiAuthorization) -> Template:
    stack = Stack(App(), "OperatorApiUnderTest")
    handler = lambda_.Function(
        stack,
        "StandIn",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="handler.handler",
        code=lambda_.Code.from_asset(str(stand_in_code)),
    )
    OperatorApi(
        stack,
        "OperatorApi",
        handler=handler,
        authorization=authorization,
        throttle=Throttle(rate_limit=20, burst_limit=40),
        log_retention=logs.RetentionDays.ONE_MONTH,
    )
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def iam_api(stand_in_code: Path) -> Template:
    return operator_api(stand_in_code, OperatorApiAuthorization())


def test_every_route_goes_to_the_one_function_behind_iam_by_default(iam_api: Template):
    routes = iam_api.find_resources("AWS::ApiGatewayV2::Route")
    assert sorted(route["Properties"]["RouteKey"] for route in routes.values()) == ["ANY /", "ANY /{proxy+}"]
    assert {route["Properties"]["AuthorizationType"] for route in routes.values()} == {"AWS_IAM"}
    (integration,) = iam_api.find_resources("AWS::ApiGatewayV2::Integration").values()
    assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    (api,) = iam_api.find_resources("AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "HTTP"


def test_jwt_for_example_a_cognito_user_pool_as_the_option(stand_in_code: Path):
    template = operator_api(
        stand_in_code, OperatorApiAuthorization(kind="jwt", jwt_issuer=ISSUER, jwt_audience=("operator-console",))
    )
    (authorizer_id, authorizer), = template.find_resources("AWS::ApiGatewayV2::Authorizer").items()
    assert authorizer["Properties"]["AuthorizerType"] == "JWT"
    assert authorizer["Properties"]["JwtConfiguration"] == {"Issuer": ISSUER, "Audience": ["operator-console"]}
    routes = {route["Properties"]["RouteKey"]: route["Properties"] for route in template.find_resources("AWS::ApiGatewayV2::Route").values()}
    for key in ("ANY /", "ANY /{proxy+}"):
        assert routes[key]["AuthorizationType"] == "JWT"
        assert routes[key]["AuthorizerId"] == {"Ref": authorizer_id}
    # The console's pages only: a browser fetches them before it has signed in; their data calls carry the JWT.
    assert {key: routes[key]["AuthorizationType"] for key in routes if "console" in key} == {
        "GET /console": "NONE",
        "GET /console/{proxy+}": "NONE",
    }


def test_with_iam_the_console_stays_behind_iam_like_every_route(iam_api: Template):
    routes = iam_api.find_resources("AWS::ApiGatewayV2::Route").values()
    assert not [route for route in routes if "console" in route["Properties"]["RouteKey"]]


def test_the_stage_is_throttled_and_logged(iam_api: Template):
    (stage,) = iam_api.find_resources("AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["StageName"] == "$default"
    assert stage["Properties"]["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 40, "ThrottlingRateLimit": 20}
    fields = json.loads(stage["Properties"]["AccessLogSettings"]["Format"])
    assert {"requestId", "routeKey", "status", "caller"} <= set(fields)
    ((log_group_id, log_group),) = iam_api.find_resources("AWS::Logs::LogGroup").items()
    assert stage["Properties"]["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_the_stack_serves_the_manifests_http_api_function(deployed: Synthesized, full: Synthesized):
    assert deployed.stack.operator_api is not None
    http_integrations = [
        integration
        for integration in deployed.resources("AWS::ApiGatewayV2::Integration").values()
        if integration["Properties"].get("PayloadFormatVersion") == "2.0"  # WebSocket integrations have none
    ]
    (integration,) = http_integrations
    function = deployed.logical_id(deployed.stack.functions[HTTP_API_FUNCTION])
    assert integration["Properties"]["IntegrationUri"] == {"Fn::GetAtt": [function, "Arn"]}
    http_api = deployed.logical_id(deployed.stack.operator_api.http_api)
    url = deployed.template.find_outputs("OperatorApiUrl")["OperatorApiUrl"]["Value"]["Fn::Join"][1]
    assert (url[0], url[1], url[-1]) == ("https://", {"Ref": http_api}, "/")  # the $default stage: routes follow
    stage = deployed.json["Resources"][deployed.logical_id(deployed.stack.operator_api.stage)]["Properties"]
    throttle = json.loads(FULL_CONTEXT["operatorApiThrottle"])
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50}
    full_stage = full.json["Resources"][full.logical_id(full.stack.operator_api.stage)]["Properties"]
    assert full_stage["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": throttle["burstLimit"],
        "ThrottlingRateLimit": throttle["rateLimit"],
    }
    (jwt,) = [
        authorizer
        for authorizer in full.resources("AWS::ApiGatewayV2::Authorizer").values()
        if authorizer["Properties"]["AuthorizerType"] == "JWT"
    ]
    assert jwt["Properties"]["JwtConfiguration"]["Issuer"] == FULL_CONTEXT["operatorApiAuthorization"]["jwtIssuer"]


def test_the_console_is_told_where_stations_connect_and_how_operators_sign_in(deployed: Synthesized, full: Synthesized):
    variables = function_properties(full, HTTP_API_FUNCTION)["Environment"]["Variables"]
    authorization = FULL_CONTEXT["operatorApiAuthorization"]
    assert variables["CONSOLE_JWT_ISSUER"] == authorization["jwtIssuer"]
    assert variables["CONSOLE_CLIENT_ID"] == authorization["jwtAudience"][0]
    assert variables["STATION_URL"] == full.template.find_outputs("StationUrl")["StationUrl"]["Value"]
    console_url = full.template.find_outputs("ConsoleUrl")["ConsoleUrl"]["Value"]["Fn::Join"][1]
    assert console_url[-1] == "/console/"
    # IAM (the default): no sign-in a browser could do, so no console output and no sign-in settings.
    iam_variables = function_properties(deployed, HTTP_API_FUNCTION)["Environment"]["Variables"]
    assert "CONSOLE_JWT_ISSUER" not in iam_variables and "STATION_URL" in iam_variables
    assert not deployed.template.find_outputs("ConsoleUrl")


def test_no_http_api_without_an_operator_function(tmp_path):
    from tests.infra.conftest import synthesize

    synthesized = synthesize(tmp_path, operator_api_function=None)
    assert synthesized.stack.operator_api is None
    protocols = [api["Properties"]["ProtocolType"] for api in synthesized.resources("AWS::ApiGatewayV2::Api").values()]
    assert protocols == ["WEBSOCKET"]
