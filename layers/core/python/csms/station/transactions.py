"""Authorize and the transaction lifecycle: StartTransaction, MeterValues, StopTransaction (OCPP 1.6 §4.1,
§4.7, §4.8, §4.10). Stations retransmit and replay after reboots: every write here is safe to repeat."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from csms.adapters.dynamodb.follow_ups import event_item, put_once, run_item
from csms.adapters.dynamodb.keys import reservation_pk
from csms.adapters.dynamodb.reservations import ReservationRepository
from csms.adapters.dynamodb.transactions import OptionalWrite
from csms.domain.authorization import Authorization, IdTagRecord, authorize, without_vendor_suffix
from csms.domain.clock import to_iso
from csms.domain.measured_current import FLAG_SAMPLES, ignores_allocation, reading_changes_lending
from csms.domain.metering import current_import_a, energy_wh, import_register_wh, state_of_charge
from csms.domain.priorities import session_priority
from csms.domain.reservations import Consumption, Mismatch, consumed_by_start
from csms.domain.stations import Station
from csms.domain.thresholds import session_crossings
from csms.domain.transactions import Transaction, TransactionStart, TransactionStop
from csms.events.sessions import session_started, threshold_reached
from csms.ocpp.router import ActionRouter
from csms.ocpp.v16.actions import Action, Initiator
from csms.ocpp.v16.datatypes import IdTagInfo
from csms.ocpp.v16.station import call, call_result
from csms.ocpp.v16.station.datatypes import MeterValue, StopTransactionMeterValue
from csms.ocpp.v16.validation import dump
from csms.reservations import events as reservation_events
from csms.runtime.observability import logger, metrics
from csms.sessions.binding import bind, start_writes, with_cost_tariff
from csms.sessions.limits import check_reading
from csms.station.context import StationContext

router = ActionRouter(initiator=Initiator.STATION)


def _authorize(record: IdTagRecord | None, ctx: StationContext, *, ignoring: int | None = None) -> Authorization:
    settings = ctx.services.settings
    return authorize(
        record,
        now=ctx.received_at,
        allow_concurrent_transactions=settings.allow_concurrent_transactions,
        stale_after=timedelta(hours=settings.stale_transaction_hours),
        ignoring_transaction=ignoring,
    )


def _card(id_tag: str, ctx: StationContext) -> str:
    """The idTag as the CSMS knows the card: without the vendor suffix this station appends, if it does."""
    return without_vendor_suffix(id_tag, ctx.id_tag_suffix_separator)


def _id_tag_info(authorization: Authorization) -> IdTagInfo:
    return IdTagInfo(
        status=authorization.status,
        expiry_date=authorization.expiry_date,
        parent_id_tag=authorization.parent_id_tag,
    )


@router.action(Action.AUTHORIZE)
def authorize_id_tag(request: call.Authorize, ctx: StationContext) -> call_result.Authorize:
    record = ctx.services.id_tags.get(_card(request.id_tag, ctx))
    return call_result.Authorize(id_tag_info=_id_tag_info(_authorize(record, ctx)))


def _consumption(
    request: call.StartTransaction, id_tag: str, record: IdTagRecord | None, station: Station | None, ctx: StationContext
) -> Consumption | None:
    """The reservation this start consumes, if any (domain/reservations.py). A start that names a reservation of
    another driver consumes nothing: the station should have refused it (§5.13), the reservation stays held."""
    if station is None or not station.holds:
        return None
    found = consumed_by_start(
        station.holds,
        connector_id=request.connector_id,
        id_tag=id_tag,
        parent_id_tag=record.parent_id_tag if record else None,
        reservation_id=request.reservation_id,
    )
    if isinstance(found, Mismatch):
        logger.warning(
            "A start names a reservation of another idTag: not consumed",
            extra={"charge_point_id": ctx.charge_point_id, "reservation_id": found.hold.reservation_id},
        )
        metrics.add_metric(name="ReservationMismatches", unit=MetricUnit.Count, value=1)
        return None
    return found


def _consumption_writes(
    consumption: Consumption, request: call.StartTransaction, id_tag: str, transaction_id: int, ctx: StationContext
) -> dict[str, OptionalWrite]:
    """The reservation marked Consumed and its event: both, or neither if it ended meanwhile."""
    table_name = ctx.services.table.name
    hold = consumption.hold
    event = reservation_events.consumed(
        hold,
        charge_point_id=ctx.charge_point_id,
        connector_id=request.connector_id,
        transaction_id=transaction_id,
        id_tag=id_tag,
        at=ctx.received_at,
    )
    return {
        "reservation": (
            ReservationRepository.consume_part(table_name, hold, transaction_id=transaction_id, at=ctx.received_at),
            put_once(table_name, event_item(reservation_pk(hold.reservation_id), event, now=ctx.received_at)),
        )
    }


@router.action(Action.START_TRANSACTION)
def start_transaction(request: call.StartTransaction, ctx: StationContext) -> call_result.StartTransaction:
    """Always recorded, whatever the idTag's status: the station may already be charging (offline start,
    §4.8); a status other than Accepted tells it to stop. A replayed start gets its original id and answer back:
    by then its tag may be busy with a newer transaction, which must not turn an accepted start into a refused one.

    A start consumes the reservation it names, or that its idTag (or parent) holds on its connector or on connector
    0 (§5.13), and binds the app session its tag was given for this connector (sessions/binding.py), in the start's
    one write: the reservation Consumed, its hold released, the app session Started, the limits (the app session's
    or the reservation's over the id tag's), thresholds and duration timer the transaction's."""
    services = ctx.services
    id_tag = _card(request.id_tag, ctx)
    record, station = services.transactions.read_for_start(ctx.charge_point_id, id_tag)
    authorization = _authorize(record, ctx)
    consumption = _consumption(request, id_tag, record, station, ctx)
    transaction_id = services.transactions.next_transaction_id(now=ctx.received_at)
    reserved = consumption.hold if consumption else None
    start = TransactionStart(
        charge_point_id=ctx.charge_point_id,
        connector_id=request.connector_id,
        id_tag=id_tag,
        meter_start=request.meter_start,
        started_at=request.timestamp,
        reservation_id=reserved.reservation_id if reserved else request.reservation_id,
        authorization_status=authorization.status,
        limits=reserved.limits if reserved else None,  # bind() puts the id tag's defaults under them
        priority=session_priority(None, record.priority if record else None),  # an app session's wins: bind()
        site_id=station.site_id if station else None,
    )
    claim = record is not None and authorization.accepted
    binding = bind(record, start, accepted=claim, now=ctx.received_at, window=services.settings.session_start_window)
    binding = with_cost_tariff(services, binding, record, station, now=ctx.received_at)
    # Its driver is told, card or app, when the start is accepted (a refused one is the station's to end): the event
    # goes with the start's one transaction (a replay writes neither).
    started = session_started(Transaction(transaction_id=transaction_id, start=binding.start, created_at=ctx.received_at))
    announce = {"sessionStarted": services.transactions.event_write(transaction_id, started, now=ctx.received_at)}
    outcome = services.transactions.create(
        transaction_id,
        binding.start,
        answer=authorization,
        claim_id_tag=claim,
        now=ctx.received_at,
        optional_writes={
            **(announce if authorization.accepted else {}),
            **(_consumption_writes(consumption, request, id_tag, transaction_id, ctx) if consumption else {}),
            **start_writes(services.table.name, transaction_id, binding, now=ctx.received_at),
            **_load_control_writes(binding.start, transaction_id, ctx),
        },
        release_hold=reserved,
        consuming=binding.app_start,
    )
    if outcome.replay:
        # A start record kept before answers were kept with it: its tag being busy with this very transaction
        # is no reason to refuse it.
        authorization = outcome.replayed_answer or _authorize(record, ctx, ignoring=outcome.transaction_id)
    return call_result.StartTransaction(id_tag_info=_id_tag_info(authorization), transaction_id=outcome.transaction_id)


