"""Time in the CSMS: one injectable clock; always UTC-aware; stored and sent as ISO 8601 with a Z suffix.

Nothing in the CSMS reads the system time directly. The composition root (`runtime.wiring.Services`)
holds the one `Clock`; the station handlers, the command outbox, authorization and the workflows ask it
for the time, so a test can set time to any moment and move it on without waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, UTC-aware."""
        ...


class SystemClock:
    """The real time: what Lambda and the local runtime use."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """Millisecond precision keeps sort keys fixed-width and ordered as text."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
