"""The cyclic garbage collector's full passes kept short while the local runtime runs.

Everything moto holds (every item of the table: several tracked objects per attribute) is alive for as long as the
runtime runs. CPython's full collection (generation 2) walks every tracked object while holding the GIL, so it
stops the gateway and every handler for as long as it takes: measured under 300 stations, 50 to 160 ms every
few seconds after 10,000 messages, ever more as data accumulates (about half a second with 200,000 items),
which is what a round trip's tail was made of.

`survivors_frozen()` moves what survives each full pass into the permanent generation (`gc.freeze`), so the
next full pass walks only what was allocated since: its length follows the rate of new data, not the data held.
Frozen objects are still freed by reference counting (items hold no cycles); only a reference cycle that dies
after being frozen (a message in flight at the freeze, a closed connection) waits for the next thaw: every `THAW_SECONDS` the
permanent generation is handed back to the collector, whose next full pass then walks everything once.
`local.state` freezes what it loads in the same way.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

THAW_SECONDS = 300.0
"""How long a cycle that died after being frozen may wait to be collected (one long pass per period). What waits
is mostly what was in flight at a freeze (300 stations' messages under way: their tasks and frames): with an hour,
the peak memory after 100,000 unpaced messages went from 494 to 906 MB; with five minutes it was 766 MB, at one long
pass every five minutes."""


class FreezeSurvivors:
    """A `gc.callbacks` entry: freezes after every full collection, thaws once every `thaw_seconds`."""

    def __init__(self, *, thaw_seconds: float = THAW_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.thaw_seconds = thaw_seconds
        self._monotonic = monotonic
        self._thawed_at = monotonic()

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info.get("generation") != 2:
            return
        now = self._monotonic()
        if now - self._thawed_at >= self.thaw_seconds:
            gc.unfreeze()  # the next full pass walks everything once, and freezes its survivors again
            self._thawed_at = now
        else:
            gc.freeze()


@contextmanager
def survivors_frozen(*, thaw_seconds: float = THAW_SECONDS) -> Iterator[FreezeSurvivors]:
    """While active, full collections freeze their survivors; on exit everything is the collector's again."""
    callback = FreezeSurvivors(thaw_seconds=thaw_seconds)
    gc.callbacks.append(callback)
    try:
        yield callback
    finally:
        gc.callbacks.remove(callback)
        gc.unfreeze()
