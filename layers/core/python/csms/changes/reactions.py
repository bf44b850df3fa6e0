"""Every reaction to the table's changes, and the stream's filter (the event source mapping's on AWS, the
local stream's here). Lambda takes at most five filters per event source mapping by default (a quota that can
be raised to ten): reactions to the same change share one pattern object, counted once."""

from __future__ import annotations

from typing import Any

from csms.billing import stream as billing
from csms.changes import follow_ups
from csms.changes.stream import Reaction
from csms.energy import stream as energy
from csms.sessions import stream as sessions

MAX_FILTERS = 5

REACTIONS: tuple[Reaction, ...] = (*billing.REACTIONS, *sessions.REACTIONS, *energy.REACTIONS, *follow_ups.REACTIONS)


def _distinct(patterns: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    kept: list[dict[str, Any]] = []
    for pattern in patterns:
        if pattern not in kept:
            kept.append(pattern)
    return tuple(kept)


FILTER_PATTERNS: tuple[dict[str, Any], ...] = _distinct([pattern for reaction in REACTIONS for pattern in reaction.patterns])
