"""The nested object types of the OCPP 1.6 messages (OCPP 1.6 §7 and the Security Whitepaper).

Fields are declared in the schemas' property order, so validation errors come in that order too.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from csms.ocpp.v16.enums import (
    AuthorizationStatus,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    HashAlgorithm,
    Location,
    Measurand,
    Phase,
    ReadingContext,
    RecurrencyKindType,
    StopTransactionUnitOfMeasure,
    UnitOfMeasure,
    ValueFormat,
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


class IdTagInfo(OcppModel):
    """Whether an idTag may charge (Authorize, StartTransaction, StopTransaction, SendLocalList)."""

    expiry_date: OcppDateTime | None = None
    parent_id_tag: CiString20 | None = None
    status: AuthorizationStatus


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


class SampledValue(OcppModel):
    """One measured value. ``value`` is text: a number for Raw, a signed blob for SignedData."""

    value: str
    context: ReadingContext | None = None
    format: ValueFormat | None = None
    measurand: Measurand | None = None
    phase: Phase | None = None
    location: Location | None = None
    unit: UnitOfMeasure | None = None


class MeterValue(OcppModel):
    """A timestamped set of sampled values as in MeterValues.req (at least one of each)."""

    timestamp: OcppDateTime
    sampled_value: Annotated[list[SampledValue], Field(min_length=1)]


# StopTransaction.req carries the same MeterValue type in the specification, but its schema differs
# from the MeterValues.req one: no minItems and no "Hertz" unit. The schema is what stations are
# tested against, so these two follow it.


# A field narrowed this way is not a subtype to mypy (a model's fields are mutable, a list is invariant);
# pydantic validates each class against its own annotation, which is the point.


class StopTransactionSampledValue(SampledValue):
    unit: StopTransactionUnitOfMeasure | None = None  # type: ignore[assignment]  # narrower on purpose, see above


class StopTransactionMeterValue(MeterValue):
    sampled_value: list[StopTransactionSampledValue]  # type: ignore[assignment]  # narrower on purpose, see above


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
