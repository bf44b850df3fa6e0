"""API Gateway (v2) access logs as one JSON object per request."""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_logs as logs


@jsii.implements(apigwv2.IAccessLogSettings)
class JsonAccessLogs:
    """`fields`: JSON key -> `$context` variable."""

    def __init__(self, log_group: logs.ILogGroup, fields: Mapping[str, str]):
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = apigateway.AccessLogFormat.custom(json.dumps(dict(fields), separators=(",", ":")))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return self._format
