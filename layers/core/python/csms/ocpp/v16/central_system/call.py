"""OCPP 1.6 requests the central system sends (the payload of its CALL: the commands), one class per action, named
exactly like the action.

Core, Firmware Management, Local Auth List Management, Reservation, Smart Charging and Remote Trigger profiles
(OCPP 1.6 §5, §6), then the OCPP 1.6 Security Whitepaper. Required fields have no default; every optional field
defaults to None (omitted on the wire). ``actions.py`` says who sends what: what a station sends is in
``station/``, DataTransfer (either side) in ``either/``, so that the function sending commands never builds the
models of a station's messages (issue 7: cold start).
"""

from __future__ import annotations

from csms.ocpp.v16.central_system.datatypes import (
    AuthorizationData,
    CertificateHashData,
    ChargingProfile,
    Firmware,
    LogParameters,
)
from csms.ocpp.v16.enums import (
    AvailabilityType,
    CertificateUse,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    ExtendedMessageTrigger,
    Log,
    MessageTrigger,
    ResetType,
    UpdateType,
)
from csms.ocpp.v16.types import (
    CiString20,
    CiString50,
    CiString500,
    OcppDateTime,
    OcppModel,
    String5500,
    String10000,
)

# --- Core ------------------------------------------------------------------------------------------


class ChangeAvailability(OcppModel):
    connector_id: int
    type: AvailabilityType


class ChangeConfiguration(OcppModel):
    key: CiString50
    value: CiString500


class ClearCache(OcppModel):
    pass


class GetConfiguration(OcppModel):
    key: list[CiString50] | None = None  # absent: every key


class RemoteStartTransaction(OcppModel):
    connector_id: int | None = None
    id_tag: CiString20
    charging_profile: ChargingProfile | None = None


class RemoteStopTransaction(OcppModel):
    transaction_id: int


class Reset(OcppModel):
    type: ResetType


class UnlockConnector(OcppModel):
    connector_id: int


# --- Firmware Management ---------------------------------------------------------------------------


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


class SignedUpdateFirmware(OcppModel):
    retries: int | None = None
    retry_interval: int | None = None
    request_id: int
    firmware: Firmware
