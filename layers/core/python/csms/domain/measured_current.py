"""What a charging session's measured current (its Current.Import samples, oldest first) says to load control
(issue 11 §3): whether it lends part of its share, and whether its station ignores its limit.

Apart from the allocation (`allocation.py`) and the site's control (`load_control.py`), which both use these rules,
because the station path applies them to every reading and needs nothing else of load control.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

MIN_CHARGING_CURRENT_A = Decimal(6)
"""Below 6 A per phase a car does not charge more slowly, it stops: IEC 61851-1 signals no current below a 10 %
duty cycle (6 A), and stations pause the session rather than offer less. A session gets at least this or 0."""

LIMIT_STEP = Decimal("0.1")
"""OCPP 1.6 §7.7: ChargingSchedulePeriod.limit, a decimal with at most one digit after the point."""

LENDING_SAMPLES = 3
"""How many consecutive samples must show a car well below its allocation before its capacity is lent: one sample
is a ramp-up or a battery-balancing dip, three (three MeterValues intervals) are a car that takes less, e.g. a
16 A onboard charger on a 32 A allocation. The same count the check uses to flag a station that draws too much."""

LENDING_MARGIN_A = Decimal(2)
LENDING_MARGIN_RATIO = Decimal("0.1")
"""A lending session keeps what it draws plus max(2 A, 10 %): room for a car's draw to wander (temperature,
voltage, a charger regulating within about 1 A of the pilot signal; meters are read to a few %) without being
held at its limit, and enough for it to show it wants more: once its draw climbs more than half the margin above
the peak it lent on, the next allocation gives its share back."""

FLAG_SAMPLES = 3
FLAG_RATIO = Decimal("0.1")
FLAG_MARGIN_A = Decimal(1)


def lent_current_a(allocated_a: Decimal, samples: Sequence[Decimal], *, lending: bool) -> Decimal | None:
    """What a session drawing `samples` (oldest first) under the limit `allocated_a` keeps when it lends the rest:
    the peak of its last LENDING_SAMPLES plus the margin, at least the minimum; None when it is using its limit.

    Half the margin on either side is a dead band, so that a meter's noise sends no profile back and forth: a
    session starts lending once it frees at least half the margin; one lending (`lending`: its limit is what it
    kept) goes on at its limit while what it would keep stays within half the margin of it, lends more below that,
    and gets its share back once its draw climbs into the upper half of its margin (a car that wants more)."""
    recent = samples[-LENDING_SAMPLES:]
    limit = allocated_a.quantize(LIMIT_STEP, rounding=ROUND_FLOOR)
    if not recent:
        return limit if lending else None
    peak = max(recent)
    band = max(LENDING_MARGIN_A, peak * LENDING_MARGIN_RATIO) / 2
    kept = max(peak + 2 * band, MIN_CHARGING_CURRENT_A).quantize(LIMIT_STEP, rounding=ROUND_CEILING)
    if len(recent) == LENDING_SAMPLES and kept <= limit - band:
        return kept  # lending (more) takes every sample well below: not a dip
    if lending and kept <= limit + band:
        return limit
    return None  # a lender's one sample climbing into its margin is enough to give its share back


def reading_changes_lending(allocated_a: Decimal, *, lending: bool, before: Sequence[Decimal], after: Sequence[Decimal]) -> bool:
    """Whether a new sample (`after` is `before` and it) asks for a new allocation: a session using its limit starts
    lending, or a lender lends more or wants its share back. Only then does a MeterValues run its site's load
    control; a session whose samples keep it where it is asks for nothing, however many it sends."""
    limit = allocated_a.quantize(LIMIT_STEP, rounding=ROUND_FLOOR)
    kept = lent_current_a(allocated_a, after, lending=lending)
    if lending:
        return kept != limit
    return kept is not None and lent_current_a(allocated_a, before, lending=False) != kept


def ignores_allocation(allocated_a: Decimal, samples: tuple[Decimal, ...]) -> bool:
    """Whether a station ignores its limit: its last `FLAG_SAMPLES` measured currents all above it by more than 10 %
    and 1 A (a meter reads to a few %, a car regulates within about 1 A of its pilot signal; three samples, not a
    ramp or a spike)."""
    recent = samples[-FLAG_SAMPLES:]
    return len(recent) == FLAG_SAMPLES and all(
        sample > allocated_a * (1 + FLAG_RATIO) and sample - allocated_a > FLAG_MARGIN_A for sample in recent
    )
