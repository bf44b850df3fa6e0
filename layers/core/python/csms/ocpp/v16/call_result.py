"""OCPP 1.6 responses (the payload of a CALLRESULT), one class per action, named exactly like the action.

Same order and conventions as ``call.py``. Several confirmations are empty objects (the schema allows
no property at all); they are models with no fields.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from csms.ocpp.v16.datatypes import CertificateHashData, ChargingSchedule, IdTagInfo, KeyValue
from csms.ocpp.v16.enums import (
    AvailabilityStatus,
    CancelReservationStatus,
    CertificateSignedStatus,
    ChargingProfileStatus,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DataTransferStatus,
    DeleteCertificateStatus,
    GenericStatus,
    GetCompositeScheduleStatus,
    GetInstalledCertificateStatus,
    InstallCertificateStatus,
    LogStatus,
    RegistrationStatus,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateFirmwareStatus,
    UpdateStatus,
)
from csms.ocpp.v16.types import CiString50, CiString255, OcppDateTime, OcppModel, String255

# --- Core ------------------------------------------------------------------------------------------


class Authorize(OcppModel):
    id_tag_info: IdTagInfo


class BootNotification(OcppModel):
    status: RegistrationStatus
    current_time: OcppDateTime
    interval: int  # seconds: heartbeat interval if Accepted, retry delay if Pending/Rejected


class ChangeAvailability(OcppModel):
    status: AvailabilityStatus


class ChangeConfiguration(OcppModel):
    status: ConfigurationStatus


class ClearCache(OcppModel):
    status: ClearCacheStatus


class DataTransfer(OcppModel):
    status: DataTransferStatus
    data: str | None = None


class GetConfiguration(OcppModel):
    configuration_key: list[KeyValue] | None = None
    unknown_key: list[CiString50] | None = None


class Heartbeat(OcppModel):
    current_time: OcppDateTime


class MeterValues(OcppModel):
    pass


class RemoteStartTransaction(OcppModel):
    status: RemoteStartStopStatus


class RemoteStopTransaction(OcppModel):
    status: RemoteStartStopStatus


class Reset(OcppModel):
    status: ResetStatus


class StartTransaction(OcppModel):
    id_tag_info: IdTagInfo
    transaction_id: int


class StatusNotification(OcppModel):
    pass


class StopTransaction(OcppModel):
    id_tag_info: IdTagInfo | None = None  # present only when the stop carried an idTag


class UnlockConnector(OcppModel):
    status: UnlockStatus


# --- Firmware Management ---------------------------------------------------------------------------


class DiagnosticsStatusNotification(OcppModel):
    pass


class FirmwareStatusNotification(OcppModel):
    pass


class GetDiagnostics(OcppModel):
    file_name: CiString255 | None = None  # absent: no diagnostics available


class UpdateFirmware(OcppModel):
    pass


# --- Local Auth List Management --------------------------------------------------------------------


class GetLocalListVersion(OcppModel):
    list_version: int  # 0: no list; -1: not supported


class SendLocalList(OcppModel):
    status: UpdateStatus


# --- Reservation -----------------------------------------------------------------------------------


class CancelReservation(OcppModel):
    status: CancelReservationStatus


class ReserveNow(OcppModel):
    status: ReservationStatus


# --- Smart Charging --------------------------------------------------------------------------------


class ClearChargingProfile(OcppModel):
    status: ClearChargingProfileStatus


class GetCompositeSchedule(OcppModel):
    status: GetCompositeScheduleStatus
    connector_id: int | None = None
    schedule_start: OcppDateTime | None = None
    charging_schedule: ChargingSchedule | None = None


class SetChargingProfile(OcppModel):
    status: ChargingProfileStatus


# --- Remote Trigger --------------------------------------------------------------------------------


class TriggerMessage(OcppModel):
    status: TriggerMessageStatus


# --- OCPP 1.6 Security Whitepaper ------------------------------------------------------------------


class CertificateSigned(OcppModel):
    status: CertificateSignedStatus


class DeleteCertificate(OcppModel):
    status: DeleteCertificateStatus


class ExtendedTriggerMessage(OcppModel):
    status: TriggerMessageStatus


class GetInstalledCertificateIds(OcppModel):
    certificate_hash_data: Annotated[list[CertificateHashData], Field(min_length=1)] | None = None
    status: GetInstalledCertificateStatus


class GetLog(OcppModel):
    status: LogStatus
    filename: String255 | None = None


class InstallCertificate(OcppModel):
    status: InstallCertificateStatus


class LogStatusNotification(OcppModel):
    pass


class SecurityEventNotification(OcppModel):
    pass


class SignCertificate(OcppModel):
    status: GenericStatus


class SignedFirmwareStatusNotification(OcppModel):
    pass


class SignedUpdateFirmware(OcppModel):
    status: UpdateFirmwareStatus
