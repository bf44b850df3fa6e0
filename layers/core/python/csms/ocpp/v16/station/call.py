"""OCPP 1.6 requests a station sends (the payload of its CALL), one class per action, named exactly like the action.

Core, Firmware Management (OCPP 1.6 §4), then the OCPP 1.6 Security Whitepaper. Required fields have no default;
every optional field defaults to None (omitted on the wire). ``actions.py`` says who sends what: what the central
system sends is in ``central_system/``, DataTransfer (either side) in ``either/``, so that the function answering
a station's messages never builds the models of the commands (issue 7: cold start).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from csms.ocpp.v16.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    Reason,
    SignedFirmwareStatus,
    UploadLogStatus,
)
from csms.ocpp.v16.station.datatypes import MeterValue, StopTransactionMeterValue
from csms.ocpp.v16.types import (
    CiString20,
    CiString25,
    CiString50,
    CiString255,
    OcppDateTime,
    OcppModel,
    String50,
    String255,
    String5500,
)

# --- Core ------------------------------------------------------------------------------------------


class Authorize(OcppModel):
    id_tag: CiString20


class BootNotification(OcppModel):
    charge_point_vendor: CiString20
    charge_point_model: CiString20
    charge_point_serial_number: CiString25 | None = None
    charge_box_serial_number: CiString25 | None = None
    firmware_version: CiString50 | None = None
    iccid: CiString20 | None = None
    imsi: CiString20 | None = None
    meter_type: CiString25 | None = None
    meter_serial_number: CiString25 | None = None


class Heartbeat(OcppModel):
    pass


class MeterValues(OcppModel):
    connector_id: int
    transaction_id: int | None = None
    meter_value: Annotated[list[MeterValue], Field(min_length=1)]


class StartTransaction(OcppModel):
    connector_id: int
    id_tag: CiString20
    meter_start: int  # Wh
    reservation_id: int | None = None
    timestamp: OcppDateTime


class StatusNotification(OcppModel):
    connector_id: int
    error_code: ChargePointErrorCode
    info: CiString50 | None = None
    status: ChargePointStatus
    timestamp: OcppDateTime | None = None
    vendor_id: CiString255 | None = None
    vendor_error_code: CiString50 | None = None


class StopTransaction(OcppModel):
    id_tag: CiString20 | None = None
    meter_stop: int  # Wh
    timestamp: OcppDateTime
    transaction_id: int
    reason: Reason | None = None
    transaction_data: list[StopTransactionMeterValue] | None = None


# --- Firmware Management ---------------------------------------------------------------------------


class DiagnosticsStatusNotification(OcppModel):
    status: DiagnosticsStatus


class FirmwareStatusNotification(OcppModel):
    status: FirmwareStatus


# --- OCPP 1.6 Security Whitepaper ------------------------------------------------------------------


class LogStatusNotification(OcppModel):
    status: UploadLogStatus
    request_id: int | None = None


class SecurityEventNotification(OcppModel):
    type: String50  # the Whitepaper's security event names, an open list: not an enum
    timestamp: OcppDateTime
    tech_info: String255 | None = None


class SignCertificate(OcppModel):
    csr: String5500  # PEM


class SignedFirmwareStatusNotification(OcppModel):
    status: SignedFirmwareStatus
    request_id: int | None = None
