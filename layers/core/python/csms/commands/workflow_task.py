"""A Step Functions task that sends a command and waits for the station's answer (`.waitForTaskToken`).

The state machine passes the task token; the answer, when it comes back on $default, completes the task
(see service._notify_workflow). A command that cannot even be queued fails the task at once.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from csms.commands.service import InvalidCommand, StationNotConnected, send_command
from csms.domain.stations import StationNotFound
from csms.runtime.observability import logger
from csms.runtime.wiring import Services


class WorkflowCommand(BaseModel):
    charge_point_id: str = Field(alias="chargePointId")
    action: str
    payload: dict[str, Any] = Field(default_factory=dict)
    task_token: str = Field(alias="taskToken")
    context: dict[str, Any] | None = None
    """What the answer's effects need beyond the request (a reservation's, see reservations/answers.py)."""


def send_for_workflow(event: WorkflowCommand, services: Services) -> dict[str, Any]:
    try:
        command = send_command(
            services, event.charge_point_id, event.action, event.payload, task_token=event.task_token, context=event.context
        )
    except (InvalidCommand, StationNotFound, StationNotConnected) as error:
        logger.info(
            "Workflow command refused",
            extra={"charge_point_id": event.charge_point_id, "action": event.action, "error": str(error)},
        )
        services.workflows.fail(event.task_token, error=type(error).__name__, cause=str(error) or event.charge_point_id)
        return {"commandId": None}
    return {"commandId": command.command_id}
