"""Station items: registration, boot information, the current connection, connectors and their sessions.

One item per station (pk `CP#{id}`, sk `STATION`), kept small so that the Heartbeat and
StatusNotification updates on it cost one write unit:

- registration   `chargePointId`, `registered`, `description`, `lenient`, `tariffId` (see tariffs.py: assigned
                 with its reference count), `timeZone`, `idTagSuffixSeparator`, `passwordHash`
- connection     `connectionId` (absent when disconnected), `connectedAt`, `sourceIp`, `disconnectedAt`;
                 `liveShard`, `liveKey` (the live index) exactly while `connectionId` is there, the key flagged
                 `#CHARGING`/`#FAULTED` as the station is (keys.py); `liveVersion`, bumped by every write that
                 changes what the flags are derived from (connection, connector statuses)
- kind           `kind`, `kindKey` (the byKind index): set by the writes that may create the item
                 (connection, boot, registration), never changed
- boot           `boot` (the BootNotification as sent), `bootStatus`, `lastBootAt`, `lastSeenAt`
- connectors     `connector_{n}` {status, errorCode, info?, vendorId?, vendorErrorCode?, reportedAt}
- sessions       `session_{n}` {transactionId, idTag, startedAt, priority}: the transaction in progress on
                 connector n, set by StartTransaction, removed by its StopTransaction
- holds          `reservation_{n}` {reservationId, idTag, parentIdTag?, expiryDate, limits?}: the reservation the
                 station accepted for connector n (0: any), set with its acceptance, removed with the write that
                 consumes, expires or cancels it (see reservations.py), so StartTransaction reads it with the station
- answers        `localListVersion`, `firmwareStatus`, `diagnosticsStatus`, `logStatus`
- outbox slot    `outstandingCall` {commandId, expiresAt} (see commands.py)
- site           `siteId`: the site whose grid connection it shares, at most one (claimed and released by
                 sites.py's conditional writes)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csms.adapters.dynamodb.keys import (
    STATION_KIND,
    connected_station_keys,
    station_key,
    station_kind_keys,
)
from csms.adapters.dynamodb.operations import BATCH_GET_MAX_KEYS, batch_get, list_by_index, update_if
from csms.adapters.dynamodb.schema import KIND_INDEX, LIVE_INDEX
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.clock import from_iso, to_iso
from csms.domain.limits import SessionLimits
from csms.domain.priorities import DEFAULT_PRIORITY
from csms.domain.reservations import Hold
from csms.domain.stations import ActiveSession, Connector, Operation, OutstandingCall, Station, StatusChange
from csms.ocpp.frames import plain_json

CONNECTOR_ATTRIBUTE_PREFIX = "connector_"
SESSION_ATTRIBUTE_PREFIX = "session_"
HOLD_ATTRIBUTE_PREFIX = "reservation_"


SITE_ATTRIBUTE = "siteId"
"""The site the station belongs to (claimed and released by sites.py)."""


def session_attribute(connector_id: int) -> str:
    return f"{SESSION_ATTRIBUTE_PREFIX}{connector_id}"


def hold_attribute(connector_id: int) -> str:
    return f"{HOLD_ATTRIBUTE_PREFIX}{connector_id}"


def _per_connector(item: Mapping[str, Any], prefix: str) -> dict[int, Any]:
    return {
        int(name.removeprefix(prefix)): value
        for name, value in item.items()
        if name.startswith(prefix) and name.removeprefix(prefix).isdigit()
    }


_OPERATION_STATUS_ATTRIBUTES: Mapping[Operation, str] = {
    Operation.FIRMWARE: "firmwareStatus",
    Operation.DIAGNOSTICS: "diagnosticsStatus",
    Operation.LOG_UPLOAD: "logStatus",
}


REGISTRATION_ATTRIBUTES: Mapping[str, str] = {
    "description": "description",
    "lenient": "lenient",
    "tariff_id": "tariffId",
    "time_zone": "timeZone",
    "id_tag_suffix_separator": "idTagSuffixSeparator",
    "password_hash": "passwordHash",
}
"""What an operator's registration sets (Station field -> attribute); the rest of the item is runtime state."""


def _moment(value: Any) -> datetime | None:
    return from_iso(value) if value else None


def _optional_json(value: Any) -> Any:
    return plain_json(value) if value is not None else None


