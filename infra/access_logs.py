"""API Gateway (v2) access logs as one JSON object per request, in a log group of their own."""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_logs as logs
from constructs import Construct


@jsii.implements(apigwv2.IAccessLogSettings)
class JsonAccessLogs:
    """`fields`: JSON key -> `$context` variable, written to a new log group `AccessLogs` of `scope` (removed
    with the stack)."""

    def __init__(self, scope: Construct, fields: Mapping[str, str], *, retention: logs.RetentionDays):
        self.log_group = logs.LogGroup(scope, "AccessLogs", retention=retention, removal_policy=RemovalPolicy.DESTROY)
        self._destination = apigwv2.LogGroupLogDestination(self.log_group)
        self._format = apigateway.AccessLogFormat.custom(json.dumps(dict(fields), separators=(",", ":")))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return self._format
