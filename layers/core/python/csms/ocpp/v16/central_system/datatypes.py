"""The nested object types of the messages the central system initiates (OCPP 1.6 §7 and the Security Whitepaper):
charging profiles and schedules, local authorization list entries, configuration keys, certificate hashes, log
parameters and signed firmware. ``IdTagInfo``, which a station's Authorize and transactions also get, is in
``csms.ocpp.v16.datatypes``.

Fields are declared in the schemas' property order, so validation errors come in that order too.
"""

from __future__ import annotations

from csms.ocpp.v16.datatypes import IdTagInfo
from csms.ocpp.v16.enums import (
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    HashAlgorithm,
    RecurrencyKindType,
)
from csms.ocpp.v16.types import (
    CiString20,
    CiString50,
    CiString500,
    OcppDateTime,
    OcppDecimal,
    OcppModel,
    String40,
    String128,
    String512,
    String800,
    String5500,
)


class AuthorizationData(OcppModel):
    """One entry of a local authorization list (SendLocalList.req)."""

    id_tag: CiString20
    id_tag_info: IdTagInfo | None = None  # absent in a Differential update: remove the entry


class ChargingSchedulePeriod(OcppModel):
    start_period: int  # seconds from the start of the schedule
    limit: OcppDecimal  # in the schedule's chargingRateUnit (A or W)
    number_phases: int | None = None


class ChargingSchedule(OcppModel):
    duration: int | None = None
    start_schedule: OcppDateTime | None = None
    charging_rate_unit: ChargingRateUnitType
    charging_schedule_period: list[ChargingSchedulePeriod]  # the schemas set no minItems
    min_charging_rate: OcppDecimal | None = None


class ChargingProfile(OcppModel):
    """RemoteStartTransaction.req chargingProfile and SetChargingProfile.req csChargingProfiles."""

    charging_profile_id: int
    transaction_id: int | None = None
    stack_level: int
    charging_profile_purpose: ChargingProfilePurposeType
    charging_profile_kind: ChargingProfileKindType
    recurrency_kind: RecurrencyKindType | None = None
    valid_from: OcppDateTime | None = None
    valid_to: OcppDateTime | None = None
    charging_schedule: ChargingSchedule


class KeyValue(OcppModel):
    """One configuration key of GetConfiguration.conf."""

    key: CiString50
    readonly: bool
    value: CiString500 | None = None


# --- OCPP 1.6 Security Whitepaper ----------------------------------------------------------------


class CertificateHashData(OcppModel):
    hash_algorithm: HashAlgorithm
    issuer_name_hash: String128
    issuer_key_hash: String128
    serial_number: String40


class LogParameters(OcppModel):
    remote_location: String512
    oldest_timestamp: OcppDateTime | None = None
    latest_timestamp: OcppDateTime | None = None


class Firmware(OcppModel):
    location: String512
    retrieve_date_time: OcppDateTime
    install_date_time: OcppDateTime | None = None
    signing_certificate: String5500
    signature: String800
