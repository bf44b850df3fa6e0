"""IdTag items (pk `IDTAG#{IDTAG}`, sk `IDTAG`): the operator's authorization data and the tag's live transaction.

- registration   `idTag`, `status`, `expiryDate`?, `parentIdTag`?, `tariffId`? (assigned with the tariff's
                 reference count, see tariffs.py), `limits`? (SessionLimits.to_json), `notifyAtEnergyWh`? (list of
                 Wh); `kind`, `kindKey` (the byKind index)
- load sharing   `priority`? (−9..9, see domain/priorities.py)
- notifications  `webhookUrl`?, `webhookSecret`? (the driver's webhook, csms.notifications): the secret is
                 write-only, never part of a record read for the API or authorization; `webhook` alone reads it
- live           `activeTransactionId`, `activeTransactionStartedAt` while the tag is in a transaction
- pending starts `pendingStart#{station}#{connectorId}`: {`sessionId`, `chargePointId`, `connectorId`,
                 `requestedAt`, `limits`?, `notifyAtEnergyWh`?, `priority`?} per app session a station accepted, until the
                 StartTransaction that binds it removes it (StartTransaction reads this item anyway: no extra read)
"""

from __future__ import annotations

from typing import Any

from csms.adapters.dynamodb.keys import ID_TAG_KIND, id_tag_key, id_tag_kind_keys
from csms.adapters.dynamodb.operations import list_by_index, update_if
from csms.adapters.dynamodb.schema import KIND_INDEX
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.authorization import IdTagRecord
from csms.domain.clock import from_iso, to_iso
from csms.domain.limits import SessionLimits
from csms.domain.notifications import DriverWebhook
from csms.domain.sessions import PendingStart

PENDING_START_PREFIX = "pendingStart#"


def pending_start_attribute(charge_point_id: str, connector_id: int) -> str:
    return f"{PENDING_START_PREFIX}{charge_point_id}#{connector_id}"


def _pending_start_value(start: PendingStart) -> dict[str, Any]:
    value: dict[str, Any] = {
        "sessionId": start.session_id,
        "chargePointId": start.charge_point_id,
        "connectorId": start.connector_id,
        "requestedAt": to_iso(start.requested_at),
    }
    if start.limits is not None and not start.limits.empty:
        value["limits"] = to_item_value(start.limits.to_json())
    if start.notify_at_energy_wh:
        value["notifyAtEnergyWh"] = list(start.notify_at_energy_wh)
    if start.priority is not None:
        value["priority"] = start.priority
    return value


def _pending_start(value: dict[str, Any]) -> PendingStart:
    return PendingStart(
        session_id=value["sessionId"],
        charge_point_id=value["chargePointId"],
        connector_id=int(value["connectorId"]),
        requested_at=from_iso(value["requestedAt"]),
        limits=SessionLimits.from_json(value["limits"]) if value.get("limits") else None,
        notify_at_energy_wh=tuple(int(wh) for wh in value.get("notifyAtEnergyWh", ())),
        priority=int(value["priority"]) if value.get("priority") is not None else None,
    )


