"""Session limits in motion (issue 10 §3): bound at the start, checked on each meter value, stopped by the
SessionLimit workflow (infra/workflows/session_limit.asl.json).

A meter value that shows an energy, cost or state-of-charge limit reached, or predicts it before the next sample,
plans the session's one stop: the transaction's pending marker (`limitPending`, a conditional write, so a session
is stopped once) written with the follow-up that starts a SessionLimit execution for the moment to stop. Nothing is
recorded as reached yet: the crossing is only predicted, the driver may stop first, the car may draw less. At that
moment the execution records the limit (`limitReached`, conditional too) with its SessionLimitReached event, only
while the session still runs, then sends RemoteStopTransaction through the outbox, retries it, and reports
SessionLimitStopFailed after the last try. Duration is the one limit known in advance: its execution starts with
the transaction and waits until startedAt + maxDurationSeconds (the transaction's stop stops it). The meter value
check runs in the message handler from the transaction as the reading's own write returned it: no read, no
state-machine transition per meter value, one execution when a limit is due.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from csms.adapters.dynamodb.follow_ups import event_item, workflow_start_item
from csms.adapters.dynamodb.keys import transaction_pk
from csms.domain.clock import to_iso
from csms.domain.limit_checks import Reading, Trend, limit_stop
from csms.domain.limits import LimitKind
from csms.domain.transactions import Transaction, TransactionStart
from csms.events.catalog import EventType
from csms.events.driver import driver_event
from csms.runtime.observability import logger
from csms.runtime.wiring import Services

SESSION_LIMIT = "SessionLimit"
"""The workflow (infra/workflows WorkflowSpec name) that stops a session for its limit."""


def execution_name(transaction_id: int, created_at: datetime, kind: LimitKind) -> str:
    """One SessionLimit execution per transaction and limit (at most 80 of [A-Za-z0-9-_]); transaction ids wrap
    around, so the instant the CSMS accepted the start is part of it."""
    return f"limit-{transaction_id}-{re.sub(r'[^0-9]', '', to_iso(created_at))}-{kind.value}"


def execution_input(transaction_id: int, charge_point_id: str, kind: LimitKind, stop_at: datetime) -> dict[str, Any]:
    return {"transactionId": transaction_id, "chargePointId": charge_point_id, "limit": kind.value, "stopAt": to_iso(stop_at)}


def duration_timer(transaction_id: int, start: TransactionStart, *, now: datetime) -> dict[str, Any] | None:
    """The follow-up that starts a duration-limited session's timer, written with its StartTransaction: the duration
    counts from the StartTransaction timestamp (issue 10 §5)."""
    if start.limits is None or start.limits.max_duration_seconds is None:
        return None
    stop_at = start.started_at + timedelta(seconds=start.limits.max_duration_seconds)
    return workflow_start_item(
        transaction_pk(transaction_id),
        workflow=SESSION_LIMIT,
        execution_name=execution_name(transaction_id, now, LimitKind.DURATION),
        execution_input=execution_input(transaction_id, start.charge_point_id, LimitKind.DURATION, stop_at),
        now=now,
    )


def limit_reached_event(transaction: Transaction, kind: LimitKind, *, occurred_at: datetime) -> dict[str, Any]:
    """The SessionLimitReached follow-up: its id is the transaction's, so there is at most one per session."""
    created = transaction.created_at or transaction.start.started_at
    event = driver_event(
        EventType.SESSION_LIMIT_REACHED,
        cause=(transaction.charge_point_id, transaction.transaction_id, to_iso(created)),
        occurred_at=occurred_at,
        charge_point_id=transaction.charge_point_id,
        connector_id=transaction.connector_id,
        transaction_id=transaction.transaction_id,
        id_tag=transaction.id_tag,
        limitReached=kind.value,
    )
    return event_item(transaction_pk(transaction.transaction_id), event, now=occurred_at)


def plan_stop(services: Services, transaction: Transaction, kind: LimitKind, *, stop_at: datetime, now: datetime) -> bool:
    """Claim the transaction's pending stop for `kind` (False when another limit, or its stop, came first), with the
    SessionLimit execution that acts at `stop_at`: one write."""
    created = transaction.created_at or transaction.start.started_at
    execution = workflow_start_item(
        transaction_pk(transaction.transaction_id),
        workflow=SESSION_LIMIT,
        execution_name=execution_name(transaction.transaction_id, created, kind),
        execution_input=execution_input(transaction.transaction_id, transaction.charge_point_id, kind, stop_at),
        now=now,
    )
    return services.transactions.plan_limit_stop(transaction.transaction_id, kind, stop_at=stop_at, follow_ups=[execution])


def reach(services: Services, transaction: Transaction, kind: LimitKind, *, now: datetime) -> bool:
    """At the moment to stop: record that `kind` stops the session, with its SessionLimitReached event (one write,
    once), if it still runs and no other limit was recorded. True when this limit stops it (also on a retried task
    that already recorded it)."""
    event = limit_reached_event(transaction, kind, occurred_at=now)
    if services.transactions.reach_limit(transaction.transaction_id, kind, follow_ups=[event]):
        return True
    fresh = services.transactions.get(transaction.transaction_id, consistent=True)
    return fresh is not None and fresh.stop is None and fresh.limit_reached is kind


def check_reading(
    services: Services,
    before: Transaction,
    *,
    energy_wh: Decimal | None,
    soc_percent: Decimal | None,
    read_at: datetime,
    received_at: datetime,
) -> None:
    """The limit check of one MeterValues of a running transaction, from the transaction as it was before the
    reading (its limits, its previous reading). Writes only when a limit is due (once per session)."""
    limits = before.start.limits
    if limits is None or before.limit_pending is not None or before.limit_reached is not None or before.stop is not None:
        return
    start = before.start
    energy = None
    if energy_wh is not None:
        previous_at = before.last_meter_at or start.started_at
        previous_wh = (before.last_meter_wh if before.last_meter_wh is not None else Decimal(start.meter_start))
        energy = Trend(Reading(previous_at, previous_wh - start.meter_start), Reading(read_at, energy_wh - start.meter_start))
    cost = None
    if limits.max_cost is not None and energy is not None:
        from csms.sessions.cost import cost_trend  # the pricing engine, only for sessions with a cost limit

        cost = cost_trend(services, before, energy)
    soc = Trend(None, Reading(read_at, soc_percent)) if soc_percent is not None else None
    stop = limit_stop(
        limits, energy=energy, cost=cost, soc=soc, received_at=received_at, predict=services.settings.predict_limit_crossing
    )
    if stop is None:
        return
    planned = plan_stop(services, before, stop.kind, stop_at=stop.stop_at, now=received_at)
    logger.info(
        "Session limit stop planned" if planned else "Session limit due, another stop planned first",
        extra={"transaction_id": before.transaction_id, "limit": stop.kind, "stop_at": to_iso(stop.stop_at)},
    )
