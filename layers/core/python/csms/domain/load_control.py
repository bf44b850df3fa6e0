"""Applying a site's allocation to its stations (issue 11 §4): which TxProfiles to send now, which must wait.

The site's limit must hold at every moment, not only once every station has its new profile. A connector may draw
up to its *bound*: the largest of the limit its station last accepted (before any, the TxDefaultProfile's
`safeCurrentA`: what a session starts with while the CSMS has not reached its station) and every limit sent to it
and not yet answered (the station may apply it any moment). An allocation keeps every limit within its site, its
circuits and its stations, so:

- a change that does not raise a connector's bound (a decrease, or a return to a limit at or below it) is safe to
  send at once;
- a change that raises it (an increase) is sent only once no connector of the site has a bound above its target:
  every decrease the increase could depend on was accepted. Then every bound is at or below its target, and the
  sum of targets is within every limit. A decrease refused or unanswered keeps its connector's bound high, so the
  increases wait (and the decrease is sent again).

A station that rejects a profile is offered what stations most often accept instead (OCPP 1.6 §9.1.3: some accept
only stack level 0; some take only W): its variants, in order, then it is flagged as `refused` and its bound counts
as used capacity (allocation.py, rule 1). The variants a station rejected and the one it accepted are remembered
(`StationControl`): its later profiles start with the first it has not rejected.

A station's idle connectors have a bound too: its TxDefaultProfile (connector 0), what a car that starts there may
draw before its TxProfile comes. The allocation sets each steerable station's default (allocation.py, rule 5:
`safe_current_a` where the site has room for it, else 0), and the same order applies: a default lowered goes out at
once, one raised waits with the increases. A session without an accepted TxProfile may draw the larger of the
default its station had when it started (`ConnectorControl.started_a`: a station may keep it) and its station's
default bound now (or it may apply a new one).

A session whose station is not connected cannot be sent a new limit: it keeps counting at its bound (allocation.py,
rule 1), and so do its station's idle connectors at the default it knows, until the station is back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from csms.domain.allocation import (
    Bound,
    ChargingSession,
    IdleConnectors,
    SiteAllocation,
    charging_rate_limit,
    charging_sessions,
)
from csms.domain.sites import Site
from csms.domain.stations import Station
from csms.ocpp.v16.enums import ChargingRateUnitType

TX_PROFILE_ID_BASE = 9_000_000
"""A connector's TxProfile has the id `TX_PROFILE_ID_BASE + connectorId`, the station's TxDefaultProfile (connector 0)
`TX_PROFILE_ID_BASE`: stable, so each new limit replaces the previous profile (OCPP 1.6 §3.13.2: a profile with the
id of an installed one replaces it) and profiles never pile up on a station; high, away from operators' own ids."""

MAX_STACK_LEVEL_KEY = "ChargeProfileMaxStackLevel"
ALLOWED_UNITS_KEY = "ChargingScheduleAllowedChargingRateUnit"
_COMMAND_IDS = uuid.UUID("5b0e7c1e-3c55-4c1f-9f55-2d5c3a1e7a10")


@dataclass(frozen=True, kw_only=True)
class Variant:
    """How a profile is expressed for a station: the stack level and the unit it takes."""

    stack_level: int
    unit: ChargingRateUnitType


def variants(configuration: Mapping[str, str | None]) -> tuple[Variant, ...]:
    """What to offer a station, in order: its highest stack level (ours above an operator's lower profiles) in the
    unit it prefers (A unless it lists only Power), then level 0, then level 0 in the other unit."""
    try:
        level = max(0, int(configuration.get(MAX_STACK_LEVEL_KEY) or 0))
    except ValueError:
        level = 0
    allowed = (configuration.get(ALLOWED_UNITS_KEY) or "Current").replace(" ", "").split(",")
    unit = ChargingRateUnitType.WATT if "Current" not in allowed and "Power" in allowed else ChargingRateUnitType.AMPERE
    other = ChargingRateUnitType.AMPERE if unit is ChargingRateUnitType.WATT else ChargingRateUnitType.WATT
    ordered = [Variant(stack_level=level, unit=unit), Variant(stack_level=0, unit=unit), Variant(stack_level=0, unit=other)]
    return tuple(dict.fromkeys(ordered))


