"""A site's load control (issue 11 §4): share the site's capacity anew and send the profiles that apply it.

Runs from the table's stream, for a `ALLOC#{cause}` follow-up in the site's partition (energy/stream.py): the
stream hands a site's records to one invocation at a time and in order, so a site has one writer; the stored
version's condition makes a second one that overlaps (a retried batch) start again from what the first stored,
never apply a conflicting allocation. A burst of starts gives one allocation: each run reads every session in
progress, so the runs that follow the first find nothing to change and store nothing.

One run:
1. what came of the profiles in flight (the commands' states: accepted, rejected, failed, superseded);
2. the allocation of the sessions in progress (those whose station cannot be steered count as used);
3. the profiles to send now (domain/load_control.plan: decreases first, increases once no bound is above its
   target), unsent older ones of the same connectors superseded in the outbox;
4. the next version stored with its events (AllocationChanged, AllocationIgnored: exactly once per version), then
   the commands queued, with ids derived from the version: a run repeated after a crash queues each once.
"""

from __future__ import annotations

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
    ConnectorControl,
    InFlight,
    Send,
    SiteControl,
    Variant,
    command_id,
    follow,
    plan,
    steered_sessions,
    tx_default_profile,
    tx_profile,
    variants,
)
from csms.domain.sites import Site
from csms.energy import events
from csms.energy.levels import ALLOCATED_CURRENT_A, SITE_LIMIT_A
from csms.ocpp.v16.actions import Action
from csms.runtime.observability import logger, metrics, site_current
from csms.runtime.wiring import Services

ALLOCATION_IGNORED = "AllocationIgnored"
RUN_ATTEMPTS = 3
"""Runs after a stale read before the stream's retry takes over (only a retried batch overlapping its first try)."""


def run(
    services: Services,
    site_id: str,
    *,
    cause: str,
    booted: str | None = None,
    measured: tuple[int, tuple[Decimal, ...]] | None = None,
) -> None:
    """Bring the site's profiles in line with its sessions. `booted`: a station that just (re)booted: its profiles
    may be lost (it gets them again) and it gets the TxDefaultProfile at the site's safe current. `measured`: a
    transaction whose station draws more than its limit (issue 11 §5), with the samples that show it."""
    for _ in range(RUN_ATTEMPTS):
        try:
            _run_once(services, site_id, cause=cause, booted=booted, measured=measured)
            return
        except StaleControl:
            logger.info("Load control changed meanwhile: run again", extra={"site_id": site_id, "cause": cause})
    raise StaleControl(site_id)


def _run_once(
    services: Services, site_id: str, *, cause: str, booted: str | None, measured: tuple[int, tuple[Decimal, ...]] | None
) -> None:
    now = services.clock.now()
    stored = services.load_control.get(site_id)
    site = services.sites.get(site_id)
    if site is None:
        if stored.version:
            services.load_control.delete(site_id)
        return
    stations = {station.charge_point_id: station for station in services.stations.get_many(site.charge_point_ids)}
    configs = _Configurations(services)
    controls, flagged = _reconcile(services, stored.controls, configs, booted=booted, safe_current_a=site.safe_current_a)
    controls, ignoring = _ignoring(controls, measured)
    by_key = {control.key: control for control in controls}
    sessions = charging_sessions(site, stations.values())
    transactions = services.transactions.get_many([session.transaction_id for session in sessions])
    drawn = {transaction_id: transaction.samples_under_limit_a for transaction_id, transaction in transactions.items()}
    allocation = allocate(site, steered_sessions(site, stations.values(), by_key, drawn))
    followed = follow(controls, allocation)
    reachable = {charge_point_id for charge_point_id, station in stations.items() if station.connected}
    sends = plan(followed, safe_current_a=site.safe_current_a, reachable=reachable)
    version = stored.version + 1
    followed = _superseding(services, followed, sends, site_id=site_id, version=version, now=now)
    changed = _targets(followed) != _targets(stored.controls)
    if tuple(followed) == stored.controls and booted is None:
        return  # nothing new: a burst's later runs end here
    follow_ups = []
    if changed:
        follow_ups.append(event_item(site_pk(site_id), events.allocation_changed(site, allocation, version, cause, now), now=now))
    for control in flagged:
        follow_ups.append(event_item(site_pk(site_id), events.allocation_ignored(site_id, control, now), now=now))
    for control in ignoring:
        event = events.allocation_ignored(site_id, control, now, reason="measured", measured_a=max(control.measured_a))
        follow_ups.append(event_item(site_pk(site_id), event, now=now))
    if flagged or ignoring:
        metrics.add_metric(name=ALLOCATION_IGNORED, unit=MetricUnit.Count, value=len(flagged) + len(ignoring))
    services.load_control.save(
        SiteControl(site_id=site_id, version=version, controls=tuple(followed)),
        read_version=stored.version,
        now=now,
        follow_ups=follow_ups,
    )
    for send in sends:
        _send_profile(services, site, send, configs, command_id(site_id, version, *send.control.key))
    if booted is not None and booted in reachable:
        _send_default_profile(services, site, booted, configs, cause=cause)
    _record_metrics(site, allocation)
    logger.info(
        "Load control applied",
        extra={"site_id": site_id, "version": version, "cause": cause, "sent": len(sends),
               "increases": sum(send.increase for send in sends), "total_a": str(allocation.total_current_a)},
    )  # fmt: skip


