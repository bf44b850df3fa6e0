"""Sharing a site's grid connection among its charging sessions (issue 11 §3): a pure function of the site and
the sessions in progress, the same output for the same input.

The rules, in the order they apply:

1. A session whose station ignores its limit (the check of measured against allocated current flagged it)
   cannot be steered: its measured draw counts as used capacity and its own limit is kept.
2. Every other session gets at least `MIN_CHARGING_CURRENT_A` (6 A) per phase, or 0: below 6 A a car pauses
   instead of slowing down. Sessions are admitted in rank order (higher priority first, then earlier arrival, i.e.
   the StartTransaction timestamp); one whose minimum does not fit within every limit it is under (its station's
   maximum, its circuit's, the site's) is paused at 0 A. So when the minimums do not all fit, the lowest priority,
   then the latest arrival, is paused.
3. What remains is shared by priority class, higher classes first, each up to what its sessions can take; within a
   class equally (water-filling: all rise together, a session stops at its own cap or when a limit it is under is
   full, the others go on). Arrival order never changes a share: it only decides who is paused in rule 2.
4. A session's cap is its connector's maximum, or, when it is visibly not using its allocation (its last
   `LENDING_SAMPLES` measured currents all well below it), what it draws plus a margin: the rest is lent to the
   others, and given back by the next allocation once its draw climbs into that margin (`lent_current_a`).
5. A car may start on any idle connector at any moment and draw what its station's TxDefaultProfile allows before
   the CSMS hears of it. What the sessions leave unused is reserved for idle connectors, station by station (in id
   order): a station whose idle connectors' `safe_current_a` each fit within every limit it is under gets a
   default of `safe_current_a`, the others 0 (a car starting there is paused until its TxProfile comes). So the
   sessions' shares never shrink for cars that may never come, and a start never takes a limit above itself. A
   station the CSMS cannot steer (not connected, or refusing its default) has its idle connectors counted as used
   at what its default allows, like a session that ignores its limit.

Units: amperes per phase, in whole tenths (OCPP 1.6 §7.7: a ChargingSchedulePeriod's limit has at most one
decimal). Every limit is rounded down, never up, so the sums stay within the limits; a class's remainder smaller
than 0.1 A per session stays unused, so that a class's shares stay equal.

Phases: the phase rotation of a station's wiring is not known, so a single-phase car could be on any phase, and
all of them on the same one. A session's current therefore counts against every phase of its limits: a limit's
sum of sessions' currents per phase never exceeds it, whatever the wiring. (Known rotation would let three
single-phase cars share a three-phase connection at full current each; that is a possible refinement.) A session's
phases matter when its limit is expressed in W (`charging_rate_limit`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from itertools import groupby

from csms.domain.measured_current import LENDING_SAMPLES, LIMIT_STEP, MIN_CHARGING_CURRENT_A, lent_current_a
from csms.domain.priorities import DEFAULT_PRIORITY
from csms.domain.sites import Site
from csms.domain.stations import Station
from csms.ocpp.v16.enums import ChargingRateUnitType

_TENTHS = 10
_UNBOUNDED = math.inf
_MIN = int(MIN_CHARGING_CURRENT_A * _TENTHS)


class Bound(StrEnum):
    """What holds a session's current where it is (for a paused session: which limit had no room for its minimum)."""

    CONNECTOR = "connector"
    """Its connector's own maximum."""
    MEASURED = "measured"
    """What it draws plus a margin: the rest of its share is lent to the others."""
    STATION = "station"
    """Its station's maximum, shared by the station's connectors."""
    CIRCUIT = "circuit"
    """Its circuit's limit (`circuit_id` says which)."""
    SITE = "site"
    """The site's grid connection."""
    IGNORED = "ignored"
    """Its station draws more than it is allocated: its measured draw counts as used, its limit is kept."""
    UNREACHABLE = "unreachable"
    """Its station is not connected: what it may draw counts as used, its limit is kept until it is back."""


