"""The durable command outbox: every central-system CALL is an item keyed by its OCPP message id.

- command   pk `CMD#{id}`,        sk `COMMAND`           what was asked, its state and the station's answer;
                                                        indexed by station (`byStation`, `CMD#{created}#{id}`)
- queued    pk `CP#{station}`,    sk `OUTBOX#{created}#{position}#{id}` the payload waiting for its turn (deleted
                                                        when sent); position orders commands queued together
- slot      station item attribute `outstandingCall`    the one CALL a station may have outstanding (OCPP-J 4.1.1)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key

from csms.adapters.dynamodb.keys import key, station_index_keys, station_key, station_pk
from csms.adapters.dynamodb.operations import update_if
from csms.adapters.dynamodb.schema import PARTITION_KEY, SORT_KEY, STATION_INDEX, TTL_ATTRIBUTE
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.clock import from_iso, to_iso

COMMAND_SK = "COMMAND"
OUTBOX_PREFIX = "OUTBOX#"
COMMAND_RETENTION = timedelta(days=90)


class CommandStatus(StrEnum):
    QUEUED = "Queued"  # waiting for the station's previous call to be answered
    SENT = "Sent"  # on its way or at the station, no answer yet
    ANSWERED = "Answered"  # CALLRESULT received and valid
    FAILED = "Failed"  # CALLERROR received, an answer that broke the schema, or the station was not reachable


@dataclass(frozen=True)
class Command:
    command_id: str
    charge_point_id: str
    action: str
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
        return self.status in (CommandStatus.ANSWERED, CommandStatus.FAILED)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Command:
        def moment(name: str) -> datetime | None:
            return from_iso(item[name]) if item.get(name) else None

        return cls(
            command_id=item["commandId"],
            charge_point_id=item["chargePointId"],
            action=item["action"],
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


@dataclass(frozen=True)
class QueuedCall:
    command_id: str
    action: str
    payload: dict[str, Any]
    sort_key: str


class CommandRepository:
    def __init__(self, table: Any):
        self._table = table
        self._client = table.meta.client

    def enqueue(self, command: Command, payload: dict[str, Any], *, position: int = 0) -> None:
        """Store the command and its place in the station's queue, together. `position` orders the commands
        one request queues at once (the parts of a split SendLocalList), which may share a millisecond."""
        created = to_iso(command.created_at)
        item: dict[str, Any] = {
            **key(f"CMD#{command.command_id}", COMMAND_SK),
            **station_index_keys(command.charge_point_id, f"CMD#{created}#{command.command_id}"),
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
            **key(station_pk(command.charge_point_id), f"{OUTBOX_PREFIX}{created}#{position:04d}#{command.command_id}"),
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
        item = self._table.get_item(Key=key(f"CMD#{command_id}", COMMAND_SK), ConsistentRead=True).get("Item")
        return Command.from_item(item) if item else None

    def next_queued(self, charge_point_id: str) -> QueuedCall | None:
        items = self._table.query(
            KeyConditionExpression=Key(PARTITION_KEY).eq(station_pk(charge_point_id)) & Key(SORT_KEY).begins_with(OUTBOX_PREFIX),
            ConsistentRead=True,
            Limit=1,
        )["Items"]
        if not items:
            return None
        head = items[0]
        return QueuedCall(head["commandId"], head["action"], head["payload"], head[SORT_KEY])

    def dequeue(self, charge_point_id: str, queued: QueuedCall) -> None:
        self._table.delete_item(Key=key(station_pk(charge_point_id), queued.sort_key))

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
        return response["Attributes"].get("connectionId")

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
            Key=key(f"CMD#{command_id}", COMMAND_SK),
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
            Key=key(f"CMD#{command_id}", COMMAND_SK),
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression=f"#status IN ({', '.join(allowed)})",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values | allowed,
            ReturnValues="ALL_NEW",
        )
        if result is None:
            return None
        return Command.from_item(result["Attributes"])

    def list_for_station(self, charge_point_id: str, *, limit: int = 50) -> list[Command]:
        items = self._table.query(
            IndexName=STATION_INDEX.name,
            KeyConditionExpression=Key(STATION_INDEX.partition_key).eq(station_pk(charge_point_id))
            & Key(STATION_INDEX.sort_key).begins_with("CMD#"),
            ScanIndexForward=False,
            Limit=limit,
        )["Items"]
        return [Command.from_item(item) for item in items]


class SlotTaken(Exception):
    """Another call to this station is outstanding: this one waits in the queue."""
