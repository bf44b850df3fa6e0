"""What stations report for the operator to read later: security events, certificate signing requests
(keys in keys.py): the notification as sent with `chargePointId`; a request's `csr` and `status`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.adapters.dynamodb.keys import security_event_key, signing_request_key
from csms.domain.clock import to_iso


class StationRecordRepository:
    def __init__(self, table: Any):
        self._table = table

    def put_security_event(self, charge_point_id: str, event: dict[str, Any]) -> None:
        # Keyed by the station's own timestamp and type: a retransmitted notification overwrites itself.
        item_key = security_event_key(charge_point_id, event["timestamp"], event["type"])
        self._table.put_item(Item={**item_key, "chargePointId": charge_point_id, **event})

    def put_certificate_signing_request(self, charge_point_id: str, csr: str, *, received_at: datetime) -> None:
        self._table.put_item(
            Item={
                **signing_request_key(charge_point_id, to_iso(received_at)),
                "chargePointId": charge_point_id,
                "csr": csr,
                "status": "Received",
            }
        )
