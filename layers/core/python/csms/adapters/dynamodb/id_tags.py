"""IdTag items (pk `IDTAG#{IDTAG}`, sk `IDTAG`): the operator's authorization data and the tag's live transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from csms.adapters.dynamodb.keys import id_tag_key
from csms.adapters.dynamodb.stations import is_condition_failure
from csms.domain.authorization import IdTagRecord
from csms.domain.clock import from_iso


class IdTagRepository:
    def __init__(self, table: Any):
        self._table = table

    def get(self, id_tag: str) -> IdTagRecord | None:
        item = self._table.get_item(Key=id_tag_key(id_tag)).get("Item")
        if not item:
            return None
        active = item.get("activeTransactionId")
        return IdTagRecord(
            id_tag=item["idTag"],
            status=item["status"],
            expiry_date=from_iso(item["expiryDate"]) if item.get("expiryDate") else None,
            parent_id_tag=item.get("parentIdTag"),
            active_transaction_id=int(active) if active is not None else None,
            active_transaction_started_at=(
                from_iso(item["activeTransactionStartedAt"]) if item.get("activeTransactionStartedAt") else None
            ),
        )

    def put(self, record: IdTagRecord) -> None:
        item: dict[str, Any] = {**id_tag_key(record.id_tag), "idTag": record.id_tag, "status": record.status}
        if record.expiry_date:
            item["expiryDate"] = record.expiry_date.isoformat()
        if record.parent_id_tag:
            item["parentIdTag"] = record.parent_id_tag
        self._table.put_item(Item=item)

    def release_transaction(self, id_tag: str, transaction_id: int) -> None:
        """The tag's transaction ended: it may start another one. Only that transaction releases it."""
        try:
            self._table.update_item(
                Key=id_tag_key(id_tag),
                UpdateExpression="REMOVE activeTransactionId, activeTransactionStartedAt",
                ConditionExpression="activeTransactionId = :transaction",
                ExpressionAttributeValues={":transaction": transaction_id},
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise

    @staticmethod
    def claim_transaction_update(id_tag: str, transaction_id: int, started_at: str) -> dict[str, Any]:
        """The TransactWriteItems element that marks the tag as being in this transaction."""
        return {
            "Update": {
                "Key": id_tag_key(id_tag),
                "UpdateExpression": "SET activeTransactionId = :transaction, activeTransactionStartedAt = :at",
                "ConditionExpression": "attribute_exists(idTag)",
                "ExpressionAttributeValues": {":transaction": transaction_id, ":at": started_at},
            }
        }