class IdTagRepository:
    def __init__(self, table: Any):
        self._table = table

    def get(self, id_tag: str) -> IdTagRecord | None:
        item = self._table.get_item(Key=id_tag_key(id_tag)).get("Item")
        return self.record_from_item(item) if item else None

    def webhook(self, id_tag: str) -> DriverWebhook | None:
        """The driver's webhook with its secret (what the notifications function signs with), if the tag has one."""
        item = self._table.get_item(Key=id_tag_key(id_tag), ProjectionExpression="webhookUrl, webhookSecret").get("Item")
        if not item or not item.get("webhookUrl") or not item.get("webhookSecret"):
            return None
        return DriverWebhook(url=item["webhookUrl"], secret=item["webhookSecret"])

    def register(self, record: IdTagRecord, *, webhook_secret: str | None = None) -> bool:
        """The operator's data of a tag (status, expiryDate, parentIdTag, limits, notifyAtEnergyWh, its webhook and
        `webhook_secret`) replaced in one UpdateItem, leaving the tag's live transaction and pending starts alone (a
        put would drop them). Returns True when the tag was new."""
        if (record.webhook_url is None) != (webhook_secret is None):
            raise ValueError("a webhook takes its URL and its secret together")
        kind = id_tag_kind_keys(record.id_tag)
        values: dict[str, Any] = {
            ":idTag": record.id_tag,
            ":status": record.status,
            ":kind": kind[KIND_INDEX.partition_key],
            ":kindKey": kind[KIND_INDEX.sort_key],
        }
        assignments = ["idTag = :idTag", "#status = :status", "#kind = :kind", "#kindKey = :kindKey"]
        removals = []
        for name, value in (
            ("expiryDate", to_iso(record.expiry_date) if record.expiry_date else None),
            ("parentIdTag", record.parent_id_tag),
            ("priority", record.priority),
            ("limits", to_item_value(record.limits.to_json()) if record.limits and not record.limits.empty else None),
            ("notifyAtEnergyWh", list(record.notify_at_energy_wh) or None),
            ("webhookUrl", record.webhook_url),
            ("webhookSecret", webhook_secret),
        ):
            if value is None:
                removals.append(name)
            else:
                values[f":{name}"] = value
                assignments.append(f"{name} = :{name}")
        expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        response = self._table.update_item(
            Key=id_tag_key(record.id_tag),
            UpdateExpression=expression,
            ExpressionAttributeNames={
                "#status": "status", "#kind": KIND_INDEX.partition_key, "#kindKey": KIND_INDEX.sort_key
            },
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
        )
        return "Attributes" not in response

    def delete(self, id_tag: str) -> IdTagRecord | None:
        """Returns what the tag was, None if it did not exist."""
        old = self._table.delete_item(Key=id_tag_key(id_tag), ReturnValues="ALL_OLD").get("Attributes")
        return self.record_from_item(old) if old else None

    def list_page(
        self, *, limit: int, start_key: dict[str, Any] | None = None
    ) -> tuple[list[IdTagRecord], dict[str, Any] | None]:
        """Tags in the order of their normalised form, `limit` at a time (the byKind index, then the items)."""
        items, next_key = list_by_index(self._table, KIND_INDEX, [ID_TAG_KIND], limit=limit, start_key=start_key)
        return [self.record_from_item(item) for item in items], next_key

    @staticmethod
    def record_from_item(item: dict[str, Any]) -> IdTagRecord:
        active = item.get("activeTransactionId")
        return IdTagRecord(
            id_tag=item["idTag"],
            status=item["status"],
            expiry_date=from_iso(item["expiryDate"]) if item.get("expiryDate") else None,
            parent_id_tag=item.get("parentIdTag"),
            tariff_id=item.get("tariffId"),
            webhook_url=item.get("webhookUrl"),
            active_transaction_id=int(active) if active is not None else None,
            active_transaction_started_at=(
                from_iso(item["activeTransactionStartedAt"]) if item.get("activeTransactionStartedAt") else None
            ),
            priority=int(item["priority"]) if item.get("priority") is not None else None,
            limits=SessionLimits.from_json(item["limits"]) if item.get("limits") else None,
            notify_at_energy_wh=tuple(int(wh) for wh in item.get("notifyAtEnergyWh", ())),
            pending_starts=tuple(
                _pending_start(value) for name, value in sorted(item.items()) if name.startswith(PENDING_START_PREFIX)
            ),
        )

    def add_pending_start(self, id_tag: str, start: PendingStart, *, stale: tuple[PendingStart, ...] = ()) -> bool:
        """Keep an accepted app session for the StartTransaction that binds it (replacing an older one for that
        connector), clearing `stale` ones on the way. False when the tag no longer exists."""
        names = {"#start": pending_start_attribute(start.charge_point_id, start.connector_id)}
        removals = []
        for position, old in enumerate(stale):
            name = pending_start_attribute(old.charge_point_id, old.connector_id)
            if name != names["#start"]:
                names[f"#stale{position}"] = name
                removals.append(f"#stale{position}")
        response = update_if(
            self._table,
            Key=id_tag_key(id_tag),
            UpdateExpression="SET #start = :start" + (" REMOVE " + ", ".join(removals) if removals else ""),
            ConditionExpression="attribute_exists(idTag)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":start": _pending_start_value(start)},
        )
        return response is not None

    def remove_pending_start(self, id_tag: str, start: PendingStart) -> None:
        """The station refused it: its pending start goes (unless a newer one for that connector replaced it)."""
        update_if(
            self._table,
            Key=id_tag_key(id_tag),
            UpdateExpression="REMOVE #start",
            ConditionExpression="#start.sessionId = :session",
            ExpressionAttributeNames={"#start": pending_start_attribute(start.charge_point_id, start.connector_id)},
            ExpressionAttributeValues={":session": start.session_id},
        )

    @staticmethod
    def claim_transaction_update(
        table_name: str, id_tag: str, transaction_id: int, started_at: str, *, binding: PendingStart | None = None
    ) -> dict[str, Any]:
        """The TransactWriteItems element that marks the tag as being in this transaction; with `binding`, it also
        removes the pending start the transaction binds (one item, one element of a transaction)."""
        update: dict[str, Any] = {
            "TableName": table_name,
            "Key": id_tag_key(id_tag),
            "UpdateExpression": "SET activeTransactionId = :transaction, activeTransactionStartedAt = :at",
            "ConditionExpression": "attribute_exists(idTag)",
            "ExpressionAttributeValues": {":transaction": transaction_id, ":at": started_at},
        }
        if binding is not None:
            update["UpdateExpression"] += " REMOVE #pendingStart"
            update["ExpressionAttributeNames"] = {
                "#pendingStart": pending_start_attribute(binding.charge_point_id, binding.connector_id)
            }
        return {"Update": update}

    @staticmethod
    def release_transaction_update(table_name: str, id_tag: str, transaction_id: int) -> dict[str, Any]:
        """The TransactWriteItems element by which a tag's transaction ends: it may start another one. Only that
        transaction releases it."""
        return {
            "Update": {
                "TableName": table_name,
                "Key": id_tag_key(id_tag),
                "UpdateExpression": "REMOVE activeTransactionId, activeTransactionStartedAt",
                "ConditionExpression": "activeTransactionId = :transaction",
                "ExpressionAttributeValues": {":transaction": transaction_id},
            }
        }
