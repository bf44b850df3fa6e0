"""Station items: registration, boot information, the current connection, connector statuses.

One item per station (pk `CP#{id}`, sk `STATION`), kept small so that the Heartbeat and
StatusNotification updates on it cost one write unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from csms.adapters.dynamodb.keys import station_key
from csms.domain.clock import to_iso

CONNECTOR_ATTRIBUTE_PREFIX = "connector_"


@dataclass(frozen=True)
class StationRecord:
    charge_point_id: str
    registered: bool = False
    password_hash: str | None = None
    lenient: bool = False
    boot_status: str | None = None
    connection_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StationRecord:
        return cls(
            charge_point_id=item["chargePointId"],
            registered=bool(item.get("registered", False)),
            password_hash=item.get("passwordHash"),
            lenient=bool(item.get("lenient", False)),
            boot_status=item.get("bootStatus"),
            connection_id=item.get("connectionId"),
            attributes=item,
        )

    def connector(self, connector_id: int) -> dict[str, Any] | None:
        return self.attributes.get(f"{CONNECTOR_ATTRIBUTE_PREFIX}{connector_id}")


def is_condition_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class StationRepository:
    def __init__(self, table: Any):
        self._table = table

    def get(self, charge_point_id: str) -> StationRecord | None:
        item = self._table.get_item(Key=station_key(charge_point_id), ConsistentRead=True).get("Item")
        return StationRecord.from_item(item) if item else None

    def record_connection(
        self, charge_point_id: str, connection_id: str, *, connected_at: datetime, source_ip: str | None
    ) -> str | None:
        """Make this the station's current connection (the newest wins); returns the one it replaces."""
        response = self._table.update_item(
            Key=station_key(charge_point_id),
            UpdateExpression=(
                "SET chargePointId = :id, connectionId = :connection, connectedAt = :at, sourceIp = :ip, "
                "registered = if_not_exists(registered, :false)"
            ),
            ExpressionAttributeValues={
                ":id": charge_point_id,
                ":connection": connection_id,
                ":at": to_iso(connected_at),
                ":ip": source_ip,
                ":false": False,
            },
            ReturnValues="UPDATED_OLD",
        )
        previous = response.get("Attributes", {}).get("connectionId")
        return previous if previous != connection_id else None

    def forget_connection(self, charge_point_id: str, connection_id: str, *, disconnected_at: datetime) -> bool:
        """$disconnect is best effort and may arrive after the station's next $connect: only the current
        connection is forgotten. Returns whether it was."""
        try:
            self._table.update_item(
                Key=station_key(charge_point_id),
                UpdateExpression="REMOVE connectionId SET disconnectedAt = :at",
                ConditionExpression="connectionId = :connection",
                ExpressionAttributeValues={":connection": connection_id, ":at": to_iso(disconnected_at)},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def record_boot(
        self, charge_point_id: str, *, boot: dict[str, Any], status: str, at: datetime, register: bool
    ) -> None:
        expression = "SET chargePointId = :id, boot = :boot, bootStatus = :status, lastBootAt = :at, lastSeenAt = :at"
        values: dict[str, Any] = {":id": charge_point_id, ":boot": boot, ":status": status, ":at": to_iso(at)}
        if register:
            expression += ", registered = :true"
            values[":true"] = True
        self._table.update_item(
            Key=station_key(charge_point_id), UpdateExpression=expression, ExpressionAttributeValues=values
        )

    def record_heartbeat(self, charge_point_id: str, *, at: datetime) -> None:
        self._update_existing(charge_point_id, "SET lastSeenAt = :at", {":at": to_iso(at)})

    def record_connector_status(
        self, charge_point_id: str, connector_id: int, status: dict[str, Any], *, reported_at: datetime, at: datetime
    ) -> bool:
        """Store a connector's status unless a newer one is already stored: offline-queued notifications
        arrive late with old timestamps and must not overwrite the present. Returns whether it was stored."""
        attribute = f"{CONNECTOR_ATTRIBUTE_PREFIX}{connector_id}"
        try:
            self._table.update_item(
                Key=station_key(charge_point_id),
                UpdateExpression="SET #connector = :status, lastSeenAt = :now",
                ConditionExpression=(
                    "attribute_exists(chargePointId) AND "
                    "(attribute_not_exists(#connector) OR #connector.#reportedAt <= :reportedAt)"
                ),
                ExpressionAttributeNames={"#connector": attribute, "#reportedAt": "reportedAt"},
                ExpressionAttributeValues={
                    ":status": {**status, "reportedAt": to_iso(reported_at)},
                    ":reportedAt": to_iso(reported_at),
                    ":now": to_iso(at),
                },
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def record_notification(self, charge_point_id: str, attribute: str, notification: dict[str, Any]) -> None:
        """Latest firmware / diagnostics / log upload status and the like, replacing the previous one."""
        self._update_existing(
            charge_point_id, "SET #attribute = :notification", {":notification": notification}, {"#attribute": attribute}
        )

    def _update_existing(
        self,
        charge_point_id: str,
        expression: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> None:
        # A station deleted by its operator while still connected must not come back as a half item.
        try:
            self._table.update_item(
                Key=station_key(charge_point_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(chargePointId)",
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
