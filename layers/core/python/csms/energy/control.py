"""A site's load control (issue 11 §4): share the site's capacity anew and send the profiles that apply it.

Runs from the table's stream, for a `ALLOC#{cause}` follow-up in the site's partition (energy/stream.py): the
stream hands a site's records to one invocation at a time and in order, so a site has one writer; the stored
version's condition makes a second one that overlaps (a retried batch) start again from what the first stored,
never apply a conflicting allocation. A burst of starts gives one allocation: each run reads every session in
progress, so the runs that follow the first find nothing to change and store nothing.

One run:
1. what came of the profiles in flight (the commands' states: accepted, rejected, failed, superseded), the
   TxDefaultProfiles included, and the variant each station accepted (its next profiles start with it);
2. the allocation of the sessions in progress (those whose station cannot be steered or reached count as used) and
   of each member station's default (what a car starting on an idle connector may draw);
3. the profiles to send now (domain/load_control.plan: decreases first, increases once no bound is above its
   target), unsent older ones of the same connectors superseded in the outbox;
4. the stations that left the site sent ClearChargingProfile for our profiles' ids;
5. the next version stored with its events (AllocationChanged, AllocationIgnored: exactly once per version), then
   the commands queued, with ids derived from the version: a run repeated after a crash queues each once.

A station that (re)connects or boots gets a run of its own (`CONNECT#`, `BOOT#`): what it missed while away goes
out, and its `ChargeProfileMaxStackLevel` and `ChargingScheduleAllowedChargingRateUnit` are asked for with
GetConfiguration when the CSMS does not know them yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from csms.adapters.dynamodb.follow_ups import event_item
from csms.adapters.dynamodb.keys import site_pk
from csms.adapters.dynamodb.load_control import StaleControl
from csms.commands.service import LOAD_CONTROL_CONTEXT, NOT_CONNECTED, StationNotConnected, send_command
from csms.domain.allocation import SiteAllocation, allocate, charging_sessions
from csms.domain.commands import Command, CommandStatus
from csms.domain.load_control import (
    ALLOWED_UNITS_KEY,
    MAX_STACK_LEVEL_KEY,
    ConnectorControl,
    DefaultSend,
    InFlight,
    Send,
    SiteControl,
    StationControl,
    Variant,
    cleared_profile_ids,
    command_id,
    default_bounds,
    follow,
    follow_stations,
    idle_connectors,
    plan,
    start_attempt,
    steered_sessions,
    tx_default_profile,
    tx_profile,
    variants,
)
from csms.domain.sites import Site
from csms.domain.station_config import Configuration
from csms.energy import events
from csms.energy.levels import ALLOCATED_CURRENT_A, SITE_LIMIT_A
from csms.ocpp.v16.actions import Action
from csms.ocpp.v16.enums import ChargingRateUnitType
from csms.runtime.observability import logger, metrics, site_current
from csms.runtime.wiring import Services

ALLOCATION_IGNORED = "AllocationIgnored"
RUN_ATTEMPTS = 3
"""Runs after a stale read before the stream's retry takes over (only a retried batch overlapping its first try)."""


_COMMAND_IDS = uuid.UUID("0f5a8f0e-8f2c-4d0e-a7f1-6c1f3b9d2e41")


def run(
    services: Services,
    site_id: str,
    *,
    cause: str,
    booted: str | None = None,
    connected: str | None = None,
    measured: tuple[int, tuple[Decimal, ...]] | None = None,
) -> None:
    """Bring the site's profiles in line with its sessions. `booted`: a station that just (re)booted: its profiles
    may be lost (it gets them again, its TxDefaultProfile too). `connected`: a station that just (re)connected: what
    it missed goes out. Either is asked its smart-charging configuration when unknown. `measured`: a transaction
    whose station draws more than its limit (issue 11 §5), with the samples that show it."""
    for _ in range(RUN_ATTEMPTS):
        try:
            _run_once(services, site_id, cause=cause, booted=booted, connected=connected, measured=measured)
            return
        except StaleControl:
            logger.info("Load control changed meanwhile: run again", extra={"site_id": site_id, "cause": cause})
    raise StaleControl(site_id)