def session_from_value(connector_id: int, value: Mapping[str, Any]) -> ActiveSession:
    return ActiveSession(
        transaction_id=int(value["transactionId"]),
        connector_id=connector_id,
        id_tag=value["idTag"],
        started_at=from_iso(value["startedAt"]),
        priority=int(value.get("priority", DEFAULT_PRIORITY)),
    )


def session_value(session: ActiveSession) -> dict[str, Any]:
    return {
        "transactionId": session.transaction_id,
        "idTag": session.id_tag,
        "startedAt": to_iso(session.started_at),
        "priority": session.priority,
    }


def hold_value(hold: Hold) -> dict[str, Any]:
    value: dict[str, Any] = {
        "reservationId": hold.reservation_id,
        "idTag": hold.id_tag,
        "expiryDate": to_iso(hold.expiry_date),
    }
    if hold.parent_id_tag is not None:
        value["parentIdTag"] = hold.parent_id_tag
    if hold.limits is not None and not hold.limits.empty:
        value["limits"] = to_item_value(hold.limits.to_json())
    return value


def hold_from_value(connector_id: int, value: Mapping[str, Any]) -> Hold:
    return Hold(
        reservation_id=int(value["reservationId"]),
        connector_id=connector_id,
        id_tag=value["idTag"],
        parent_id_tag=value.get("parentIdTag"),
        expiry_date=from_iso(value["expiryDate"]),
        limits=SessionLimits.from_json(plain_json(value["limits"])) if value.get("limits") else None,
    )


def station_from_item(item: Mapping[str, Any]) -> Station:
    statuses = _per_connector(item, CONNECTOR_ATTRIBUTE_PREFIX)
    sessions = _per_connector(item, SESSION_ATTRIBUTE_PREFIX)
    holds = _per_connector(item, HOLD_ATTRIBUTE_PREFIX)
    connectors = tuple(
        Connector(
            connector_id=connector_id,
            status=statuses.get(connector_id, {}).get("status"),
            error_code=statuses.get(connector_id, {}).get("errorCode"),
            info=statuses.get(connector_id, {}).get("info"),
            vendor_id=statuses.get(connector_id, {}).get("vendorId"),
            vendor_error_code=statuses.get(connector_id, {}).get("vendorErrorCode"),
            reported_at=_moment(statuses.get(connector_id, {}).get("reportedAt")),
            session=session_from_value(connector_id, sessions[connector_id]) if connector_id in sessions else None,
            reservation=hold_from_value(connector_id, holds[connector_id]) if connector_id in holds else None,
        )
        for connector_id in sorted(statuses.keys() | sessions.keys() | holds.keys())
    )
    outstanding = item.get("outstandingCall")
    return Station(
        charge_point_id=item["chargePointId"],
        registered=bool(item.get("registered", False)),
        description=item.get("description"),
        lenient=bool(item.get("lenient", False)),
        tariff_id=item.get("tariffId"),
        time_zone=item.get("timeZone"),
        id_tag_suffix_separator=item.get("idTagSuffixSeparator"),
        password_hash=item.get("passwordHash"),
        site_id=item.get(SITE_ATTRIBUTE),
        boot_status=item.get("bootStatus"),
        boot=_optional_json(item.get("boot")),
        last_boot_at=_moment(item.get("lastBootAt")),
        connection_id=item.get("connectionId"),
        connected_at=_moment(item.get("connectedAt")) if item.get("connectionId") else None,
        disconnected_at=_moment(item.get("disconnectedAt")),
        last_seen_at=_moment(item.get("lastSeenAt")),
        connectors=connectors,
        local_list_version=int(item["localListVersion"]) if item.get("localListVersion") is not None else None,
        firmware_status=_optional_json(item.get(_OPERATION_STATUS_ATTRIBUTES[Operation.FIRMWARE])),
        diagnostics_status=_optional_json(item.get(_OPERATION_STATUS_ATTRIBUTES[Operation.DIAGNOSTICS])),
        log_status=_optional_json(item.get(_OPERATION_STATUS_ATTRIBUTES[Operation.LOG_UPLOAD])),
        outstanding_call=(
            OutstandingCall(command_id=outstanding["commandId"], expires_at=from_iso(outstanding["expiresAt"]))
            if outstanding
            else None
        ),
    )


LIVE_VERSION_ATTRIBUTE = "liveVersion"

