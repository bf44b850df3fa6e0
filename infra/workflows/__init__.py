"""The state machine manifest: one source of truth for the CDK stack and the local runtime.

Each workflow is a Standard state machine (Express has no task tokens and a 5 minute cap) whose Amazon
States Language definition is the file `infra/workflows/<definition>`: the stack deploys it, the local
runtime executes the very same file in moto. Definitions name what differs between the two with
`${...}` placeholders, filled by `definition_substitutions` (CloudFormation DefinitionSubstitutions on
AWS, `render_definition` locally):

    ${TableName}                 the CSMS table
    ${EventBusName}              the CSMS event bus
    ${<Function>FunctionArn}     a manifest function, e.g. ${MessageFunctionArn} for "message"

Pure data, no CDK import, so the local runtime can read it without loading the CDK.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

WORKFLOWS_DIR = Path(__file__).resolve().parent

TABLE_NAME_PLACEHOLDER = "TableName"
EVENT_BUS_NAME_PLACEHOLDER = "EventBusName"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass(frozen=True, kw_only=True)
class WorkflowSpec:
    name: str
    """PascalCase business name (`ReservationExpiry`); the state machine is named `<stack>-<name>`."""
    definition: str
    """File name of the ASL definition in infra/workflows/ (`reservation_expiry.asl.json`)."""
    description: str
    invokes: tuple[str, ...] = ()
    """Manifest functions its Task states call (each gets `lambda:InvokeFunction` for exactly that function)."""
    started_by: tuple[str, ...] = ()
    """Manifest functions that start executions: they get `states:StartExecution` on this machine and its
    ARN in the environment variable `arn_environment_variable`."""
    stopped_by: tuple[str, ...] = ()
    """Manifest functions that stop its executions (`states:StopExecution` on this machine's executions); each
    must also be in `started_by` (it finds the execution by its deterministic name under the machine's ARN)."""
    task_responses_from: tuple[str, ...] = ()
    """Manifest functions that complete its `.waitForTaskToken` tasks (SendTaskSuccess/Failure),
    e.g. the message function when a station's answer to a workflow's command arrives."""
    task_failures_from: tuple[str, ...] = ()
    """Manifest functions that only ever fail its tasks (SendTaskFailure): a success needs the station's
    answer, which arrives on $default, but whoever pumps the outbox may find a queued command's station gone."""
    table_access: Literal["none", "read", "read_write"] = "none"
    """Direct DynamoDB service integrations of its states."""
    puts_events: bool = False
    """Whether its states put events on the CSMS bus directly (EventBridge service integration)."""
    restartable: bool = True
    """Every state is safe to run again from the start (conditional writes, deterministic names, absolute Wait
    timestamps): an execution the local runtime was running when it stopped is started again when it restarts,
    as a redrive would on AWS."""

    @property
    def definition_path(self) -> Path:
        return WORKFLOWS_DIR / self.definition

    @property
    def arn_environment_variable(self) -> str:
        """`ReservationExpiry` -> `RESERVATION_EXPIRY_STATE_MACHINE_ARN`."""
        return f"{_upper_snake(self.name)}_STATE_MACHINE_ARN"


SEND_COMMAND = WorkflowSpec(
    name="SendCommand",
    definition="send_command.asl.json",
    description="Sends one OCPP command to a station and waits for its answer (task token)",
    invokes=("command",),
    # The station's answer arrives on $default (message); a queued command that finds its station gone fails
    # in whichever function pumped the outbox.
    task_responses_from=("message",),
    task_failures_from=("command", "api"),
    restartable=False,  # its first state sends a command: run again, it would send a second one
)

BILLING_HAND_OFF = WorkflowSpec(
    name="BillingHandOff",
    definition="billing_hand_off.asl.json",
    description="A stopped transaction: price it, store its CDR once, put CdrIssued on the CSMS bus",
    invokes=("billing",),
    started_by=("table_changes",),
    puts_events=True,
)

RESERVATION_EXPIRY = WorkflowSpec(
    name="ReservationExpiry",
    definition="reservation_expiry.asl.json",
    description="An accepted reservation: wait until its expiryDate, then mark it Expired if still Accepted",
    invokes=("reservations",),
    started_by=("table_changes",),  # a workflow_start_item written with the reservation's acceptance
)

RESERVATION_START = WorkflowSpec(
    name="ReservationStart",
    definition="reservation_start.asl.json",
    description="A reservation with a startAt: send its ReserveNow a lead time before, record a failure as Refused",
    invokes=("reservations", "command"),
    started_by=("table_changes",),  # a workflow_start_item written with the Scheduled reservation
    # As SendCommand: the answer arrives on $default; a queued command that finds its station gone fails in
    # whichever function pumped the outbox.
    task_responses_from=("message",),
    task_failures_from=("command", "api"),
    # Restartable: run again before its answer was recorded, it sends the ReserveNow again under the same
    # reservationId, which the station takes as the same reservation (§5.13: that id's reservation is replaced);
    # once it is no longer Scheduled its claim sends nothing.
)

SESSION_LIMIT = WorkflowSpec(
    name="SessionLimit",
    definition="session_limit.asl.json",
    description="A session reached a limit (or its duration timer runs): wait until the stop, RemoteStopTransaction "
    "with retries, SessionLimitStopFailed after the last",
    invokes=("session_limits", "command"),
    started_by=("table_changes",),
    stopped_by=("table_changes",),  # a duration timer whose session ended first
    # The station's answer to RemoteStopTransaction arrives on $default; a queued one whose station is gone fails in
    # whichever function pumped the outbox.
    task_responses_from=("message",),
    task_failures_from=("command", "api"),
)

WORKFLOWS: tuple[WorkflowSpec, ...] = (SEND_COMMAND, BILLING_HAND_OFF, RESERVATION_EXPIRY, RESERVATION_START, SESSION_LIMIT)


def function_arn_placeholder(function_name: str) -> str:
    """`message` -> `MessageFunctionArn`, `operator_api` -> `OperatorApiFunctionArn`."""
    return "".join(part.capitalize() for part in re.split(r"[_\-]", function_name)) + "FunctionArn"


def definition_substitutions(
    spec: WorkflowSpec, *, function_arns: Mapping[str, str], table_name: str, event_bus_name: str
) -> dict[str, str]:
    """The values of every placeholder `spec` may use (AWS: tokens; locally: moto names and ARNs)."""
    substitutions = {TABLE_NAME_PLACEHOLDER: table_name, EVENT_BUS_NAME_PLACEHOLDER: event_bus_name}
    for function_name in spec.invokes:
        substitutions[function_arn_placeholder(function_name)] = function_arns[function_name]
    return substitutions


def placeholders(definition_text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(definition_text))


def missing_placeholders(spec: WorkflowSpec, substitutions: Mapping[str, str]) -> set[str]:
    """Placeholders of the definition without a value: on AWS they would stay literally `${...}`."""
    return placeholders(spec.definition_path.read_text()) - set(substitutions)


def render_definition(spec: WorkflowSpec, substitutions: Mapping[str, str]) -> str:
    """The definition with its placeholders filled, as Step Functions sees it after DefinitionSubstitutions."""
    text = spec.definition_path.read_text()
    missing = missing_placeholders(spec, substitutions)
    if missing:
        raise KeyError(f"{spec.definition} uses placeholders with no value: {sorted(missing)}")
    return _PLACEHOLDER.sub(lambda match: substitutions[match.group(1)], text)


def _upper_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()