def _run_once(
    services: Services,
    site_id: str,
    *,
    cause: str,
    booted: str | None,
    connected: str | None,
    measured: tuple[int, tuple[Decimal, ...]] | None,
) -> None:
    now = services.clock.now()
    stored = services.load_control.get(site_id)
    site = services.sites.get(site_id)
    version = stored.version + 1
    if site is None:
        if stored.version:
            _release(services, site_id, stored, _members(stored), version=version, now=now)
            services.load_control.delete(site_id)
        return
    stations = {station.charge_point_id: station for station in services.stations.get_many(site.charge_point_ids)}
    reachable = {charge_point_id for charge_point_id, station in stations.items() if station.connected}
    configs = _Configurations(services)
    arrived = booted or connected
    if arrived is not None and arrived in reachable:
        _ask_configuration(services, site_id, arrived, configs, cause=cause)
    commands = _commands(services, stored)
    controls, flagged = _reconcile(
        services, stored.controls, configs, commands=commands, booted=booted, safe_current_a=site.safe_current_a
    )
    known, refusing = _reconcile_stations(stored, commands, configs, booted=booted, safe_current_a=site.safe_current_a)
    controls, ignoring = _ignoring(controls, measured)
    by_key = {control.key: control for control in controls}
    sessions = charging_sessions(site, stations.values())
    transactions = services.transactions.get_many([session.transaction_id for session in sessions])
    drawn = {transaction_id: transaction.samples_under_limit_a for transaction_id, transaction in transactions.items()}
    allocation = allocate(
        site,
        steered_sessions(site, stations.values(), by_key, drawn, known),
        idle_connectors(site, stations.values(), known),
    )
    followed = follow(controls, allocation, default_bounds(known.values(), site.safe_current_a))
    followed_stations = follow_stations(site, known.values(), allocation, stations.values())
    sends = plan(followed, safe_current_a=site.safe_current_a, reachable=reachable, stations=_by_station(followed_stations))
    followed, followed_stations = _from_accepted(followed, followed_stations, sends, configs)
    sends = plan(followed, safe_current_a=site.safe_current_a, reachable=reachable, stations=_by_station(followed_stations))
    followed = _superseding(services, followed, sends, site_id=site_id, version=version, now=now)
    followed_stations = _superseding_defaults(services, followed_stations, sends, site_id=site_id, version=version, now=now)
    leaving = _members(stored) - set(site.charge_point_ids)
    if leaving:
        _release(services, site_id, stored, leaving, version=version, now=now)
    changed = _targets(followed) != _targets(stored.controls)
    if tuple(followed) == stored.controls and tuple(followed_stations) == stored.stations:
        return  # nothing new: a burst's later runs end here
    follow_ups = []
    if changed:
        follow_ups.append(event_item(site_pk(site_id), events.allocation_changed(site, allocation, version, cause, now), now=now))
    for control in flagged:
        follow_ups.append(event_item(site_pk(site_id), events.allocation_ignored(site_id, control, now), now=now))
    for control in ignoring:
        event = events.allocation_ignored(site_id, control, now, reason="measured", measured_a=max(control.measured_a))
        follow_ups.append(event_item(site_pk(site_id), event, now=now))
    for station in refusing:
        follow_ups.append(event_item(site_pk(site_id), events.default_ignored(site_id, station, version, now), now=now))
    if flagged or ignoring or refusing:
        metrics.add_metric(name=ALLOCATION_IGNORED, unit=MetricUnit.Count, value=len(flagged) + len(ignoring) + len(refusing))
    services.load_control.save(
        SiteControl(site_id=site_id, version=version, controls=tuple(followed), stations=tuple(followed_stations)),
        read_version=stored.version,
        now=now,
        follow_ups=follow_ups,
    )
    for send in sends:
        if isinstance(send, Send):
            _send_profile(services, site, send, configs, command_id(site_id, version, *send.control.key))
        else:
            _send_default_profile(services, site, send, configs, command_id(site_id, version, send.station.charge_point_id, 0))
    _record_metrics(site, allocation)
    logger.info(
        "Load control applied",
        extra={"site_id": site_id, "version": version, "cause": cause, "sent": len(sends),
               "increases": sum(send.increase for send in sends), "total_a": str(allocation.total_current_a)},
    )  # fmt: skip