def _load_control_writes(start: TransactionStart, transaction_id: int, ctx: StationContext) -> dict[str, OptionalWrite]:
    """A start at a site runs its load control (the stream does it, csms/energy/control.py: nothing computed here).
    The session may draw the site's safe current until its profile comes (its TxDefaultProfile): the run counts it."""
    if start.site_id is None:
        return {}
    run = run_item(start.site_id, f"START#{transaction_id}", now=ctx.received_at)
    return {"loadControl": put_once(ctx.services.table.name, run)}


@router.action(Action.METER_VALUES)
def meter_values(request: call.MeterValues, ctx: StationContext) -> call_result.MeterValues:
    """Every sampled value is kept as sent, energy annotated in Wh; transactionId 0 or absent means the
    values belong to the connector, not to a transaction (§4.7). Values naming a transaction that is not this
    station's are answered (the station would retry forever) but never applied to it."""
    values = [_annotated(meter_value) for meter_value in request.meter_value]
    claimed = request.transaction_id or None
    owned = False
    follow_ups: list[dict[str, Any]] = []
    if claimed is not None:
        read_at, latest = max(
            zip((meter_value.timestamp for meter_value in request.meter_value), values, strict=True), key=lambda pair: pair[0]
        )
        sampled = latest["sampledValue"]
        register_wh, soc, current_a = import_register_wh(sampled), state_of_charge(sampled), current_import_a(sampled)
        recorded = ctx.services.transactions.record_reading(
            claimed,
            charge_point_id=ctx.charge_point_id,
            energy_wh=register_wh,
            read_at=read_at,
            state_of_charge=soc,
            current_a=current_a,
        )
        owned = recorded.owned
        if not owned:
            _unmatched(ctx, Action.METER_VALUES, claimed)
        elif recorded.before is not None:
            check_reading(
                ctx.services,
                recorded.before,
                energy_wh=register_wh,
                soc_percent=soc,
                read_at=read_at,
                received_at=ctx.received_at,
            )
            _tell_thresholds(ctx, recorded.before, register_wh=register_wh, soc=soc, read_at=read_at)
            follow_ups = _allocation_check(recorded.before, current_a, ctx, read_at=read_at)
    ctx.services.meter_values.put_many(
        charge_point_id=ctx.charge_point_id,
        connector_id=request.connector_id,
        transaction_id=claimed if owned else None,
        meter_values=values,
        unmatched_transaction_id=None if owned else claimed,
        follow_ups=follow_ups,
    )
    return call_result.MeterValues()


