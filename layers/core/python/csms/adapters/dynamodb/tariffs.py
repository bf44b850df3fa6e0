"""Tariffs and their versions (keys in keys.py).

- tariff    pk `TARIFFS`, sk `TARIFF#{id}`: the current version, all tariffs in one partition (an operator
            has tens, not millions: listing them is one Query, and no index is needed)
            `tariffId`, `version` (1, 2, ...), `effectiveAt` (when the CSMS stored it), `tariff` (the OCPI
            object, numbers as Decimals), `references` (how many stations and id tags name it: DELETE is
            refused while it is above 0), `deletedAt` once deleted (kept so versions keep counting up)
- version   pk `TARIFF#{id}`, sk `V#{effectiveAt}#{version:08d}`: every version as it took effect, read by
            time (`version_at`), so a session is priced with the version in force when the CSMS accepted its
            start; a deletion leaves a tombstone version (`deleted`) so later sessions find none.

Every PUT writes both in one TransactWriteItems (nothing half-stored). A station's or id tag's `tariffId` is
changed together with the `references` of the old and the new tariff (`assign`), in one transaction too: a
DELETE conditioned on `references = 0` can never leave a station pointing at a deleted tariff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from csms.adapters.dynamodb.keys import (
    TARIFF_PREFIX,
    TARIFF_VERSION_PREFIX,
    TARIFFS_PK,
    tariff_key,
    tariff_version_key,
    tariff_versions_pk,
)
from csms.adapters.dynamodb.operations import cancellation_codes, collect_page, update_if
from csms.adapters.dynamodb.schema import PARTITION_KEY, SORT_KEY
from csms.domain.clock import to_iso
from csms.domain.tariffs.model import Tariff
from csms.ocpp.frames import decimal_to_json

MAX_PUT_ATTEMPTS = 5


class TariffNotFound(LookupError):
    pass


class TariffInUse(Exception):
    def __init__(self, tariff_id: str, references: int):
        super().__init__(f"Tariff {tariff_id} is still assigned to {references} charge point(s) or id tag(s)")
        self.references = references


class AssignmentConflict(Exception):
    """The owner's tariffId changed while it was being assigned (a concurrent request): try again."""


@dataclass(frozen=True, kw_only=True)
class StoredTariff:
    tariff: Tariff
    version: int
    effective_at: str


def _item_value(tariff: Tariff) -> dict[str, Any]:
    # JSON numbers read back as Decimals: exactly the Decimal the model holds, as DynamoDB stores numbers.
    value: dict[str, Any] = json.loads(tariff.model_dump_json(exclude_none=True), parse_float=Decimal)
    return value


def _stored(item: dict[str, Any]) -> StoredTariff:
    return StoredTariff(
        # Through JSON text: its numbers become the Decimals they were (step_size an int again).
        tariff=Tariff.model_validate_json(json.dumps(item["tariff"], default=decimal_to_json)),
        version=int(item["version"]),
        effective_at=item["effectiveAt"],
    )


