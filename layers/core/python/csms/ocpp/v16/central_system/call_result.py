"""OCPP 1.6 responses a station gives to the central system's requests (the payload of its CALLRESULT), one class per
action, named exactly like the action.

Same order and conventions as ``call.py`` beside it. Several confirmations are empty objects (the schema allows
no property at all); they are models with no fields.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from csms.ocpp.v16.central_system.datatypes import CertificateHashData, ChargingSchedule, KeyValue
from csms.ocpp.v16.enums import (
    AvailabilityStatus,
    CancelReservationStatus,
    CertificateSignedStatus,
    ChargingProfileStatus,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DeleteCertificateStatus,
    GetCompositeScheduleStatus,
    GetInstalledCertificateStatus,
    InstallCertificateStatus,
    LogStatus,
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


class ChangeAvailability(OcppModel):
    status: AvailabilityStatus


class ChangeConfiguration(OcppModel):
    status: ConfigurationStatus


class ClearCache(OcppModel):
    status: ClearCacheStatus


class GetConfiguration(OcppModel):
    configuration_key: list[KeyValue] | None = None
    unknown_key: list[CiString50] | None = None


class RemoteStartTransaction(OcppModel):
    status: RemoteStartStopStatus


class RemoteStopTransaction(OcppModel):
    status: RemoteStartStopStatus


class Reset(OcppModel):
    status: ResetStatus


class UnlockConnector(OcppModel):
    status: UnlockStatus


# --- Firmware Management ---------------------------------------------------------------------------


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


class SignedUpdateFirmware(OcppModel):
    status: UpdateFirmwareStatus
