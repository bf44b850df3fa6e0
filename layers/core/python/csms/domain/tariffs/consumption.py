"""What a session consumed, as the station reported it, and the energy curve the pricing reads from it.

    SessionConsumption
      start, end?                 StartTransaction / StopTransaction timestamps (end None: in progress)
      energy[]                    register readings {timestamp, value, unit Wh|kWh}: meterStart,
                                  Energy.Active.Import.Register meter values, meterStop
      statuses[]                  connector status changes {timestamp, status} (OCPP 1.6 §7.7)
      power_kw[], current_a[],    optional samples {timestamp, value}; current is the sum over phases
      state_of_charge[]           (OCPI's MIN/MAX_CURRENT are sums over all phases)

The energy curve is cumulative session energy in Wh, never decreasing: a register reading lower than
the one before (a station reboot, a meter swap) is a reset, and the energy of that interval is unknown,
so it is not billed and the reset is reported. Energy between two readings is spread evenly over time
(OCPI 2.2.1 mod_cdrs §ChargingPeriod allows the CPO to interpolate between meter values).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _aware(value: datetime) -> datetime:
    # A station timestamp without an offset is UTC (OCPP-J: all times UTC); everything here compares in UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Moment = Annotated[datetime, AfterValidator(_aware)]

_WH_PER = {"Wh": Decimal(1), "kWh": Decimal(1000)}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnergyReading(_Input):
    """An energy register reading (meterStart, Energy.Active.Import.Register, meterStop)."""

    timestamp: Moment
    value: Annotated[Decimal, Field(allow_inf_nan=False)]
    unit: Literal["Wh", "kWh"] = "Wh"

    @property
    def wh(self) -> Decimal:
        return self.value * _WH_PER[self.unit]


class Sample(_Input):
    timestamp: Moment
    value: Annotated[Decimal, Field(allow_inf_nan=False)]


class StatusChange(_Input):
    timestamp: Moment
    status: str


class SessionConsumption(_Input):
    start: Moment
    end: Moment | None = None
    energy: list[EnergyReading] = Field(default_factory=list)
    statuses: list[StatusChange] = Field(default_factory=list)
    power_kw: list[Sample] = Field(default_factory=list)
    current_a: list[Sample] = Field(default_factory=list)
    state_of_charge: list[Sample] = Field(default_factory=list)


class NoteCode(StrEnum):
    REGISTER_RESET = "REGISTER_RESET"
    NO_ENERGY_READINGS = "NO_ENERGY_READINGS"
    NO_START_READING = "NO_START_READING"
    NO_STOP_READING = "NO_STOP_READING"
    READING_OUTSIDE_SESSION = "READING_OUTSIDE_SESSION"
    CURRENT_UNKNOWN = "CURRENT_UNKNOWN"
    TARIFF_NOT_IN_FORCE = "TARIFF_NOT_IN_FORCE"


class PricingNote(BaseModel):
    """Something about the data that shaped the price, for the CDR's reader (e.g. its `remark`)."""

    model_config = ConfigDict(frozen=True)

    code: NoteCode
    detail: str
    at: datetime | None = None


# OCPP 1.6 §7.7 ChargePointStatus. OCPI 2.2.1 (release-2.2.1-bugfixes, mod_cdrs §CdrDimensionType):
# PARKING_TIME is time "during which the vehicle is not requesting power". SuspendedEV and Finishing
# say exactly that; SuspendedEVSE is the station withholding power from a car that wants it: charging time.
PARKING_STATUSES = frozenset({"SuspendedEV", "Finishing"})
CHARGING_STATUSES = frozenset({"Charging", "SuspendedEVSE"})


def seconds(span: timedelta) -> Decimal:
    """An exact number of seconds (timedelta keeps microseconds)."""
    return Decimal(span.days * 86400 + span.seconds) + Decimal(span.microseconds).scaleb(-6)


