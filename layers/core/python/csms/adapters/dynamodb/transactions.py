"""Transactions and their meter values.

- counter      pk `COUNTER`,      sk `TRANSACTION`       atomic ADD gives the next transactionId
- transaction  pk `TX#{id}`,      sk `TRANSACTION`       start, stop, latest reading; indexed by station
- start        pk `CP#{station}`, sk `START#{fingerprint}` maps a StartTransaction's content to its id
- meter value  pk `TX#{id}` (or `CP#{station}` outside a transaction), sk `MV#...`: every sampled value kept
- lost stop    pk `CP#{station}`, sk `STOP#{id}#{timestamp}`: a StopTransaction for a transaction we never saw
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from csms.adapters.dynamodb.gauges import GaugeRepository
from csms.adapters.dynamodb.keys import (
    TRANSACTION_SK,
    key,
    station_index_keys,
    station_pk,
    transaction_counter_key,
    transaction_key,
    transaction_pk,
    transaction_start_key,
)
from csms.adapters.dynamodb.operations import collect_page, update_if
from csms.adapters.dynamodb.schema import PARTITION_KEY, SORT_KEY, STATION_INDEX, TTL_ATTRIBUTE
from csms.domain.clock import to_iso
from csms.domain.transactions import start_fingerprint, transaction_id_from_counter

START_RECORD_RETENTION = timedelta(days=30)  # replays come after a reboot, or days later from an offline queue


@dataclass(frozen=True)
class NewTransaction:
    charge_point_id: str
    connector_id: int
    id_tag: str
    meter_start: int
    started_at: datetime
    reservation_id: int | None
    authorization_status: str

    @property
    def fingerprint(self) -> str:
        return start_fingerprint(
            charge_point_id=self.charge_point_id,
            connector_id=self.connector_id,
            id_tag=self.id_tag,
            timestamp=self.started_at,
            meter_start=self.meter_start,
        )


@dataclass(frozen=True)
class StoppedTransaction:
    transaction_id: int
    connector_id: int
    id_tag: str
    energy_wh: Decimal
    first_stop: bool
    """False when this StopTransaction repeats one already recorded."""

    @classmethod
    def from_item(cls, item: dict[str, Any], *, first_stop: bool) -> StoppedTransaction:
        return cls(
            int(item["transactionId"]), int(item["connectorId"]), item["idTag"], Decimal(item.get("energyWh", 0)), first_stop
        )


class TransactionRepository:
    def __init__(self, table: Any):
        self._table = table
        self._client = table.meta.client

    def next_transaction_id(self) -> int:
        response = self._table.update_item(
            Key=transaction_counter_key(),
            UpdateExpression="ADD #value :one",
            ExpressionAttributeNames={"#value": "value"},
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        return transaction_id_from_counter(int(response["Attributes"]["value"]))

    def create(self, transaction_id: int, start: NewTransaction, *, claim: dict[str, Any] | None, now: datetime) -> int:
        """Store a started transaction, or find the one this same start already created.

        One TransactWriteItems: the transaction, its start record (unique per content) and, when given,
        the idTag claim. Returns the transaction id the station must be told.
        """
        started_at = to_iso(start.started_at)
        start_key = transaction_start_key(start.charge_point_id, start.fingerprint)
        transaction_item = {
            **transaction_key(transaction_id),
            **station_index_keys(start.charge_point_id, f"TX#{started_at}#{transaction_id:010d}"),
            "transactionId": transaction_id,
            "chargePointId": start.charge_point_id,
            "connectorId": start.connector_id,
            "idTag": start.id_tag,
            "meterStart": start.meter_start,
            "startedAt": started_at,
            "authorizationStatus": start.authorization_status,
            "createdAt": to_iso(now),
        }
        if start.reservation_id is not None:
            transaction_item["reservationId"] = start.reservation_id
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": {
                        **start_key,
                        "transactionId": transaction_id,
                        TTL_ATTRIBUTE: int((now + START_RECORD_RETENTION).timestamp()),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": transaction_item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        if claim is not None:
            claim["Update"]["TableName"] = self._table.name
            items.append(claim)
        items.append(GaugeRepository.transaction_started(self._table.name))  # counted only if it commits
        try:
            self._client.transact_write_items(TransactItems=items)
        except self._client.exceptions.TransactionCanceledException as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                existing = self._table.get_item(Key=start_key, ConsistentRead=True)["Item"]
                return int(existing["transactionId"])
            if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed":
                # The idTag was deleted between our read and this write: store the transaction without the claim.
                return self.create(transaction_id, start, claim=None, now=now)
            raise
        return transaction_id

    def get(self, transaction_id: int) -> dict[str, Any] | None:
        return self._table.get_item(Key=transaction_key(transaction_id)).get("Item")

    def stop(
        self,
        transaction_id: int,
        *,
        charge_point_id: str,
        meter_stop: int,
        stopped_at: datetime,
        reason: str,
        id_tag: str | None,
    ) -> StoppedTransaction | None:
        """Record the stop of a known transaction of this station. A repeated stop changes nothing.
        Returns None when the transaction is unknown (or belongs to another station)."""
        values: dict[str, Any] = {
            ":meterStop": meter_stop,
            ":stoppedAt": to_iso(stopped_at),
            ":reason": reason,
            ":station": charge_point_id,
        }
        expression = "SET meterStop = :meterStop, stoppedAt = :stoppedAt, stopReason = :reason, energyWh = :meterStop - meterStart"
        if id_tag is not None:
            expression += ", stopIdTag = :stopIdTag"
            values[":stopIdTag"] = id_tag
        response = update_if(
            self._table,
            Key=transaction_key(transaction_id),
            UpdateExpression=expression,
            ConditionExpression="chargePointId = :station AND attribute_not_exists(stoppedAt)",
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        if response is None:  # stopped before (a repeat), or not a transaction of this station
            existing = self.get(transaction_id)
            if existing is None or existing.get("chargePointId") != charge_point_id:
                return None
            return StoppedTransaction.from_item(existing, first_stop=False)
        return StoppedTransaction.from_item(response["Attributes"], first_stop=True)

    def record_unmatched_stop(self, charge_point_id: str, transaction_id: int, stop: dict[str, Any]) -> None:
        """OCPP 1.6 §4.10: the stop of a transaction we never saw is still answered; keep it for the operator."""
        self._table.put_item(
            Item={
                **key(station_pk(charge_point_id), f"STOP#{transaction_id}#{stop['timestamp']}"),
                "chargePointId": charge_point_id,
                "transactionId": transaction_id,
                **stop,
            }
        )

    def record_latest_reading(self, transaction_id: int, *, energy_wh: Decimal, read_at: datetime) -> None:
        """Keep the transaction's newest import register reading (what limits and live views read).
        A late, older reading is ignored; a reading for an unknown transaction creates nothing."""
        update_if(
            self._table,
            Key=transaction_key(transaction_id),
            UpdateExpression="SET lastMeterWh = :wh, lastMeterAt = :at",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(lastMeterAt) OR lastMeterAt < :at)",
            ExpressionAttributeValues={":wh": energy_wh, ":at": to_iso(read_at)},
        )

    def list_page(
        self,
        *,
        charge_point_id: str | None = None,
        active: bool | None = None,
        limit: int,
        start_key: dict[str, Any] | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Transactions, `limit` at a time; active ones have no `stoppedAt`. One station's come newest first
        from the byStation index; all stations' come in table order from a Scan filtered on the sort key."""
        conditions = []
        if active is not None:
            conditions.append(Attr("stoppedAt").not_exists() if active else Attr("stoppedAt").exists())
        if charge_point_id is not None:
            request: dict[str, Any] = {
                "IndexName": STATION_INDEX.name,
                "KeyConditionExpression": Key(STATION_INDEX.partition_key).eq(station_pk(charge_point_id))
                & Key(STATION_INDEX.sort_key).begins_with("TX#"),
                "ScanIndexForward": False,
            }
            read = self._table.query
            key_names: tuple[str, ...] = (PARTITION_KEY, SORT_KEY, STATION_INDEX.partition_key, STATION_INDEX.sort_key)
        else:
            # The transactionId counter shares the sort key: only `TX#` partitions are transactions.
            conditions += [Attr(SORT_KEY).eq(TRANSACTION_SK), Attr(PARTITION_KEY).begins_with("TX#")]
            request, read, key_names = {}, self._table.scan, (PARTITION_KEY, SORT_KEY)
        if conditions:
            expression = conditions[0]
            for condition in conditions[1:]:
                expression = expression & condition
            request["FilterExpression"] = expression
        return collect_page(read, request, limit=limit, start_key=start_key, key_names=key_names)