class _Configurations:
    """Each station's stored configuration, read once per run and only for the stations that get a profile."""

    def __init__(self, services: Services):
        self._services = services
        self._read: dict[str, tuple[Variant, ...]] = {}

    def variants(self, charge_point_id: str) -> tuple[Variant, ...]:
        if charge_point_id not in self._read:
            configuration = self._services.station_config.configuration(charge_point_id)
            values = {name: entry.value for name, entry in configuration.keys.items()} if configuration else {}
            self._read[charge_point_id] = variants(values)
        return self._read[charge_point_id]


def _reconcile(
    services: Services,
    controls: tuple[ConnectorControl, ...],
    configs: _Configurations,
    *,
    booted: str | None,
    safe_current_a: Decimal,
) -> tuple[list[ConnectorControl], list[ConnectorControl]]:
    """Step 1: the controls with what came of their profiles in flight, and those newly refused (flagged)."""
    ids = [sent.command_id for control in controls for sent in control.in_flight]
    commands: dict[str, Command] = {}
    for start in range(0, len(ids), 100):
        commands |= services.commands.get_many(ids[start : start + 100])
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
    services: Services, controls: list[ConnectorControl], sends: list[Send], *, site_id: str, version: int, now: datetime
) -> list[ConnectorControl]:
    """Step 3: each connector's unsent older profile leaves the outbox, the new one is in flight."""
    planned = {send.control.key: send for send in sends}
    result = []
    for control in controls:
        send = planned.get(control.key)
        if send is None:
            result.append(control)
            continue
        dropped = set()
        if control.in_flight:
            dropped = set(services.commands.drop_queued(control.charge_point_id, _supersede_key(control), at=now))
        in_flight = tuple(sent for sent in control.in_flight if sent.command_id not in dropped)
        new = InFlight(command_id=command_id(site_id, version, *control.key), limit_a=send.limit_a, attempt=control.attempt)
        result.append(replace(control, in_flight=(*in_flight, new)))
    return result


def _supersede_key(control: ConnectorControl) -> str:
    return f"TxProfile#{control.connector_id}"


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
    _queue(services, control.charge_point_id, payload, identifier, supersede_key=_supersede_key(control), site_id=site.site_id)


def _send_default_profile(services: Services, site: Site, charge_point_id: str, configs: _Configurations, *, cause: str) -> None:
    variant = configs.variants(charge_point_id)[0]
    payload = tx_default_profile(
        site.safe_current_a, variant, voltage_v=site.voltage_v, phases=site.connector_phases(charge_point_id, 0)
    )
    _queue(
        services, charge_point_id, payload, command_id(site.site_id, 0, cause, 0), supersede_key="TxDefaultProfile", site_id=None
    )


def _queue(
    services: Services, charge_point_id: str, payload: dict[str, Any], identifier: str, *, supersede_key: str, site_id: str | None
) -> None:
    try:
        send_command(
            services,
            charge_point_id,
            Action.SET_CHARGING_PROFILE,
            payload,
            context={LOAD_CONTROL_CONTEXT: site_id} if site_id else None,
            command_id=identifier,
            supersede_key=supersede_key,
        )
    except StationNotConnected:
        logger.info("Profile not sent: the station is not connected", extra={"charge_point_id": charge_point_id})
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        # Queued by an earlier try of this very run (its id is the version's): once is enough.


def _record_metrics(site: Site, allocation: SiteAllocation) -> None:
    """What the site may draw per phase now, beside its limit (the dashboard's per-site graph)."""
    site_current(ALLOCATED_CURRENT_A, site.site_id, float(allocation.total_current_a))
    site_current(SITE_LIMIT_A, site.site_id, float(site.max_current_a))
