"""The operator (and driver app) REST API: an API Gateway HTTP API in front of one function.

The function is a Powertools HTTP resolver serving every route and its OpenAPI description, so API
Gateway only proxies: `ANY /{proxy+}` and `ANY /`, both behind the chosen authorization.

The operator console (`/console`, static pages the same function serves) is reachable without a token when the
API takes JWTs: a browser cannot present one before it has signed in, and the pages hold no data (every figure
they show comes from the API, with the signed-in operator's token). With IAM authorization the console routes stay
behind IAM like the rest: a browser cannot sign SigV4 requests, so the console needs JWT (e.g. Cognito) on AWS.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.access_logs import JsonAccessLogs
from infra.config import OperatorApiAuthorization, Throttle

CONSOLE_PATH = "/console"

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTimeEpoch",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "caller": "$context.identity.caller",
    "user": "$context.identity.userArn",
    "jwtSubject": "$context.authorizer.claims.sub",
    "sourceIp": "$context.identity.sourceIp",
    "integrationError": "$context.integrationErrorMessage",
    "latency": "$context.responseLatency",
}


def _authorizer(authorization: OperatorApiAuthorization) -> apigwv2.IHttpRouteAuthorizer:
    if authorization.kind == "jwt":
        return authorizers.HttpJwtAuthorizer(
            "OperatorJwt",
            str(authorization.jwt_issuer).rstrip("/"),
            jwt_audience=list(authorization.jwt_audience),
        )
    # SigV4: callers need execute-api:Invoke on this API (an IAM policy on the operator's role or user).
    return authorizers.HttpIamAuthorizer()


class OperatorApi(Construct):
    """HTTP API with IAM authorization by default (JWT, e.g. a Cognito user pool, as the option),
    a throttled `$default` stage with access logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: lambda_.IFunction,
        authorization: OperatorApiAuthorization,
        throttle: Throttle,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.http_api = apigwv2.HttpApi(
            self,
            "Api",
            description="CSMS operator API (stations, id tags, tariffs, commands)",
            create_default_stage=False,
            default_authorizer=_authorizer(authorization),
        )
        integration = integrations.HttpLambdaIntegration("OperatorIntegration", handler)
        self.routes = [
            *self.http_api.add_routes(path="/{proxy+}", methods=[apigwv2.HttpMethod.ANY], integration=integration),
            *self.http_api.add_routes(path="/", methods=[apigwv2.HttpMethod.ANY], integration=integration),
        ]
        self.console_routes: list[apigwv2.HttpRoute] = []
        if authorization.kind == "jwt":
            for path in (CONSOLE_PATH, f"{CONSOLE_PATH}/{{proxy+}}"):
                self.console_routes += self.http_api.add_routes(
                    path=path, methods=[apigwv2.HttpMethod.GET], integration=integration, authorizer=apigwv2.HttpNoneAuthorizer()
                )
            for route in self.console_routes:
                Validations.of(route).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-APIG4",
                        reason="The console's static pages and sign-in settings: no data; every API call they make carries "
                        "the signed-in operator's JWT, which the other routes require.",
                    )
                )
        access_logs = JsonAccessLogs(self, ACCESS_LOG_FIELDS, retention=log_retention)
        self.access_log_group = access_logs.log_group
        self.stage = apigwv2.HttpStage(
            self,
            "Stage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle.rate_limit, burst_limit=throttle.burst_limit),
            access_log_settings=access_logs,
        )

    @property
    def url(self) -> str:
        return self.stage.url

    @property
    def console_url(self) -> str:
        """Where an operator opens the console (the stage URL ends with a slash)."""
        return f"{self.stage.url}{CONSOLE_PATH.lstrip('/')}/"
