"""Transactions and their meter values (keys in keys.py).

- counter      `value`: atomic ADD gives the next transactionId; `firstMonth` (`yyyy-mm`): where the
               listing of all transactions ends
- transaction  `transactionId`, `chargePointId`, `connectorId`, `idTag`, `meterStart`, `startedAt`,
               `authorizationStatus`, `reservationId`?, `limits`? (SessionLimits.to_json), `priority`,
               `notifyAtEnergyWh`?, `sessionId`? (the app session it started), `siteId`? (its station's site at the start),
               `costTariff`? {tariffId, version, effectiveAt, timeZone} (with a cost limit: the tariff version that
               prices it, bound at the start),
               `createdAt`; once a meter value predicts or shows an energy, cost or SoC limit `limitPending` (its kind:
               the conditional marker of the one stop planned, set once) and `limitStopAt` (when the SessionLimit workflow
               acts); once the workflow finds the session still running at that moment, or its duration is up,
               `limitReached` (energy, cost, duration, soc: which limit stopped it, set once); once
               stopped `meterStop`, `stoppedAt`, `stopReason`, `stopIdTag`?, `energyWh`; the newest reading
               `lastMeterWh`, `lastMeterAt`; the vehicle's state of charge `firstSoC`, `lastSoC`, `lastSoCAt`
               (threshold crossings are seen from the old values the reading's update returns); the last three
               Current.Import samples `currentA0` (newest), `currentA1`, `currentA2` and `lastCurrentAt`; at a site,
               `allocatedA` (the limit its station last accepted), `allocationLending` (that limit is what the
               session kept when it lent the rest of its share) and `currentSamples` (how many samples were
               measured since its station accepted that limit: only those tell what the car draws under it);
               once billed `cdrId`, `tariffId`, `tariffVersion`
               (the version in force at `createdAt`).
               Indexed by station (newest last) and by the month it was recorded (byKind); in the live index
               (`liveShard`, `liveKey`) until its stop. Its connector's `session_{n}` entry on the station item
               points at it while it is active.
- start        `transactionId`, `answer` {status, expiryDate?, parentIdTag?}: maps a StartTransaction's content
               to its id and first answer (replays get the same)
- meter value  `chargePointId`, `connectorId`, `transactionId`?, `timestamp`, `sampledValue` (as sent, energy
               also in Wh): every sampled value kept
- lost stop    `chargePointId`, `transactionId`, `stop` (the StopTransaction as sent, with `receivedAt`), for a
               transaction we never saw (or another station's); its insert starts an UnmatchedStop event
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from csms.adapters.dynamodb.follow_ups import FollowUps, event_item, put_once
from csms.adapters.dynamodb.id_tags import IdTagRepository
from csms.adapters.dynamodb.keys import (
    METER_VALUE_PREFIX,
    TRANSACTION_PREFIX,
    active_shards,
    active_transaction_keys,
    connector_meter_value_key,
    id_tag_key,
    station_key,
    station_pk,
    transaction_counter_key,
    transaction_index_keys,
    transaction_key,
    transaction_kind_keys,
    transaction_meter_value_key,
    transaction_month_kind,
    transaction_pk,
    transaction_start_key,
    unmatched_stop_key,
)
from csms.adapters.dynamodb.operations import batch_get, cancellation_codes, collect_page, list_by_index, update_if
from csms.adapters.dynamodb.schema import (
    KIND_INDEX,
    LIVE_INDEX,
    PARTITION_KEY,
    SORT_KEY,
    STATION_INDEX,
    TTL_ATTRIBUTE,
)
from csms.adapters.dynamodb.stations import hold_attribute, session_attribute, session_value, station_from_item
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.authorization import Authorization, IdTagRecord
from csms.domain.clock import from_iso, to_iso
from csms.domain.limits import LimitKind, SessionLimits
from csms.domain.metering import RecordedMeterValue
from csms.domain.priorities import DEFAULT_PRIORITY
from csms.domain.reservations import Hold
from csms.domain.sessions import PendingStart
from csms.domain.stations import ActiveSession, Station
from csms.domain.transactions import (
    CostTariff,
    RecordedReading,
    SessionStatus,
    StartOutcome,
    StopOutcome,
    Transaction,
    TransactionStart,
    TransactionStop,
    transaction_id_from_counter,
)
from csms.events.catalog import Event
from csms.ocpp.frames import plain_json
from csms.ocpp.v16.enums import AuthorizationStatus

CURRENT_SAMPLES = ("currentA0", "currentA1", "currentA2")
"""The transaction's last measured currents, newest first."""


