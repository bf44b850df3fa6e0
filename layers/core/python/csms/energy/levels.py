"""A site's currents as its dashboard graphs them (issue 11 §6): what its sessions may draw per phase together (the
limits its load control set) beside what they were last measured drawing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from csms.domain.allocation import charging_sessions
from csms.domain.sites import Site
from csms.runtime.wiring import Services

ALLOCATED_CURRENT_A = "AllocatedCurrentA"
MEASURED_CURRENT_A = "MeasuredCurrentA"
SITE_LIMIT_A = "SiteLimitA"
"""The per-site metrics (dimension `siteId`), published by the gauges function every minute and, for the allocated
current, by each load-control run."""


@dataclass(frozen=True)
class SiteCurrents:
    allocated_a: Decimal
    """The sum of its sessions' limits (per phase: each counts on every phase, allocation.py's rule)."""
    measured_a: Decimal
    """The sum of its sessions' newest Current.Import (each the highest phase's): an upper bound of the draw per
    phase. A session that reported none counts 0."""


def site_currents(services: Services, site: Site) -> SiteCurrents:
    """Read, not computed: the site's stored control (one GetItem), its stations (one BatchGetItem per 100) and the
    transactions of their sessions (one BatchGetItem per 100)."""
    control = services.load_control.get(site.site_id)
    stations = services.stations.get_many(site.charge_point_ids)
    sessions = charging_sessions(site, stations)
    transactions = services.transactions.get_many([session.transaction_id for session in sessions])
    in_progress = {session.transaction_id for session in sessions}
    allocated = sum((c.target_a for c in control.controls if c.transaction_id in in_progress), Decimal(0))
    measured = sum((t.measured_current_a or Decimal(0) for t in transactions.values()), Decimal(0))
    return SiteCurrents(allocated_a=allocated, measured_a=measured)
