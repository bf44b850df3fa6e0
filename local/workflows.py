"""The workflows of `infra/workflows`, executed by moto's Step Functions interpreter on this machine.

The very definition files the stack deploys are rendered with local values and created in moto (with
`execute_state_machine` on, see `local.aws.emulated_aws`). moto would hand Lambda tasks to its own Lambda
emulation, which needs Docker or only echoes; here they run the real handlers in process instead, through
the same `LocalFunctions` the gateway uses. Definitions call functions through the
`arn:aws:states:::lambda:invoke` service integration (optionally `.waitForTaskToken`), the form patched here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

from infra.manifest import FUNCTIONS
from infra.workflows import WORKFLOWS, WorkflowSpec, definition_substitutions, render_definition
from local.aws import ACCOUNT_ID, REGION
from local.lambdas import LocalFunctions, function_arn

logger = logging.getLogger(__name__)

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/csms-local-workflows"
LOCAL_EVENT_BUS = "csms-local"


class LocalWorkflows:
    def __init__(self, functions: LocalFunctions, *, table_name: str, workflows: tuple[WorkflowSpec, ...] = WORKFLOWS):
        self._functions = functions
        self._table_name = table_name
        self._workflows = workflows
        self.arns: dict[str, str] = {}

    def create(self) -> dict[str, str]:
        """Create every state machine in moto; returns the environment variables naming their ARNs."""
        client = boto3.client("stepfunctions", region_name=REGION)
        function_arns = {spec.name: function_arn(spec.name) for spec in FUNCTIONS}
        for spec in self._workflows:
            # The same placeholders CloudFormation's DefinitionSubstitutions fill on AWS, with local values.
            values = definition_substitutions(
                spec, function_arns=function_arns, table_name=self._table_name, event_bus_name=LOCAL_EVENT_BUS
            )
            created = client.create_state_machine(
                name=spec.name, definition=render_definition(spec, values), roleArn=ROLE_ARN, type="STANDARD"
            )
            self.arns[spec.name] = created["stateMachineArn"]
        return {spec.arn_environment_variable: self.arns[spec.name] for spec in self._workflows}

    @contextmanager
    def lambda_tasks_in_process(self) -> Iterator[None]:
        """While active, moto's Lambda task invocations run our handlers (see the module docstring)."""
        original = lambda_eval_utils._invoke_lambda_function
        lambda_eval_utils._invoke_lambda_function = self._invoke
        try:
            yield
        finally:
            lambda_eval_utils._invoke_lambda_function = original

    def _invoke(self, parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
        name = str(parameters["FunctionName"]).rsplit(":", 1)[-1]
        payload = parameters.get("Payload")
        event = json.loads(payload) if payload else {}
        try:
            result = self._functions.invoke_blocking(name, event)
        except Exception as error:  # Lambda reports a handler exception as FunctionError "Unhandled"
            logger.exception("Workflow task %s failed", name)
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": {"errorType": type(error).__name__, "errorMessage": str(error)},
            }
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": result}