class MeterValueRepository:
    def __init__(self, table: Any):
        self._table = table

    def put_many(
        self, *, charge_point_id: str, connector_id: int, transaction_id: int | None, meter_values: list[dict[str, Any]]
    ) -> None:
        """Store meter values; a retransmitted message writes the same keys again (idempotent)."""
        with self._table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for meter_value in meter_values:
                batch.put_item(Item=self._item(charge_point_id, connector_id, transaction_id, meter_value))

    @staticmethod
    def _item(
        charge_point_id: str, connector_id: int, transaction_id: int | None, meter_value: dict[str, Any]
    ) -> dict[str, Any]:
        digest = hashlib.sha256(json.dumps(meter_value, sort_keys=True, default=str).encode()).hexdigest()[:12]
        timestamp = meter_value["timestamp"]
        if transaction_id:
            item_key = key(transaction_pk(transaction_id), f"MV#{timestamp}#{connector_id}#{digest}")
        else:
            # MeterValues outside a transaction (transactionId 0 or absent) belong to the connector.
            item_key = key(station_pk(charge_point_id), f"MV#{connector_id}#{timestamp}#{digest}")
        return {
            **item_key,
            "chargePointId": charge_point_id,
            "connectorId": connector_id,
            **({"transactionId": transaction_id} if transaction_id else {}),
            "timestamp": timestamp,
            "sampledValue": meter_value["sampledValue"],
        }

    def list_for_transaction(self, transaction_id: int) -> list[dict[str, Any]]:
        """Every meter value stored for the transaction, oldest first."""
        request: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(transaction_pk(transaction_id)) & Key(SORT_KEY).begins_with("MV#")
        }
        items: list[dict[str, Any]] = []
        while True:
            page = self._table.query(**request)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
