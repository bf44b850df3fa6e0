"""Python under `make test-later`, found through PYTHONPATH by every Python process the suite starts.

The suite runs with libfaketime moving the wall clock (CLOCK_REALTIME: `time.time`, `datetime.now`, the `date` of
any child process) three years ahead, and with `FAKETIME_DONT_FAKE_MONOTONIC=1`: a moved CLOCK_MONOTONIC would make
every timed wait of a thread (`Event.wait`, `Lock.acquire(timeout=...)`, which wait on the real monotonic clock
against a deadline taken from the moved one) last years. The monotonic clock carries no date, so nothing the suite
checks depends on it being moved.

libfaketime 0.9.10 (Debian's) then breaks one call: `time.sleep`, which CPython implements as `clock_nanosleep`
with an absolute CLOCK_MONOTONIC deadline, gets that deadline shifted by the fake offset and fails with EINVAL.
Here `time.sleep` waits the same time with `select`, a relative timeout libfaketime leaves alone.
"""

from __future__ import annotations

import os
import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)  # retried with the time left when a signal interrupts it (PEP 475)


if os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1":
    time.sleep = _sleep
