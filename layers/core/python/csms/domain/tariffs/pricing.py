"""The pricing engine: a session's consumption and a tariff become OCPI 2.2.1 charging periods and totals.

One function, `price_session`, prices a finished session (for its CDR) and a session in progress (its
running cost, up to `now` and the last reading, as if it stopped now), so a cost limit and the bill
can never disagree.

How a session is priced, rule by rule (OCPI 2.2.1, release-2.2.1-bugfixes text, which fixes the
step_size examples; OCPI issue #546):

1. The session is cut at every instant a restriction can change its answer: meter readings, status
   changes, local times of day and midnights (daylight saving included), min/max_duration, the
   instant the energy reaches min/max_kwh, power and current samples (`restrictions.boundaries`).
2. For each piece and each dimension, the first Tariff Element (list order) that has a Price
   Component of that dimension and whose restrictions all match prices it (mod_tariffs §Tariff object).
   Elements with a `reservation` restriction price reservations, not charging, and are skipped.
3. Consecutive pieces priced by the same components, and both charging or both parking, form one
   ChargingPeriod: "When another Price Component becomes active, the CPO SHALL add a new Charging
   Period" (mod_cdrs §ChargingPeriod).
4. Time is TIME while the car charges and PARKING_TIME while it is "not requesting power" (mod_cdrs
   §CdrDimensionType): statuses SuspendedEV/Finishing, or a reading interval with no energy increase;
   SuspendedEVSE is charging time.
5. step_size (mod_cdrs §step_size) is used once for ENERGY and once for TIME and PARKING_TIME together:
   the step_size of the component of the last period that billed that dimension rounds up the total
   billed volume of that dimension over the session, and the extra is added to that last period. For
   time, the last time-based period decides which of TIME or PARKING_TIME is rounded; the other is
   billed as measured. step_size changes only what is billed: total_energy and total_time are measured.
6. FLAT is billed once per session: the first FLAT component that applies (mod_tariffs §TariffDimensionType).
7. VAT per component: a `vat` left out means no VAT applies (incl = excl), unlike 0 % (mod_tariffs
   §PriceComponent). Costs incl. VAT are summed, never recomputed from a total.
8. min_price / max_price bound total_cost only, excl. and incl. VAT each on its own (mod_tariffs §Tariff
   object, notes on min_price and max_price); the per-dimension totals stay as computed.

Rounding: costs and volumes are exact Decimals while computing. Only the published numbers are rounded,
to 4 decimals, half up (OCPI types §number: "numbers use 4 decimals"; OCPI leaves price rounding to
law and contract, release-2.2.1-bugfixes mod_tariffs §Tariff object). Each dimension's total cost is
rounded, then total_cost is their sum, so total_cost always equals the sum of the published totals
(before min/max price).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from .consumption import (
    PARKING_STATUSES,
    NoteCode,
    PricingNote,
    SessionConsumption,
    StepSeries,
    energy_curve,
    seconds,
)
from .model import Number, OcpiDateTime, Price, PriceComponent, Tariff, TariffDimensionType
from .restrictions import SessionState, applies, calendar_boundaries

EVSE_SUSPENDED = "SuspendedEVSE"
_QUANTUM = Decimal(1).scaleb(-4)
_WH_PER_KWH = Decimal(1000)
_SECONDS_PER_HOUR = Decimal(3600)
_KW_PER_WH_PER_S = Decimal("3.6")
_PRICED = (
    TariffDimensionType.ENERGY,
    TariffDimensionType.TIME,
    TariffDimensionType.PARKING_TIME,
    TariffDimensionType.FLAT,
)


def ocpi_number(value: Decimal) -> Decimal:
    """A published OCPI number: 4 decimals, half up (OCPI types §number); never a negative zero."""
    return value.quantize(_QUANTUM, rounding=ROUND_HALF_UP) + 0


class CdrDimensionType(StrEnum):
    """mod_cdrs §CdrDimensionType (the ones this CSMS can measure)."""

    ENERGY = "ENERGY"  # kWh
    TIME = "TIME"  # hours charging
    PARKING_TIME = "PARKING_TIME"  # hours not charging
    MAX_CURRENT = "MAX_CURRENT"  # A, sum over phases
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"  # kW
    MIN_POWER = "MIN_POWER"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"  # %, Session only: not in a CDR (see cdr.py)


SESSION_ONLY_DIMENSIONS = frozenset({CdrDimensionType.STATE_OF_CHARGE})


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CdrDimension(_Out):
    type: CdrDimensionType
    volume: Number


class ChargingPeriod(_Out):
    """mod_cdrs §ChargingPeriod."""

    start_date_time: OcpiDateTime
    dimensions: list[CdrDimension]
    tariff_id: str | None = None


class Cost(_Out):
    """A cost that may be negative (a credit CDR) or not yet bounded by min/max price."""

    excl_vat: Number
    incl_vat: Number


class CostLine(_Out):
    """One priced dimension of one charging period: what a driver's invoice line would say.

    `volume` is measured and `billed_volume` is after step_size, in the dimension's OCPI unit (kWh,
    hours, 1 for FLAT); `element` is the index of the Tariff Element that priced it; `vat` None
    means no VAT applies.
    """

    period: int
    dimension: TariffDimensionType
    element: int
    price: Number
    vat: Number | None
    step_size: int
    volume: Number
    billed_volume: Number
    cost: Cost


class PricedSession(_Out):
    tariff_id: str
    currency: str
    start_date_time: OcpiDateTime
    end_date_time: OcpiDateTime
    in_progress: bool
    charging_periods: list[ChargingPeriod]
    cost_lines: list[CostLine]
    total_cost: Cost
    total_fixed_cost: Cost
    total_energy: Number
    total_energy_cost: Cost
    total_time: Number
    total_time_cost: Cost
    total_parking_time: Number
    total_parking_cost: Cost
    notes: list[PricingNote]


@dataclass(frozen=True, slots=True)
class _Active:
    element: int
    component: PriceComponent

    @property
    def key(self) -> tuple[int, int]:
        return (self.element, id(self.component))


@dataclass(slots=True)
class _Period:
    start: datetime
    end: datetime
    charging: bool
    energy: _Active | None
    time: _Active | None  # TIME while charging, PARKING_TIME while parking
    energy_wh: Decimal = Decimal(0)
    duration_s: Decimal = Decimal(0)
    flat: _Active | None = None
    billed_energy_wh: Decimal = Decimal(0)
    billed_duration_s: Decimal = Decimal(0)
    dimensions: dict[CdrDimensionType, Decimal] = field(default_factory=dict)


def price_session(
    tariff: Tariff,
    consumption: SessionConsumption,
    time_zone: str | ZoneInfo,
    *,
    now: datetime | None = None,
) -> PricedSession:
    """Price a session with `tariff` (the version in force when it started) in the station's time zone.

    A finished session (`consumption.end` set) is priced to its end. A session in progress is priced up
    to `now` with the energy of its last reading, exactly as its CDR would be if it stopped now.
    Raises ValueError for a session in progress without `now`, or one that ends before it starts.
    """
    zone = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    start = consumption.start
    end = consumption.end
    if end is None:
        if now is None:
            raise ValueError("a session in progress is priced up to `now`: pass it")
        end = now if now.tzinfo else now.replace(tzinfo=UTC)
        end = max(end.astimezone(UTC), start)
    if end < start:
        raise ValueError(f"the session ends ({end.isoformat()}) before it starts ({start.isoformat()})")

    curve = energy_curve(consumption, end)
    notes = list(curve.notes)
    if not tariff.in_force_at(start):
        notes.append(
            PricingNote(
                code=NoteCode.TARIFF_NOT_IN_FORCE,
                at=start,
                detail=f"tariff {tariff.id} is not in force at the session start (start/end_date_time)",
            )
        )
    elements = [
        (index, element)
        for index, element in enumerate(tariff.elements)
        if not (element.restrictions and element.restrictions.reservation)
    ]
    restrictions = [element.restrictions for _, element in elements if element.restrictions]
    for r in restrictions:
        for kwh in (r.min_kwh, r.max_kwh):
            if kwh is not None:
                curve.mark(kwh * _WH_PER_KWH)

    statuses = StepSeries.of(consumption.statuses, "status")
    power = StepSeries.of(consumption.power_kw, "value")
    current = StepSeries.of(consumption.current_a, "value")
    needs_power = any(r.min_power is not None or r.max_power is not None for r in restrictions)
    needs_current = any(r.min_current is not None or r.max_current is not None for r in restrictions)

    cuts: set[datetime] = set(curve.times) | set(statuses.times)
    cuts |= calendar_boundaries(restrictions, start, end, zone)
    for r in restrictions:
        for limit in (r.min_duration, r.max_duration):
            if limit is not None:
                cuts.add(start + timedelta(seconds=limit))
    if needs_power:
        cuts |= set(power.times)
    if needs_current:
        cuts |= set(current.times)
    instants = [start, *sorted(t for t in cuts if start < t < end), end]

    candidates = {
        dimension: [
            (index, next(c for c in element.price_components if c.type == dimension), element.restrictions)
            for index, element in elements
            if any(c.type == dimension for c in element.price_components)
        ]
        for dimension in _PRICED
    }
    current_unknown_at: datetime | None = None

    periods: list[_Period] = []
    first_flat: _Active | None = None
    pieces = list(zip(instants, instants[1:], strict=False)) or [(start, end)]
    energy_before = curve.at(start)
    for piece_start, piece_end in pieces:
        span = piece_end - piece_start
        middle = piece_start + span / 2
        energy_after = curve.at(piece_end)
        energy_wh = energy_after - energy_before
        duration_s = seconds(span)
        status = statuses.at(middle)
        if status in PARKING_STATUSES:
            charging = False
        elif status == EVSE_SUSPENDED:
            charging = True
        else:
            charging = not curve.measured_flat_at(middle)
        sampled_power = power.at(middle) if needs_power else None
        if sampled_power is None and needs_power and duration_s > 0:
            sampled_power = energy_wh / duration_s * _KW_PER_WH_PER_S
        sampled_current = current.at(middle) if needs_current else None
        if needs_current and sampled_current is None and current_unknown_at is None:
            current_unknown_at = piece_start
        state = SessionState(
            local=middle.astimezone(zone),
            duration_s=seconds(middle - start),
            energy_kwh=(energy_before + energy_after) / 2 / _WH_PER_KWH,
            power_kw=sampled_power,
            current_a=sampled_current,
        )
        energy_before = energy_after
        matched: dict[int, bool] = {}

        def active(
            dimension: TariffDimensionType, matched: dict[int, bool] = matched, state: SessionState = state
        ) -> _Active | None:
            for index, component, element_restrictions in candidates[dimension]:
                if index not in matched:
                    matched[index] = applies(element_restrictions, state)
                if matched[index]:
                    return _Active(index, component)
            return None

        energy_component = active(TariffDimensionType.ENERGY)
        time_component = active(TariffDimensionType.TIME if charging else TariffDimensionType.PARKING_TIME)
        if first_flat is None:
            first_flat = active(TariffDimensionType.FLAT)
            flat_here = first_flat
        else:
            flat_here = None

        last = periods[-1] if periods else None
        same = (
            last is not None
            and last.charging == charging
            and _key(last.energy) == _key(energy_component)
            and _key(last.time) == _key(time_component)
        )
        if not same:
            last = _Period(piece_start, piece_end, charging, energy_component, time_component)
            periods.append(last)
        assert last is not None
        last.end = piece_end
        last.energy_wh += energy_wh
        last.duration_s += duration_s
        if flat_here is not None:
            last.flat = flat_here

    if current_unknown_at is not None:
        notes.append(
            PricingNote(
                code=NoteCode.CURRENT_UNKNOWN,
                at=current_unknown_at,
                detail="the station sent no current: elements restricted on current did not apply then",
            )
        )
    _apply_step_sizes(periods)
    _add_sample_dimensions(periods, consumption, end)
    return _result(tariff, consumption, start, end, periods, notes)


def _key(active: _Active | None) -> tuple[int, int] | None:
    return active.key if active else None


def _round_up(volume: Decimal, step: int) -> Decimal:
    if step <= 0:
        return volume
    return (volume / step).to_integral_value(rounding=ROUND_CEILING) * step


def _apply_step_sizes(periods: list[_Period]) -> None:
    """mod_cdrs §step_size: once for ENERGY, once for TIME and PARKING_TIME together (see module doc)."""
    for period in periods:
        period.billed_energy_wh = period.energy_wh if period.energy else Decimal(0)
        period.billed_duration_s = period.duration_s if period.time else Decimal(0)

    energy_billed = [p for p in periods if p.energy and p.energy_wh > 0]
    if energy_billed:
        last = energy_billed[-1]
        assert last.energy is not None
        total = sum((p.energy_wh for p in periods if p.energy), Decimal(0))
        last.billed_energy_wh += _round_up(total, last.energy.component.step_size) - total

    time_billed = [p for p in periods if p.time and p.duration_s > 0]
    if time_billed:
        last = time_billed[-1]
        assert last.time is not None
        # Only the dimension of the last time-based period is rounded (TIME if the session ends
        # charging, PARKING_TIME if it ends parked); the other is billed as measured.
        total = sum((p.duration_s for p in periods if p.time and p.charging == last.charging), Decimal(0))
        last.billed_duration_s += _round_up(total, last.time.component.step_size) - total


def _add_sample_dimensions(periods: list[_Period], consumption: SessionConsumption, end: datetime) -> None:
    """MAX/MIN_POWER, MAX/MIN_CURRENT and STATE_OF_CHARGE where the station sent samples in a period."""
    series: list[tuple[StepSeries, Callable[[list[Decimal]], dict[CdrDimensionType, Decimal]]]] = [
        (
            StepSeries.of(consumption.power_kw, "value"),
            lambda v: {CdrDimensionType.MAX_POWER: max(v), CdrDimensionType.MIN_POWER: min(v)},
        ),
        (
            StepSeries.of(consumption.current_a, "value"),
            lambda v: {CdrDimensionType.MAX_CURRENT: max(v), CdrDimensionType.MIN_CURRENT: min(v)},
        ),
        (
            StepSeries.of(consumption.state_of_charge, "value"),
            lambda v: {CdrDimensionType.STATE_OF_CHARGE: v[-1]},  # the state at the period's end
        ),
    ]
    for samples, summarise in series:
        if not samples.times:
            continue
        for index, period in enumerate(periods):
            values = samples.within(period.start, period.end, include_end=index == len(periods) - 1)
            if values:
                period.dimensions.update(summarise(values))


def _cost(component: PriceComponent, billed: Decimal, per: Decimal) -> tuple[Decimal, Decimal]:
    excl = component.price * billed / per
    incl = excl if component.vat is None else excl * (100 + component.vat) / 100
    return excl, incl


def _result(
    tariff: Tariff,
    consumption: SessionConsumption,
    start: datetime,
    end: datetime,
    periods: list[_Period],
    notes: list[PricingNote],
) -> PricedSession:
    sums = {dimension: [Decimal(0), Decimal(0)] for dimension in _PRICED}
    lines: list[CostLine] = []
    charging_periods: list[ChargingPeriod] = []

    def bill(index: int, dimension: TariffDimensionType, active: _Active, volume: Decimal, billed: Decimal, per: Decimal) -> None:
        excl, incl = _cost(active.component, billed, per)
        sums[dimension][0] += excl
        sums[dimension][1] += incl
        lines.append(
            CostLine(
                period=index,
                dimension=dimension,
                element=active.element,
                price=active.component.price,
                vat=active.component.vat,
                step_size=active.component.step_size,
                volume=ocpi_number(volume / per),
                billed_volume=ocpi_number(billed / per),
                cost=Cost(excl_vat=ocpi_number(excl), incl_vat=ocpi_number(incl)),
            )
        )

    for index, period in enumerate(periods):
        time_dimension = TariffDimensionType.TIME if period.charging else TariffDimensionType.PARKING_TIME
        dimensions = []
        if period.charging or period.energy_wh:
            dimensions.append(CdrDimension(type=CdrDimensionType.ENERGY, volume=ocpi_number(period.energy_wh / _WH_PER_KWH)))
        dimensions.append(
            CdrDimension(type=CdrDimensionType(time_dimension.value), volume=ocpi_number(period.duration_s / _SECONDS_PER_HOUR))
        )
        dimensions += [CdrDimension(type=kind, volume=ocpi_number(value)) for kind, value in period.dimensions.items()]
        charging_periods.append(ChargingPeriod(start_date_time=period.start, dimensions=dimensions, tariff_id=tariff.id))
        if period.flat:
            bill(index, TariffDimensionType.FLAT, period.flat, Decimal(1), Decimal(1), Decimal(1))
        if period.energy:
            bill(index, TariffDimensionType.ENERGY, period.energy, period.energy_wh, period.billed_energy_wh, _WH_PER_KWH)
        if period.time:
            bill(index, time_dimension, period.time, period.duration_s, period.billed_duration_s, _SECONDS_PER_HOUR)

    def total(dimension: TariffDimensionType) -> Cost:
        excl, incl = sums[dimension]
        return Cost(excl_vat=ocpi_number(excl), incl_vat=ocpi_number(incl))

    fixed, energy, time_, parking = (total(d) for d in _PRICED[3:] + _PRICED[:3])
    parts = (fixed, energy, time_, parking)
    cost = Cost(
        excl_vat=_bounded(sum((p.excl_vat for p in parts), Decimal(0)), tariff.min_price, tariff.max_price, "excl_vat"),
        incl_vat=_bounded(sum((p.incl_vat for p in parts), Decimal(0)), tariff.min_price, tariff.max_price, "incl_vat"),
    )
    parking_s = sum((p.duration_s for p in periods if not p.charging), Decimal(0))
    return PricedSession(
        tariff_id=tariff.id,
        currency=tariff.currency,
        start_date_time=start,
        end_date_time=end,
        in_progress=consumption.end is None,
        charging_periods=charging_periods,
        cost_lines=lines,
        total_cost=cost,
        total_fixed_cost=fixed,
        total_energy=ocpi_number(sum((p.energy_wh for p in periods), Decimal(0)) / _WH_PER_KWH),
        total_energy_cost=energy,
        total_time=ocpi_number(seconds(end - start) / _SECONDS_PER_HOUR),
        total_time_cost=time_,
        total_parking_time=ocpi_number(parking_s / _SECONDS_PER_HOUR),
        total_parking_cost=parking,
        notes=notes,
    )


def _bounded(value: Decimal, low: Price | None, high: Price | None, field_name: str) -> Decimal:
    """mod_tariffs §Tariff object notes: min_price and max_price apply to excl. and incl. VAT each."""
    floor = getattr(low, field_name) if low else None
    ceiling = getattr(high, field_name) if high else None
    if floor is not None:
        value = max(value, floor)
    if ceiling is not None:
        value = min(value, ceiling)
    return ocpi_number(value)
