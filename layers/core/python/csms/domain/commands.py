"""Central-system commands: every CALL the CSMS sends a station, with its state and the station's answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from csms.ocpp.v16.actions import Action


class CommandStatus(StrEnum):
    QUEUED = "Queued"  # waiting for the station's previous call to be answered
    SENT = "Sent"  # on its way or at the station, no answer yet
    ANSWERED = "Answered"  # CALLRESULT received and valid
    FAILED = "Failed"  # CALLERROR received, an answer that broke the schema, or the station was not reachable
    TIMED_OUT = "TimedOut"  # unanswered past its timeout: the next call went out; a late answer is still kept
    SUPERSEDED = "Superseded"  # taken from the queue unsent: a newer command made it stale (e.g. a newer allocation)


@dataclass(frozen=True, kw_only=True)
class Command:
    command_id: str
    """The OCPP message id of the CALL."""
    charge_point_id: str
    action: Action
    request: dict[str, Any]
    """The payload as sent, secrets redacted."""
    status: CommandStatus
    created_at: datetime
    sent_at: datetime | None = None
    answered_at: datetime | None = None
    response: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    task_token: str | None = None
    context: dict[str, Any] | None = None
    """What the side effects of the answer need that the request cannot carry (e.g. a new password's hash)."""

    @property
    def done(self) -> bool:
        """Nothing more to wait for (a TimedOut command may still get a late answer, recorded when it comes)."""
        return self.status in (
            CommandStatus.ANSWERED, CommandStatus.FAILED, CommandStatus.TIMED_OUT, CommandStatus.SUPERSEDED
        )


@dataclass(frozen=True, kw_only=True)
class QueuedCall:
    """A command waiting in its station's outbox, with the payload to send."""

    command_id: str
    action: Action
    payload: dict[str, Any]
    position: str
    """Its place in the outbox (the adapters' ordering key)."""