@dataclass(slots=True)
class EnergyCurve:
    """Cumulative session energy (Wh) at increasing instants; linear between them, flat after the last.

    `flat[i]` says the interval from point i to i+1 was measured with no energy increase (a reset
    interval is not: its energy is unknown, not zero).
    """

    times: list[datetime]
    wh: list[Decimal]
    flat: list[bool]
    notes: list[PricingNote] = field(default_factory=list)

    def at(self, moment: datetime) -> Decimal:
        if not self.times:
            return Decimal(0)
        index = bisect_right(self.times, moment) - 1
        if index < 0:
            return Decimal(0)
        if index >= len(self.times) - 1 or self.times[index] == moment:
            return self.wh[index]
        t0, t1 = self.times[index], self.times[index + 1]
        e0, e1 = self.wh[index], self.wh[index + 1]
        return e0 + (e1 - e0) * seconds(moment - t0) / seconds(t1 - t0)

    def measured_flat_at(self, moment: datetime) -> bool:
        """Whether `moment` lies in a reading interval that showed no energy increase."""
        index = bisect_right(self.times, moment) - 1
        return 0 <= index < len(self.flat) and self.flat[index]

    def mark(self, threshold_wh: Decimal) -> None:
        """Add the instant the session reaches `threshold_wh` as a point, so the energy at it is exact
        and a min_kwh/max_kwh boundary splits the energy exactly (OCPI mod_cdrs §ChargingPeriod)."""
        for index in range(len(self.times) - 1):
            e0, e1 = self.wh[index], self.wh[index + 1]
            if e0 < threshold_wh < e1:
                t0, t1 = self.times[index], self.times[index + 1]
                offset = seconds(t1 - t0) * (threshold_wh - e0) / (e1 - e0)
                micro = int(offset.scaleb(6).to_integral_value(ROUND_HALF_EVEN))
                moment = t0 + timedelta(microseconds=micro)
                if t0 < moment < t1:
                    self.times.insert(index + 1, moment)
                    self.wh.insert(index + 1, threshold_wh)
                    self.flat.insert(index + 1, False)
                return


def energy_curve(consumption: SessionConsumption, end: datetime) -> EnergyCurve:
    """The session's cumulative energy from its register readings, resets and gaps handled and noted."""
    start = consumption.start
    notes: list[PricingNote] = []
    inside: dict[datetime, Decimal] = {}
    outside = 0
    for reading in sorted(consumption.energy, key=lambda r: r.timestamp):
        if start <= reading.timestamp <= end:
            inside[reading.timestamp] = reading.wh  # one instant, two readings: the later sent wins
        else:
            outside += 1
    if outside:
        notes.append(
            PricingNote(
                code=NoteCode.READING_OUTSIDE_SESSION,
                detail=f"{outside} energy reading(s) outside the session's start and end were not used",
            )
        )
    if not inside:
        notes.append(PricingNote(code=NoteCode.NO_ENERGY_READINGS, detail="no energy readings: energy 0 kWh"))
        return EnergyCurve([start], [Decimal(0)], [], notes)

    times = sorted(inside)
    if times[0] > start:
        notes.append(
            PricingNote(
                code=NoteCode.NO_START_READING,
                at=times[0],
                detail="no meter start reading: energy counted from the first reading",
            )
        )
    if consumption.end is not None and times[-1] < end:
        notes.append(
            PricingNote(
                code=NoteCode.NO_STOP_READING,
                at=times[-1],
                detail="no meter stop reading: energy counted to the last reading",
            )
        )
    cumulative = [Decimal(0)]
    flat: list[bool] = []
    for previous, current in zip(times, times[1:], strict=False):
        step = inside[current] - inside[previous]
        if step < 0:
            notes.append(
                PricingNote(
                    code=NoteCode.REGISTER_RESET,
                    at=current,
                    detail=(
                        f"register fell from {inside[previous]} Wh to {inside[current]} Wh: "
                        "the energy of that interval is unknown and not billed"
                    ),
                )
            )
            step = Decimal(0)
            flat.append(False)
        else:
            flat.append(step == 0)
        cumulative.append(cumulative[-1] + step)
    if times[0] > start:
        times.insert(0, start)
        cumulative.insert(0, Decimal(0))
        flat.insert(0, False)
    return EnergyCurve(times, cumulative, flat, notes)


@dataclass(slots=True)
class StepSeries:
    """A value that holds from one sample to the next (a status, a power or current reading)."""

    times: list[datetime]
    values: list[Any]

    @classmethod
    def of(cls, items: Sequence[Any], attribute: str) -> StepSeries:
        ordered = sorted(items, key=lambda item: item.timestamp)
        return cls([item.timestamp for item in ordered], [getattr(item, attribute) for item in ordered])

    def at(self, moment: datetime) -> Any:
        index = bisect_right(self.times, moment) - 1
        return self.values[index] if index >= 0 else None

    def within(self, start: datetime, end: datetime, *, include_end: bool) -> list[Any]:
        low = bisect_right(self.times, start - timedelta(microseconds=1))
        high = bisect_right(self.times, end) if include_end else bisect_right(self.times, end - timedelta(microseconds=1))
        return self.values[low:high]
