"""OCPP 1.6 responses the central system gives to a station's requests (the payload of its CALLRESULT), one class per
action, named exactly like the action.

Same order and conventions as ``call.py`` beside it. Several confirmations are empty objects (the schema allows
no property at all); they are models with no fields.
"""

from __future__ import annotations

from csms.ocpp.v16.datatypes import IdTagInfo
from csms.ocpp.v16.enums import GenericStatus, RegistrationStatus
from csms.ocpp.v16.types import OcppDateTime, OcppModel

# --- Core ------------------------------------------------------------------------------------------


class Authorize(OcppModel):
    id_tag_info: IdTagInfo


class BootNotification(OcppModel):
    status: RegistrationStatus
    current_time: OcppDateTime
    interval: int  # seconds: heartbeat interval if Accepted, retry delay if Pending/Rejected


class Heartbeat(OcppModel):
    current_time: OcppDateTime


class MeterValues(OcppModel):
    pass


class StartTransaction(OcppModel):
    id_tag_info: IdTagInfo
    transaction_id: int


class StatusNotification(OcppModel):
    pass


class StopTransaction(OcppModel):
    id_tag_info: IdTagInfo | None = None  # present only when the stop carried an idTag


# --- Firmware Management ---------------------------------------------------------------------------


class DiagnosticsStatusNotification(OcppModel):
    pass


class FirmwareStatusNotification(OcppModel):
    pass


# --- OCPP 1.6 Security Whitepaper ------------------------------------------------------------------


class LogStatusNotification(OcppModel):
    pass


class SecurityEventNotification(OcppModel):
    pass


class SignCertificate(OcppModel):
    status: GenericStatus


class SignedFirmwareStatusNotification(OcppModel):
    pass
