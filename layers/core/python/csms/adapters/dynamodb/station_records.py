"""What stations report for the operator to read later: security events, certificate signing requests.

pk `CP#{station}`, sk `SECURITY#{timestamp}#{type}` | `CSR#{received}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.adapters.dynamodb.keys import key, station_pk
from csms.domain.clock import to_iso


class StationRecordRepository:
    def __init__(self, table: Any):
        self._table = table

    def put_security_event(self, charge_point_id: str, event: dict[str, Any]) -> None:
        # Keyed by the station's own timestamp and type: a retransmitted notification overwrites itself.
        sort_key = f"SECURITY#{event['timestamp']}#{event['type']}"
        self._table.put_item(Item={**key(station_pk(charge_point_id), sort_key), "chargePointId": charge_point_id, **event})

    def put_certificate_signing_request(self, charge_point_id: str, csr: str, *, received_at: datetime) -> None:
        self._table.put_item(
            Item={
                **key(station_pk(charge_point_id), f"CSR#{to_iso(received_at)}"),
                "chargePointId": charge_point_id,
                "csr": csr,
                "status": "Received",
            }
        )
