"""When a tariff element applies: its restrictions against the state of the session at one instant.

OCPI 2.2.1 mod_tariffs §TariffRestrictions: all restrictions set must hold (logical AND); times and
dates are the station's local time (the Location's `time_zone`); min_* bounds are inclusive, max_*
bounds exclusive; min/max_duration count from the session start; min/max_kwh are the energy the
session has used so far; power and current are what the EV draws at that moment.

The pricing cuts the session at every instant a restriction can change its answer (`boundaries`),
then asks `applies` once per piece, at its middle, so a piece never straddles a boundary.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .model import WEEKDAYS, TariffRestrictions

MIDNIGHT = time(0, 0)


@dataclass(frozen=True, slots=True)
class SessionState:
    """The session at one instant, as the restrictions see it."""

    local: datetime  # wall-clock time at the station
    duration_s: Decimal  # since the session start
    energy_kwh: Decimal  # used so far in the session
    power_kw: Decimal | None
    current_a: Decimal | None  # sum over phases; None when the station sent none


def applies(restrictions: TariffRestrictions | None, state: SessionState) -> bool:
    if restrictions is None:
        return True
    r = restrictions
    if not _in_time_window(r.start_time_of_day, r.end_time_of_day, state.local.time()):
        return False
    local_day = state.local.date().isoformat()
    if r.start_date is not None and local_day < r.start_date:
        return False
    if r.end_date is not None and local_day >= r.end_date:  # end_date is exclusive
        return False
    if r.day_of_week is not None and WEEKDAYS[state.local.weekday()] not in r.day_of_week:
        return False
    if not _within(r.min_kwh, r.max_kwh, state.energy_kwh):
        return False
    if not _within(r.min_duration, r.max_duration, state.duration_s):
        return False
    power_restricted = r.min_power is not None or r.max_power is not None
    if power_restricted and (state.power_kw is None or not _within(r.min_power, r.max_power, state.power_kw)):
        return False
    # No current sample: a current restriction cannot be shown to hold, so the element does not apply (and the
    # pricing notes it), rather than guessing a current the station never reported.
    current_restricted = r.min_current is not None or r.max_current is not None
    return not (
        current_restricted and (state.current_a is None or not _within(r.min_current, r.max_current, state.current_a))
    )


def _within(low: Decimal | int | None, high: Decimal | int | None, value: Decimal) -> bool:
    return (low is None or value >= low) and (high is None or value < high)


def _in_time_window(start: time | None, end: time | None, now: time) -> bool:
    """mod_tariffs §TariffRestrictions.end_time: "If end_time < start_time then the period wraps around
    to the next day. To stop at end of the day use: 00:00." """
    if start is None and end is None:
        return True
    if end == MIDNIGHT:
        end = None  # 24:00
    if start is None:
        return end is None or now < end
    if end is None:
        return now >= start
    if start < end:
        return start <= now < end
    return now >= start or now < end


def uses_local_calendar(restrictions: TariffRestrictions) -> bool:
    r = restrictions
    return any(
        value is not None for value in (r.start_time, r.end_time, r.start_date, r.end_date, r.day_of_week)
    )


def calendar_boundaries(
    restrictions: Iterable[TariffRestrictions], start: datetime, end: datetime, zone: ZoneInfo
) -> set[datetime]:
    """Every UTC instant in (start, end) where a local time-of-day, date or weekday restriction can flip.

    A wall-clock time is tried with both folds (it occurs twice when clocks go back), and every UTC
    offset change is added too: when clocks go forward, a restriction such as 02:30 flips at the
    moment the clock jumps, not at a 02:30 that never happens.
    """
    walls: set[time] = {MIDNIGHT}  # dates and weekdays change at local midnight
    calendar = [r for r in restrictions if uses_local_calendar(r)]
    if not calendar:
        return set()
    for r in calendar:
        walls.update(t for t in (r.start_time_of_day, r.end_time_of_day) if t is not None)
    found: set[datetime] = set()
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    day = first
    while day <= last:
        for wall in walls:
            for fold in (0, 1):
                moment = datetime.combine(day, wall, tzinfo=zone).replace(fold=fold).astimezone(UTC)
                if start < moment < end:
                    found.add(moment)
        day += timedelta(days=1)
    found.update(offset_changes(start, end, zone))
    return found


def offset_changes(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    """The instants in (start, end) where the zone's UTC offset changes (daylight saving), to the second."""
    step = timedelta(hours=1)
    left = start
    while left < end:
        right = min(left + step, end)
        if left.astimezone(zone).utcoffset() != right.astimezone(zone).utcoffset():
            low, high = left, right  # offset(low) is the old one, offset(high) the new one
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            if start < high < end:
                yield high.replace(microsecond=0) if high.microsecond else high
        left = right
