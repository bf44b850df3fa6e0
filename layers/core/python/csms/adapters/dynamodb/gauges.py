"""Network-wide counters (pk `STATS`, sk `STATS`): connected stations and active transactions.

Kept up by the writes that change them (connect/disconnect, start/stop), read once a minute by the gauges
function. A $disconnect that never arrives leaves a station counted until it reconnects (its next connection
replaces the ghost without counting twice), which is why the gauge is never trusted below zero.
"""

from __future__ import annotations

from typing import Any

from csms.adapters.dynamodb.keys import stats_key

CONNECTED_STATIONS = "connectedStations"
ACTIVE_TRANSACTIONS = "activeTransactions"


class GaugeRepository:
    def __init__(self, table: Any):
        self._table = table

    def add(self, counter: str, delta: int) -> None:
        self._table.update_item(
            Key=stats_key(),
            UpdateExpression="ADD #counter :delta",
            ExpressionAttributeNames={"#counter": counter},
            ExpressionAttributeValues={":delta": delta},
        )

    def read(self) -> dict[str, int]:
        item = self._table.get_item(Key=stats_key()).get("Item", {})
        return {name: max(0, int(item.get(name, 0))) for name in (CONNECTED_STATIONS, ACTIVE_TRANSACTIONS)}

    @staticmethod
    def transaction_started(table_name: str) -> dict[str, Any]:
        """The TransactWriteItems element that counts a new transaction with the write that stores it."""
        return _count(table_name, ACTIVE_TRANSACTIONS, 1)

    @staticmethod
    def transaction_stopped(table_name: str) -> dict[str, Any]:
        """The TransactWriteItems element that counts a transaction's end with the write that ends its session."""
        return _count(table_name, ACTIVE_TRANSACTIONS, -1)


def _count(table_name: str, counter: str, delta: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table_name,
            "Key": stats_key(),
            "UpdateExpression": "ADD #counter :delta",
            "ExpressionAttributeNames": {"#counter": counter},
            "ExpressionAttributeValues": {":delta": delta},
        }
    }
