"""A site's load control (pk `SITE#{siteId}`, sk `ALLOCATION`); the follow-ups that make it run (`ALLOC#{cause}`) are
in follow_ups.py.

- load control  `siteId`, `version` (counts each stored change: written only if it is still the version read),
                `connectors` [{chargePointId, connectorId, transactionId, targetA, confirmedA?, startedA?, attempt,
                refused, measuredA, inFlight: [{commandId, limitA, attempt}]}], `stations` [{chargePointId,
                variant?: {stackLevel, unit}, rejected?: [{stackLevel, unit}], defaultTargetA?, defaultA?,
                defaultAttempt, defaultRefused, defaultInFlight: [{commandId, limitA, attempt}]}] (one per member
                station: its TxDefaultProfile), `updatedAt`; domain/load_control.py says what each means

The version's condition keeps one writer per site should two runs of a site ever overlap (a retried batch).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from csms.adapters.dynamodb.follow_ups import put_once
from csms.adapters.dynamodb.keys import site_allocation_key
from csms.domain.clock import to_iso
from csms.domain.load_control import ConnectorControl, InFlight, SiteControl, StationControl, Variant
from csms.ocpp.v16.enums import ChargingRateUnitType


def _in_flight_value(in_flight: tuple[InFlight, ...]) -> list[dict[str, Any]]:
    return [{"commandId": sent.command_id, "limitA": sent.limit_a, "attempt": sent.attempt} for sent in in_flight]


def _in_flight(values: Any) -> tuple[InFlight, ...]:
    return tuple(
        InFlight(command_id=sent["commandId"], limit_a=Decimal(sent["limitA"]), attempt=int(sent["attempt"])) for sent in values
    )


def _station_value(station: StationControl) -> dict[str, Any]:
    value: dict[str, Any] = {
        "chargePointId": station.charge_point_id,
        "defaultAttempt": station.default_attempt,
        "defaultRefused": station.default_refused,
        "defaultInFlight": _in_flight_value(station.default_in_flight),
    }
    if station.variant is not None:
        value["variant"] = _variant_value(station.variant)
    if station.rejected:
        value["rejected"] = [_variant_value(variant) for variant in station.rejected]
    if station.default_target_a is not None:
        value["defaultTargetA"] = station.default_target_a
    if station.default_a is not None:
        value["defaultA"] = station.default_a
    return value


def _variant_value(variant: Variant) -> dict[str, Any]:
    return {"stackLevel": variant.stack_level, "unit": variant.unit.value}


def _variant(value: dict[str, Any]) -> Variant:
    return Variant(stack_level=int(value["stackLevel"]), unit=ChargingRateUnitType(value["unit"]))


def _station(value: dict[str, Any]) -> StationControl:
    return StationControl(
        charge_point_id=value["chargePointId"],
        variant=_variant(value["variant"]) if value.get("variant") else None,
        rejected=tuple(_variant(rejected) for rejected in value.get("rejected", ())),
        default_target_a=Decimal(value["defaultTargetA"]) if value.get("defaultTargetA") is not None else None,
        default_a=Decimal(value["defaultA"]) if value.get("defaultA") is not None else None,
        default_attempt=int(value.get("defaultAttempt", 0)),
        default_refused=bool(value.get("defaultRefused", False)),
        default_in_flight=_in_flight(value.get("defaultInFlight", ())),
    )


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
        "inFlight": _in_flight_value(control.in_flight),
    }
    if control.confirmed_a is not None:
        value["confirmedA"] = control.confirmed_a
    if control.started_a is not None:
        value["startedA"] = control.started_a
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
        started_a=Decimal(value["startedA"]) if value.get("startedA") is not None else None,
        in_flight=_in_flight(value.get("inFlight", ())),
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
            site_id=site_id,
            version=int(item["version"]),
            controls=tuple(_control(value) for value in item["connectors"]),
            stations=tuple(_station(value) for value in item.get("stations", ())),
        )

    def save(self, control: SiteControl, *, read_version: int, now: datetime, follow_ups: list[dict[str, Any]]) -> None:
        """Store the next version, with its follow-ups (its events), if the stored one is still `read_version`.
        Raises StaleControl otherwise (nothing written)."""
        item = {
            **site_allocation_key(control.site_id),
            "siteId": control.site_id,
            "version": control.version,
            "connectors": [_control_value(c) for c in control.controls],
            "stations": [_station_value(s) for s in control.stations],
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
