"""One synthesized template per configuration, shared by every infrastructure test.

Synthesis runs exactly like `cdk synth` (the app of infra/application.py, cdk.json's feature flags,
cdk-nag AwsSolutions as a validation plugin that makes any unacknowledged finding raise) except that
asset bundling is skipped: no pip, no network, no Docker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from infra.application import STACK_ID, build_app
from infra.manifest import FUNCTIONS, FunctionSpec
from infra.stack import CsmsStack
from infra.workflows import WorkflowSpec

SKIP_BUNDLING = {"aws:cdk:bundling-stacks": []}


@dataclass(frozen=True)
class Synthesized:
    app: App
    stack: CsmsStack
    template: Template
    template_path: Path

    @property
    def json(self) -> dict[str, Any]:
        return self.template.to_json()

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return self.template.find_resources(resource_type)

    def logical_id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)

    def role_statements(self, role_logical_id: str) -> list[dict[str, Any]]:
        """Every statement of the IAM policies attached to the role."""
        return [
            statement
            for policy in self.resources("AWS::IAM::Policy").values()
            if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]

    def function_statements(self, function_name: str) -> list[dict[str, Any]]:
        return self.role_statements(self.logical_id(self.stack.functions.roles[function_name]))


def synthesize(outdir: Path, context: dict[str, Any] | None = None, **stack_options: Any) -> Synthesized:
    app = build_app({**SKIP_BUNDLING, **(context or {})}, outdir=str(outdir), **stack_options)
    assembly = app.synth()  # raises on any unacknowledged cdk-nag finding
    stack = app.node.find_child(STACK_ID)
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    template_path = Path(assembly.directory) / artifact.template_file
    return Synthesized(app, stack, Template.from_json(json.loads(template_path.read_text())), template_path)


@pytest.fixture(scope="session")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The stack as `cdk deploy` deploys it today: default context, the manifests as they are."""
    return synthesize(tmp_path_factory.mktemp("cdk-default"))


# Every option away from its default, plus what issue 3 will add (a workflow, a function publishing events),
# so that cdk-nag and cfn-lint also judge the paths the default deployment does not take.
FULL_CONTEXT: dict[str, Any] = {
    "domainName": "ocpp.example.com",
    "certificateArn": "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000",
    "hostedZoneId": "Z0000000000000000000",
    "hostedZoneName": "example.com",
    "allowSecurityProfile1": "true",  # as `-c allowSecurityProfile1=true` passes it
    "geoAllowList": '["DE", "FR", "NL"]',
    "webAclArn": "arn:aws:wafv2:us-east-1:111111111111:global/webacl/csms/00000000-0000-0000-0000-000000000000",
    "priceClass": "100",
    "originSecretGeneration": 2,
    "logRetentionDays": 90,
    "logLevel": "DEBUG",
    "unknownStationPolicy": "pending",
    "heartbeatIntervalSeconds": 240,
    "reservedConcurrency": {"authorizer": 50},
    "bootRetryIntervalSeconds": 120,
    "allowMissingSubprotocol": "false",
    "stationApiThrottle": {"rateLimit": 200, "burstLimit": 400},
    "operatorApiThrottle": '{"rateLimit": 5, "burstLimit": 10}',  # as `-c operatorApiThrottle=...` passes it
    "manageApiGatewayAccountRole": False,  # the account's logging role is another stack's
    "operatorApiAuthorization": {
        "kind": "jwt",
        "jwtIssuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example",
        "jwtAudience": ["operator-console"],
    },
    "eventArchiveRetentionDays": 30,
    "partnerEventBuses": [
        {
            "name": "BillingCo",
            "eventBusArn": "arn:aws:events:eu-west-1:222222222222:event-bus/csms-partner",
            "detailTypes": ["CdrIssued"],
        }
    ],
    "partnerApiDestinations": [
        {
            "name": "RoamingHub",
            "endpoint": "https://hub.example.net/cdrs",
            "apiKeySecretName": "csms/partners/roaming-hub",
            "apiKeyHeader": "x-hub-key",
        }
    ],
    "qrUrlTemplate": "https://drive.example.com/start/{chargePointId}/{connectorId}",
    "alarmEmail": "operations@example.com",
    "authorizerDenialsThreshold": 20,
}

SESSION_LIMITS = WorkflowSpec(
    name="SessionLimits",
    definition="",  # replaced by the file the fixture writes
    description="Stand-in workflow: waits, has the command function stop the session, records it, tells the driver",
    invokes=("command",),
    started_by=("api",),
    task_responses_from=("message",),
    table_access="read_write",
    puts_events=True,
)
TINY_DEFINITION = {
    "Comment": "Stand-in for issue 3's definitions",
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Stop"},
        "Stop": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "${CommandFunctionArn}",
                "Payload": {
                    "chargePointId.$": "$.chargePointId",
                    "action": "RemoteStopTransaction",
                    "taskToken.$": "$$.Task.Token",
                },
            },
            "ResultPath": "$.stop",
            "Next": "Record",
        },
        "Record": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {
                "TableName": "${TableName}",
                "Key": {"pk": {"S.$": "$.pk"}, "sk": {"S": "LIMITS"}},
                "UpdateExpression": "SET reached = :true",
                "ExpressionAttributeValues": {":true": {"BOOL": True}},
            },
            "ResultPath": None,
            "Next": "Notify",
        },
        "Notify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {
                "Entries": [
                    {"EventBusName": "${EventBusName}", "Source": "csms", "DetailType": "SessionLimitReached", "Detail.$": "$"}
                ]
            },
            "End": True,
        },
    },
}
BILLING_EXPORT = "billing_export"


@dataclass(frozen=True, kw_only=True)
class StandInFunction(FunctionSpec):
    """A function whose code lives outside lambdas/, with a flag the manifest does not have yet."""

    directory: Path
    publishes_events: bool = False

    @property
    def code_dir(self) -> Path:
        return self.directory


@pytest.fixture(scope="session")
def stand_in_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("stand_in")
    (directory / "handler.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
    return directory


@pytest.fixture(scope="session")
def session_limits(tmp_path_factory: pytest.TempPathFactory) -> WorkflowSpec:
    definition = tmp_path_factory.mktemp("workflows") / "session_limits.asl.json"
    definition.write_text(json.dumps(TINY_DEFINITION, indent=2))
    return WorkflowSpec(**{**SESSION_LIMITS.__dict__, "definition": str(definition)})


@pytest.fixture(scope="session")
def full(tmp_path_factory: pytest.TempPathFactory, stand_in_code: Path, session_limits: WorkflowSpec) -> Synthesized:
    billing_export = StandInFunction(
        name=BILLING_EXPORT, description="Publishes CDRs (stand-in)", directory=stand_in_code, publishes_events=True
    )
    return synthesize(
        tmp_path_factory.mktemp("cdk-full"),
        FULL_CONTEXT,
        functions=(*FUNCTIONS, billing_export),
        workflows=(session_limits,),
    )