START_RECORD_RETENTION = timedelta(days=30)  # replays come after a reboot, or days later from an offline queue

OptionalWrite = dict[str, Any] | tuple[dict[str, Any], ...]
"""One TransactWriteItems part, or parts that stand or fall together (a state change and the event it causes)."""


def _answer_value(answer: Authorization) -> dict[str, Any]:
    value: dict[str, Any] = {"status": answer.status.value}
    if answer.expiry_date is not None:
        value["expiryDate"] = to_iso(answer.expiry_date)
    if answer.parent_id_tag is not None:
        value["parentIdTag"] = answer.parent_id_tag
    return value


def _answer_from_value(value: dict[str, Any]) -> Authorization:
    return Authorization(
        AuthorizationStatus(value["status"]),
        expiry_date=from_iso(value["expiryDate"]) if value.get("expiryDate") else None,
        parent_id_tag=value.get("parentIdTag"),
    )


def transaction_from_item(item: dict[str, Any]) -> Transaction:
    def optional_int(name: str) -> int | None:
        return int(item[name]) if item.get(name) is not None else None

    stop = None
    if item.get("stoppedAt"):
        stop = TransactionStop(
            meter_stop=int(item["meterStop"]),
            stopped_at=from_iso(item["stoppedAt"]),
            reason=item.get("stopReason", "Local"),
            id_tag=item.get("stopIdTag"),
        )
    return Transaction(
        transaction_id=int(item["transactionId"]),
        start=TransactionStart(
            charge_point_id=item["chargePointId"],
            connector_id=int(item["connectorId"]),
            id_tag=item["idTag"],
            meter_start=int(item["meterStart"]),
            started_at=from_iso(item["startedAt"]),
            reservation_id=optional_int("reservationId"),
            authorization_status=item.get("authorizationStatus", ""),
            limits=SessionLimits.from_json(item["limits"]) if item.get("limits") else None,
            priority=int(item.get("priority", DEFAULT_PRIORITY)),
            notify_at_energy_wh=tuple(int(wh) for wh in item.get("notifyAtEnergyWh", ())),
            session_id=item.get("sessionId"),
            site_id=item.get("siteId"),
            cost_tariff=_cost_tariff(item.get("costTariff")),
        ),
        stop=stop,
        last_meter_wh=Decimal(item["lastMeterWh"]) if item.get("lastMeterWh") is not None else None,
        last_meter_at=from_iso(item["lastMeterAt"]) if item.get("lastMeterAt") else None,
        statuses=tuple(
            SessionStatus(at=from_iso(report["at"]), status=report["status"]) for report in item.get("statuses", [])
        ),
        created_at=from_iso(item["createdAt"]) if item.get("createdAt") else None,
        cdr_id=item.get("cdrId"),
        limit_reached=LimitKind(item["limitReached"]) if item.get("limitReached") else None,
        limit_pending=LimitKind(item["limitPending"]) if item.get("limitPending") else None,
        first_soc=Decimal(item["firstSoC"]) if item.get("firstSoC") is not None else None,
        last_soc=Decimal(item["lastSoC"]) if item.get("lastSoC") is not None else None,
        measured_current_a=Decimal(item[CURRENT_SAMPLES[0]]) if item.get(CURRENT_SAMPLES[0]) is not None else None,
        recent_current_a=tuple(
            Decimal(item[name]) for name in reversed(CURRENT_SAMPLES) if item.get(name) is not None
        ),
        samples_since_limit=int(item["currentSamples"]) if item.get("currentSamples") is not None else None,
        allocated_current_a=Decimal(item["allocatedA"]) if item.get("allocatedA") is not None else None,
        allocation_lending=bool(item.get("allocationLending", False)),
    )


