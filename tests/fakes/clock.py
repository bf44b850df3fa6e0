"""A clock the test moves by hand: time passes only when the test says so, whatever day the suite runs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

EPOCH = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
"""Where test time starts: a fixed moment, so no outcome depends on the day the suite runs."""


class ManualClock:
    def __init__(self, start: datetime = EPOCH, *, step: timedelta = timedelta()) -> None:
        """`step`: how far each reading moves time on (0: time stands still until `advance`)."""
        if start.tzinfo is None:
            raise ValueError("the clock keeps UTC-aware time")
        self._now = start
        self.step = step

    def now(self) -> datetime:
        moment = self._now
        self._now += self.step
        return moment

    def advance(self, delta: timedelta | None = None, /, **units: float) -> datetime:
        """Move time on, e.g. `advance(seconds=31)`; returns the new now."""
        step = (delta or timedelta()) + timedelta(**units)
        if step < timedelta():
            raise ValueError("time does not run backwards")
        self._now += step
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


class RunningClock:
    """Real time, as it passes, from a fixed moment: a wait of a few seconds lasts a few seconds (a workflow's Wait
    in the local runtime), and what the CSMS decides by the calendar (a reservation's day) never depends on the
    day the suite runs."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self._start = start
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._started)

    def advance(self, delta: timedelta | None = None, /, **units: float) -> datetime:
        """Jump ahead, e.g. `advance(seconds=20)` (time then runs on from there); returns the new now."""
        step = (delta or timedelta()) + timedelta(**units)
        if step < timedelta():
            raise ValueError("time does not run backwards")
        self._start += step
        return self.now()
