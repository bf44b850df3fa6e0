"""The API Gateway WebSocket API stations talk to (behind the front door), one route per manifest route."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, ArnFormat, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.access_logs import JsonAccessLogs
from infra.config import Throttle
from infra.manifest import WebSocketRoute

CONNECT_ROUTE = "$connect"

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTimeEpoch",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "connectionId": "$context.connectionId",
    "status": "$context.status",
    "chargePointId": "$context.authorizer.principalId",
    "sourceIp": "$context.identity.sourceIp",
    "authorizerStatus": "$context.authorizer.status",
    "authorizerError": "$context.authorizer.error",
    "integrationStatus": "$context.integration.status",
    "integrationError": "$context.integration.error",
    "integrationLatency": "$context.integration.latency",
    "error": "$context.error.message",
}
"""One JSON object per $connect, message and $disconnect (never a payload or a credential)."""


class StationWebSocketApi(Construct):
    """WebSocket API with the manifest's routes: `$connect` behind the REQUEST authorizer, two-way routes
    answering with a route response, a stage with access logging and throttling.

    The authorizer's identity sources are values every request through the front door carries (the
    station id it moved into the query string, its secret origin header), never `Authorization`:
    stations without a password send none, and API Gateway refuses a connection missing an identity
    source with 401 before the authorizer runs (so bypass attempts without the header cost nothing).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Sequence[WebSocketRoute],
        handlers: Mapping[str, lambda_.IFunction],
        authorizer: lambda_.IFunction,
        identity_source: Sequence[str],
        stage_name: str,
        throttle: Throttle,
        log_retention: logs.RetentionDays,
        manage_account_logging_role: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(self, "Api", description="OCPP 1.6J station connections")
        station_authorizer = authorizers.WebSocketLambdaAuthorizer(
            "StationAuthorizer", authorizer, identity_source=list(identity_source)
        )
        self.routes: dict[str, apigwv2.WebSocketRoute] = {}
        for route in routes:
            self.routes[route.route_key] = self.api.add_route(
                route.route_key,
                integration=integrations.WebSocketLambdaIntegration(
                    f"{route.function}-integration", handlers[route.function]
                ),
                authorizer=station_authorizer if route.route_key == CONNECT_ROUTE else None,
                return_response=route.two_way or None,
            )
            if route.route_key != CONNECT_ROUTE:
                Validations.of(self.routes[route.route_key]).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-APIG4",
                        reason=(
                            "API Gateway WebSocket APIs authorize on $connect only; every later route of the "
                            "connection runs with the identity the $connect authorizer established."
                        ),
                    )
                )

        access_logs = JsonAccessLogs(self, ACCESS_LOG_FIELDS, retention=log_retention)
        self.access_log_group = access_logs.log_group
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=stage_name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle.rate_limit, burst_limit=throttle.burst_limit),
            access_log_settings=access_logs,
        )
        if manage_account_logging_role:
            self.stage.node.add_dependency(ApiGatewayAccountLogging(self, "AccountLogging"))

    @property
    def management_url(self) -> str:
        """https URL of the @connections API (CONNECTIONS_ENDPOINT_URL of the functions that post)."""
        return self.stage.callback_url

    @property
    def url(self) -> str:
        """wss URL of the stage (the front door's origin; stations use the front door's URL)."""
        return self.stage.url

    def grant_manage_connections(self, grantee: iam.IGrantable, *, methods: Sequence[str] = ("POST", "DELETE")) -> iam.Grant:
        """`execute-api:ManageConnections` to send to (POST) and/or close (DELETE) connections of this stage only."""
        stack = Stack.of(self)
        connections = [
            stack.format_arn(
                service="execute-api",
                resource=self.api.api_id,
                resource_name=f"{self.stage.stage_name}/{method}/@connections/*",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
            for method in methods
        ]
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["execute-api:ManageConnections"], resource_arns=connections
        )


class ApiGatewayAccountLogging(Construct):
    """The region-wide API Gateway setting that lets it write WebSocket (and REST) logs to CloudWatch.

    Retained on `cdk destroy`: other APIs of the account may rely on it."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
            ],
        )
        self.role.apply_removal_policy(RemovalPolicy.RETAIN)
        Validations.of(self.role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                reason=(
                    "The AWS managed policy API Gateway documents for its account-wide logging role; API Gateway "
                    "creates and writes log groups of every API of the region, so no narrower resource list exists."
                ),
            )
        )
        account = apigateway.CfnAccount(self, "Account", cloud_watch_role_arn=self.role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        account.node.add_dependency(self.role)
