"""The SessionLimit workflow's Lambda tasks (infra/workflows/session_limit.asl.json): `reach` once the wait is
over (records the limit and its SessionLimitReached event while the session still runs), `running` before each
try to stop, `stopFailed` after the last. RemoteStopTransaction itself goes through
the command function (the outbox) with the workflow's task token, as SendCommand does."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from csms.adapters.dynamodb.follow_ups import FollowUps, event_item
from csms.adapters.dynamodb.keys import transaction_pk
from csms.domain.clock import to_iso
from csms.domain.limits import LimitKind
from csms.events.catalog import EventType
from csms.events.driver import driver_event
from csms.runtime.observability import logger
from csms.runtime.wiring import Services
from csms.sessions.limits import reach


class SessionLimitTask(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    step: Literal["reach", "running", "stopFailed"]
    transaction_id: int = Field(alias="transactionId")
    limit: LimitKind
    error: str | None = None


def run_session_limit_task(task: SessionLimitTask, services: Services) -> dict[str, Any]:
    transaction = services.transactions.get(task.transaction_id)
    running = transaction is not None and transaction.stop is None
    if task.step == "running":
        return {"running": running}
    if transaction is None or not running:
        return {"stop": False}
    now = services.clock.now()
    if task.step == "reach":
        # The moment to stop has come and the session still runs: only now is the limit reached (a predicted
        # crossing the driver's own stop beat records nothing).
        return {"stop": reach(services, transaction, task.limit, now=now)}
    created = transaction.created_at or transaction.start.started_at
    event = driver_event(
        EventType.SESSION_LIMIT_STOP_FAILED,
        cause=(transaction.charge_point_id, transaction.transaction_id, to_iso(created)),
        occurred_at=now,
        charge_point_id=transaction.charge_point_id,
        connector_id=transaction.connector_id,
        transaction_id=transaction.transaction_id,
        id_tag=transaction.id_tag,
        limitReached=task.limit.value,
        error=task.error or "Unknown",
    )
    FollowUps(services.table).put(event_item(transaction_pk(transaction.transaction_id), event, now=now))
    logger.warning(
        "A session that reached its limit could not be stopped",
        extra={"transaction_id": transaction.transaction_id, "limit": task.limit, "error": task.error},
    )
    return {"stop": False}
