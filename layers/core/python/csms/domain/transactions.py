"""Transaction rules (OCPP 1.6 §4.8, §4.10)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from csms.domain.clock import to_iso

TRANSACTION_ID_MAX = 2**31 - 1  # transactionId is a JSON integer; stations store it as int32


def start_fingerprint(
    *, charge_point_id: str, connector_id: int, id_tag: str, timestamp: datetime, meter_start: int
) -> str:
    """What makes two StartTransaction requests the same start.

    A station that lost our answer (reboot, dropped socket) sends the same StartTransaction again; the id
    counter is not idempotent, so the start is recognised by its content and gets the same transactionId.
    """
    content = "|".join((charge_point_id, str(connector_id), id_tag, to_iso(timestamp), str(meter_start)))
    return hashlib.sha256(content.encode()).hexdigest()[:32]


def transaction_id_from_counter(counter: int) -> int:
    """Counter values beyond int32 wrap around, skipping 0 (which stations use for 'no transaction')."""
    return (counter - 1) % TRANSACTION_ID_MAX + 1
