"""IdTag items (pk `IDTAG#{IDTAG}`, sk `IDTAG`): the operator's authorization data and the tag's live transaction.

- registration   `idTag`, `status`, `expiryDate`?, `parentIdTag`?, `tariffId`? (assigned with the tariff's
                 reference count, see tariffs.py); `kind`, `kindKey` (the byKind index)
- notifications  `webhookUrl`?, `webhookSecret`? (the driver's webhook, csms.notifications): the secret is
                 write-only, never part of a record read for the API or authorization; `webhook` alone reads it
- live           `activeTransactionId`, `activeTransactionStartedAt` while the tag is in a transaction
"""

from __future__ import annotations

from typing import Any

from csms.adapters.dynamodb.keys import ID_TAG_KIND, id_tag_key, id_tag_kind_keys
from csms.adapters.dynamodb.operations import list_by_index
from csms.adapters.dynamodb.schema import KIND_INDEX
from csms.domain.authorization import IdTagRecord
from csms.domain.clock import from_iso, to_iso
from csms.domain.notifications import DriverWebhook


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
        """The operator's data of a tag (status, expiryDate, parentIdTag, its webhook and `webhook_secret`)
        replaced in one UpdateItem, leaving the tag's live transaction alone (a put would drop it). Returns True
        when the tag was new."""
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
        )

    @staticmethod
    def claim_transaction_update(table_name: str, id_tag: str, transaction_id: int, started_at: str) -> dict[str, Any]:
        """The TransactWriteItems element that marks the tag as being in this transaction."""
        return {
            "Update": {
                "TableName": table_name,
                "Key": id_tag_key(id_tag),
                "UpdateExpression": "SET activeTransactionId = :transaction, activeTransactionStartedAt = :at",
                "ConditionExpression": "attribute_exists(idTag)",
                "ExpressionAttributeValues": {":transaction": transaction_id, ":at": started_at},
            }
        }

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