_KIND_NAMES = {"#kind": KIND_INDEX.partition_key, "#kindKey": KIND_INDEX.sort_key}
_LIVE_NAMES = {"#liveShard": LIVE_INDEX.partition_key, "#liveKey": LIVE_INDEX.sort_key, "#liveVersion": LIVE_VERSION_ATTRIBUTE}
_INDEX_NAMES = _KIND_NAMES | _LIVE_NAMES
_KIND_ASSIGNMENTS = "#kind = :kind, #kindKey = :kindKey"


def _kind_values(charge_point_id: str) -> dict[str, str]:
    keys = station_kind_keys(charge_point_id)
    return {":kind": keys[KIND_INDEX.partition_key], ":kindKey": keys[KIND_INDEX.sort_key]}


def _live_values(charge_point_id: str) -> dict[str, str]:
    keys = connected_station_keys(charge_point_id)
    return {":liveShard": keys[LIVE_INDEX.partition_key], ":liveKey": keys[LIVE_INDEX.sort_key]}


def _live_key(item: Mapping[str, Any]) -> str | None:
    """The live key the station item should have: none while disconnected, flagged as the station is."""
    if not item.get("connectionId"):
        return None
    station = station_from_item(item)
    keys = connected_station_keys(station.charge_point_id, charging=station.charging, faulted=station.faulted)
    return keys[LIVE_INDEX.sort_key]


@dataclass(frozen=True)
class NewConnection:
    """What recording a connection replaced, read for free from its write."""

    previous: str | None
    """The connection it replaces (a ghost to close), if any."""
    site_id: str | None
    """The site the station belongs to, if any."""
    boot_status: str | None
    """What its last BootNotification was answered."""


@dataclass(frozen=True)
class Heartbeat:
    call_expires_at: datetime | None
    """When the station's outstanding central-system call expires, if it has one."""
    superseded: bool
    """Another connection of the station is the current one."""