def start_attempt(options: Sequence[Variant], rejected: Iterable[Variant]) -> int:
    """Where a new profile starts among a station's variants: at the first it has not rejected (no round trip spent
    on a variant known to fail; one learnt since, e.g. a higher stack level it reported, is tried)."""
    known_bad = set(rejected)
    return next((index for index, option in enumerate(options) if option not in known_bad), 0)


def charging_schedule(limit_a: Decimal, variant: Variant, *, voltage_v: Decimal, phases: int) -> dict[str, Any]:
    limit = charging_rate_limit(limit_a, variant.unit, voltage_v=voltage_v, phases=phases)
    return {
        "chargingRateUnit": variant.unit.value,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(limit), "numberPhases": phases}],
    }


def tx_profile(
    connector_id: int, transaction_id: int, limit_a: Decimal, variant: Variant, *, voltage_v: Decimal, phases: int
) -> dict[str, Any]:
    """SetChargingProfile for one transaction (OCPP 1.6 §5.16, §7.8): a TxProfile naming it, Relative (from the
    transaction's start, so no clock of the station matters), one period with no end; 0 A pauses it."""
    return {
        "connectorId": connector_id,
        "csChargingProfiles": {
            "chargingProfileId": TX_PROFILE_ID_BASE + connector_id,
            "transactionId": transaction_id,
            "stackLevel": variant.stack_level,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": charging_schedule(limit_a, variant, voltage_v=voltage_v, phases=phases),
        },
    }


def tx_default_profile(limit_a: Decimal, variant: Variant, *, voltage_v: Decimal, phases: int) -> dict[str, Any]:
    """SetChargingProfile of a TxDefaultProfile on connector 0 (every connector, §3.13.2): what a session may draw
    from its start until its TxProfile comes (the site's `safeCurrentA`, or 0 when the site has no room for it)."""
    return {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": TX_PROFILE_ID_BASE,
            "stackLevel": variant.stack_level,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": charging_schedule(limit_a, variant, voltage_v=voltage_v, phases=phases),
        },
    }


def cleared_profile_ids(connector_ids: Iterable[int]) -> list[int]:
    """The ids a station leaving its site is sent ClearChargingProfile for (§5.5: by id, so an operator's own
    profiles stay): its TxDefaultProfile's, then each connector's TxProfile's (a paused session would stay at 0 A)."""
    return [TX_PROFILE_ID_BASE, *(TX_PROFILE_ID_BASE + connector_id for connector_id in sorted(set(connector_ids)))]


@dataclass(frozen=True, kw_only=True)
class InFlight:
    """A profile sent (or queued) and not answered yet."""

    command_id: str
    limit_a: Decimal
    attempt: int
    """The variant it was sent as (its index in `variants`)."""