class TariffRepository:
    def __init__(self, table: Any):
        self._table = table
        self._client = table.meta.client

    def put(self, tariff: Tariff, *, now: datetime) -> tuple[StoredTariff, bool]:
        """Store `tariff` as its new current version taking effect `now`; returns it and whether it is new
        (no version, or deleted before). Concurrent PUTs of one tariff each get their own version."""
        effective_at = to_iso(now)
        for _ in range(MAX_PUT_ATTEMPTS):
            current = self._table.get_item(Key=tariff_key(tariff.id), ConsistentRead=True).get("Item")
            previous = int(current["version"]) if current else 0
            version = previous + 1
            value = _item_value(tariff)
            condition = "attribute_not_exists(pk)" if current is None else "version = :previous"
            values: dict[str, Any] = {
                ":id": tariff.id,
                ":version": version,
                ":at": effective_at,
                ":tariff": value,
            }
            if current is not None:
                values[":previous"] = previous
            writes = [
                {
                    "Update": {
                        "TableName": self._table.name,
                        "Key": tariff_key(tariff.id),
                        "UpdateExpression": "SET tariffId = :id, version = :version, effectiveAt = :at, tariff = :tariff "
                        "REMOVE deletedAt",
                        "ConditionExpression": condition,
                        "ExpressionAttributeValues": values,
                    }
                },
                self._new_version(tariff.id, effective_at, version, tariff=value),
            ]
            try:
                self._client.transact_write_items(TransactItems=writes)
            except self._client.exceptions.TransactionCanceledException as error:
                if "ConditionalCheckFailed" in cancellation_codes(error):
                    continue  # another PUT took this version: read again
                raise
            created = current is None or "deletedAt" in current
            return StoredTariff(tariff=tariff, version=version, effective_at=effective_at), created
        raise RuntimeError(f"tariff {tariff.id}: {MAX_PUT_ATTEMPTS} concurrent PUTs in a row")

    def get(self, tariff_id: str) -> StoredTariff | None:
        item = self._table.get_item(Key=tariff_key(tariff_id)).get("Item")
        return _stored(item) if item and "deletedAt" not in item else None

    def version_at(self, tariff_id: str, moment: datetime) -> StoredTariff | None:
        """The version in force at `moment` (the last one that took effect at or before it), None if there was
        none or the tariff was deleted by then."""
        # `V#{iso}#` sorts below `V#{iso}#{version}` and `~` above every digit: every version of that instant.
        upper = f"{TARIFF_VERSION_PREFIX}{to_iso(moment)}#~"
        page = self._table.query(
            KeyConditionExpression=Key(PARTITION_KEY).eq(tariff_versions_pk(tariff_id))
            & Key(SORT_KEY).between(TARIFF_VERSION_PREFIX, upper),
            ScanIndexForward=False,
            Limit=1,
        )
        items = page["Items"]
        if not items or items[0].get("deleted"):
            return None
        return _stored(items[0])

    def version(self, tariff_id: str, effective_at: str, version: int) -> StoredTariff | None:
        """One version by its key (as `version_at` found it once: versions never change)."""
        item = self._table.get_item(Key=tariff_version_key(tariff_id, effective_at, version)).get("Item")
        return _stored(item) if item and not item.get("deleted") else None

    def delete(self, tariff_id: str, *, now: datetime) -> None:
        """Refused (TariffInUse) while a station or id tag names it; TariffNotFound if there is none."""
        effective_at = to_iso(now)
        current = self._table.get_item(Key=tariff_key(tariff_id), ConsistentRead=True).get("Item")
        if current is None or "deletedAt" in current:
            raise TariffNotFound(tariff_id)
        version = int(current["version"]) + 1
        writes = [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": tariff_key(tariff_id),
                    "UpdateExpression": "SET deletedAt = :at, version = :version",
                    "ConditionExpression": "version = :previous AND (attribute_not_exists(#references) OR #references = :zero)",
                    "ExpressionAttributeNames": {"#references": "references"},
                    "ExpressionAttributeValues": {
                        ":at": effective_at,
                        ":version": version,
                        ":previous": version - 1,
                        ":zero": 0,
                    },
                }
            },
            self._new_version(tariff_id, effective_at, version, deleted=True),
        ]
        try:
            self._client.transact_write_items(TransactItems=writes)
        except self._client.exceptions.TransactionCanceledException as error:
            if "ConditionalCheckFailed" not in cancellation_codes(error):
                raise
            latest = self._table.get_item(Key=tariff_key(tariff_id), ConsistentRead=True).get("Item") or {}
            references = int(latest.get("references", 0))
            if references > 0:
                raise TariffInUse(tariff_id, references) from None
            raise TariffInUse(tariff_id, 0) from None  # changed meanwhile: the operator may try again

    def list_page(
        self, *, limit: int, start_key: dict[str, Any] | None = None
    ) -> tuple[list[StoredTariff], dict[str, Any] | None]:
        items, next_key = collect_page(
            self._table.query,
            {
                "KeyConditionExpression": Key(PARTITION_KEY).eq(TARIFFS_PK) & Key(SORT_KEY).begins_with(TARIFF_PREFIX),
                "FilterExpression": Attr("deletedAt").not_exists(),
            },
            limit=limit,
            start_key=start_key,
            key_names=(PARTITION_KEY, SORT_KEY),
        )
        return [_stored(item) for item in items], next_key

    def assign(
        self, owner_key: dict[str, str], new_tariff_id: str | None, *, owner_condition: str = "attribute_exists(pk)"
    ) -> None:
        """Set (or with None remove) the `tariffId` of a station or id tag item, moving the reference count from
        its old tariff to the new one in one transaction. TariffNotFound: no such (undeleted) tariff."""
        for _ in range(MAX_PUT_ATTEMPTS):
            owner = self._table.get_item(Key=owner_key, ConsistentRead=True, ProjectionExpression="tariffId").get("Item")
            owner = owner or {}
            old = owner.get("tariffId")
            if old == new_tariff_id:
                if new_tariff_id is not None and self.get(new_tariff_id) is None:
                    raise TariffNotFound(new_tariff_id)
                return
            values: dict[str, Any] = {}
            if old is None:
                condition = f"{owner_condition} AND attribute_not_exists(tariffId)"
            else:
                condition = f"{owner_condition} AND tariffId = :old"
                values[":old"] = old
            if new_tariff_id is None:
                expression = "REMOVE tariffId"
            else:
                expression = "SET tariffId = :new"
                values[":new"] = new_tariff_id
            writes: list[dict[str, Any]] = [
                {
                    "Update": {
                        "TableName": self._table.name,
                        "Key": owner_key,
                        "UpdateExpression": expression,
                        "ConditionExpression": condition,
                        **({"ExpressionAttributeValues": values} if values else {}),
                    }
                }
            ]
            if new_tariff_id is not None:
                writes.append(self._reference_update(new_tariff_id, 1))
            if old is not None:
                writes.append(self._reference_update(old, -1, must_exist=False))
            try:
                self._client.transact_write_items(TransactItems=writes)
                return
            except self._client.exceptions.TransactionCanceledException as error:
                codes = cancellation_codes(error)
                if len(codes) > 1 and new_tariff_id is not None and codes[1] == "ConditionalCheckFailed":
                    raise TariffNotFound(new_tariff_id) from None
                if codes and codes[0] == "ConditionalCheckFailed":
                    continue  # the owner's tariff changed meanwhile
                raise
        raise AssignmentConflict(str(owner_key))

    def release(self, tariff_id: str | None) -> None:
        """A station or id tag that named `tariff_id` was deleted: one reference less."""
        if tariff_id is not None:
            update = self._reference_update(tariff_id, -1, must_exist=False)["Update"]
            update_if(self._table, **{name: value for name, value in update.items() if name != "TableName"})

    def _reference_update(self, tariff_id: str, delta: int, *, must_exist: bool = True) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": tariff_key(tariff_id),
            "UpdateExpression": "ADD #references :delta",
            "ExpressionAttributeNames": {"#references": "references"},
            "ExpressionAttributeValues": {":delta": delta},
            # A release never creates an item; an assignment needs a tariff that exists and is not deleted.
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(deletedAt)"
            if must_exist
            else "attribute_exists(pk)",
        }
        return {"Update": update}

    def _new_version(self, tariff_id: str, effective_at: str, version: int, **content: Any) -> dict[str, Any]:
        """The TransactWriteItems element that adds a version (the tariff, or a deletion's tombstone), once."""
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": {
                    **tariff_version_key(tariff_id, effective_at, version),
                    "tariffId": tariff_id,
                    "version": version,
                    "effectiveAt": effective_at,
                    **content,
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
