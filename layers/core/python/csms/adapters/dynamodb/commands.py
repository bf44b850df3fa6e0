"""The durable command outbox: every central-system CALL is an item keyed by its OCPP message id (keys in keys.py).

- command   `commandId`, `chargePointId`, `action`, `request`, `status`, `createdAt`, `sentAt`?, `answeredAt`?,
            `response`?, `error`?, `taskToken`?, `context`?: what was asked, its state and the station's answer;
            indexed by station, newest last
- queued    `commandId`, `action`, `payload`: waiting for its turn in the station's partition (deleted when sent)
- slot      station item attribute `outstandingCall` {commandId, expiresAt}: the one CALL a station may have
            outstanding (OCPP-J 4.1.1)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from csms.adapters.dynamodb.keys import (
    COMMAND_PREFIX,
    OUTBOX_PREFIX,
    command_index_keys,
    command_key,
    outbox_key,
    outbox_position,
    station_key,
    station_pk,
)
from csms.adapters.dynamodb.operations import update_if
from csms.adapters.dynamodb.schema import PARTITION_KEY, SORT_KEY, STATION_INDEX, TTL_ATTRIBUTE
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.clock import from_iso, to_iso
from csms.domain.commands import Command, CommandStatus, QueuedCall
from csms.ocpp.v16.actions import Action

COMMAND_RETENTION = timedelta(days=90)


def command_from_item(item: dict[str, Any]) -> Command:
    def moment(name: str) -> datetime | None:
        return from_iso(item[name]) if item.get(name) else None

    return Command(
        command_id=item["commandId"],
        charge_point_id=item["chargePointId"],
        action=Action(item["action"]),
        request=item.get("request", {}),
        status=CommandStatus(item["status"]),
        created_at=from_iso(item["createdAt"]),
        sent_at=moment("sentAt"),
        answered_at=moment("answeredAt"),
        response=item.get("response"),
        error=item.get("error"),
        task_token=item.get("taskToken"),
        context=item.get("context"),
    )


class CommandRepository:
    def __init__(self, table: Any):
        self._table = table
        self._client = table.meta.client

    def enqueue(self, command: Command, payload: dict[str, Any], *, position: int = 0) -> None:
        """Store the command and its place in the station's queue, together. `position` orders the commands
        one request queues at once (the parts of a split SendLocalList), which may share a millisecond."""
        created = to_iso(command.created_at)
        item: dict[str, Any] = {
            **command_key(command.command_id),
            **command_index_keys(command.charge_point_id, created, command.command_id),
            "commandId": command.command_id,
            "chargePointId": command.charge_point_id,
            "action": command.action,
            "request": to_item_value(command.request),
            "status": CommandStatus.QUEUED.value,
            "createdAt": created,
            TTL_ATTRIBUTE: int((command.created_at + COMMAND_RETENTION).timestamp()),
        }
        if command.task_token:
            item["taskToken"] = command.task_token
        if command.context:
            item["context"] = command.context
        queued = {
            **outbox_key(command.charge_point_id, outbox_position(created, position, command.command_id)),
            "commandId": command.command_id,
            "action": command.action,
            "payload": to_item_value(payload),
        }
        self._client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table.name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self._table.name, "Item": queued}},
            ]
        )

    def get(self, command_id: str) -> Command | None:
        item = self._table.get_item(Key=command_key(command_id), ConsistentRead=True).get("Item")
        return command_from_item(item) if item else None

    def next_queued(self, charge_point_id: str) -> QueuedCall | None:
        items = self._table.query(
            KeyConditionExpression=Key(PARTITION_KEY).eq(station_pk(charge_point_id)) & Key(SORT_KEY).begins_with(OUTBOX_PREFIX),
            ConsistentRead=True,
            Limit=1,
        )["Items"]
        if not items:
            return None
        head = items[0]
        return QueuedCall(
            command_id=head["commandId"], action=Action(head["action"]), payload=head["payload"], position=head[SORT_KEY]
        )

    def dequeue(self, charge_point_id: str, queued: QueuedCall) -> None:
        self._table.delete_item(Key=outbox_key(charge_point_id, queued.position))

    def acquire_slot(self, charge_point_id: str, command_id: str, *, now: datetime, expires_at: datetime) -> str | None:
        """Take the station's single outstanding-call slot for this command, if free or expired.
        Returns the station's current connection id (None when it is not connected), or raises SlotTaken."""
        response = update_if(
            self._table,
            Key=station_key(charge_point_id),
            UpdateExpression="SET outstandingCall = :slot",
            ConditionExpression=(
                "attribute_exists(chargePointId) AND "
                "(attribute_not_exists(outstandingCall) OR outstandingCall.expiresAt < :now)"
            ),
            ExpressionAttributeValues={
                ":slot": {"commandId": command_id, "expiresAt": to_iso(expires_at)},
                ":now": to_iso(now),
            },
            ReturnValues="ALL_NEW",
        )
        if response is None:
            raise SlotTaken()
        connection_id: str | None = response["Attributes"].get("connectionId")
        return connection_id

    def release_slot(self, charge_point_id: str, command_id: str) -> bool:
        return update_if(
            self._table,
            Key=station_key(charge_point_id),
            UpdateExpression="REMOVE outstandingCall",
            ConditionExpression="outstandingCall.commandId = :command",
            ExpressionAttributeValues={":command": command_id},
        ) is not None

    def mark_sent(self, command_id: str, *, at: datetime) -> None:
        self._table.update_item(
            Key=command_key(command_id),
            UpdateExpression="SET #status = :sent, sentAt = :at",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":sent": CommandStatus.SENT.value, ":at": to_iso(at)},
        )

    def record_outcome(
        self,
        command_id: str,
        *,
        status: CommandStatus,
        at: datetime,
        response: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        expected: tuple[CommandStatus, ...] = (CommandStatus.SENT,),
    ) -> Command | None:
        """Complete a command once; a repeated or late second answer changes nothing (returns None)."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":status": status.value, ":at": to_iso(at)}
        assignments = ["#status = :status", "answeredAt = :at"]
        for name, value in (("response", response), ("error", error)):
            if value is not None:
                names[f"#{name}"] = name
                values[f":{name}"] = to_item_value(value)
                assignments.append(f"#{name} = :{name}")
        allowed = {f":expected{n}": state.value for n, state in enumerate(expected)}
        result = update_if(
            self._table,
            Key=command_key(command_id),
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression=f"#status IN ({', '.join(allowed)})",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values | allowed,
            ReturnValues="ALL_NEW",
        )
        if result is None:
            return None
        return command_from_item(result["Attributes"])

    def list_for_station(self, charge_point_id: str, *, limit: int = 50) -> list[Command]:
        items = self._table.query(
            IndexName=STATION_INDEX.name,
            KeyConditionExpression=Key(STATION_INDEX.partition_key).eq(station_pk(charge_point_id))
            & Key(STATION_INDEX.sort_key).begins_with(COMMAND_PREFIX),
            ScanIndexForward=False,
            Limit=limit,
        )["Items"]
        return [command_from_item(item) for item in items]


class SlotTaken(Exception):
    """Another call to this station is outstanding: this one waits in the queue."""