@dataclass(frozen=True, kw_only=True)
class ConnectorControl:
    """What the CSMS knows of one session's profile."""

    charge_point_id: str
    connector_id: int
    transaction_id: int
    target_a: Decimal
    """The latest allocation's limit."""
    confirmed_a: Decimal | None = None
    """The last limit the station accepted for this transaction (None: none yet, its TxDefaultProfile applies)."""
    in_flight: tuple[InFlight, ...] = ()
    attempt: int = 0
    """The variant the next profile is sent as."""
    refused: bool = False
    """Its station rejected every variant: it cannot be steered (flagged, its bound counts as used)."""
    lending: bool = False
    """Its target is what it kept when it lent the rest of its share (its allocation's bound was MEASURED)."""
    measured_a: tuple[Decimal, ...] = ()
    """Set when its measured current stayed above its limit (`ignores_allocation`): those samples, oldest first.
    Its draw counts as used and its limit is kept (nothing more is sent to it) until its transaction ends."""
    started_a: Decimal | None = None
    """Its station's default bound when the CSMS first saw the session: what it may draw before any TxProfile
    (None: the site's safe current, what every station's default was before defaults followed the site's room)."""

    @property
    def steerable(self) -> bool:
        return not self.refused and not self.measured_a

    @property
    def key(self) -> tuple[str, int]:
        return (self.charge_point_id, self.connector_id)

    def bound(self, safe_current_a: Decimal) -> Decimal:
        """The most it may draw now (see the module's docstring)."""
        standing = self.confirmed_a if self.confirmed_a is not None else safe_current_a
        return max((standing, *(sent.limit_a for sent in self.in_flight)))

    @property
    def last_sent_a(self) -> Decimal | None:
        """What the station has, or will have once its queue is through."""
        return self.in_flight[-1].limit_a if self.in_flight else self.confirmed_a


@dataclass(frozen=True, kw_only=True)
class StationControl:
    """What the CSMS knows of a member station as a whole: the variant it takes profiles in, and its TxDefaultProfile."""

    charge_point_id: str
    variant: Variant | None = None
    """The variant it last accepted a profile in (None: none accepted yet): never counted among the rejected."""
    rejected: tuple[Variant, ...] = ()
    """The variants it rejected a profile in: its next profiles start at the first variant not among them."""
    default_target_a: Decimal | None = None
    """The latest allocation's default for it (None: it was never steerable: unreachable or refusing)."""
    default_a: Decimal | None = None
    """The TxDefaultProfile limit it accepted (None: none known, or lost at a reboot)."""
    default_in_flight: tuple[InFlight, ...] = ()
    default_attempt: int = 0
    """The variant its next TxDefaultProfile is sent as."""
    default_refused: bool = False
    """It rejected every variant of its TxDefaultProfile: flagged; its idle connectors count at its bound."""

    @property
    def steerable(self) -> bool:
        return self.default_target_a is not None and not self.default_refused

    def default_bound(self, safe_current_a: Decimal) -> Decimal:
        """The most a car starting on one of its idle connectors may draw now (none known: the safe current)."""
        standing = self.default_a if self.default_a is not None else safe_current_a
        return max((standing, *(sent.limit_a for sent in self.default_in_flight)))

    @property
    def known_default_a(self) -> Decimal:
        """What the CSMS knows it has or may have applied (0 when it never accepted one)."""
        return max((self.default_a or Decimal(0), *(sent.limit_a for sent in self.default_in_flight)))

    @property
    def last_default_a(self) -> Decimal | None:
        return self.default_in_flight[-1].limit_a if self.default_in_flight else self.default_a


@dataclass(frozen=True, kw_only=True)
class Send:
    """A profile to send now."""

    control: ConnectorControl
    limit_a: Decimal
    increase: bool


@dataclass(frozen=True, kw_only=True)
class DefaultSend:
    """A TxDefaultProfile to send now."""

    station: StationControl
    limit_a: Decimal
    increase: bool


def default_bounds(stations: Iterable[StationControl], safe_current_a: Decimal) -> dict[str, Decimal]:
    """Each station's default bound: what a session starting there now may draw."""
    return {station.charge_point_id: station.default_bound(safe_current_a) for station in stations}


def _standing(
    stations: Mapping[str, StationControl], control: ConnectorControl | None, charge_point_id: str, safe_current_a: Decimal
) -> Decimal:
    """What a session with no TxProfile accepted may draw: the default it started under (a station may keep it) or
    its station's now (or it may apply it)."""
    station = stations.get(charge_point_id)
    now = station.default_bound(safe_current_a) if station is not None else safe_current_a
    if control is None:
        return now
    return max(control.started_a if control.started_a is not None else safe_current_a, now)


