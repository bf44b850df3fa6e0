"""Station items: registration, boot information, the current connection, connector statuses.

One item per station (pk `CP#{id}`, sk `STATION`), kept small so that the Heartbeat and
StatusNotification updates on it cost one write unit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Attr

from csms.adapters.dynamodb.keys import STATION_SK, station_key
from csms.adapters.dynamodb.operations import collect_page, update_if
from csms.adapters.dynamodb.schema import PARTITION_KEY, SORT_KEY
from csms.domain.clock import from_iso, to_iso

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
        return update_if(
            self._table,
            Key=station_key(charge_point_id),
            UpdateExpression="REMOVE connectionId SET disconnectedAt = :at",
            ConditionExpression="connectionId = :connection",
            ExpressionAttributeValues={":connection": connection_id, ":at": to_iso(disconnected_at)},
        ) is not None

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

    def record_heartbeat(self, charge_point_id: str, *, at: datetime) -> datetime | None:
        """Returns when the station's outstanding central-system call expires, if it has one (read for free
        from the same write): a heartbeat is the moment to notice that a call went unanswered."""
        response = self._update_existing(charge_point_id, "SET lastSeenAt = :at", {":at": to_iso(at)}, ReturnValues="ALL_NEW")
        outstanding = (response or {}).get("Attributes", {}).get("outstandingCall")
        return from_iso(outstanding["expiresAt"]) if outstanding else None

    def record_connector_status(
        self, charge_point_id: str, connector_id: int, status: dict[str, Any], *, reported_at: datetime, at: datetime
    ) -> bool:
        """Store a connector's status unless a newer one is already stored: offline-queued notifications
        arrive late with old timestamps and must not overwrite the present. Returns whether it was stored."""
        attribute = f"{CONNECTOR_ATTRIBUTE_PREFIX}{connector_id}"
        return update_if(
            self._table,
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
        ) is not None

    def record_notification(self, charge_point_id: str, attribute: str, notification: dict[str, Any]) -> None:
        """Latest firmware / diagnostics / log upload status and the like, replacing the previous one."""
        self._update_existing(
            charge_point_id, "SET #attribute = :notification", {":notification": notification}, {"#attribute": attribute}
        )

    def register(
        self, charge_point_id: str, *, set_attributes: dict[str, Any], remove_attributes: Collection[str]
    ) -> bool:
        """An operator registers a station or changes its registration: only the registration attributes are
        written (one UpdateItem), never the runtime ones (connection, boot, connectors, outstanding call).
        Returns True when the station was not registered before."""
        touched = set(set_attributes) | set(remove_attributes)
        if not touched <= REGISTRATION_ATTRIBUTES:
            raise ValueError(f"not registration attributes: {sorted(touched - REGISTRATION_ATTRIBUTES)}")
        names = {f"#{name}": name for name in touched}
        values: dict[str, Any] = {":id": charge_point_id, ":true": True}
        assignments = ["chargePointId = :id", "registered = :true"]
        for name, value in set_attributes.items():
            values[f":{name}"] = value
            assignments.append(f"#{name} = :{name}")
        expression = "SET " + ", ".join(assignments)
        if remove_attributes:
            expression += " REMOVE " + ", ".join(f"#{name}" for name in sorted(remove_attributes))
        response = self._table.update_item(
            Key=station_key(charge_point_id),
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
            **({"ExpressionAttributeNames": names} if names else {}),
            ReturnValues="ALL_OLD",
        )
        return not response.get("Attributes", {}).get("registered", False)

    def delete(self, charge_point_id: str) -> StationRecord | None:
        """Remove the station item (registration and runtime state); returns what it held, None if nothing."""
        old = self._table.delete_item(Key=station_key(charge_point_id), ReturnValues="ALL_OLD").get("Attributes")
        return StationRecord.from_item(old) if old else None

    def list_page(
        self, *, limit: int, start_key: dict[str, Any] | None = None
    ) -> tuple[list[StationRecord], dict[str, Any] | None]:
        """Stations in table order, `limit` at a time. A Scan filtered on the station sort key: it reads every
        item kind, so its cost grows with the whole table (a sparse index of stations would read only them)."""
        items, next_key = collect_page(
            self._table.scan,
            {"FilterExpression": Attr(SORT_KEY).eq(STATION_SK), "ConsistentRead": True},
            limit=limit,
            start_key=start_key,
            key_names=(PARTITION_KEY, SORT_KEY),
        )
        return [StationRecord.from_item(item) for item in items], next_key

    def _update_existing(
        self,
        charge_point_id: str,
        expression: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        **options: Any,
    ) -> dict[str, Any] | None:
        # A station deleted by its operator while still connected must not come back as a half item.
        return update_if(
            self._table,
            Key=station_key(charge_point_id),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(chargePointId)",
            ExpressionAttributeValues=values,
            **({"ExpressionAttributeNames": names} if names else {}),
            **options,
        )


REGISTRATION_ATTRIBUTES = frozenset({"description", "lenient", "tariffId", "passwordHash"})
"""What an operator's registration sets on the station item; everything else there is the station's runtime state."""
