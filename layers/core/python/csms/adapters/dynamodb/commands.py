"""The durable command outbox: every central-system CALL is an item keyed by its OCPP message id (keys in keys.py).

- command   `commandId`, `chargePointId`, `action`, `request`, `status`, `createdAt`, `sentAt`?, `answeredAt`?,
            `response`?, `error`?, `taskToken`?, `context`?: what was asked, its state and the station's answer;
            indexed by station, newest last
- queued    `commandId`, `action`, `payload`, `supersedeKey`?: waiting for its turn in the station's partition
            (deleted when sent); a newer command with the same `supersedeKey` takes an unsent one's place
            (`drop_queued`: the command reads Superseded), so stale ones never pile up behind a busy station
- slot      station item attribute `outstandingCall` {commandId, expiresAt}: the one CALL a station may have
            outstanding (OCPP-J 4.1.1)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

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
from csms.adapters.dynamodb.operations import batch_get, cancellation_codes, update_if
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

    def enqueue(
        self, command: Command, payload: dict[str, Any], *, position: int = 0, supersede_key: str | None = None
    ) -> None:
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
        if supersede_key is not None:
            queued["supersedeKey"] = supersede_key
        self._client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table.name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self._table.name, "Item": queued}},
            ]
        )

    def get(self, command_id: str) -> Command | None:
        item = self._table.get_item(Key=command_key(command_id), ConsistentRead=True).get("Item")
        return command_from_item(item) if item else None

    def get_many(self, command_ids: Sequence[str]) -> dict[str, Command]:
        """The commands that exist among `command_ids` (at most 100), by id."""
        items = batch_get(self._table, [command_key(command_id) for command_id in command_ids], consistent=True)
        return {item["commandId"]: command_from_item(item) for item in items if item is not None}

    def drop_queued(self, charge_point_id: str, supersede_key: str, *, at: datetime) -> list[str]:
        """Take the station's unsent commands with this key out of its queue (each reads Superseded); returns their
        ids. One already handed over (sent meanwhile) stays: its answer will come."""
        items = self._table.query(
            KeyConditionExpression=Key(PARTITION_KEY).eq(station_pk(charge_point_id)) & Key(SORT_KEY).begins_with(OUTBOX_PREFIX),
            FilterExpression=Attr("supersedeKey").eq(supersede_key),
            ConsistentRead=True,
        )["Items"]
        dropped = []
        for entry in items:
            try:
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Delete": {
                                "TableName": self._table.name,
                                "Key": outbox_key(charge_point_id, entry[SORT_KEY]),
                                "ConditionExpression": "attribute_exists(pk)",
                            }
                        },
                        {
                            "Update": {
                                "TableName": self._table.name,
                                "Key": command_key(entry["commandId"]),
                                "UpdateExpression": "SET #status = :superseded, answeredAt = :at",
                                "ConditionExpression": "#status = :queued",
                                "ExpressionAttributeNames": {"#status": "status"},
                                "ExpressionAttributeValues": {
                                    ":superseded": CommandStatus.SUPERSEDED.value,
                                    ":queued": CommandStatus.QUEUED.value,
                                    ":at": to_iso(at),
                                },
                            }
                        },
                    ]
                )
            except self._client.exceptions.TransactionCanceledException:
                continue  # handed over first: it is on its way
            dropped.append(entry["commandId"])
        return dropped

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

    def hand_over(self, charge_point_id: str, queued: QueuedCall, *, now: datetime, expires_at: datetime) -> None:
        """The queued command takes the station's single outstanding-call slot (free, or held by a call that
        expired), leaves the queue and becomes Sent: one transaction, so no crash can leave it taken from the
        queue but never sent. Raises SlotTaken when another call is outstanding, QueueEntryGone when another
        pump handed this command over first."""
        table = self._table.name
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table,
                            "Key": station_key(charge_point_id),
                            "UpdateExpression": "SET outstandingCall = :slot",
                            "ConditionExpression": (
                                "attribute_exists(chargePointId) AND "
                                "(attribute_not_exists(outstandingCall) OR outstandingCall.expiresAt < :now)"
                            ),
                            "ExpressionAttributeValues": {
                                ":slot": {"commandId": queued.command_id, "expiresAt": to_iso(expires_at)},
                                ":now": to_iso(now),
                            },
                        }
                    },
                    {
                        "Delete": {
                            "TableName": table,
                            "Key": outbox_key(charge_point_id, queued.position),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": table,
                            "Key": command_key(queued.command_id),
                            "UpdateExpression": "SET #status = :sent, sentAt = :at",
                            "ConditionExpression": "#status = :queued",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":sent": CommandStatus.SENT.value,
                                ":queued": CommandStatus.QUEUED.value,
                                ":at": to_iso(now),
                            },
                        }
                    },
                ]
            )
        except self._client.exceptions.TransactionCanceledException as error:
            slot, entry, command = (*cancellation_codes(error), None, None, None)[:3]
            if slot == "ConditionalCheckFailed":
                raise SlotTaken() from None
            if entry == "ConditionalCheckFailed" or command == "ConditionalCheckFailed":
                raise QueueEntryGone() from None
            raise

    def release_slot(self, charge_point_id: str, command_id: str) -> bool:
        return update_if(
            self._table,
            Key=station_key(charge_point_id),
            UpdateExpression="REMOVE outstandingCall",
            ConditionExpression="outstandingCall.commandId = :command",
            ExpressionAttributeValues={":command": command_id},
        ) is not None

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
        return self.list_page_for_station(charge_point_id, limit=limit)[0]

    def list_page_for_station(
        self, charge_point_id: str, *, limit: int, start_key: dict[str, Any] | None = None
    ) -> tuple[list[Command], dict[str, Any] | None]:
        """A station's commands, newest first, `limit` at a time; with where the next page starts (None at the
        end). A start key of another station's listing, or of something else than commands, starts nowhere."""
        if start_key is not None and not (
            start_key.get(STATION_INDEX.partition_key) == station_pk(charge_point_id)
            and str(start_key.get(STATION_INDEX.sort_key, "")).startswith(COMMAND_PREFIX)
        ):
            return [], None
        items = self._table.query(
            IndexName=STATION_INDEX.name,
            KeyConditionExpression=Key(STATION_INDEX.partition_key).eq(station_pk(charge_point_id))
            & Key(STATION_INDEX.sort_key).begins_with(COMMAND_PREFIX),
            ScanIndexForward=False,
            Limit=limit + 1,  # one more: a next page only when there is one
            **({"ExclusiveStartKey": start_key} if start_key else {}),
        )["Items"]
        if len(items) <= limit:
            return [command_from_item(item) for item in items], None
        last = items[limit - 1]
        next_key = {name: last[name] for name in (PARTITION_KEY, SORT_KEY, STATION_INDEX.partition_key, STATION_INDEX.sort_key)}
        return [command_from_item(item) for item in items[:limit]], next_key


class SlotTaken(Exception):
    """Another call to this station is outstanding: this one waits in the queue."""


class QueueEntryGone(Exception):
    """Another pump handed this queued command over first."""