def steered_sessions(
    site: Site,
    stations: Iterable[Station],
    controls: Mapping[tuple[str, int], ConnectorControl],
    drawn: Mapping[int, tuple[Decimal, ...]],
    station_controls: Mapping[str, StationControl] | None = None,
) -> list[ChargingSession]:
    """The sessions in progress as the allocation must see them: one whose station refused its profiles cannot be
    steered and may draw its bound; one measured above its limit draws what was measured (allocation.py, rule 1);
    one whose station is not connected may draw its bound until it is back; the others with what they drew lately
    under the limit their station accepted (`drawn`: the transactions' recent Current.Import samples, oldest
    first), so that one visibly not using it lends the rest (rule 4)."""
    known = station_controls or {}
    listed = list(stations)
    reachable = {station.charge_point_id for station in listed if station.connected}
    steered = []
    for session in charging_sessions(site, listed):
        control = controls.get((session.charge_point_id, session.connector_id))
        standing = _standing(known, control, session.charge_point_id, site.safe_current_a)
        if control is None or control.transaction_id != session.transaction_id:
            if session.charge_point_id not in reachable:
                steered.append(replace(session, unreachable=True, allocated_current_a=standing))
            else:
                steered.append(session)
        elif control.refused:
            steered.append(replace(session, ignores_limit=True, allocated_current_a=control.bound(standing)))
        elif control.measured_a:
            steered.append(
                replace(session, ignores_limit=True, allocated_current_a=control.target_a, measured_current_a=control.measured_a)
            )
        elif session.charge_point_id not in reachable:
            steered.append(replace(session, unreachable=True, allocated_current_a=control.bound(standing)))
        else:
            steered.append(
                replace(
                    session,
                    allocated_current_a=control.confirmed_a,
                    measured_current_a=drawn.get(session.transaction_id, ()),
                    lending=control.lending and control.confirmed_a == control.target_a,
                )
            )
    return steered


def idle_connectors(
    site: Site, stations: Iterable[Station], station_controls: Mapping[str, StationControl]
) -> list[IdleConnectors]:
    """Each member station's connectors with no session (allocation.py, rule 5): those it reported (a station it
    never heard of any from: one), with what each may draw when its default cannot be changed (not connected: the
    default it knows of; refused: its bound)."""
    members = set(site.charge_point_ids)
    idle = []
    for station in stations:
        if station.charge_point_id not in members:
            continue
        reported = [connector for connector in station.connectors if connector.connector_id > 0]
        count = sum(connector.session is None for connector in reported) if reported else 1
        control = station_controls.get(station.charge_point_id) or StationControl(charge_point_id=station.charge_point_id)
        fixed = None
        if not station.connected:
            fixed = control.known_default_a
        elif control.default_refused:
            fixed = control.default_bound(site.safe_current_a)
        idle.append(IdleConnectors(charge_point_id=station.charge_point_id, count=count, fixed_a=fixed))
    return idle


def follow(
    controls: Iterable[ConnectorControl], allocation: SiteAllocation, started: Mapping[str, Decimal] | None = None
) -> list[ConnectorControl]:
    """The controls with the allocation's targets: a new transaction on a connector starts afresh (under `started`:
    its station's default bound, `default_bounds`), a session that ended is dropped (its TxProfile ends with it,
    §3.13.2)."""
    known = {(c.charge_point_id, c.connector_id, c.transaction_id): c for c in controls}
    followed = []
    for share in allocation.allocations:
        key = (share.charge_point_id, share.connector_id, share.transaction_id)
        existing = known.get(key) or ConnectorControl(
            charge_point_id=share.charge_point_id,
            connector_id=share.connector_id,
            transaction_id=share.transaction_id,
            target_a=share.current_a,
            started_a=(started or {}).get(share.charge_point_id),
        )
        followed.append(replace(existing, target_a=share.current_a, lending=share.bound is Bound.MEASURED))
    return followed


