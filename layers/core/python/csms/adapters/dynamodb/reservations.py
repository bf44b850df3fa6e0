"""Reservations (keys in keys.py) and the connector's hold on the station item (stations.py draws it).

- counter      `COUNTER`/`RESERVATION` `value`: atomic ADD gives the next reservationId
- reservation  `reservationId`, `chargePointId`, `connectorId`, `idTag`, `parentIdTag`?, `expiryDate`, `startAt`?,
               `limits`? (SessionLimits.to_json), `status`, `createdAt`, `acceptedAt`?, `sendingAt`? (its scheduled
               ReserveNow is on its way), `endedAt`?, `transactionId`? (Consumed), `refusal`? (Refused).
               Indexed by station (byStation), by idTag (byKind `RES#{IDTAG}`), and in the live index while
               Scheduled or Accepted.
- hold         station item attribute `reservation_{connectorId}` while Accepted: written with the acceptance,
               removed with the write that ends it.

Each change of status is one TransactWriteItems with what goes with it: the hold, and the follow-ups (the event
it causes, the workflow it starts). Every write is conditioned on the status it leaves, so a repeat (a station's
retransmitted answer, a workflow task run twice) changes nothing and its follow-ups are not written again.
A reservation that never reached Accepted has no hold; one the station refused at once has no item at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from csms.adapters.dynamodb.follow_ups import put_once
from csms.adapters.dynamodb.keys import (
    RESERVATION_PREFIX,
    id_tag_reservations_kind,
    live_reservation_keys,
    reservation_counter_key,
    reservation_index_keys,
    reservation_key,
    reservation_kind_keys,
    reserved_shards,
    station_key,
    station_pk,
)
from csms.adapters.dynamodb.operations import cancellation_codes, collect_page, list_by_index, update_if
from csms.adapters.dynamodb.schema import KIND_INDEX, LIVE_INDEX, PARTITION_KEY, SORT_KEY, STATION_INDEX
from csms.adapters.dynamodb.stations import hold_attribute, hold_value
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.clock import from_iso, to_iso
from csms.domain.limits import SessionLimits
from csms.domain.reservations import LIVE, Hold, Reservation, ReservationStatus, reservation_id_from_counter
from csms.ocpp.frames import plain_json

_NAMES = {"#status": "status"}
_LIVE_ATTRIBUTES = f"{LIVE_INDEX.partition_key}, {LIVE_INDEX.sort_key}"


def reservation_from_item(item: Mapping[str, Any]) -> Reservation:
    def moment(name: str) -> datetime | None:
        return from_iso(item[name]) if item.get(name) else None

    return Reservation(
        reservation_id=int(item["reservationId"]),
        charge_point_id=item["chargePointId"],
        connector_id=int(item["connectorId"]),
        id_tag=item["idTag"],
        parent_id_tag=item.get("parentIdTag"),
        expiry_date=from_iso(item["expiryDate"]),
        start_at=moment("startAt"),
        limits=SessionLimits.from_json(plain_json(item["limits"])) if item.get("limits") else None,
        status=ReservationStatus(item["status"]),
        created_at=from_iso(item["createdAt"]),
        accepted_at=moment("acceptedAt"),
        ended_at=moment("endedAt"),
        transaction_id=int(item["transactionId"]) if item.get("transactionId") is not None else None,
        refusal=item.get("refusal"),
    )


def _attributes(reservation: Reservation) -> dict[str, Any]:
    """Every attribute of the item but its key, as the reservation is now."""
    created = to_iso(reservation.created_at)
    attributes: dict[str, Any] = {
        **reservation_index_keys(reservation.charge_point_id, created, reservation.reservation_id),
        **reservation_kind_keys(reservation.id_tag, created, reservation.reservation_id),
        "reservationId": reservation.reservation_id,
        "chargePointId": reservation.charge_point_id,
        "connectorId": reservation.connector_id,
        "idTag": reservation.id_tag,
        "expiryDate": to_iso(reservation.expiry_date),
        "status": reservation.status.value,
        "createdAt": created,
    }
    optional = {
        "parentIdTag": reservation.parent_id_tag,
        "startAt": to_iso(reservation.start_at) if reservation.start_at else None,
        "limits": to_item_value(reservation.limits.to_json()) if reservation.limits and not reservation.limits.empty else None,
        "acceptedAt": to_iso(reservation.accepted_at) if reservation.accepted_at else None,
    }
    attributes.update({name: value for name, value in optional.items() if value is not None})
    if reservation.status in LIVE:
        attributes.update(live_reservation_keys(reservation.reservation_id))
    return attributes


class ReservationRepository:
    def __init__(self, table: Any):
        self._table = table
        self._client = table.meta.client

    def next_reservation_id(self) -> int:
        response = self._table.update_item(
            Key=reservation_counter_key(),
            UpdateExpression="ADD #value :one",
            ExpressionAttributeNames={"#value": "value"},
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        return reservation_id_from_counter(int(response["Attributes"]["value"]))

    def get(self, reservation_id: int) -> Reservation | None:
        item = self._table.get_item(Key=reservation_key(reservation_id), ConsistentRead=True).get("Item")
        return reservation_from_item(item) if item else None

    # --- changes of status ---------------------------------------------------------------------------

    def create_scheduled(self, reservation: Reservation, *, follow_ups: Sequence[dict[str, Any]]) -> None:
        """A reservation with a startAt, stored when it is made (its ReserveNow goes out later)."""
        item = {**reservation_key(reservation.reservation_id), **_attributes(reservation)}
        parts = [{"Put": {"TableName": self._table.name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}]
        self._client.transact_write_items(TransactItems=parts + [put_once(self._table.name, f) for f in follow_ups])

    def record_accepted(self, reservation: Reservation, *, follow_ups: Sequence[dict[str, Any]]) -> bool:
        """The station accepted the ReserveNow: the reservation (new, or its Scheduled item) becomes Accepted and the
        station item holds the connector for it. False when it was recorded before (a repeated answer) or is no
        longer Scheduled (cancelled while its ReserveNow was on its way), or its station is gone."""
        attributes = _attributes(reservation)
        names = {f"#a{n}": name for n, name in enumerate(attributes)}
        values = {f":a{n}": value for n, value in enumerate(attributes.values())}
        record = self._update_part(
            reservation_key(reservation.reservation_id),
            "SET " + ", ".join(f"#a{n} = :a{n}" for n in range(len(attributes))) + " REMOVE sendingAt",
            condition="attribute_not_exists(pk) OR #status = :scheduled",
            names={**names, **_NAMES},
            values={**values, ":scheduled": ReservationStatus.SCHEDULED.value},
        )
        hold = self._update_part(
            station_key(reservation.charge_point_id),
            "SET #hold = :hold",
            condition="attribute_exists(chargePointId)",
            names={"#hold": hold_attribute(reservation.connector_id)},
            values={":hold": hold_value(reservation.hold)},
        )
        return self._transact({"reservation": record, "hold": hold, **self._follow_up_parts(follow_ups)})

    def record_refused(
        self, reservation_id: int, *, refusal: str, at: datetime, follow_ups: Sequence[dict[str, Any]]
    ) -> bool:
        """A Scheduled reservation whose ReserveNow was refused or could not be delivered."""
        record = self._update_part(
            reservation_key(reservation_id),
            f"SET #status = :refused, refusal = :refusal, endedAt = :at REMOVE sendingAt, {_LIVE_ATTRIBUTES}",
            condition="#status = :scheduled",
            names=_NAMES,
            values={
                ":refused": ReservationStatus.REFUSED.value,
                ":refusal": refusal,
                ":at": to_iso(at),
                ":scheduled": ReservationStatus.SCHEDULED.value,
            },
        )
        return self._transact({"reservation": record, **self._follow_up_parts(follow_ups)})

    def claim_for_sending(self, reservation_id: int, *, at: datetime) -> Reservation | None:
        """A Scheduled reservation's ReserveNow is about to go out: from now on it can no longer be cancelled
        without asking the station. None if it is no longer Scheduled (cancelled meanwhile)."""
        response = update_if(
            self._table,
            Key=reservation_key(reservation_id),
            UpdateExpression="SET sendingAt = if_not_exists(sendingAt, :at)",
            ConditionExpression="#status = :scheduled",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues={":at": to_iso(at), ":scheduled": ReservationStatus.SCHEDULED.value},
            ReturnValues="ALL_NEW",
        )
        return reservation_from_item(response["Attributes"]) if response else None

    def cancel_scheduled(self, reservation_id: int, *, at: datetime, follow_ups: Sequence[dict[str, Any]]) -> bool:
        """Cancel a Scheduled reservation whose ReserveNow has not gone out: nothing to ask the station."""
        record = self._update_part(
            reservation_key(reservation_id),
            f"SET #status = :cancelled, endedAt = :at REMOVE {_LIVE_ATTRIBUTES}",
            condition="#status = :scheduled AND attribute_not_exists(sendingAt)",
            names=_NAMES,
            values={
                ":cancelled": ReservationStatus.CANCELLED.value,
                ":at": to_iso(at),
                ":scheduled": ReservationStatus.SCHEDULED.value,
            },
        )
        return self._transact({"reservation": record, **self._follow_up_parts(follow_ups)})

    def end(
        self, reservation: Reservation, status: ReservationStatus, *, at: datetime, follow_ups: Sequence[dict[str, Any]]
    ) -> bool:
        """An Accepted reservation expires or is cancelled, and its hold is released (if it is still its own: the
        hold part is left out otherwise). False when it was no longer Accepted."""
        record = self._update_part(
            reservation_key(reservation.reservation_id),
            f"SET #status = :status, endedAt = :at REMOVE {_LIVE_ATTRIBUTES}",
            condition="#status = :accepted",
            names=_NAMES,
            values={":status": status.value, ":at": to_iso(at), ":accepted": ReservationStatus.ACCEPTED.value},
        )
        release = self.release_hold_part(self._table.name, reservation.charge_point_id, reservation.hold)
        return self._transact({"reservation": record, **self._follow_up_parts(follow_ups)}, optional={"hold": release})

    # --- parts of other transactions ---------------------------------------------------------------------

    @staticmethod
    def consume_part(table_name: str, hold: Hold, *, transaction_id: int, at: datetime) -> dict[str, Any]:
        """The TransactWriteItems part by which a StartTransaction consumes an Accepted reservation (its hold is
        released by the start's own write of the station item: one item, one part)."""
        return {
            "Update": {
                "TableName": table_name,
                "Key": reservation_key(hold.reservation_id),
                "UpdateExpression": (
                    f"SET #status = :consumed, transactionId = :transaction, endedAt = :at REMOVE {_LIVE_ATTRIBUTES}"
                ),
                "ConditionExpression": "#status = :accepted",
                "ExpressionAttributeNames": _NAMES,
                "ExpressionAttributeValues": {
                    ":consumed": ReservationStatus.CONSUMED.value,
                    ":transaction": transaction_id,
                    ":at": to_iso(at),
                    ":accepted": ReservationStatus.ACCEPTED.value,
                },
            }
        }

    @staticmethod
    def release_hold_part(table_name: str, charge_point_id: str, hold: Hold) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": table_name,
                "Key": station_key(charge_point_id),
                "UpdateExpression": "REMOVE #hold",
                "ConditionExpression": "#hold.reservationId = :reservation",
                "ExpressionAttributeNames": {"#hold": hold_attribute(hold.connector_id)},
                "ExpressionAttributeValues": {":reservation": hold.reservation_id},
            }
        }

    # --- listings ----------------------------------------------------------------------------------------

    def list_page(
        self,
        *,
        charge_point_id: str | None = None,
        id_tag: str | None = None,
        status: ReservationStatus | None = None,
        limit: int,
        start_key: dict[str, Any] | None = None,
    ) -> tuple[list[Reservation], dict[str, Any] | None]:
        """Newest first: a station's (byStation), else a driver's (byKind); neither named, the live ones of the
        whole network (live index, in no particular order; only Scheduled or Accepted can be asked for then)."""
        if charge_point_id is not None:
            request: dict[str, Any] = {
                "IndexName": STATION_INDEX.name,
                "KeyConditionExpression": Key(STATION_INDEX.partition_key).eq(station_pk(charge_point_id))
                & Key(STATION_INDEX.sort_key).begins_with(RESERVATION_PREFIX),
                "ScanIndexForward": False,
            }
            condition = None
            if id_tag is not None:
                condition = Attr(KIND_INDEX.partition_key).eq(id_tag_reservations_kind(id_tag))
            if status is not None:
                by_status = Attr("status").eq(status.value)
                condition = by_status if condition is None else condition & by_status
            if condition is not None:
                request["FilterExpression"] = condition
            items, next_key = collect_page(
                self._table.query,
                request,
                limit=limit,
                start_key=start_key,
                key_names=(PARTITION_KEY, SORT_KEY, STATION_INDEX.partition_key, STATION_INDEX.sort_key),
            )
            return [reservation_from_item(item) for item in items], next_key
        keep = None if status is None else (lambda item: item.get("status") == status.value)
        if id_tag is not None:
            items, next_key = list_by_index(
                self._table, KIND_INDEX, [id_tag_reservations_kind(id_tag)],
                limit=limit, start_key=start_key, descending=True, keep=keep,
            )  # fmt: skip
        else:
            if status is not None and status not in LIVE:
                raise ValueError(f"{status} reservations are listed per chargePointId or idTag")
            items, next_key = list_by_index(
                self._table, LIVE_INDEX, reserved_shards(), limit=limit, start_key=start_key, keep=keep
            )
        return [reservation_from_item(item) for item in items], next_key

    # --- transactions ------------------------------------------------------------------------------------

    def _update_part(
        self, item_key: dict[str, str], expression: str, *, condition: str, names: dict[str, str], values: dict[str, Any]
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

    def _follow_up_parts(self, follow_ups: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {f"follow-up {n}": put_once(self._table.name, item) for n, item in enumerate(follow_ups)}

    def _transact(self, required: dict[str, dict[str, Any]], *, optional: dict[str, dict[str, Any]] | None = None) -> bool:
        """Write the parts as one transaction; an optional part whose condition fails is left out and the rest
        written. False (nothing written) when a required part's condition fails."""
        parts = {**required, **(optional or {})}
        while True:
            try:
                self._client.transact_write_items(TransactItems=list(parts.values()))
                return True
            except self._client.exceptions.TransactionCanceledException as error:
                failed = {
                    name
                    for name, code in zip(parts, cancellation_codes(error), strict=False)
                    if code == "ConditionalCheckFailed"
                }
                if not failed:
                    raise
                if failed & set(required):
                    return False
                for name in failed:
                    del parts[name]