class _Configurations:
    """Each station's stored configuration, read once per run and only for the stations that need it."""

    def __init__(self, services: Services):
        self._services = services
        self._configurations: dict[str, Configuration | None] = {}
        self._read: dict[str, tuple[Variant, ...]] = {}

    def configuration(self, charge_point_id: str) -> Configuration | None:
        if charge_point_id not in self._configurations:
            self._configurations[charge_point_id] = self._services.station_config.configuration(charge_point_id)
        return self._configurations[charge_point_id]

    def variants(self, charge_point_id: str) -> tuple[Variant, ...]:
        if charge_point_id not in self._read:
            configuration = self.configuration(charge_point_id)
            values = {name: entry.value for name, entry in configuration.keys.items()} if configuration else {}
            self._read[charge_point_id] = variants(values)
        return self._read[charge_point_id]


SMART_CHARGING_KEYS = (MAX_STACK_LEVEL_KEY, ALLOWED_UNITS_KEY)


def _ask_configuration(services: Services, site_id: str, charge_point_id: str, configs: _Configurations, *, cause: str) -> None:
    """What its profiles must look like, asked once it is back when the CSMS never learnt it (as reservations ask for
    ReserveConnectorZeroSupported): its answer is stored by the command's effect, and read by the runs after it."""
    configuration = configs.configuration(charge_point_id)
    unknown = [
        key
        for key in SMART_CHARGING_KEYS
        if configuration is None or (key not in configuration.keys and key not in configuration.unknown_keys)
    ]
    if unknown:
        identifier = str(uuid.uuid5(_COMMAND_IDS, f"{site_id}\n{cause}\nconfiguration"))
        payload = {"key": unknown}
        _queue(services, charge_point_id, Action.GET_CONFIGURATION, payload, identifier, supersede_key=None, site_id=None)


def _commands(services: Services, stored: SiteControl) -> dict[str, Command]:
    """The commands of every profile in flight (one BatchGetItem per 100)."""
    ids = [sent.command_id for control in stored.controls for sent in control.in_flight]
    ids += [sent.command_id for station in stored.stations for sent in station.default_in_flight]
    commands: dict[str, Command] = {}
    for start in range(0, len(ids), 100):
        commands |= services.commands.get_many(ids[start : start + 100])
    return commands


def _members(stored: SiteControl) -> set[str]:
    """The stations the stored load control knows as the site's."""
    return {station.charge_point_id for station in stored.stations} | {control.charge_point_id for control in stored.controls}


def _by_station(stations: Iterable[StationControl]) -> dict[str, StationControl]:
    return {station.charge_point_id: station for station in stations}


def _reconcile(
    services: Services,
    controls: tuple[ConnectorControl, ...],
    configs: _Configurations,
    *,
    commands: Mapping[str, Command],
    booted: str | None,
    safe_current_a: Decimal,
) -> tuple[list[ConnectorControl], list[ConnectorControl]]:
    """Step 1: the controls with what came of their profiles in flight, and those newly refused (flagged)."""
    reconciled, flagged = [], []
    for control in controls:
        if control.charge_point_id == booted:
            # A reboot may have lost its profiles (OCPP 1.6 §3.13.4 keeps them, not every station does): sent again.
            reconciled.append(replace(control, confirmed_a=None, in_flight=(), attempt=0, refused=False))
            continue
        updated = control
        for sent in control.in_flight:
            updated = _answered(updated, sent, commands.get(sent.command_id), configs, safe_current_a=safe_current_a)
        if updated.refused and not control.refused:
            flagged.append(updated)
        if updated.confirmed_a is not None and updated.confirmed_a != control.confirmed_a:
            # What its measured current is checked against, on the transaction MeterValues update anyway.
            lending = updated.lending and updated.confirmed_a == updated.target_a
            services.transactions.record_allocation(control.transaction_id, updated.confirmed_a, lending=lending)
        reconciled.append(updated)
    return reconciled, flagged


def _reconcile_stations(
    stored: SiteControl,
    commands: Mapping[str, Command],
    configs: _Configurations,
    *,
    booted: str | None,
    safe_current_a: Decimal,
) -> tuple[dict[str, StationControl], list[StationControl]]:
    """Step 1 for the stations: the variants each accepted and rejected, what came of their TxDefaultProfiles
    (answered like a TxProfile: the next variant when rejected, then refused), and those newly refused."""
    answers = _variant_answers(stored, commands)
    reconciled, refusing = {}, []
    for station in stored.stations:
        station = _learnt(station, answers.get(station.charge_point_id, []))
        if station.charge_point_id == booted:
            # A reboot may have lost its default (OCPP 1.6 §3.13.4 keeps it, not every station does): sent again.
            station = replace(station, default_a=None, default_in_flight=(), default_attempt=0, default_refused=False)
        else:
            default = ConnectorControl(
                charge_point_id=station.charge_point_id,
                connector_id=0,
                transaction_id=0,
                target_a=station.default_target_a or Decimal(0),
                confirmed_a=station.default_a,
                in_flight=station.default_in_flight,
                attempt=station.default_attempt,
                refused=station.default_refused,
            )
            for sent in station.default_in_flight:
                default = _answered(default, sent, commands.get(sent.command_id), configs, safe_current_a=safe_current_a)
            if default.refused and not station.default_refused:
                refusing.append(replace(station, default_refused=True))
            station = replace(
                station,
                default_a=default.confirmed_a,
                default_in_flight=default.in_flight,
                default_attempt=default.attempt,
                default_refused=default.refused,
            )
        reconciled[station.charge_point_id] = station
    return reconciled, refusing