@dataclass(frozen=True, kw_only=True)
class ChargingSession:
    """A session in progress on one of the site's connectors (StartTransaction to StopTransaction, whatever the
    connector's status), with what the CSMS measured of it."""

    charge_point_id: str
    connector_id: int
    transaction_id: int
    priority: int = DEFAULT_PRIORITY
    arrived_at: datetime
    """Its StartTransaction timestamp: breaks ties between equal priorities when not all minimums fit."""
    allocated_current_a: Decimal | None = None
    """The limit in force now (the last one its station accepted), if any."""
    measured_current_a: tuple[Decimal, ...] = ()
    """Its recent Current.Import samples measured under `allocated_current_a`, oldest first: per phase, the
    highest phase's."""
    ignores_limit: bool = False
    """Flagged: its station keeps drawing more than it is allocated."""
    lending: bool = False
    """Its limit is what it kept when it lent the rest of its share (its last allocation's bound was MEASURED)."""
    unreachable: bool = False
    """Its station is not connected: no new limit reaches it, so it may draw `allocated_current_a` (what its station
    has or may have applied): counted as used until its station is back."""


@dataclass(frozen=True, kw_only=True)
class IdleConnectors:
    """A member station's connectors with no session (rule 5): a car may start on any of them at once and draw what
    the station's TxDefaultProfile allows until its TxProfile comes."""

    charge_point_id: str
    count: int
    fixed_a: Decimal | None = None
    """What each may draw when the CSMS cannot change its default (its station is not connected, or refused it):
    counted as used. None: the allocation sets its default."""


@dataclass(frozen=True, kw_only=True)
class StationDefault:
    """The TxDefaultProfile limit a steerable station should have (rule 5)."""

    charge_point_id: str
    current_a: Decimal
    """The site's safe current, or 0 when its idle connectors' do not fit."""


@dataclass(frozen=True, kw_only=True)
class ConnectorAllocation:
    charge_point_id: str
    connector_id: int
    transaction_id: int
    priority: int
    current_a: Decimal
    """Amperes per phase, a multiple of 0.1: 0 (paused) or at least 6."""
    phases: int
    bound: Bound
    circuit_id: str | None = None
    """The circuit whose limit holds it (bound CIRCUIT)."""

    @property
    def paused(self) -> bool:
        return self.current_a == 0


@dataclass(frozen=True, kw_only=True)
class SiteAllocation:
    site_id: str
    site_version: int
    """The site definition it was computed for: one computed for an older version is stale."""
    allocations: tuple[ConnectorAllocation, ...]
    """One per session, by charge point and connector."""
    defaults: tuple[StationDefault, ...] = ()
    """The TxDefaultProfile of each steerable station given as idle (rule 5), by charge point."""

    @property
    def total_current_a(self) -> Decimal:
        """What the sessions may draw at most per phase, together (those that ignore their limits: what they are allocated)."""
        return sum((allocation.current_a for allocation in self.allocations), Decimal(0))


def rank(session: ChargingSession) -> tuple[int, datetime, str, int, int]:
    """Who is served first: higher priority, then earlier arrival; the ids only make the order total."""
    return (-session.priority, session.arrived_at, session.charge_point_id, session.connector_id, session.transaction_id)


@dataclass(eq=False)
class _Limit:
    bound: Bound
    remaining: int
    """Tenths of an ampere per phase still free."""
    circuit_id: str | None = None
    active: int = 0
    """Sessions of the class being filled that may still rise under it."""

    @property
    def full(self) -> bool:
        """No room to give each of its rising sessions another tenth."""
        return self.remaining < self.active


@dataclass(eq=False)
class _Share:
    session: ChargingSession
    limits: tuple[_Limit, ...]
    """Innermost first: its station's maximum, its circuit's, the site's."""
    cap: float
    cap_bound: Bound
    current: int = 0
    bound: Bound | None = None
    held_by: _Limit | None = field(default=None)


def allocate(site: Site, sessions: Iterable[ChargingSession], idle: Iterable[IdleConnectors] = ()) -> SiteAllocation:
    """Each session's limit, in amperes per phase, and each idle station's default (see the module's docstring for
    the rules)."""
    ordered = sorted(sessions, key=rank)
    limits = _Limits(site)
    shares = [_share(site, session, limits) for session in ordered]
    controlled = [share for share in shares if not _unsteerable(share.session)]
    for share in shares:
        if _unsteerable(share.session):
            _count_as_used(share)
    stations = sorted(idle, key=lambda station: station.charge_point_id)
    for station in stations:
        if station.fixed_a is not None:
            for limit in limits.of(station.charge_point_id):
                limit.remaining -= _tenths_up(station.fixed_a) * station.count
    admitted = [share for share in controlled if _admit(share)]
    for _, members in groupby(admitted, key=lambda share: share.session.priority):
        _fill(list(members))
    defaults = tuple(
        _reserve(site, station, shares, limits) for station in stations if station.fixed_a is None
    )
    return SiteAllocation(
        site_id=site.site_id,
        site_version=site.version,
        allocations=tuple(
            sorted((_result(site, share) for share in shares), key=lambda a: (a.charge_point_id, a.connector_id))
        ),
        defaults=defaults,
    )


