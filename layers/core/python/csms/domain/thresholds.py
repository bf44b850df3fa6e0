"""When a session crosses a threshold the driver asked to hear about (issue 10 §4): a state of charge (the
network's `SOC_THRESHOLDS`, e.g. 80 %) or an energy delivered (the session's `notifyAtEnergyWh`). Pure.

Only an upward crossing counts: the previous reading below the threshold, this one at or above it. Drivers of
other networks disabled such alerts because they fired falsely (a reading dipping and coming back, a session
plugged in at 85 % told it reached 80 %), so a state of charge threshold also never fires for a session whose
first reading was at or above it. Each threshold fires at most once per session: the event's id is derived
from the session and the threshold, and its follow-up item is only ever created once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from csms.domain.metering import DEFAULT_MEASURAND, SOC_MEASURAND
from csms.domain.transactions import Transaction


@dataclass(frozen=True)
class Crossing:
    measurand: str
    """`SoC` (percent) or `Energy.Active.Import.Register` (Wh delivered in the session)."""
    threshold: Decimal
    value: Decimal
    """The reading that crossed it."""


def soc_crossings(
    thresholds: Iterable[Decimal], *, first: Decimal, previous: Decimal | None, current: Decimal
) -> list[Crossing]:
    """The SoC thresholds this reading crossed upwards, lowest first. `first`: the session's first SoC reading
    (its start); `previous`: the reading before this one, None when this one is the first."""
    if previous is None:
        return []
    return [
        Crossing(SOC_MEASURAND, threshold, current)
        for threshold in sorted(set(thresholds))
        if first < threshold and previous < threshold <= current
    ]


def energy_crossings(thresholds: Iterable[Decimal], *, previous_wh: Decimal, current_wh: Decimal) -> list[Crossing]:
    """The energy thresholds (Wh delivered since the start) this reading crossed upwards, lowest first. A
    session starts at 0 Wh delivered: `previous_wh` is 0 before its first reading."""
    return [
        Crossing(DEFAULT_MEASURAND, threshold, current_wh)
        for threshold in sorted(set(thresholds))
        if previous_wh < threshold <= current_wh
    ]


def session_crossings(
    before: Transaction, *, energy_register_wh: Decimal | None, soc: Decimal | None, soc_thresholds: Iterable[Decimal]
) -> list[Crossing]:
    """What a new reading of the session crossed: `before` is the transaction as it was before it (its first and
    last SoC, its last register reading, its energy thresholds), `energy_register_wh` the meter's register."""
    found = []
    if soc is not None:
        first = before.first_soc if before.first_soc is not None else soc
        found += soc_crossings(soc_thresholds, first=first, previous=before.last_soc, current=soc)
    if energy_register_wh is not None and before.start.notify_at_energy_wh:
        meter_start = before.start.meter_start
        previous = before.last_meter_wh - meter_start if before.last_meter_wh is not None else Decimal(0)
        found += energy_crossings(
            map(Decimal, before.start.notify_at_energy_wh), previous_wh=previous, current_wh=energy_register_wh - meter_start
        )
    return found