def _variant_answers(stored: SiteControl, commands: Mapping[str, Command]) -> dict[str, list[tuple[Variant, bool]]]:
    """Each station's answered profiles, oldest first: the variant each was sent as, and whether it was accepted."""
    ids = [sent.command_id for control in stored.controls for sent in control.in_flight]
    ids += [sent.command_id for station in stored.stations for sent in station.default_in_flight]
    answered = [commands[i] for i in ids if i in commands and commands[i].status is CommandStatus.ANSWERED]
    answers: dict[str, list[tuple[Variant, bool]]] = {}
    for command in sorted(answered, key=lambda c: c.answered_at or c.created_at):
        variant = _variant_of(command)
        status = (command.response or {}).get("status")
        if variant is not None and status in ("Accepted", "Rejected"):
            answers.setdefault(command.charge_point_id, []).append((variant, status == "Accepted"))
    return answers


def _learnt(station: StationControl, answers: list[tuple[Variant, bool]]) -> StationControl:
    """What its answers tell of the variants it takes: one accepted is good (never counted rejected again, though a
    profile can be rejected for another reason, e.g. its transaction just ended), one rejected is not offered first."""
    variant, rejected = station.variant, list(station.rejected)
    for offered, accepted in answers:
        if accepted:
            variant = offered
            rejected = [r for r in rejected if r != offered]
        elif offered != variant and offered not in rejected:
            rejected.append(offered)
    return replace(station, variant=variant, rejected=tuple(rejected))


def _variant_of(command: Command) -> Variant | None:
    """The variant a SetChargingProfile was sent as, read from the request itself (the station's variants may have
    changed since: its configuration learnt meanwhile)."""
    profile = command.request.get("csChargingProfiles") or {}
    try:
        unit = ChargingRateUnitType(profile["chargingSchedule"]["chargingRateUnit"])
        return Variant(stack_level=int(profile["stackLevel"]), unit=unit)
    except (KeyError, TypeError, ValueError):
        return None


def _from_accepted(
    controls: list[ConnectorControl],
    stations: list[StationControl],
    sends: list[Send | DefaultSend],
    configs: _Configurations,
) -> tuple[list[ConnectorControl], list[StationControl]]:
    """The stations about to be sent profiles start at the first variant they have not rejected: no round trip is
    spent on a variant known to fail."""
    remembered = {station.charge_point_id: station.rejected for station in stations if station.rejected}
    sending = {send.control.charge_point_id if isinstance(send, Send) else send.station.charge_point_id for send in sends}
    starts = {cp: start_attempt(configs.variants(cp), remembered[cp]) for cp in sending if cp in remembered}
    if not starts:
        return controls, stations
    controls = [
        replace(c, attempt=max(c.attempt, starts[c.charge_point_id])) if c.charge_point_id in starts else c for c in controls
    ]
    stations = [
        replace(s, default_attempt=max(s.default_attempt, starts[s.charge_point_id])) if s.charge_point_id in starts else s
        for s in stations
    ]
    return controls, stations


def _ignoring(
    controls: list[ConnectorControl], measured: tuple[int, tuple[Decimal, ...]] | None
) -> tuple[list[ConnectorControl], list[ConnectorControl]]:
    """The session whose station was measured above its limit: flagged the first time (its limit kept from now on),
    and from then on counted at its newest samples above it (a station drawing more later cuts the others further)."""
    if measured is None:
        return controls, []
    transaction_id, samples = measured
    result, flagged = [], []
    for control in controls:
        if control.transaction_id == transaction_id and not control.refused:
            if control.steerable:
                flagged.append(replace(control, measured_a=samples))
            control = replace(control, measured_a=samples)
        result.append(control)
    return result, flagged