class StationRepository:
    def __init__(self, table: Any):
        self._table = table
        self._client = table.meta.client

    def get(self, charge_point_id: str) -> Station | None:
        item = self._table.get_item(Key=station_key(charge_point_id), ConsistentRead=True).get("Item")
        return station_from_item(item) if item else None

    def record_connection(
        self, charge_point_id: str, connection_id: str, *, connected_at: datetime, source_ip: str | None
    ) -> NewConnection:
        """Make this the station's current connection (the newest wins); returns the one it replaces, and the site and
        boot status the item held (the whole old item comes back from the write: no read).

        A station that replaces its ghost keeps its flagged live key; one that was offline gets the plain key, and
        a second write flags it if its connectors say so (a station reconnecting in the middle of a session)."""
        live = _live_values(charge_point_id)
        response = self._table.update_item(
            Key=station_key(charge_point_id),
            UpdateExpression=(
                "SET chargePointId = :id, connectionId = :connection, connectedAt = :at, sourceIp = :ip, "
                "registered = if_not_exists(registered, :false), "
                f"{_KIND_ASSIGNMENTS}, #liveShard = :liveShard, #liveKey = if_not_exists(#liveKey, :liveKey) "
                "ADD #liveVersion :one"
            ),
            ExpressionAttributeNames=_INDEX_NAMES,
            ExpressionAttributeValues={
                ":id": charge_point_id,
                ":connection": connection_id,
                ":at": to_iso(connected_at),
                ":ip": source_ip,
                ":false": False,
                ":one": 1,
                **_kind_values(charge_point_id),
                **live,
            },
            ReturnValues="ALL_OLD",
        )
        old = response.get("Attributes", {})
        self._flag_live_key(
            {
                **old,
                "chargePointId": charge_point_id,
                "connectionId": connection_id,
                LIVE_INDEX.sort_key: old.get(LIVE_INDEX.sort_key, live[":liveKey"]),
                LIVE_VERSION_ATTRIBUTE: old.get(LIVE_VERSION_ATTRIBUTE, 0) + 1,
            }
        )
        previous = old.get("connectionId")
        return NewConnection(
            previous=previous if previous != connection_id else None,
            site_id=old.get(SITE_ATTRIBUTE),
            boot_status=old.get("bootStatus"),
        )

    def current_connection(self, charge_point_id: str) -> str | None:
        """The connection the station item names now (a consistent read of that attribute only)."""
        item = self._table.get_item(
            Key=station_key(charge_point_id), ConsistentRead=True, ProjectionExpression="connectionId"
        ).get("Item")
        return item.get("connectionId") if item else None

    def forget_connection(self, charge_point_id: str, connection_id: str, *, disconnected_at: datetime) -> bool:
        """$disconnect is best effort and may arrive after the station's next $connect: only the current
        connection is forgotten. Returns whether it was."""
        return update_if(
            self._table,
            Key=station_key(charge_point_id),
            # The live key goes whatever it was flagged with: an offline station is counted as offline only.
            UpdateExpression="REMOVE connectionId, #liveShard, #liveKey SET disconnectedAt = :at ADD #liveVersion :one",
            ConditionExpression="connectionId = :connection",
            ExpressionAttributeNames=_LIVE_NAMES,
            ExpressionAttributeValues={":connection": connection_id, ":at": to_iso(disconnected_at), ":one": 1},
        ) is not None

    def record_boot(
        self, charge_point_id: str, *, boot: dict[str, Any], status: str, at: datetime, register: bool
    ) -> str | None:
        """Returns the site the station belongs to (read for free from the same write), if any."""
        expression = (
            "SET chargePointId = :id, boot = :boot, bootStatus = :status, lastBootAt = :at, lastSeenAt = :at, "
            + _KIND_ASSIGNMENTS
        )
        values: dict[str, Any] = {
            ":id": charge_point_id, ":boot": boot, ":status": status, ":at": to_iso(at), **_kind_values(charge_point_id)
        }
        if register:
            expression += ", registered = :true"
            values[":true"] = True
        response = self._table.update_item(
            Key=station_key(charge_point_id),
            UpdateExpression=expression,
            ExpressionAttributeNames=_KIND_NAMES,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        site_id = response["Attributes"].get(SITE_ATTRIBUTE)
        return str(site_id) if site_id else None

    def record_heartbeat(self, charge_point_id: str, connection_id: str, *, at: datetime) -> Heartbeat:
        """One write, which also tells (read for free from it) when the station's outstanding central-system call
        expires, if it has one (a heartbeat is the moment to notice that a call went unanswered), and whether
        another connection of the station is the current one: this one is then a ghost."""
        try:
            response = self._table.update_item(
                Key=station_key(charge_point_id),
                UpdateExpression="SET lastSeenAt = :at",
                ConditionExpression=(
                    "attribute_exists(chargePointId) AND "
                    "(attribute_not_exists(connectionId) OR connectionId = :connection)"
                ),
                ExpressionAttributeValues={":at": to_iso(at), ":connection": connection_id},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as refused:
            current = (refused.response.get("Item") or {}).get("connectionId", {}).get("S")
            return Heartbeat(call_expires_at=None, superseded=current is not None and current != connection_id)
        outstanding = response["Attributes"].get("outstandingCall")
        return Heartbeat(call_expires_at=from_iso(outstanding["expiresAt"]) if outstanding else None, superseded=False)

    def record_connector_status(
        self, charge_point_id: str, connector_id: int, status: dict[str, Any], *, reported_at: datetime, at: datetime
    ) -> StatusChange | None:
        """Store a connector's status unless a newer one is already stored: offline-queued notifications
        arrive late with old timestamps and must not overwrite the present. Returns the change made (the
        status it replaced comes back from the same write), None when nothing was stored.

        A status that makes the station start or stop charging, or a fault begin or end, costs a second write: its
        flagged live key (the network's counts)."""
        attribute = f"{CONNECTOR_ATTRIBUTE_PREFIX}{connector_id}"
        stored = {**status, "reportedAt": to_iso(reported_at)}
        response = update_if(
            self._table,
            Key=station_key(charge_point_id),
            UpdateExpression="SET #connector = :status, lastSeenAt = :now ADD #liveVersion :one",
            ConditionExpression=(
                "attribute_exists(chargePointId) AND "
                "(attribute_not_exists(#connector) OR #connector.#reportedAt <= :reportedAt)"
            ),
            ExpressionAttributeNames={
                "#connector": attribute, "#reportedAt": "reportedAt", "#liveVersion": LIVE_VERSION_ATTRIBUTE
            },
            ExpressionAttributeValues={
                ":status": stored,
                ":reportedAt": to_iso(reported_at),
                ":now": to_iso(at),
                ":one": 1,
            },
            ReturnValues="ALL_OLD",  # the station item is small; its session on this connector comes with it
        )
        if response is None:
            return None
        old = response.get("Attributes", {})
        self._flag_live_key({**old, attribute: stored, LIVE_VERSION_ATTRIBUTE: old.get(LIVE_VERSION_ATTRIBUTE, 0) + 1})
        session = old.get(session_attribute(connector_id))
        return StatusChange(
            connector_id=connector_id,
            previous=old.get(attribute, {}).get("status"),
            current=status["status"],
            session=session_from_value(connector_id, session) if session else None,
            site_id=old.get(SITE_ATTRIBUTE),
        )

    def record_operation_status(self, charge_point_id: str, operation: Operation, notification: dict[str, Any]) -> None:
        """Latest firmware / diagnostics / log upload status notification, replacing the previous one."""
        attribute = _OPERATION_STATUS_ATTRIBUTES[operation]
        self._update_existing(
            charge_point_id, "SET #attribute = :notification", {":notification": notification}, {"#attribute": attribute}
        )

    def register(self, charge_point_id: str, changes: Mapping[str, Any]) -> bool:
        """An operator registers a station or changes its registration: `changes` maps registration fields of
        `Station` (description, lenient, tariff_id, password_hash) to their new value, None to clear one. Only
        the registration attributes are written (one UpdateItem), never the runtime ones (connection, boot,
        connectors, outstanding call). Returns True when the station was not registered before."""
        unknown = set(changes) - set(REGISTRATION_ATTRIBUTES)
        if unknown:
            raise ValueError(f"not registration fields: {sorted(unknown)}")
        set_attributes = {REGISTRATION_ATTRIBUTES[name]: value for name, value in changes.items() if value is not None}
        remove_attributes = {REGISTRATION_ATTRIBUTES[name] for name, value in changes.items() if value is None}
        names = {f"#{name}": name for name in set_attributes.keys() | remove_attributes} | _KIND_NAMES
        values: dict[str, Any] = {":id": charge_point_id, ":true": True, **_kind_values(charge_point_id)}
        assignments = ["chargePointId = :id", "registered = :true", _KIND_ASSIGNMENTS]
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
            ExpressionAttributeNames=names,
            ReturnValues="ALL_OLD",
        )
        return not response.get("Attributes", {}).get("registered", False)

    def delete(self, charge_point_id: str) -> Station | None:
        """Remove the station item (registration and runtime state); returns what it held, None if nothing."""
        old = self._table.delete_item(Key=station_key(charge_point_id), ReturnValues="ALL_OLD").get("Attributes")
        return station_from_item(old) if old else None

    def get_many(self, charge_point_ids: Sequence[str]) -> list[Station]:
        """The stations of `charge_point_ids` that exist, in that order (BatchGetItem, read consistently)."""
        keys = [station_key(charge_point_id) for charge_point_id in charge_point_ids]
        items = [
            item
            for start in range(0, len(keys), BATCH_GET_MAX_KEYS)
            for item in batch_get(self._table, keys[start : start + BATCH_GET_MAX_KEYS], consistent=True)
        ]
        return [station_from_item(item) for item in items if item is not None]

    def list_page(
        self, *, limit: int, start_key: dict[str, Any] | None = None
    ) -> tuple[list[Station], dict[str, Any] | None]:
        """Stations in the order of their ids, `limit` at a time: the byKind index's keys, then the items (read
        consistently, as a single station is)."""
        items, next_key = list_by_index(
            self._table, KIND_INDEX, [STATION_KIND], limit=limit, start_key=start_key, consistent=True
        )
        return [station_from_item(item) for item in items], next_key

    def _flag_live_key(self, item: Mapping[str, Any]) -> None:
        """Give the station the live key its connectors call for, if `item` (the station just after a write that
        bumped its `liveVersion`) has another. The write that changed a status or the connection could not set it:
        the key depends on the other connectors, which that write only returns. Guarded by the version, so that of
        two changes in a row the later one decides: an older flag never lands after a newer change (whose own
        second write, if it needs one, sets the key from an item that includes this change). Never on a
        disconnected station (no key) or a deleted one (no version)."""
        wanted = _live_key(item)
        if wanted is None or wanted == item.get(LIVE_INDEX.sort_key):
            return
        update_if(
            self._table,
            Key=station_key(str(item["chargePointId"])),
            UpdateExpression="SET #liveKey = :liveKey",
            ConditionExpression="#liveVersion = :version AND attribute_exists(connectionId)",
            ExpressionAttributeNames={"#liveKey": LIVE_INDEX.sort_key, "#liveVersion": LIVE_VERSION_ATTRIBUTE},
            ExpressionAttributeValues={":liveKey": wanted, ":version": item[LIVE_VERSION_ATTRIBUTE]},
        )

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