def follow_stations(
    site: Site, stored: Iterable[StationControl], allocation: SiteAllocation, stations: Iterable[Station]
) -> list[StationControl]:
    """Each member station's control with the allocation's default for it (a station not steerable now keeps the
    target it had); a station that left the site is dropped (energy/control.py clears its profiles)."""
    known = {station.charge_point_id: station for station in stored}
    defaults = {default.charge_point_id: default.current_a for default in allocation.defaults}
    members = set(site.charge_point_ids)
    followed = []
    for station in sorted(stations, key=lambda s: s.charge_point_id):
        if station.charge_point_id not in members:
            continue
        control = known.get(station.charge_point_id) or StationControl(charge_point_id=station.charge_point_id)
        target = defaults.get(station.charge_point_id, control.default_target_a)
        followed.append(replace(control, default_target_a=target))
    return followed


def plan(
    controls: Iterable[ConnectorControl],
    *,
    safe_current_a: Decimal,
    reachable: set[str],
    stations: Mapping[str, StationControl] | None = None,
) -> list[Send | DefaultSend]:
    """The profiles to send now, decreases first: every change that does not raise its connector's bound, and the
    increases only when no other connector's bound is above its target (its decrease is accepted). `reachable`: the
    stations connected now (the others get theirs when they reconnect); a refused connector is sent nothing.
    `stations`: their TxDefaultProfiles, planned alike (an idle connector's bound is its station's default)."""
    known = stations or {}
    steerable = [control for control in controls if control.steerable]
    bounds = {c.key: c.bound(_standing(known, c, c.charge_point_id, safe_current_a)) for c in steerable}
    changes = [c for c in steerable if c.charge_point_id in reachable and c.last_sent_a != c.target_a]
    decreases = [c for c in changes if c.target_a <= bounds[c.key]]
    increases = [c for c in changes if c.target_a > bounds[c.key]]
    rising = {c.key for c in increases}
    waiting = [c for c in steerable if c.key not in rising and bounds[c.key] > c.target_a]
    defaults = [s for s in known.values() if s.steerable and s.charge_point_id in reachable]
    default_changes = [s for s in defaults if s.last_default_a != s.default_target_a]
    lowered = [s for s in default_changes if _default_target(s) <= s.default_bound(safe_current_a)]
    raised = [s for s in default_changes if _default_target(s) > s.default_bound(safe_current_a)]
    raising = {s.charge_point_id for s in raised}
    waiting_defaults = [
        s for s in defaults if s.charge_point_id not in raising and s.default_bound(safe_current_a) > _default_target(s)
    ]
    sends: list[Send | DefaultSend] = [
        Send(control=c, limit_a=c.target_a, increase=False) for c in sorted(decreases, key=lambda c: c.key)
    ]
    sends += [DefaultSend(station=s, limit_a=_default_target(s), increase=False) for s in _by_id(lowered)]
    if not waiting and not waiting_defaults:
        sends += [Send(control=c, limit_a=c.target_a, increase=True) for c in sorted(increases, key=lambda c: c.key)]
        sends += [DefaultSend(station=s, limit_a=_default_target(s), increase=True) for s in _by_id(raised)]
    return sends


def _default_target(station: StationControl) -> Decimal:
    assert station.default_target_a is not None  # steerable
    return station.default_target_a


def _by_id(stations: Iterable[StationControl]) -> list[StationControl]:
    return sorted(stations, key=lambda s: s.charge_point_id)


def command_id(site_id: str, version: int, charge_point_id: str, connector_id: int) -> str:
    """Deterministic: a repeated run of the same allocation version queues the same command, once."""
    return str(uuid.uuid5(_COMMAND_IDS, f"{site_id}\n{version}\n{charge_point_id}\n{connector_id}"))


@dataclass(frozen=True, kw_only=True)
class SiteControl:
    """A site's load control as last stored: one writer per site at a time (a version with conditional writes)."""

    site_id: str
    version: int = 0
    """0: never stored; each stored change counts up."""
    controls: tuple[ConnectorControl, ...] = ()
    stations: tuple[StationControl, ...] = ()
    """One per member station, by id: what a station leaving the site must have cleared."""