def _cost_tariff(value: dict[str, Any] | None) -> CostTariff | None:
    if not value:
        return None
    return CostTariff(value["tariffId"], int(value["version"]), value["effectiveAt"], value["timeZone"])


class TransactionRepository:
    def __init__(self, table: Any):
        self._table = table
        self._client = table.meta.client

    def next_transaction_id(self, *, now: datetime) -> int:
        """The counter's next value (the same write notes the first month with transactions, where listings end)."""
        response = self._table.update_item(
            Key=transaction_counter_key(),
            UpdateExpression="ADD #value :one SET firstMonth = if_not_exists(firstMonth, :month)",
            ExpressionAttributeNames={"#value": "value"},
            ExpressionAttributeValues={":one": 1, ":month": to_iso(now)[:7]},
            ReturnValues="UPDATED_NEW",
        )
        return transaction_id_from_counter(int(response["Attributes"]["value"]))

    def read_for_start(self, charge_point_id: str, id_tag: str) -> tuple[IdTagRecord | None, Station | None]:
        """What a StartTransaction decides on, in one request: the idTag (authorization, its parent) and the station
        (the reservations its connectors hold). Consistent: a reservation accepted a moment ago is seen."""
        tag_item, station_item = batch_get(self._table, [id_tag_key(id_tag), station_key(charge_point_id)], consistent=True)
        return (
            IdTagRepository.record_from_item(tag_item) if tag_item else None,
            station_from_item(station_item) if station_item else None,
        )

    def create(
        self,
        transaction_id: int,
        start: TransactionStart,
        *,
        answer: Authorization,
        claim_id_tag: bool,
        now: datetime,
        optional_writes: Mapping[str, OptionalWrite] | None = None,
        release_hold: Hold | None = None,
        consuming: PendingStart | None = None,
    ) -> StartOutcome:
        """Store a started transaction, or find the one this same start already created.

        One TransactWriteItems: the transaction (indexed by month and as active), its start record (unique per
        content, with the `answer` the station is given), the connector's session on the station item and, when
        `claim_id_tag`, the idTag's claim on it: items of this station and tag only, so starts at other stations
        never conflict with it. A replay gets the id and the answer of the first time.

        `optional_writes`: more TransactWriteItems parts (by name) that belong with the start, such as its
        follow-ups (follow_ups.py) or what it consumes; one whose condition fails is left out, the rest written. A
        tuple of parts under one name stands or falls together (a reservation consumed and its event).
        `release_hold`: the reservation hold the start consumes, removed from the station item by the same write
        that sets the connector's session (one item is one part of a transaction), if it is still that one's.
        follow-ups (follow_ups.py) or what it consumes; one whose condition fails is left out, the rest written.
        `consuming`: the app session's pending start it binds, removed from the tag by its claim (one item, one part).
        """
        started_at = to_iso(start.started_at)
        start_key = transaction_start_key(start.charge_point_id, start.fingerprint)
        transaction_item = {
            **transaction_key(transaction_id),
            **transaction_index_keys(start.charge_point_id, started_at, transaction_id),
            **transaction_kind_keys(to_iso(now), transaction_id),
            **active_transaction_keys(transaction_id),
            "transactionId": transaction_id,
            "chargePointId": start.charge_point_id,
            "connectorId": start.connector_id,
            "idTag": start.id_tag,
            "meterStart": start.meter_start,
            "startedAt": started_at,
            "authorizationStatus": start.authorization_status,
            "priority": start.priority,
            "createdAt": to_iso(now),
        }
        if start.reservation_id is not None:
            transaction_item["reservationId"] = start.reservation_id
        if start.limits is not None and not start.limits.empty:
            transaction_item["limits"] = to_item_value(start.limits.to_json())
        if start.notify_at_energy_wh:
            transaction_item["notifyAtEnergyWh"] = list(start.notify_at_energy_wh)
        if start.session_id is not None:
            transaction_item["sessionId"] = start.session_id
        if start.site_id is not None:
            transaction_item["siteId"] = start.site_id
        if start.cost_tariff is not None:
            transaction_item["costTariff"] = {
                "tariffId": start.cost_tariff.tariff_id,
                "version": start.cost_tariff.version,
                "effectiveAt": start.cost_tariff.effective_at,
                "timeZone": start.cost_tariff.time_zone,
            }
        session = ActiveSession(
            transaction_id=transaction_id,
            connector_id=start.connector_id,
            id_tag=start.id_tag,
            started_at=start.started_at,
            priority=start.priority,
        )
        writes: dict[str, dict[str, Any]] = {
            "start": self._put_new(
                {
                    **start_key,
                    "transactionId": transaction_id,
                    "answer": _answer_value(answer),
                    TTL_ATTRIBUTE: int((now + START_RECORD_RETENTION).timestamp()),
                }
            ),
            "transaction": self._put_new(transaction_item),
            # A newer start on a connector replaces its session: the older one's stop was lost or is still queued.
            "session": self._session_update(start.charge_point_id, session, release_hold),
        }
        if claim_id_tag:
            writes["claim"] = IdTagRepository.claim_transaction_update(
                self._table.name, start.id_tag, transaction_id, started_at, binding=consuming
            )
        groups: dict[str, set[str]] = {}
        for name, parts in (optional_writes or {}).items():
            if isinstance(parts, dict):
                writes[name] = parts
                groups[name] = {name}
            else:
                members = [f"{name}#{n}" for n in range(len(parts))]
                writes.update(zip(members, parts, strict=True))
                groups.update(dict.fromkeys(members, set(members)))
        optional = {"claim", "session", *groups}
        while True:
            failed = self._transact(writes)
            if not failed:
                return StartOutcome(transaction_id)
            if "start" in failed:  # a replay: the station is told what its first start was
                existing = self._table.get_item(Key=start_key, ConsistentRead=True)["Item"]
                first_answer = _answer_from_value(existing["answer"]) if "answer" in existing else None
                return StartOutcome(int(existing["transactionId"]), replayed_answer=first_answer, replay=True)
            if not failed <= optional:
                raise RuntimeError(f"StartTransaction write refused: {sorted(failed)}")
            if "session" in failed and release_hold is not None:
                # The hold changed since it was read (the reservation ended): the session is set all the same.
                writes["session"] = self._session_update(start.charge_point_id, session, None)
                failed.discard("session")
                release_hold = None
            # The idTag was deleted since it was read, or the station by its operator while connected, or an optional
            # part found what it writes changed: the transaction is stored all the same, without what failed.
            for name in failed:
                for member in groups.get(name, {name}):
                    writes.pop(member, None)

    def _session_update(self, charge_point_id: str, session: ActiveSession, release_hold: Hold | None) -> dict[str, Any]:
        names = {"#session": session_attribute(session.connector_id)}
        values: dict[str, Any] = {":session": session_value(session)}
        station = station_key(charge_point_id)
        if release_hold is None:
            return self._update(station, "SET #session = :session", values, names, condition="attribute_exists(chargePointId)")
        return self._update(
            station,
            "SET #session = :session REMOVE #hold",
            values | {":reservation": release_hold.reservation_id},
            names | {"#hold": hold_attribute(release_hold.connector_id)},
            condition="attribute_exists(chargePointId) AND #hold.reservationId = :reservation",
        )

    def event_write(self, transaction_id: int, event: Event, *, now: datetime) -> dict[str, Any]:
        """The TransactWriteItems part that has `event` put about the transaction (once: a repeat finds it)."""
        return put_once(self._table.name, event_item(transaction_pk(transaction_id), event, now=now))

    def put_event(self, transaction_id: int, event: Event, *, now: datetime) -> bool:
        """Have `event` put about the transaction, on its own; False when it was written before (a repeat)."""
        return FollowUps(self._table).put(event_item(transaction_pk(transaction_id), event, now=now))

    def get(self, transaction_id: int, *, consistent: bool = False) -> Transaction | None:
        item = self._table.get_item(Key=transaction_key(transaction_id), ConsistentRead=consistent).get("Item")
        return transaction_from_item(item) if item else None

    def get_many(self, transaction_ids: list[int]) -> dict[int, Transaction]:
        """The transactions that exist among `transaction_ids`, by id (BatchGetItem, 100 at a time)."""
        found: dict[int, Transaction] = {}
        for start in range(0, len(transaction_ids), 100):
            keys = [transaction_key(transaction_id) for transaction_id in transaction_ids[start : start + 100]]
            for item in batch_get(self._table, keys):
                if item is not None:
                    transaction = transaction_from_item(item)
                    found[transaction.transaction_id] = transaction
        return found

    def stop(self, transaction_id: int, *, charge_point_id: str, stop: TransactionStop) -> StopOutcome | None:
        """Record the stop of a known transaction of this station (it leaves the live index with the same write)
        and end its session (the connector's pointer, the idTag's claim). A repeated stop changes nothing.
        Returns None when the transaction is unknown or belongs to another station."""
        values: dict[str, Any] = {
            ":meterStop": stop.meter_stop,
            ":stoppedAt": to_iso(stop.stopped_at),
            ":reason": stop.reason,
            ":station": charge_point_id,
        }
        expression = (
            "SET meterStop = :meterStop, stoppedAt = :stoppedAt, stopReason = :reason, energyWh = :meterStop - meterStart"
        )
        if stop.id_tag is not None:
            expression += ", stopIdTag = :stopIdTag"
            values[":stopIdTag"] = stop.id_tag
        response = update_if(
            self._table,
            Key=transaction_key(transaction_id),
            UpdateExpression=f"{expression} REMOVE {LIVE_INDEX.partition_key}, {LIVE_INDEX.sort_key}",
            ConditionExpression="chargePointId = :station AND attribute_not_exists(stoppedAt)",
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        if response is None:  # stopped before (a repeat), or not a transaction of this station
            existing = self.get(transaction_id)
            if existing is None or existing.charge_point_id != charge_point_id:
                return None
            return StopOutcome(existing, first_stop=False)
        stopped = transaction_from_item(response["Attributes"])
        self._end_session(stopped)
        return StopOutcome(stopped, first_stop=True)

    def record_allocation(self, transaction_id: int, current_a: Decimal, *, lending: bool) -> None:
        """The limit its station accepted from its site's load control: what its measured current is checked against
        (`lending`: the limit is what the session kept when it lent the rest of its share). Samples measured under
        the former limit say nothing of this one (a car held down by a lower limit, not slowed down yet under a
        higher one): the check and lending count the samples that follow."""
        update_if(
            self._table,
            Key=transaction_key(transaction_id),
            UpdateExpression="SET allocatedA = :amps, allocationLending = :lending, currentSamples = :none",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(stoppedAt)",
            ExpressionAttributeValues={":amps": current_a, ":lending": lending, ":none": 0},
        )

    def record_status(self, transaction_id: int, *, charge_point_id: str, status: str, at: datetime) -> None:
        """A status the station reported for the transaction's connector while it ran, appended (§4.9). Once the
        transaction stopped, or for another station's transaction, nothing is written."""
        update_if(
            self._table,
            Key=transaction_key(transaction_id),
            UpdateExpression="SET statuses = list_append(if_not_exists(statuses, :none), :report)",
            ConditionExpression="chargePointId = :station AND attribute_not_exists(stoppedAt)",
            ExpressionAttributeValues={
                ":none": [],
                ":report": [{"at": to_iso(at), "status": status}],
                ":station": charge_point_id,
            },
        )

    def record_billing(self, transaction_id: int, *, cdr_id: str, tariff_id: str, tariff_version: int) -> Transaction:
        """The CDR a stopped transaction got and the tariff version that priced it (issue 9 §6); returns the
        transaction so billed."""
        response = self._table.update_item(
            Key=transaction_key(transaction_id),
            UpdateExpression="SET cdrId = :cdr, tariffId = :tariff, tariffVersion = :version",
            ExpressionAttributeValues={":cdr": cdr_id, ":tariff": tariff_id, ":version": tariff_version},
            ReturnValues="ALL_NEW",
        )
        return transaction_from_item(response["Attributes"])

    def _end_session(self, transaction: Transaction) -> None:
        """One TransactWriteItems in the usual case. Each part is conditioned on still pointing at this
        transaction (a newer one may have taken the connector or the tag): if one does not, each part is
        written on its own, and what points elsewhere is left alone."""
        writes: dict[str, dict[str, Any]] = {
            "session": self._update(
                station_key(transaction.charge_point_id),
                "REMOVE #session",
                {":transaction": transaction.transaction_id},
                {"#session": session_attribute(transaction.connector_id)},
                condition="#session.transactionId = :transaction",
            ),
        }
        if transaction.start.authorization_status == AuthorizationStatus.ACCEPTED:  # only then was the tag claimed
            writes["release"] = IdTagRepository.release_transaction_update(
                self._table.name, transaction.id_tag, transaction.transaction_id
            )
        if self._transact(writes):
            for write in writes.values():
                update_if(self._table, **{name: value for name, value in write["Update"].items() if name != "TableName"})

    def _transact(self, writes: dict[str, dict[str, Any]]) -> set[str]:
        """Run the writes as one transaction; returns the names of those whose condition failed (none written then)."""
        try:
            self._client.transact_write_items(TransactItems=list(writes.values()))
        except self._client.exceptions.TransactionCanceledException as error:
            codes = cancellation_codes(error)
            failed = {name for name, code in zip(writes, codes, strict=False) if code == "ConditionalCheckFailed"}
            if not failed:
                raise
            return failed
        return set()

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self._table.name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def _update(
        self, item_key: dict[str, str], expression: str, values: dict[str, Any], names: dict[str, str], *, condition: str
    ) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": item_key,
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def record_unmatched_stop(self, charge_point_id: str, transaction_id: int, stop: dict[str, Any]) -> None:
        """OCPP 1.6 §4.10: the stop of a transaction we never saw is still answered; keep it for the operator."""
        self._table.put_item(
            Item={
                **unmatched_stop_key(charge_point_id, transaction_id, stop["timestamp"]),
                "chargePointId": charge_point_id,
                "transactionId": transaction_id,
                # As one map: the stream consumer hands it on verbatim in the UnmatchedStop event.
                "stop": to_item_value(stop),
            }
        )

    def record_reading(
        self,
        transaction_id: int,
        *,
        charge_point_id: str,
        energy_wh: Decimal | None,
        read_at: datetime,
        state_of_charge: Decimal | None = None,
        current_a: Decimal | None = None,
    ) -> RecordedReading:
        """Whether the transaction is one of this station's (only then may its meter values go with it), keeping
        its newest import register reading (what limits and live views read), state of charge (its first one
        too: where the session started) and Current.Import (what a site's load control checks) when given. One
        request: a late, older reading changes nothing; a transaction of another station or none is never written.
        The transaction as it was before comes back with the same request (limits, threshold crossings and the
        allocation check are judged from it, with no read of their own)."""
        if energy_wh is None and state_of_charge is None and current_a is None:
            item = self._table.get_item(Key=transaction_key(transaction_id)).get("Item")
            owned = item is not None and item.get("chargePointId") == charge_point_id
            return RecordedReading(owned=owned, before=transaction_from_item(item) if owned and item else None)
        assignments, conditions = [], ["chargePointId = :station"]
        values: dict[str, Any] = {":at": to_iso(read_at), ":station": charge_point_id}
        if energy_wh is not None:
            assignments += ["lastMeterWh = :wh", "lastMeterAt = :at"]
            conditions.append("(attribute_not_exists(lastMeterAt) OR lastMeterAt < :at)")
            values[":wh"] = energy_wh
        if state_of_charge is not None:
            assignments += ["lastSoC = :soc", "lastSoCAt = :at", "firstSoC = if_not_exists(firstSoC, :soc)"]
            conditions.append("(attribute_not_exists(lastSoCAt) OR lastSoCAt < :at)")
            values[":soc"] = state_of_charge
        if current_a is not None:
            # The samples shift by one in the same write (each operand is read from the item as it was): what the
            # check of a site's allocation needs, with no item of its own (issue 11 §5).
            newest, middle, oldest = CURRENT_SAMPLES
            assignments += [
                f"{oldest} = if_not_exists({middle}, :none)",
                f"{middle} = if_not_exists({newest}, :none)",
                f"{newest} = :amps",
                "lastCurrentAt = :at",
                "currentSamples = if_not_exists(currentSamples, :zero) + :one",
            ]
            conditions.append("(attribute_not_exists(lastCurrentAt) OR lastCurrentAt < :at)")
            values |= {":amps": current_a, ":none": None, ":zero": 0, ":one": 1}
        try:
            response = self._table.update_item(
                Key=transaction_key(transaction_id),
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as refused:
            existing: dict[str, Any] = refused.response.get("Item") or {}
            owner: str | None = existing.get("chargePointId", {}).get("S")
            return RecordedReading(owned=owner == charge_point_id)  # owned, and the reading is older
        return RecordedReading(owned=True, before=transaction_from_item(response["Attributes"]))

    def plan_limit_stop(
        self, transaction_id: int, kind: LimitKind, *, stop_at: datetime, follow_ups: list[dict[str, Any]]
    ) -> bool:
        """Set the transaction's one pending stop (`limitPending`, and when to stop for it) with the follow-ups that
        act on it (the SessionLimit execution to start), in one TransactWriteItems. False when a stop was planned or a
        limit reached before, or the transaction stopped: then nothing is written, so a session is stopped once
        whatever its limits and however many meter values cross them."""
        writes = {
            "marker": self._update(
                transaction_key(transaction_id),
                "SET #pending = :kind, limitStopAt = :at",
                {":kind": kind.value, ":at": to_iso(stop_at)},
                {"#pending": "limitPending", "#limit": "limitReached"},
                condition=(
                    "attribute_exists(pk) AND attribute_not_exists(#pending) AND attribute_not_exists(#limit)"
                    " AND attribute_not_exists(stoppedAt)"
                ),
            ),
            **{f"followUp{position}": put_once(self._table.name, item) for position, item in enumerate(follow_ups)},
        }
        return self._marked(writes)

    def reach_limit(self, transaction_id: int, kind: LimitKind, *, follow_ups: list[dict[str, Any]]) -> bool:
        """Record that `kind` stopped the still running transaction (`limitReached`) with its follow-ups (the
        SessionLimitReached event), in one TransactWriteItems. False when a limit was recorded before or the
        transaction stopped first: then nothing is written (a session that ended first records no limit)."""
        writes = {
            "marker": self._update(
                transaction_key(transaction_id),
                "SET #limit = :kind",
                {":kind": kind.value},
                {"#limit": "limitReached"},
                condition="attribute_exists(pk) AND attribute_not_exists(#limit) AND attribute_not_exists(stoppedAt)",
            ),
            **{f"followUp{position}": put_once(self._table.name, item) for position, item in enumerate(follow_ups)},
        }
        return self._marked(writes)

    def _marked(self, writes: dict[str, dict[str, Any]]) -> bool:
        failed = self._transact(writes)
        if not failed:
            return True
        if "marker" in failed:
            return False
        raise RuntimeError(f"limit marker write refused: {sorted(failed)}")

    def list_page(
        self,
        *,
        charge_point_id: str | None = None,
        active: bool | None = None,
        limit: int,
        start_key: dict[str, Any] | None = None,
        now: datetime,
    ) -> tuple[list[Transaction], dict[str, Any] | None]:
        """Transactions, `limit` at a time; active ones have no `stoppedAt` (filtered before the limit counts).

        One station's come newest first from the byStation index. All stations': the active ones from the live
        index (shard after shard), the others newest first by the month the CSMS recorded them (byKind), from
        `now`'s month (a day ahead, for clocks that differ) back to the counter's `firstMonth`.
        """
        if charge_point_id is not None:
            return self._list_for_station(charge_point_id, active=active, limit=limit, start_key=start_key)
        keep = None if active is None else (lambda item: ("stoppedAt" not in item) == active)
        if active:
            # The index is eventually consistent: a transaction stopped a moment ago is filtered out by its item.
            items, next_key = list_by_index(
                self._table, LIVE_INDEX, active_shards(), limit=limit, start_key=start_key, keep=keep
            )
        else:
            items, next_key = list_by_index(
                self._table,
                KIND_INDEX,
                [transaction_month_kind(month) for month in self._recorded_months(now)],
                limit=limit,
                start_key=start_key,
                descending=True,
                keep=keep,
            )
        return [transaction_from_item(item) for item in items], next_key

    def _recorded_months(self, now: datetime) -> list[str]:
        """`yyyy-mm` of every month that may hold transactions, newest first."""
        counter = self._table.get_item(Key=transaction_counter_key(), ProjectionExpression="firstMonth").get("Item")
        if not counter or "firstMonth" not in counter:
            return []
        first = counter["firstMonth"]
        year, month = map(int, to_iso(now + timedelta(days=1))[:7].split("-"))
        months = []
        while f"{year:04d}-{month:02d}" >= first:
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return months

    def _list_for_station(
        self, charge_point_id: str, *, active: bool | None, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[Transaction], dict[str, Any] | None]:
        request: dict[str, Any] = {
            "IndexName": STATION_INDEX.name,
            "KeyConditionExpression": Key(STATION_INDEX.partition_key).eq(station_pk(charge_point_id))
            & Key(STATION_INDEX.sort_key).begins_with(TRANSACTION_PREFIX),
            "ScanIndexForward": False,
        }
        if active is not None:
            request["FilterExpression"] = Attr("stoppedAt").not_exists() if active else Attr("stoppedAt").exists()
        items, next_key = collect_page(
            self._table.query,
            request,
            limit=limit,
            start_key=start_key,
            key_names=(PARTITION_KEY, SORT_KEY, STATION_INDEX.partition_key, STATION_INDEX.sort_key),
        )
        return [transaction_from_item(item) for item in items], next_key


class MeterValueRepository:
    def __init__(self, table: Any):
        self._table = table

    def put_many(
        self,
        *,
        charge_point_id: str,
        connector_id: int,
        transaction_id: int | None,
        meter_values: list[dict[str, Any]],
        unmatched_transaction_id: int | None = None,
        follow_ups: list[dict[str, Any]] | None = None,
    ) -> None:
        """Store meter values; a retransmitted message writes the same keys again (idempotent). Values that name
        a transaction that is not the station's (`unmatched_transaction_id`) stay with the station's connector,
        that id noted, for the operator to look into: never with the transaction they name. `follow_ups` ride in
        the same BatchWriteItem: a repeat rewrites one (a MODIFY, which no reaction takes: it acts once)."""
        with self._table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for follow_up in follow_ups or ():
                batch.put_item(Item=follow_up)
            for meter_value in meter_values:
                item = self._item(charge_point_id, connector_id, transaction_id, meter_value)
                if unmatched_transaction_id:
                    item["unmatchedTransactionId"] = unmatched_transaction_id
                batch.put_item(Item=item)

    @staticmethod
    def _item(
        charge_point_id: str, connector_id: int, transaction_id: int | None, meter_value: dict[str, Any]
    ) -> dict[str, Any]:
        digest = hashlib.sha256(json.dumps(meter_value, sort_keys=True, default=str).encode()).hexdigest()[:12]
        timestamp = meter_value["timestamp"]
        if transaction_id:
            item_key = transaction_meter_value_key(transaction_id, timestamp, connector_id, digest)
        else:
            # MeterValues outside a transaction (transactionId 0 or absent) belong to the connector.
            item_key = connector_meter_value_key(charge_point_id, connector_id, timestamp, digest)
        return {
            **item_key,
            "chargePointId": charge_point_id,
            "connectorId": connector_id,
            **({"transactionId": transaction_id} if transaction_id else {}),
            "timestamp": timestamp,
            "sampledValue": meter_value["sampledValue"],
        }

    def list_for_transaction(self, transaction_id: int) -> list[RecordedMeterValue]:
        """Every meter value stored for the transaction, oldest first."""
        request: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(transaction_pk(transaction_id))
            & Key(SORT_KEY).begins_with(METER_VALUE_PREFIX)
        }
        values: list[RecordedMeterValue] = []
        while True:
            page = self._table.query(**request)
            values.extend(
                RecordedMeterValue(
                    timestamp=item["timestamp"],
                    connector_id=int(item["connectorId"]),
                    sampled_value=plain_json(item["sampledValue"]),
                )
                for item in page["Items"]
            )
            if "LastEvaluatedKey" not in page:
                return values
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
