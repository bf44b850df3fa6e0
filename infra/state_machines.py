"""The Standard state machines of the workflow manifest (infra/workflows), from their ASL files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, ArnFormat, RemovalPolicy, Stack, Validations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.workflows import WorkflowSpec, definition_substitutions, missing_placeholders


def state_machine_name(stack: Stack, spec: WorkflowSpec) -> str:
    return f"{stack.stack_name}-{spec.name}"


def state_machine_arn(stack: Stack, spec: WorkflowSpec) -> str:
    """Built from the fixed name, not read from the resource: a function may both start a machine and be one
    of its tasks, and referencing the resource from that function would make a dependency cycle."""
    return stack.format_arn(
        service="states",
        resource="stateMachine",
        resource_name=state_machine_name(stack, spec),
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def state_machine_execution_arns(stack: Stack, spec: WorkflowSpec) -> str:
    """Every execution of the machine (`arn:...:execution:<machine>:*`): what StopExecution is authorised on."""
    return stack.format_arn(
        service="states",
        resource="execution",
        resource_name=f"{state_machine_name(stack, spec)}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


class Workflows(Construct):
    """One Standard state machine per spec, its definition file deployed as is with DefinitionSubstitutions
    (the local runtime fills the same placeholders), each logging to its own log group.

    Permissions are the stack's business: it grants each machine's role what its spec says."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Sequence[WorkflowSpec],
        function_arns: Mapping[str, str],
        table_name: str,
        event_bus_name: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.state_machines: dict[str, sfn.StateMachine] = {}
        for spec in specs:
            substitutions = definition_substitutions(
                spec, function_arns=function_arns, table_name=table_name, event_bus_name=event_bus_name
            )
            missing = missing_placeholders(spec, substitutions)
            if missing:
                # Step Functions would keep them as literal text and fail at run time, not at deploy time.
                raise ValueError(
                    f"Workflow {spec.name}: {spec.definition} uses {sorted(missing)} without a value "
                    "(list the functions it calls in `invokes`)"
                )
            log_group = logs.LogGroup(
                self,
                f"{spec.name}Logs",
                # Step Functions needs the /aws/vendedlogs/ prefix to keep its resource policy small.
                log_group_name=f"/aws/vendedlogs/states/{state_machine_name(stack, spec)}",
                retention=log_retention,
                removal_policy=RemovalPolicy.DESTROY,
            )
            machine = sfn.StateMachine(
                self,
                spec.name,
                state_machine_name=state_machine_name(stack, spec),
                state_machine_type=sfn.StateMachineType.STANDARD,
                comment=spec.description,
                # Inline rather than an S3 asset: the template shows exactly what runs, placeholders and all.
                definition_body=sfn.DefinitionBody.from_string(spec.definition_path.read_text()),
                definition_substitutions=substitutions,
                # Execution data holds id tags and prices: the events say what ran, not with which values.
                logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            )
            Validations.of(machine.role).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-IAM5[Resource::*]",
                    reason=(
                        "CloudWatch Logs delivery for Step Functions (logs:CreateLogDelivery and the like) supports no "
                        "resource-level permissions; CDK adds exactly those actions for the execution logs."
                    ),
                )
            )
            Validations.of(machine).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-SF2",
                    reason=(
                        "X-Ray tracing is off: every execution is already logged (level ALL) and the functions it "
                        "invokes log and emit metrics; traces would add cost on every charging session."
                    ),
                )
            )
            self.state_machines[spec.name] = machine

    def __getitem__(self, name: str) -> sfn.StateMachine:
        return self.state_machines[name]
