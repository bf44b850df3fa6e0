"""Session priorities (issue 11 §2): which sessions a shared grid connection serves first.

The range is OCPP 2.1's `chargingPriority` (−9 to 9, higher first); OCPP 1.6 has no such field, so the CSMS keeps
it and acts on it through the profiles it sends. A priority comes from the id tag (staff, fleet vehicles) or from
the session a driver's app starts (a paid fast charge), and is bound to the transaction at StartTransaction: a
later change of the tag does not reorder sessions already running.
"""

from __future__ import annotations

PRIORITY_MIN = -9
PRIORITY_MAX = 9
DEFAULT_PRIORITY = 0


def session_priority(requested: int | None, id_tag_priority: int | None) -> int:
    """The priority a session starts with: the one asked for the session itself (POST /sessions) wins over the id
    tag's, which wins over the default (0)."""
    for priority in (requested, id_tag_priority):
        if priority is not None:
            if not PRIORITY_MIN <= priority <= PRIORITY_MAX:
                raise ValueError(f"priority {priority} is outside {PRIORITY_MIN}..{PRIORITY_MAX}")
            return priority
    return DEFAULT_PRIORITY