def _unsteerable(session: ChargingSession) -> bool:
    return session.ignores_limit or session.unreachable


class _Limits:
    """The limits of the site, its circuits and its stations, each shared by everything under it."""

    def __init__(self, site: Site):
        self._site_limit = _Limit(Bound.SITE, _tenths_down(site.max_current_a))
        self._circuits = {
            circuit.circuit_id: _Limit(Bound.CIRCUIT, _tenths_down(circuit.max_current_a), circuit_id=circuit.circuit_id)
            for circuit in site.circuits
        }
        self._stations: dict[str, _Limit] = {}
        self._site = site

    def of(self, charge_point_id: str) -> tuple[_Limit, ...]:
        """Innermost first: the station's maximum, its circuit's, the site's."""
        limits = []
        station_max = self._site.station_max_current_a(charge_point_id)
        if station_max is not None:
            limits.append(self._stations.setdefault(charge_point_id, _Limit(Bound.STATION, _tenths_down(station_max))))
        circuit = self._site.circuit_of(charge_point_id)
        if circuit is not None:
            limits.append(self._circuits[circuit.circuit_id])
        limits.append(self._site_limit)
        return tuple(limits)


def _share(site: Site, session: ChargingSession, limits: _Limits) -> _Share:
    cap, cap_bound = _cap(site, session)
    return _Share(session=session, limits=limits.of(session.charge_point_id), cap=cap, cap_bound=cap_bound)


def _reserve(site: Site, station: IdleConnectors, shares: Sequence[_Share], limits: _Limits) -> StationDefault:
    """Rule 5 for one station: room for `safe_current_a` on each of its idle connectors, and on each connector of a
    session of its allowed less (a paused one: once it stops, its connector is idle at the default), or 0."""
    safe = _tenths_down(site.safe_current_a)
    short = sum(
        max(0, safe - share.current)
        for share in shares
        if share.session.charge_point_id == station.charge_point_id and not _unsteerable(share.session)
    )
    need = safe * station.count + short
    under = limits.of(station.charge_point_id)
    if safe == 0 or any(limit.remaining < need for limit in under):
        return StationDefault(charge_point_id=station.charge_point_id, current_a=Decimal(0))
    for limit in under:
        limit.remaining -= need
    return StationDefault(charge_point_id=station.charge_point_id, current_a=Decimal(safe) / _TENTHS)


def _cap(site: Site, session: ChargingSession) -> tuple[float, Bound]:
    """The most the session may get, and why: its connector's maximum, or what it draws when it lends."""
    connector_max = site.connector_max_current_a(session.charge_point_id, session.connector_id)
    cap: float = _tenths_down(connector_max) if connector_max is not None else _UNBOUNDED
    lending = _lending_cap(session)
    if lending is not None and lending < cap:
        return lending, Bound.MEASURED
    return cap, Bound.CONNECTOR


def _lending_cap(session: ChargingSession) -> int | None:
    """What a session visibly not using its allocation keeps (tenths), None when it is using it."""
    if session.allocated_current_a is None:
        return None
    kept = lent_current_a(session.allocated_current_a, session.measured_current_a, lending=session.lending)
    return None if kept is None else _tenths_up(kept)


def _count_as_used(share: _Share) -> None:
    """A session that ignores its limit draws what it draws: the larger of its recent samples and its limit. One
    whose station is not connected may draw what its station has or may have applied (its `allocated_current_a`)."""
    session = share.session
    draw = max((*session.measured_current_a[-LENDING_SAMPLES:], session.allocated_current_a or Decimal(0)))
    for limit in share.limits:
        limit.remaining -= _tenths_up(draw)
    share.current = _tenths_down(session.allocated_current_a or Decimal(0))
    share.bound = Bound.IGNORED if session.ignores_limit else Bound.UNREACHABLE


