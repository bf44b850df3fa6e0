"""What the table's stream does for sessions when a transaction stops (the very pattern billing reacts to, one
filter of the stream's few): its duration timer is stopped, and its app session reads Stopped."""

from __future__ import annotations

import contextlib
from datetime import datetime

from csms.adapters.dynamodb.transactions import transaction_from_item
from csms.billing.stream import TRANSACTION_STOPPED
from csms.changes.follow_ups import state_machine_arn
from csms.changes.stream import Change, Reaction
from csms.domain.limits import LimitKind
from csms.runtime.observability import logger
from csms.runtime.wiring import Services
from csms.sessions.limits import SESSION_LIMIT, execution_name


def end_session(change: Change, services: Services) -> None:
    transaction = transaction_from_item(dict(change.item))
    limits = transaction.start.limits
    if limits is not None and limits.max_duration_seconds is not None and transaction.limit_reached is not LimitKind.DURATION:
        # Still waiting for a duration that no longer matters (when the duration stopped it, it is stopping it).
        _stop_timer(services, transaction.transaction_id, transaction.created_at or transaction.start.started_at)
    if transaction.start.session_id is not None and transaction.stop is not None:
        services.app_sessions.mark_stopped(
            transaction.start.session_id,
            transaction_id=transaction.transaction_id,
            stopped_at=transaction.stop.stopped_at,
            limit_reached=transaction.limit_reached,
        )


def _stop_timer(services: Services, transaction_id: int, created_at: datetime) -> None:
    machine = state_machine_arn(services, SESSION_LIMIT)
    name = execution_name(transaction_id, created_at, LimitKind.DURATION)
    arn = f"{machine.replace(':stateMachine:', ':execution:')}:{name}"
    client = services.step_functions
    # Never started (its follow-up not done yet, then it finds the transaction stopped) or already over: nothing to stop.
    with contextlib.suppress(client.exceptions.ExecutionDoesNotExist):
        client.stop_execution(executionArn=arn, cause="The session stopped")
    logger.info("Duration timer stopped", extra={"transaction_id": transaction_id, "execution": name})


REACTIONS: tuple[Reaction, ...] = (Reaction("session end", (TRANSACTION_STOPPED,), end_session),)
