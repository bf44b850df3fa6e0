"""What a test observes of the central system's calls to a simulated station, and how it steers the answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class ReceivedCall:
    """One CALL from the central system, as the station received and answered it."""

    unique_id: str
    action: str
    payload: dict[str, Any]
    """The request payload as it arrived (camelCase, as on the wire)."""
    received_at: datetime
    overlapped: bool
    """Another central-system CALL was still being handled (received, not yet answered) when this one arrived:
    the central system broke OCPP-J 4.1.1 (one outstanding CALL per direction). Silent calls never count."""
    answered_at: datetime | None = None
    outcome: str | None = None
    """"CallResult", "CallError" or "Silent"; None while the call is being handled."""
    response: dict[str, Any] | None = None
    """The CALLRESULT payload, or {"errorCode", "errorDescription"} of the CALLERROR."""


@dataclass
class StationStats:
    connections: int = 0
    boots: int = 0
    boot_status: str | None = None
    heartbeats: int = 0
    sessions_started: int = 0
    sessions_stopped: int = 0
    energy_wh: int = 0
    commands_received: int = 0
    commands_answered: int = 0
    command_errors: int = 0
    """Commands answered with a CALLERROR."""
    failed_calls: int = 0
    """Station CALLs that got a CALLERROR or no answer."""