NOT_SMART = frozenset({"NotImplemented", "NotSupported"})
"""CALLERROR codes of a station without Smart Charging (OCPP-J §4.2.3): no variant will do."""


def _answered(
    control: ConnectorControl, sent: InFlight, command: Command | None, configs: _Configurations, *, safe_current_a: Decimal
) -> ConnectorControl:
    """What came of one profile in flight. Accepted: the station's limit. Rejected, or a CALLERROR: the next
    variant, then refused (so a station that always refuses is never sent the same profile in a loop). Superseded,
    never queued (a run that stopped after storing) or never reached (not connected): the plan sends the target
    again. Unanswered (timed out): it may have been applied or not, so the bound keeps the higher of it and what the
    station had (its TxDefaultProfile's safe current when nothing was accepted yet); sent again if it was a decrease."""
    if command is not None and command.status in (CommandStatus.QUEUED, CommandStatus.SENT):
        return control  # still on its way
    others = tuple(entry for entry in control.in_flight if entry.command_id != sent.command_id)
    error = (command.error or {}).get("code") if command is not None else None
    if command is None or command.status is CommandStatus.SUPERSEDED or error == NOT_CONNECTED:
        return replace(control, in_flight=others)
    if command.status is CommandStatus.TIMED_OUT:
        standing = control.confirmed_a if control.confirmed_a is not None else safe_current_a
        return replace(control, in_flight=others, confirmed_a=max(standing, sent.limit_a))
    status = (command.response or {}).get("status") if command.status is CommandStatus.ANSWERED else None
    if status == "Accepted":
        return replace(control, in_flight=others, confirmed_a=sent.limit_a)
    options = len(configs.variants(control.charge_point_id))
    attempt = sent.attempt + 1
    refused = status == "NotSupported" or error in NOT_SMART or attempt >= options
    return replace(control, in_flight=others, attempt=min(attempt, options - 1), refused=refused)


def _superseding(
    services: Services,
    controls: list[ConnectorControl],
    sends: list[Send | DefaultSend],
    *,
    site_id: str,
    version: int,
    now: datetime,
) -> list[ConnectorControl]:
    """Step 3: each connector's unsent older profile leaves the outbox, the new one is in flight."""
    planned = {send.control.key: send for send in sends if isinstance(send, Send)}
    result = []
    for control in controls:
        send = planned.get(control.key)
        if send is None:
            result.append(control)
            continue
        new = InFlight(command_id=command_id(site_id, version, *control.key), limit_a=send.limit_a, attempt=control.attempt)
        in_flight = _replacing_queued(services, control.charge_point_id, _supersede_key(control), control.in_flight, new, now)
        result.append(replace(control, in_flight=in_flight))
    return result


def _superseding_defaults(
    services: Services,
    stations: list[StationControl],
    sends: list[Send | DefaultSend],
    *,
    site_id: str,
    version: int,
    now: datetime,
) -> list[StationControl]:
    """Step 3 for the TxDefaultProfiles: a station's unsent older one leaves the outbox, the new one is in flight."""
    planned = {send.station.charge_point_id: send for send in sends if isinstance(send, DefaultSend)}
    result = []
    for station in stations:
        send = planned.get(station.charge_point_id)
        if send is None:
            result.append(station)
            continue
        identifier = command_id(site_id, version, station.charge_point_id, 0)
        new = InFlight(command_id=identifier, limit_a=send.limit_a, attempt=station.default_attempt)
        in_flight = _replacing_queued(
            services, station.charge_point_id, DEFAULT_SUPERSEDE_KEY, station.default_in_flight, new, now
        )
        result.append(replace(station, default_in_flight=in_flight))
    return result


def _replacing_queued(
    services: Services,
    charge_point_id: str,
    supersede_key: str,
    in_flight: tuple[InFlight, ...],
    new: InFlight,
    now: datetime,
) -> tuple[InFlight, ...]:
    """The profiles in flight once `new` is: the older ones still queued in the outbox under the same key leave it
    (superseded, never sent); those already sent stay until answered."""
    dropped = set(services.commands.drop_queued(charge_point_id, supersede_key, at=now)) if in_flight else set()
    return (*(sent for sent in in_flight if sent.command_id not in dropped), new)


DEFAULT_SUPERSEDE_KEY = "TxDefaultProfile"


def _supersede_key(control: ConnectorControl) -> str:
    return f"TxProfile#{control.connector_id}"


