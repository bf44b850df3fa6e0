"""Workflows: the manifest's Standard state machines, from the same ASL files the local runtime runs.

The manifest has none yet (issue 3 adds them): the construct is tested with a tiny definition written by
the test, and the stack with that definition dropped into its workflow list (fixture `full`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from infra.state_machines import Workflows
from infra.workflows import WorkflowSpec, definition_substitutions, function_arn_placeholder, render_definition
from tests.infra.conftest import TINY_DEFINITION, Synthesized


def test_placeholder_names_and_environment_variables_follow_the_business_names():
    assert function_arn_placeholder("message") == "MessageFunctionArn"
    assert function_arn_placeholder("operator_api") == "OperatorApiFunctionArn"
    spec = WorkflowSpec(name="ReservationExpiry", definition="x.asl.json", description="")
    assert spec.arn_environment_variable == "RESERVATION_EXPIRY_STATE_MACHINE_ARN"


def test_the_local_rendering_fills_what_cloudformation_fills(session_limits: WorkflowSpec):
    values = definition_substitutions(
        session_limits, function_arns={"command": "arn:command"}, table_name="table", event_bus_name="bus"
    )
    rendered = json.loads(render_definition(session_limits, values))
    assert rendered["States"]["Stop"]["Parameters"]["FunctionName"] == "arn:command"
    assert rendered["States"]["Record"]["Parameters"]["TableName"] == "table"


@pytest.fixture(scope="module")
def template(session_limits: WorkflowSpec) -> Template:
    """The construct alone, in a bare stack."""
    stack = Stack(App(), "WorkflowsUnderTest")
    Workflows(
        stack,
        "Workflows",
        specs=[session_limits],
        function_arns={"command": "arn:aws:lambda:eu-west-1:111111111111:function:command"},
        table_name="csms-table",
        event_bus_name="csms-bus",
        log_retention=logs.RetentionDays.ONE_MONTH,
    )
    return Template.from_stack(stack)


class TestConstruct:
    def test_a_standard_state_machine_per_spec_named_after_the_stack(self, template: Template):
        (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
        assert machine["Properties"]["StateMachineType"] == "STANDARD"
        assert machine["Properties"]["StateMachineName"] == "WorkflowsUnderTest-SessionLimits"

    def test_the_definition_is_the_file_with_cloudformation_filling_the_placeholders(
        self, template: Template, session_limits: WorkflowSpec
    ):
        (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
        assert machine["Properties"]["DefinitionString"] == Path(session_limits.definition_path).read_text()
        assert machine["Properties"]["DefinitionSubstitutions"] == {
            "TableName": "csms-table",
            "EventBusName": "csms-bus",
            "CommandFunctionArn": "arn:aws:lambda:eu-west-1:111111111111:function:command",
        }

    def test_every_execution_is_logged_without_its_data(self, template: Template):
        (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
        logging = machine["Properties"]["LoggingConfiguration"]
        assert logging["Level"] == "ALL"
        assert logging["IncludeExecutionData"] is False
        (log_group,) = template.find_resources("AWS::Logs::LogGroup").values()
        assert log_group["Properties"]["RetentionInDays"] == 30
        assert log_group["Properties"]["LogGroupName"].startswith("/aws/vendedlogs/states/")

    def test_a_placeholder_without_a_value_fails_the_synth(self, tmp_path: Path):
        definition = tmp_path / "broken.asl.json"
        definition.write_text(json.dumps({**TINY_DEFINITION}))
        spec = WorkflowSpec(name="Broken", definition=str(definition), description="", invokes=())
        with pytest.raises(ValueError, match="CommandFunctionArn"):
            Workflows(
                Stack(App(), "Broken"),
                "Workflows",
                specs=[spec],
                function_arns={},
                table_name="t",
                event_bus_name="b",
                log_retention=logs.RetentionDays.ONE_MONTH,
            )


class TestDroppedIntoTheStack:
    def machine(self, full: Synthesized) -> tuple[str, dict[str, Any]]:
        (item,) = full.resources("AWS::StepFunctions::StateMachine").items()
        return item

    def test_it_may_invoke_exactly_the_functions_it_lists(self, full: Synthesized):
        _, machine = self.machine(full)
        role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        invokes = [s for s in full.role_statements(role) if s["Action"] == "lambda:InvokeFunction"]
        command = full.logical_id(full.stack.functions["command"])
        assert invokes == [
            {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Fn::GetAtt": [command, "Arn"]}}
        ]
        assert machine["Properties"]["DefinitionSubstitutions"]["CommandFunctionArn"] == {"Fn::GetAtt": [command, "Arn"]}

    def test_it_reads_and_writes_the_table_and_puts_events_as_its_spec_says(self, full: Synthesized):
        _, machine = self.machine(full)
        role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        actions = set()
        for statement in full.role_statements(role):
            actions |= {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])
        assert {"dynamodb:UpdateItem", "events:PutEvents"} <= actions
        assert "dynamodb:Scan" not in actions

    def test_the_functions_that_start_it_know_its_arn_and_may_start_only_it(self, full: Synthesized):
        role = full.logical_id(full.stack.functions.roles["api"])
        (start,) = [s for s in full.role_statements(role) if s["Action"] == "states:StartExecution"]
        assert start["Resource"]["Fn::Join"][1][-1] == ":stateMachine:Csms-SessionLimits"
        api = full.json["Resources"][full.logical_id(full.stack.functions["api"])]
        assert api["Properties"]["Environment"]["Variables"]["SESSION_LIMITS_STATE_MACHINE_ARN"] == start["Resource"]

    def test_the_function_that_receives_the_stations_answer_completes_its_task_tokens(self, full: Synthesized):
        role = full.logical_id(full.stack.functions.roles["message"])
        (callbacks,) = [s for s in full.role_statements(role) if "states:SendTaskSuccess" in s["Action"]]
        assert sorted(callbacks["Action"]) == ["states:SendTaskFailure", "states:SendTaskSuccess"]
        assert callbacks["Resource"]["Fn::Join"][1][-1] == ":stateMachine:Csms-SessionLimits"


def test_a_session_limit_stop_is_tried_again_and_reported_once_it_failed_every_time():
    import json

    from infra.workflows import SESSION_LIMIT

    states = json.loads(SESSION_LIMIT.definition_path.read_text())["States"]
    stop = states["StopSession"]
    (retry,) = stop["Retry"]
    assert retry["ErrorEquals"] == ["States.ALL"] and retry["MaxAttempts"] >= 2  # a refusal, no answer, not connected
    (branch,) = stop["Branches"]
    assert branch["States"]["Refused"] == {"Type": "Fail", "Error": "StopRefused", "Cause": branch["States"]["Refused"]["Cause"]}
    assert branch["States"]["RemoteStop"]["Parameters"]["Payload"]["action"] == "RemoteStopTransaction"
    (catch,) = stop["Catch"]
    assert states[catch["Next"]]["Parameters"]["Payload"]["step"] == "stopFailed"
