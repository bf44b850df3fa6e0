"""App session items (pk `SESSION#{sessionId}`, sk `SESSION`; keys in keys.py).

- session  `sessionId`, `chargePointId`, `connectorId`, `idTag`, `requestedAt`, `status` (Requested, Started,
           Stopped, Rejected), `limits`? (SessionLimits.to_json), `notifyAtEnergyWh`?, `priority`?, `commandId`?, `response`? (the
           station's answer to RemoteStartTransaction, or the error), once started `transactionId`, `startedAt`,
           once stopped `stoppedAt`, `limitReached`?
           Indexed by station (byStation, newest last) and by id tag (byKind `SESSION#{IDTAG}`): the operator lists a
           station's sessions, a driver's app its own.

Started is written by the StartTransaction's one transaction (`started_update`), Stopped by the table's stream
when its transaction stops (csms.sessions.stream).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from csms.adapters.dynamodb.keys import (
    SESSION_PREFIX,
    id_tag_sessions_kind,
    session_index_keys,
    session_key,
    session_kind_keys,
    station_pk,
)
from csms.adapters.dynamodb.operations import collect_page, list_by_index, update_if
from csms.adapters.dynamodb.schema import KIND_INDEX, PARTITION_KEY, SORT_KEY, STATION_INDEX
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.clock import from_iso, to_iso
from csms.domain.limits import LimitKind, SessionLimits
from csms.domain.sessions import AppSession, AppSessionStatus
from csms.ocpp.frames import plain_json


def session_from_item(item: dict[str, Any]) -> AppSession:
    return AppSession(
        session_id=item["sessionId"],
        charge_point_id=item["chargePointId"],
        connector_id=int(item["connectorId"]),
        id_tag=item["idTag"],
        requested_at=from_iso(item["requestedAt"]),
        status=AppSessionStatus(item["status"]),
        limits=SessionLimits.from_json(item["limits"]) if item.get("limits") else None,
        notify_at_energy_wh=tuple(int(wh) for wh in item.get("notifyAtEnergyWh", ())),
        command_id=item.get("commandId"),
        response=plain_json(item["response"]) if item.get("response") is not None else None,
        transaction_id=int(item["transactionId"]) if item.get("transactionId") is not None else None,
        started_at=from_iso(item["startedAt"]) if item.get("startedAt") else None,
        stopped_at=from_iso(item["stoppedAt"]) if item.get("stoppedAt") else None,
        limit_reached=LimitKind(item["limitReached"]) if item.get("limitReached") else None,
        priority=int(item["priority"]) if item.get("priority") is not None else None,
    )


class AppSessionRepository:
    def __init__(self, table: Any):
        self._table = table

    def create(self, session: AppSession) -> None:
        requested = to_iso(session.requested_at)
        item: dict[str, Any] = {
            **session_key(session.session_id),
            **session_index_keys(session.charge_point_id, requested, session.session_id),
            **session_kind_keys(session.id_tag, requested, session.session_id),
            "sessionId": session.session_id,
            "chargePointId": session.charge_point_id,
            "connectorId": session.connector_id,
            "idTag": session.id_tag,
            "requestedAt": requested,
            "status": session.status.value,
        }
        if session.limits is not None and not session.limits.empty:
            item["limits"] = to_item_value(session.limits.to_json())
        if session.notify_at_energy_wh:
            item["notifyAtEnergyWh"] = list(session.notify_at_energy_wh)
        if session.priority is not None:
            item["priority"] = session.priority
        self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")

    def get(self, session_id: str) -> AppSession | None:
        item = self._table.get_item(Key=session_key(session_id), ConsistentRead=True).get("Item")
        return session_from_item(item) if item else None

    def record_answer(
        self, session_id: str, *, command_id: str | None, response: dict[str, Any], status: AppSessionStatus
    ) -> AppSession | None:
        """The station's answer to its RemoteStartTransaction: Rejected stays Rejected; an accepted one stays
        Requested (unless its StartTransaction already came: the answer and the start race)."""
        reply = update_if(
            self._table,
            Key=session_key(session_id),
            UpdateExpression="SET #response = :response"
            + (", commandId = :command" if command_id else "")
            + (", #status = :status" if status is not AppSessionStatus.REQUESTED else ""),
            ConditionExpression="#status = :requested",
            ExpressionAttributeNames={"#response": "response", "#status": "status"},
            ExpressionAttributeValues={
                **({":command": command_id} if command_id else {}),
                ":response": to_item_value(response),
                ":requested": AppSessionStatus.REQUESTED.value,
                **({":status": status.value} if status is not AppSessionStatus.REQUESTED else {}),
            },
            ReturnValues="ALL_NEW",
        )
        return session_from_item(reply["Attributes"]) if reply else self.get(session_id)

    @staticmethod
    def started_update(table_name: str, session_id: str, *, transaction_id: int, started_at: str) -> dict[str, Any]:
        """The StartTransaction's TransactWriteItems part: the session it binds is Started, with its transaction."""
        return {
            "Update": {
                "TableName": table_name,
                "Key": session_key(session_id),
                "UpdateExpression": "SET #status = :started, transactionId = :transaction, startedAt = :at",
                "ConditionExpression": "#status = :requested",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":started": AppSessionStatus.STARTED.value,
                    ":requested": AppSessionStatus.REQUESTED.value,
                    ":transaction": transaction_id,
                    ":at": started_at,
                },
            }
        }

    def mark_stopped(
        self, session_id: str, *, transaction_id: int, stopped_at: datetime, limit_reached: LimitKind | None
    ) -> None:
        """Its transaction stopped (a repeat sets the same values)."""
        values: dict[str, Any] = {
            ":stopped": AppSessionStatus.STOPPED.value,
            ":at": to_iso(stopped_at),
            ":transaction": transaction_id,
        }
        expression = "SET #status = :stopped, stoppedAt = :at"
        if limit_reached is not None:
            expression += ", limitReached = :limit"
            values[":limit"] = limit_reached.value
        update_if(
            self._table,
            Key=session_key(session_id),
            UpdateExpression=expression,
            ConditionExpression="transactionId = :transaction",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )

    def list_page(
        self,
        *,
        charge_point_id: str | None,
        id_tag: str | None,
        status: AppSessionStatus | None,
        limit: int,
        start_key: dict[str, Any] | None,
        now: datetime,
        window: timedelta,
    ) -> tuple[list[AppSession], dict[str, Any] | None]:
        """A station's (newest first) or an id tag's (newest first) sessions, `limit` at a time, optionally only
        those in `status` (as shown: Expired is a Requested one past its start window)."""
        cutoff = to_iso(now - window)
        shown = status

        def keep(item: dict[str, Any]) -> bool:
            if id_tag is not None and charge_point_id is not None and item["chargePointId"] != charge_point_id:
                return False
            if shown is None:
                return True
            if shown is AppSessionStatus.EXPIRED:
                return bool(item["status"] == AppSessionStatus.REQUESTED and item["requestedAt"] < cutoff)
            if shown is AppSessionStatus.REQUESTED:
                return bool(item["status"] == AppSessionStatus.REQUESTED and item["requestedAt"] >= cutoff)
            return bool(item["status"] == shown.value)

        if id_tag is not None:
            items, next_key = list_by_index(
                self._table, KIND_INDEX, [id_tag_sessions_kind(id_tag)], limit=limit, start_key=start_key,
                descending=True, keep=keep,
            )  # fmt: skip
            return [session_from_item(item) for item in items], next_key
        assert charge_point_id is not None, "a listing names a station or an id tag"
        request: dict[str, Any] = {
            "IndexName": STATION_INDEX.name,
            "KeyConditionExpression": Key(STATION_INDEX.partition_key).eq(station_pk(charge_point_id))
            & Key(STATION_INDEX.sort_key).begins_with(SESSION_PREFIX),
            "ScanIndexForward": False,
        }
        if status is not None:
            stored = AppSessionStatus.REQUESTED if status is AppSessionStatus.EXPIRED else status
            condition = Attr("status").eq(stored.value)
            if status is AppSessionStatus.EXPIRED:
                condition &= Attr("requestedAt").lt(cutoff)
            elif status is AppSessionStatus.REQUESTED:
                condition &= Attr("requestedAt").gte(cutoff)
            request["FilterExpression"] = condition
        items, next_key = collect_page(
            self._table.query, request, limit=limit, start_key=start_key,
            key_names=(PARTITION_KEY, SORT_KEY, STATION_INDEX.partition_key, STATION_INDEX.sort_key),
        )  # fmt: skip
        return [session_from_item(item) for item in items], next_key
