"""A site's load control (pk `SITE#{siteId}`, sk `ALLOCATION`) and the follow-ups that make it run (`ALLOC#{cause}`).

- load control  `siteId`, `version` (counts each stored change: written only if it is still the version read),
                `connectors` [{chargePointId, connectorId, transactionId, targetA, confirmedA?, attempt, refused,
                measuredA, inFlight: [{commandId, limitA, attempt}]}] (domain/load_control.py says what each means), `updatedAt`
- run           `siteId`, `cause` (`START#{tx}`, `STOP#{tx}`, `STATUS#{station}#{connector}#{at}`, `SITE#{version}`,
                `BOOT#{station}#{at}`, `ANSWER#{commandId}#{status}`, `IGNORED#{tx}`, `DELETED#{version}`),
                `chargePointId`?, `transactionId` and `measuredA` (IGNORED: the samples above its limit): the stream
                runs the site's load control once for it (csms/energy/stream.py); written once per cause, expires like every
                follow-up

A run lives in its site's partition, so the table's stream delivers a site's runs in order to one invocation at a
time (one writer per site); the version's condition keeps that true should two ever overlap (a retried batch).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from csms.adapters.dynamodb.follow_ups import FOLLOW_UP_RETENTION, put_once
from csms.adapters.dynamodb.keys import load_control_run_key, site_allocation_key
from csms.adapters.dynamodb.schema import TTL_ATTRIBUTE
from csms.domain.clock import to_iso
from csms.domain.load_control import ConnectorControl, InFlight, SiteControl


def run_item(
    site_id: str,
    cause: str,
    *,
    now: datetime,
    charge_point_id: str | None = None,
    measured: tuple[int, tuple[Decimal, ...]] | None = None,
) -> dict[str, Any]:
    """A follow-up that runs the site's load control (put with `put_once`, or `FollowUps.put`). `measured`: the
    transaction whose station ignores its limit, and the samples that show it."""
    return {
        **load_control_run_key(site_id, cause),
        "siteId": site_id,
        "cause": cause,
        **({"chargePointId": charge_point_id} if charge_point_id else {}),
        **({"transactionId": measured[0], "measuredA": list(measured[1])} if measured else {}),
        TTL_ATTRIBUTE: int((now + FOLLOW_UP_RETENTION).timestamp()),
    }


def _control_value(control: ConnectorControl) -> dict[str, Any]:
    value: dict[str, Any] = {
        "chargePointId": control.charge_point_id,
        "connectorId": control.connector_id,
        "transactionId": control.transaction_id,
        "targetA": control.target_a,
        "attempt": control.attempt,
        "refused": control.refused,
        "lending": control.lending,
        "measuredA": list(control.measured_a),
        "inFlight": [
            {"commandId": sent.command_id, "limitA": sent.limit_a, "attempt": sent.attempt} for sent in control.in_flight
        ],
    }
    if control.confirmed_a is not None:
        value["confirmedA"] = control.confirmed_a
    return value


def _control(value: dict[str, Any]) -> ConnectorControl:
    return ConnectorControl(
        charge_point_id=value["chargePointId"],
        connector_id=int(value["connectorId"]),
        transaction_id=int(value["transactionId"]),
        target_a=Decimal(value["targetA"]),
        confirmed_a=Decimal(value["confirmedA"]) if value.get("confirmedA") is not None else None,
        attempt=int(value.get("attempt", 0)),
        refused=bool(value.get("refused", False)),
        lending=bool(value.get("lending", False)),
        measured_a=tuple(Decimal(sample) for sample in value.get("measuredA", ())),
        in_flight=tuple(
            InFlight(command_id=sent["commandId"], limit_a=Decimal(sent["limitA"]), attempt=int(sent["attempt"]))
            for sent in value.get("inFlight", ())
        ),
    )


class StaleControl(Exception):
    """Another run stored the site's load control since this one read it."""


class LoadControlRepository:
    def __init__(self, table: Any):
        self._table = table
        self._client = table.meta.client

    def get(self, site_id: str) -> SiteControl:
        item = self._table.get_item(Key=site_allocation_key(site_id), ConsistentRead=True).get("Item")
        if item is None:
            return SiteControl(site_id=site_id)
        return SiteControl(
            site_id=site_id, version=int(item["version"]), controls=tuple(_control(value) for value in item["connectors"])
        )

    def save(self, control: SiteControl, *, read_version: int, now: datetime, follow_ups: list[dict[str, Any]]) -> None:
        """Store the next version, with its follow-ups (its events), if the stored one is still `read_version`.
        Raises StaleControl otherwise (nothing written)."""
        item = {
            **site_allocation_key(control.site_id),
            "siteId": control.site_id,
            "version": control.version,
            "connectors": [_control_value(c) for c in control.controls],
            "updatedAt": to_iso(now),
        }
        condition = "attribute_not_exists(pk)" if read_version == 0 else "version = :read"
        put: dict[str, Any] = {"TableName": self._table.name, "Item": item, "ConditionExpression": condition}
        if read_version:
            put["ExpressionAttributeValues"] = {":read": read_version}
        try:
            self._client.transact_write_items(TransactItems=[{"Put": put}, *(put_once(self._table.name, f) for f in follow_ups)])
        except self._client.exceptions.TransactionCanceledException:
            raise StaleControl(control.site_id) from None

    def delete(self, site_id: str) -> None:
        self._table.delete_item(Key=site_allocation_key(site_id))