def _tell_thresholds(
    ctx: StationContext, before: Transaction, *, register_wh: Decimal | None, soc: Decimal | None, read_at: datetime
) -> None:
    """A threshold this reading crossed becomes its ThresholdReached event (one write, rarely: most readings
    cross none; a repeat of the crossing finds the event written and writes nothing)."""
    for crossing in session_crossings(
        before, energy_register_wh=register_wh, soc=soc, soc_thresholds=ctx.services.settings.soc_thresholds
    ):
        event = threshold_reached(before, crossing, read_at=read_at)
        ctx.services.transactions.put_event(before.transaction_id, event, now=ctx.received_at)


def _allocation_check(
    before: Transaction, current_a: Decimal | None, ctx: StationContext, *, read_at: datetime
) -> list[dict[str, Any]]:
    """Issue 11 §3 and §5, judged from the samples measured under the limit its station accepted, as the reading's
    own write returned them (no read of its own): a session at a site whose measured current stays above its limit
    is flagged, its draw counted as used (each such reading tells its site's load control the newest draw: a station
    that draws more later cuts the others further); one whose draw changes what it lends (it starts drawing well
    below its limit, or a lender wants its share back) has its site share anew. Either is a run of the site's load
    control, written with the meter values in their one BatchWriteItem (a retransmitted reading writes the same run:
    once)."""
    site_id, allocated = before.start.site_id, before.allocated_current_a
    if current_a is None or site_id is None or allocated is None:
        return []
    under_limit = before.samples_under_limit_a
    samples = (*under_limit, current_a)
    if ignores_allocation(allocated, samples):
        measured = (before.transaction_id, samples[-FLAG_SAMPLES:])
        cause = f"IGNORED#{before.transaction_id}#{to_iso(read_at)}"
        return [run_item(site_id, cause, now=ctx.received_at, charge_point_id=ctx.charge_point_id, measured=measured)]
    if reading_changes_lending(allocated, lending=before.allocation_lending, before=under_limit, after=samples):
        cause = f"DRAW#{before.transaction_id}#{to_iso(read_at)}"
        return [run_item(site_id, cause, now=ctx.received_at, charge_point_id=ctx.charge_point_id)]
    return []


def _unmatched(ctx: StationContext, action: Action, transaction_id: int) -> None:
    logger.warning(
        "A transaction id that is not one of this station's",
        extra={"charge_point_id": ctx.charge_point_id, "action": action, "transaction_id": transaction_id},
    )
    metrics.add_metric(name="UnmatchedTransactionIds", unit=MetricUnit.Count, value=1)


@router.action(Action.STOP_TRANSACTION)
def stop_transaction(request: call.StopTransaction, ctx: StationContext) -> call_result.StopTransaction:
    """Always answered, unknown transaction ids included (§4.10): the station would otherwise retry forever."""
    services = ctx.services
    id_tag = _card(request.id_tag, ctx) if request.id_tag is not None else None
    stop = TransactionStop(
        meter_stop=request.meter_stop,
        stopped_at=request.timestamp,
        reason=request.reason or "Local",  # §7.39: reason absent means Local
        id_tag=id_tag,
    )
    outcome = services.transactions.stop(request.transaction_id, charge_point_id=ctx.charge_point_id, stop=stop)
    if request.transaction_data:
        services.meter_values.put_many(
            charge_point_id=ctx.charge_point_id,
            connector_id=outcome.transaction.connector_id if outcome else 0,
            transaction_id=request.transaction_id if outcome else None,
            meter_values=[_annotated(meter_value) for meter_value in request.transaction_data],
            unmatched_transaction_id=None if outcome else request.transaction_id,
        )
    if outcome is None:
        _unmatched(ctx, Action.STOP_TRANSACTION, request.transaction_id)
        services.transactions.record_unmatched_stop(
            ctx.charge_point_id, request.transaction_id, {**dump(request), "receivedAt": to_iso(ctx.received_at)}
        )
    elif outcome.first_stop:
        metrics.add_metric(name="EnergyDeliveredWh", unit=MetricUnit.NoUnit, value=float(outcome.transaction.energy_wh or 0))
    if id_tag is None:
        return call_result.StopTransaction()
    record = services.id_tags.get(id_tag)
    return call_result.StopTransaction(
        id_tag_info=_id_tag_info(_authorize(record, ctx, ignoring=request.transaction_id))
    )


def _annotated(meter_value: MeterValue | StopTransactionMeterValue) -> dict[str, Any]:
    """The meter value as the station sent it, each energy reading also given in Wh."""
    wire = dump(meter_value)
    for sampled in wire["sampledValue"]:
        reading = energy_wh(sampled)
        if reading is not None:
            sampled["energyWh"] = reading
    return wire
