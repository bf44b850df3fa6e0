"""A sample session, as an operator describes one to see what a tariff would charge (the console's live preview).

    start ------------- charging_end ------------- end
          energy_wh delivered evenly     parked (the car no longer asks for power: Finishing)

Without `charging_end` the car charges until the end. The consumption it becomes is exactly what a station's
session becomes for its CDR (register readings and connector statuses), so `price_session` prices the sample by
the same rules as a bill.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from .consumption import EnergyReading, SessionConsumption, StatusChange

CHARGING = "Charging"
PARKED = "Finishing"  # consumption.PARKING_STATUSES: "not requesting power" (OCPI mod_cdrs §CdrDimensionType)
# A sample is cut at every local midnight and band edge of the tariff: a month keeps an answer well under a second.
MAX_DURATION = timedelta(days=31)


class InvalidSample(ValueError):
    """A sample session whose times do not follow each other; `field` names the one at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def sample_consumption(
    *, start: datetime, end: datetime, energy_wh: Decimal, charging_end: datetime | None = None
) -> SessionConsumption:
    """The consumption of a session that delivers `energy_wh` from `start` to `charging_end` (or `end`), then parks."""
    if end < start:
        raise InvalidSample("endDateTime", "is before startDateTime")
    if end - start > MAX_DURATION:
        raise InvalidSample("endDateTime", f"is more than {MAX_DURATION.days} days after startDateTime")
    if charging_end is not None and not start <= charging_end <= end:
        raise InvalidSample("chargingEndDateTime", "is not between startDateTime and endDateTime")
    charged_until = charging_end or end
    statuses = [StatusChange(timestamp=start, status=CHARGING)]
    if charged_until < end:
        statuses.append(StatusChange(timestamp=charged_until, status=PARKED))
    energy = [EnergyReading(timestamp=start, value=Decimal(0)), EnergyReading(timestamp=charged_until, value=energy_wh)]
    if charged_until < end:
        energy.append(EnergyReading(timestamp=end, value=energy_wh))
    return SessionConsumption(start=start, end=end, energy=energy, statuses=statuses)