def _release(
    services: Services, site_id: str, stored: SiteControl, leaving: set[str], *, version: int, now: datetime
) -> None:
    """Step 4: stations that left the site (a PUT without them, or its DELETE) keep no profile of ours: a default at
    the site's safe current, or a paused session's 0 A, would hold them back where nothing shares anymore. Their
    queued profiles leave the outbox, and ClearChargingProfile goes out for our ids (a station another site claimed
    meanwhile is left to that site's run, which sends it its own). Queued before the run stores its version, with
    ids from that version: a run repeated after a crash queues each once."""
    connectors: dict[str, set[int]] = {}
    for control in stored.controls:
        connectors.setdefault(control.charge_point_id, set()).add(control.connector_id)
    for station in services.stations.get_many(sorted(leaving)):
        charge_point_id = station.charge_point_id
        if station.site_id is not None and station.site_id != site_id:
            continue
        if not station.connected:
            logger.info("Profiles not cleared: the station is not connected", extra={"charge_point_id": charge_point_id})
            continue
        ids = connectors.get(charge_point_id, set()) | {c.connector_id for c in station.connectors if c.connector_id > 0}
        for supersede_key in (DEFAULT_SUPERSEDE_KEY, *(f"TxProfile#{connector_id}" for connector_id in sorted(ids))):
            services.commands.drop_queued(charge_point_id, supersede_key, at=now)
        for profile_id in cleared_profile_ids(ids or {1}):
            identifier = str(uuid.uuid5(_COMMAND_IDS, f"{site_id}\n{version}\n{charge_point_id}\n{profile_id}"))
            _queue(
                services, charge_point_id, Action.CLEAR_CHARGING_PROFILE, {"id": profile_id}, identifier,
                supersede_key=None, site_id=None,
            )  # fmt: skip


def _targets(controls: Any) -> dict[tuple[str, int, int], Decimal]:
    return {(c.charge_point_id, c.connector_id, c.transaction_id): c.target_a for c in controls}


def _send_profile(services: Services, site: Site, send: Send, configs: _Configurations, identifier: str) -> None:
    control = send.control
    options = configs.variants(control.charge_point_id)
    variant = options[min(control.attempt, len(options) - 1)]
    payload = tx_profile(
        control.connector_id,
        control.transaction_id,
        send.limit_a,
        variant,
        voltage_v=site.voltage_v,
        phases=site.connector_phases(control.charge_point_id, control.connector_id),
    )
    _queue(
        services, control.charge_point_id, Action.SET_CHARGING_PROFILE, payload, identifier,
        supersede_key=_supersede_key(control), site_id=site.site_id,
    )  # fmt: skip


def _send_default_profile(services: Services, site: Site, send: DefaultSend, configs: _Configurations, identifier: str) -> None:
    station = send.station
    options = configs.variants(station.charge_point_id)
    variant = options[min(station.default_attempt, len(options) - 1)]
    payload = tx_default_profile(
        send.limit_a, variant, voltage_v=site.voltage_v, phases=site.connector_phases(station.charge_point_id, 0)
    )
    _queue(
        services, station.charge_point_id, Action.SET_CHARGING_PROFILE, payload, identifier,
        supersede_key=DEFAULT_SUPERSEDE_KEY, site_id=site.site_id,
    )  # fmt: skip


def _queue(
    services: Services,
    charge_point_id: str,
    action: Action,
    payload: dict[str, Any],
    identifier: str,
    *,
    supersede_key: str | None,
    site_id: str | None,
) -> None:
    """`site_id`: the site whose load control runs again when it is answered (its profiles), None for none."""
    try:
        send_command(
            services,
            charge_point_id,
            action,
            payload,
            context={LOAD_CONTROL_CONTEXT: site_id} if site_id else None,
            command_id=identifier,
            supersede_key=supersede_key,
        )
    except StationNotConnected:
        logger.info("Not sent: the station is not connected", extra={"charge_point_id": charge_point_id, "action": action})
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        # Queued by an earlier try of this very run (its id is the version's): once is enough.


def _record_metrics(site: Site, allocation: SiteAllocation) -> None:
    """What the site may draw per phase now, beside its limit (the dashboard's per-site graph)."""
    site_current(ALLOCATED_CURRENT_A, site.site_id, float(allocation.total_current_a))
    site_current(SITE_LIMIT_A, site.site_id, float(site.max_current_a))