def _admit(share: _Share) -> bool:
    """Rule 2: the session's minimum within every limit it is under, or it is paused (held by the innermost full one)."""
    full = next((limit for limit in share.limits if limit.remaining < _MIN), None)
    if full is not None:
        share.bound, share.held_by = full.bound, full
        return False
    for limit in share.limits:
        limit.remaining -= _MIN
    share.current = _MIN
    return True


def _fill(members: list[_Share]) -> None:
    """Rule 3 for one priority class: all rise together by whole tenths; a session stops at its cap, or when a limit
    it is under cannot give each of its rising sessions another tenth. Such a limit's remainder (less than a tenth
    per session) stays unused: given to a lower class, it could lift one of its sessions above this class's."""
    rising = []
    for share in members:
        if share.current >= share.cap:
            share.bound = share.cap_bound
        else:
            rising.append(share)
            for limit in share.limits:
                limit.active += 1
    while rising:
        step = min(min(share.cap - share.current for share in rising), *_fair_steps(rising))
        for share in rising:
            share.current += int(step)
            for limit in share.limits:
                limit.remaining -= int(step)
        still_rising = []
        for share in rising:
            if share.current >= share.cap:
                share.bound = share.cap_bound
                _stop(share)
            else:
                still_rising.append(share)
        rising = []
        for share in still_rising:
            full = next((limit for limit in share.limits if limit.full), None)
            if full is None:
                rising.append(share)
            else:
                share.bound, share.held_by = full.bound, full
        for share in still_rising:
            if share.bound is not None:
                _stop(share)
    for share in members:
        if share.held_by is not None:
            share.held_by.remaining = 0  # the remainder stays unused (see above)


def _fair_steps(rising: list[_Share]) -> list[int]:
    limits = {id(limit): limit for share in rising for limit in share.limits}.values()
    return [limit.remaining // limit.active for limit in limits]


def _stop(share: _Share) -> None:
    for limit in share.limits:
        limit.active -= 1


def _result(site: Site, share: _Share) -> ConnectorAllocation:
    session = share.session
    assert share.bound is not None  # every session is paused, capped or held by a full limit
    return ConnectorAllocation(
        charge_point_id=session.charge_point_id,
        connector_id=session.connector_id,
        transaction_id=session.transaction_id,
        priority=session.priority,
        current_a=Decimal(share.current) / _TENTHS,
        phases=site.connector_phases(session.charge_point_id, session.connector_id),
        bound=share.bound,
        circuit_id=share.held_by.circuit_id if share.held_by is not None else None,
    )


def charging_rate_limit(current_a: Decimal, unit: ChargingRateUnitType, *, voltage_v: Decimal, phases: int) -> Decimal:
    """An allocation in the unit a station's profile takes (its `ChargingScheduleAllowedChargingRateUnit`): A is
    per phase, W the total over the phases the session draws on (W = A × V × phases, V phase-to-neutral), rounded
    down to one decimal (§7.7) like every limit."""
    if unit == ChargingRateUnitType.AMPERE:
        return current_a
    return (current_a * voltage_v * phases).quantize(LIMIT_STEP, rounding=ROUND_FLOOR)


def _tenths_down(amperes: Decimal) -> int:
    return int((amperes * _TENTHS).to_integral_value(rounding=ROUND_FLOOR))


def _tenths_up(amperes: Decimal) -> int:
    return int((amperes * _TENTHS).to_integral_value(rounding=ROUND_CEILING))


def charging_sessions(site: Site, stations: Iterable[Station]) -> list[ChargingSession]:
    """The sessions in progress at the site's stations, as their station items point at them (from StartTransaction
    to StopTransaction), with the priority bound at their start; nothing measured or allocated yet."""
    members = set(site.charge_point_ids)
    return [
        ChargingSession(
            charge_point_id=station.charge_point_id,
            connector_id=session.connector_id,
            transaction_id=session.transaction_id,
            priority=session.priority,
            arrived_at=session.started_at,
        )
        for station in stations
        if station.charge_point_id in members
        for session in station.active_sessions
    ]
