"""When a session reaches its limit (issue 10 §3): pure rules over the readings the message handler has at hand.

A limit is reached when the value is at or past it. Stopping only when a sample shows it overshoots by the
sampling interval times the power (about 2.5 kWh at 150 kW and 60 s), so the crossing is predicted from the
last two readings: if the value, rising as it did between them, reaches the limit before the next sample is
expected (one more interval of the same length), the stop is timed for that moment instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from csms.domain.limits import LimitKind, SessionLimits


@dataclass(frozen=True)
class Reading:
    """A value (energy delivered in Wh, running cost incl. VAT, state of charge in %) at the station's time."""

    at: datetime
    value: Decimal


@dataclass(frozen=True)
class Trend:
    """The reading before and the newest one: how fast the value rises."""

    previous: Reading | None
    latest: Reading


@dataclass(frozen=True)
class LimitStop:
    kind: LimitKind
    stop_at: datetime
    """On the CSMS clock: now when the limit is reached, the predicted crossing when it falls before the next sample."""


def crossing(trend: Trend, limit: Decimal) -> timedelta | None:
    """How long after the latest reading the value reaches `limit`: zero when it already has, the extrapolated
    time (never before the crossing) when it rises fast enough to get there before the next sample is expected,
    else None (the next sample decides)."""
    latest, previous = trend.latest, trend.previous
    if latest.value >= limit:
        return timedelta(0)
    if previous is None or latest.at <= previous.at or latest.value <= previous.value:
        return None
    interval = latest.at - previous.at
    # Most stations stamp whole seconds: up to a second more than the stamps say may have passed between the two
    # readings. Rising at the slowest rate they allow, the value is never predicted to cross before it does (a
    # stop is late by a fraction of that second at most, never early: the limit is reached when the CSMS stops).
    slack = timedelta(seconds=1) if previous.at.microsecond == 0 and latest.at.microsecond == 0 else timedelta(0)
    rate = (latest.value - previous.value) / Decimal((interval + slack).total_seconds())
    remaining = timedelta(seconds=float((limit - latest.value) / rate))
    return remaining if remaining <= interval else None


def limit_stop(
    limits: SessionLimits,
    *,
    energy: Trend | None = None,
    cost: Trend | None = None,
    soc: Trend | None = None,
    received_at: datetime,
    predict: bool = True,
) -> LimitStop | None:
    """The first energy, cost or state-of-charge limit this reading reaches (or, `predict`ing, will reach before
    the next sample), and when to stop for it. Duration is a timer of its own (SessionLimit workflow)."""
    candidates = (
        (LimitKind.ENERGY, energy, Decimal(limits.max_energy_wh) if limits.max_energy_wh is not None else None),
        (LimitKind.COST, cost, limits.max_cost.amount if limits.max_cost is not None else None),
        (LimitKind.SOC, soc, Decimal(limits.max_soc) if limits.max_soc is not None else None),
    )
    first: LimitStop | None = None
    for kind, trend, limit in candidates:
        if trend is None or limit is None:
            continue
        after = crossing(trend if predict else Trend(None, trend.latest), limit)
        if after is not None and (first is None or received_at + after < first.stop_at):
            first = LimitStop(kind, received_at + after)
    return first
