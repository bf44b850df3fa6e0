"""OCPP 1.6 requests (the payload of a CALL), one class per action, named exactly like the action.

Core, Firmware Management, Local Auth List Management, Reservation, Smart Charging and Remote
Trigger profiles (OCPP 1.6 §4-§6), then the OCPP 1.6 Security Whitepaper. Required fields have no
default; every optional field defaults to None (omitted on the wire). ``actions.py`` says who sends what.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from csms.ocpp.v16.datatypes import (
    AuthorizationData,
    CertificateHashData,
    ChargingProfile,
    Firmware,
    LogParameters,
    MeterValue,
    StopTransactionMeterValue,
)
from csms.ocpp.v16.enums import (
    AvailabilityType,
    CertificateUse,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    DiagnosticsStatus,
    ExtendedMessageTrigger,
    FirmwareStatus,
    Log,
    MessageTrigger,
    Reason,
    ResetType,
    SignedFirmwareStatus,
    UpdateType,
    UploadLogStatus,
)
from csms.ocpp.v16.types import (
    CiString20,
    CiString25,
    CiString50,
    CiString255,
    CiString500,
    OcppDateTime,
    OcppModel,
    String50,
    String255,
    String5500,
    String10000,
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


class ChangeAvailability(OcppModel):
    connector_id: int
    type: AvailabilityType


class ChangeConfiguration(OcppModel):
    key: CiString50
    value: CiString500


class ClearCache(OcppModel):
    pass


class DataTransfer(OcppModel):
    vendor_id: CiString255
    message_id: CiString50 | None = None
    data: str | None = None  # free text; vendors that need structure put JSON text in it


class GetConfiguration(OcppModel):
    key: list[CiString50] | None = None  # absent: every key


class Heartbeat(OcppModel):
    pass


class MeterValues(OcppModel):
    connector_id: int
    transaction_id: int | None = None
    meter_value: Annotated[list[MeterValue], Field(min_length=1)]


class RemoteStartTransaction(OcppModel):
    connector_id: int | None = None
    id_tag: CiString20
    charging_profile: ChargingProfile | None = None


class RemoteStopTransaction(OcppModel):
    transaction_id: int


class Reset(OcppModel):
    type: ResetType


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


class UnlockConnector(OcppModel):
    connector_id: int


# --- Firmware Management ---------------------------------------------------------------------------


class DiagnosticsStatusNotification(OcppModel):
    status: DiagnosticsStatus


class FirmwareStatusNotification(OcppModel):
    status: FirmwareStatus


class GetDiagnostics(OcppModel):
    location: str  # anyURI; the schema's "format": "uri" is not checked (annotation only in draft 4)
    retries: int | None = None
    retry_interval: int | None = None
    start_time: OcppDateTime | None = None
    stop_time: OcppDateTime | None = None


class UpdateFirmware(OcppModel):
    location: str  # anyURI, as in GetDiagnostics
    retries: int | None = None
    retrieve_date: OcppDateTime
    retry_interval: int | None = None


# --- Local Auth List Management --------------------------------------------------------------------


class GetLocalListVersion(OcppModel):
    pass


class SendLocalList(OcppModel):
    list_version: int
    local_authorization_list: list[AuthorizationData] | None = None
    update_type: UpdateType


# --- Reservation -----------------------------------------------------------------------------------


class CancelReservation(OcppModel):
    reservation_id: int


class ReserveNow(OcppModel):
    connector_id: int
    expiry_date: OcppDateTime
    id_tag: CiString20
    parent_id_tag: CiString20 | None = None
    reservation_id: int


# --- Smart Charging --------------------------------------------------------------------------------


class ClearChargingProfile(OcppModel):
    id: int | None = None
    connector_id: int | None = None
    charging_profile_purpose: ChargingProfilePurposeType | None = None
    stack_level: int | None = None


class GetCompositeSchedule(OcppModel):
    connector_id: int
    duration: int  # seconds
    charging_rate_unit: ChargingRateUnitType | None = None


class SetChargingProfile(OcppModel):
    connector_id: int
    cs_charging_profiles: ChargingProfile


# --- Remote Trigger --------------------------------------------------------------------------------


class TriggerMessage(OcppModel):
    requested_message: MessageTrigger
    connector_id: int | None = None


# --- OCPP 1.6 Security Whitepaper ------------------------------------------------------------------


class CertificateSigned(OcppModel):
    certificate_chain: String10000  # PEM


class DeleteCertificate(OcppModel):
    certificate_hash_data: CertificateHashData


class ExtendedTriggerMessage(OcppModel):
    requested_message: ExtendedMessageTrigger
    connector_id: int | None = None


class GetInstalledCertificateIds(OcppModel):
    certificate_type: CertificateUse


class GetLog(OcppModel):
    log: LogParameters
    log_type: Log
    request_id: int
    retries: int | None = None
    retry_interval: int | None = None


class InstallCertificate(OcppModel):
    certificate_type: CertificateUse
    certificate: String5500  # PEM


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


class SignedUpdateFirmware(OcppModel):
    retries: int | None = None
    retry_interval: int | None = None
    request_id: int
    firmware: Firmware
