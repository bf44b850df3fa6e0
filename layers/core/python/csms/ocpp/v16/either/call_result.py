"""OCPP 1.6 responses to the requests either side may send: DataTransfer's (see ``call.py`` beside it)."""

from __future__ import annotations

from csms.ocpp.v16.enums import DataTransferStatus
from csms.ocpp.v16.types import OcppModel


class DataTransfer(OcppModel):
    status: DataTransferStatus
    data: str | None = None
