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
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.eval.environment import Environment

from csms.domain.clock import from_iso
from csms.runtime.wiring import get_services
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
        """While active, moto's Lambda task invocations run our handlers (see the module docstring), and its Wait
        states wait until their timestamp as the CSMS's clock tells it (`_seconds_until`)."""
        original_invoke = lambda_eval_utils._invoke_lambda_function
        original_wait = Timestamp._get_wait_seconds
        lambda_eval_utils._invoke_lambda_function = self._invoke
        Timestamp._get_wait_seconds = _seconds_until  # type: ignore[method-assign, assignment]
        try:
            yield
        finally:
            lambda_eval_utils._invoke_lambda_function = original_invoke
            Timestamp._get_wait_seconds = original_wait  # type: ignore[method-assign]

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



def _seconds_until(wait: Timestamp, env: Environment) -> int:
    """A `Timestamp`/`TimestampPath` Wait's duration. moto compares the UTC timestamp with the naive *local* time
    (hours off wherever TZ is not UTC) and truncates to whole seconds (a wait ends up to a second early): here it
    is the CSMS's own clock, rounded up, so a workflow never acts before the moment it waits for."""
    wait.string.eval(env=env)
    text: str = env.stack.pop()
    if not wait._is_valid_timestamp_pattern(text):
        raise FailureEventException(wait._create_failure_event(env, text))
    remaining = (from_iso(text) - get_services().clock.now()).total_seconds()
    return max(0, math.ceil(remaining))
