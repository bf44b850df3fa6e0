"""Installed charging profiles and the composite schedule (OCPP 1.6 §3.13, §5.5, §5.7, §5.16).

Profiles are kept as the central system sent them (the `ocpp` package's snake_case keys). Limits are Decimal:
the schema allows one decimal (multipleOf 0.1) and the `ocpp` package parses these payloads with Decimal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ocpp.v16.enums import (
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearChargingProfileStatus,
    RecurrencyKind,
)

from simulator import clock

CHARGE_POINT_MAX = ChargingProfilePurposeType.charge_point_max_profile
TX_DEFAULT = ChargingProfilePurposeType.tx_default_profile
TX = ChargingProfilePurposeType.tx_profile


@dataclass(frozen=True)
class Electrical:
    """What one connector can deliver; converts limits between A and W (P = I x U x phases)."""

    max_current: Decimal = Decimal(32)
    voltage: Decimal = Decimal(230)
    phases: int = 3

    @property
    def max_power(self) -> Decimal:
        return self.max_current * self.voltage * self.phases

    def watts(self, limit: Decimal, unit: str, phases: int | None) -> Decimal:
        return limit if unit == ChargingRateUnitType.watts else limit * self.voltage * (phases or self.phases)

    def in_unit(self, watts: Decimal, unit: str, phases: int | None) -> Decimal:
        return watts if unit == ChargingRateUnitType.watts else watts / (self.voltage * (phases or self.phases))


@dataclass
class InstalledProfile:
    connector_id: int
    profile: dict[str, Any]

    @property
    def id(self) -> int:
        return self.profile["charging_profile_id"]

    @property
    def purpose(self) -> str:
        return self.profile["charging_profile_purpose"]

    @property
    def stack_level(self) -> int:
        return self.profile["stack_level"]


@dataclass(frozen=True)
class Limit:
    watts: Decimal
    phases: int | None


class ChargingProfiles:
    def __init__(self) -> None:
        self.installed: list[InstalledProfile] = []

    def install(
        self,
        connector_id: int,
        profile: Mapping[str, Any],
        *,
        connectors: int,
        transaction_id: int | None,
        max_stack_level: int,
        max_installed: int,
        max_periods: int,
        allowed_units: Iterable[str],
    ) -> ChargingProfileStatus:
        """SetChargingProfile (§5.16). A TxProfile needs a running transaction on its connector; a
        ChargePointMaxProfile belongs to connector 0; a profile with the same id, or the same stack level and
        purpose on the same connector, is replaced."""
        purpose = profile["charging_profile_purpose"]
        schedule = profile["charging_schedule"]
        unit_names = {ChargingRateUnitType.amps: "Current", ChargingRateUnitType.watts: "Power"}
        rejected = (
            not 0 <= connector_id <= connectors
            or (purpose == CHARGE_POINT_MAX and connector_id != 0)
            or (purpose == TX and (connector_id == 0 or transaction_id is None))
            or (purpose == TX and profile.get("transaction_id") not in (None, transaction_id))
            or profile["stack_level"] > max_stack_level
            or len(schedule["charging_schedule_period"]) > max_periods
            or unit_names.get(schedule["charging_rate_unit"]) not in set(allowed_units)
        )
        if rejected:
            return ChargingProfileStatus.rejected
        kept = [
            p for p in self.installed
            if p.id != profile["charging_profile_id"]
            and not (p.connector_id == connector_id and p.purpose == purpose and p.stack_level == profile["stack_level"])
        ]
        if len(kept) >= max_installed:
            return ChargingProfileStatus.rejected
        self.installed = [*kept, InstalledProfile(connector_id, dict(profile))]
        return ChargingProfileStatus.accepted

    def clear(
        self, *, id: int | None, connector_id: int | None, purpose: str | None, stack_level: int | None
    ) -> ClearChargingProfileStatus:
        """ClearChargingProfile (§5.5): by id, or by every criterion given (none given: all of them)."""
        def matches(p: InstalledProfile) -> bool:
            if id is not None:
                return p.id == id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        kept = [p for p in self.installed if not matches(p)]
        removed = len(kept) != len(self.installed)
        self.installed = kept
        return ClearChargingProfileStatus.accepted if removed else ClearChargingProfileStatus.unknown

    def end_transaction(self, connector_id: int) -> None:
        """A TxProfile lives as long as its transaction (§3.13.3)."""
        self.installed = [p for p in self.installed if not (p.connector_id == connector_id and p.purpose == TX)]

    def limit_at(
        self, connector_id: int, at: datetime, *, electrical: Electrical, transaction_start: datetime | None
    ) -> Limit:
        """The limit in force on a connector: the lowest of the hardware, the ChargePointMaxProfile and the
        TxProfile (or else TxDefaultProfile, the connector's own before connector 0's), each taken from the
        valid profile with the highest stack level (§3.13.2)."""
        limits = [Limit(electrical.max_power, None)]
        station = [p for p in self.installed if p.connector_id == 0]
        own = [p for p in self.installed if p.connector_id == connector_id] if connector_id else []
        groups = [[p for p in station if p.purpose == CHARGE_POINT_MAX]]
        if connector_id:
            groups.append(
                [p for p in own if p.purpose == TX]
                or [p for p in own if p.purpose == TX_DEFAULT]
                or [p for p in station if p.purpose == TX_DEFAULT]
            )
        for group in groups:
            for installed in sorted(group, key=lambda p: p.stack_level, reverse=True):
                limit = _profile_limit(installed.profile, at, electrical, transaction_start)
                if limit is not None:
                    limits.append(limit)
                    break
        return min(limits, key=lambda limit: limit.watts)

    def composite(
        self,
        connector_id: int,
        *,
        start: datetime,
        duration: int,
        unit: str,
        electrical: Electrical,
        transaction_start: datetime | None,
    ) -> dict[str, Any]:
        """GetCompositeSchedule (§5.7): the limit over [start, start + duration), one period per change."""
        end = start + timedelta(seconds=duration)
        transaction_start = transaction_start or start  # a Relative profile starts with the (next) transaction
        moments = {start}
        for installed in self.installed:
            if installed.connector_id in (0, connector_id):
                moments.update(m for m in _changes(installed.profile, start, end, transaction_start) if start < m < end)
        periods: list[dict[str, Any]] = []
        for moment in sorted(moments):
            limit = self.limit_at(connector_id, moment, electrical=electrical, transaction_start=transaction_start)
            value = _one_decimal(electrical.in_unit(limit.watts, unit, limit.phases))
            phases = limit.phases or electrical.phases
            if periods and periods[-1]["limit"] == value and periods[-1]["number_phases"] == phases:
                continue
            periods.append({"start_period": int((moment - start).total_seconds()), "limit": value, "number_phases": phases})
        for period in periods:
            period["limit"] = float(period["limit"])  # the frame is JSON: one decimal survives exactly
        return {
            "duration": duration,
            "start_schedule": clock.iso(start),
            "charging_rate_unit": unit,
            "charging_schedule_period": periods,
        }


def _one_decimal(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _profile_limit(
    profile: Mapping[str, Any], at: datetime, electrical: Electrical, transaction_start: datetime | None
) -> Limit | None:
    if profile.get("valid_from") and at < clock.parse(profile["valid_from"]):
        return None
    if profile.get("valid_to") and at >= clock.parse(profile["valid_to"]):
        return None
    schedule = profile["charging_schedule"]
    begin = _schedule_start(profile, at, transaction_start)
    offset = (at - begin).total_seconds()
    if offset < 0 or (schedule.get("duration") is not None and offset >= schedule["duration"]):
        return None
    current = None
    for period in sorted(schedule["charging_schedule_period"], key=lambda p: p["start_period"]):
        if period["start_period"] <= offset:
            current = period
    if current is None:
        return None
    phases = current.get("number_phases")
    watts = electrical.watts(Decimal(str(current["limit"])), schedule["charging_rate_unit"], phases)
    return Limit(watts, phases)


def _schedule_start(profile: Mapping[str, Any], at: datetime, transaction_start: datetime | None) -> datetime:
    schedule = profile["charging_schedule"]
    kind = profile["charging_profile_kind"]
    if kind == ChargingProfileKindType.relative or not schedule.get("start_schedule"):
        return transaction_start or at
    begin = clock.parse(schedule["start_schedule"])
    if kind == ChargingProfileKindType.recurring and at >= begin:
        period = _recurrence(profile)
        return begin + ((at - begin) // period) * period
    return begin


def _recurrence(profile: Mapping[str, Any]) -> timedelta:
    return timedelta(days=7 if profile.get("recurrency_kind") == RecurrencyKind.weekly else 1)


def _changes(
    profile: Mapping[str, Any], start: datetime, end: datetime, transaction_start: datetime | None
) -> Iterator[datetime]:
    """Every moment in [start, end] at which this profile's contribution may change."""
    for bound in ("valid_from", "valid_to"):
        if profile.get(bound):
            yield clock.parse(profile[bound])
    schedule = profile["charging_schedule"]
    begins = [_schedule_start(profile, start, transaction_start)]
    if profile["charging_profile_kind"] == ChargingProfileKindType.recurring:
        period = _recurrence(profile)
        while begins[-1] + period < end:
            begins.append(begins[-1] + period)
    for begin in begins:
        yield begin
        for period in schedule["charging_schedule_period"]:
            yield begin + timedelta(seconds=int(period["start_period"]))
        if schedule.get("duration") is not None:
            yield begin + timedelta(seconds=int(schedule["duration"]))
