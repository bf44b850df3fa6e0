"""What the CSMS learned from a station's answers: its configuration snapshot and installed charging profiles.

- configuration  `chargePointId`, `keys` {key: {value, readonly}}, `unknownKeys`, `updatedAt` (its own item: it
                 can be large, and the station item must stay small for cheap heartbeats)
- profile        `chargePointId`, `connectorId`, `chargingProfile` (as sent), `installedAt`
- on the station item: `localListVersion`, and `passwordHash` once a new AuthorizationKey was accepted
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from csms.adapters.dynamodb.keys import PROFILE_PREFIX, configuration_key, profile_key, station_key, station_pk
from csms.adapters.dynamodb.schema import PARTITION_KEY, SORT_KEY
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.clock import from_iso, to_iso
from csms.domain.station_config import Configuration, ConfigurationValue, InstalledProfile
from csms.ocpp.frames import plain_json


def _configuration_from_item(item: dict[str, Any]) -> Configuration:
    return Configuration(
        keys={
            name: ConfigurationValue(value=entry.get("value"), readonly=bool(entry.get("readonly")))
            for name, entry in item.get("keys", {}).items()
        },
        unknown_keys=tuple(item.get("unknownKeys", [])),
        updated_at=from_iso(item["updatedAt"]) if item.get("updatedAt") else None,
    )


def _profile_from_item(item: dict[str, Any]) -> InstalledProfile:
    return InstalledProfile(
        connector_id=int(item["connectorId"]),
        charging_profile=plain_json(item["chargingProfile"]),
        installed_at=from_iso(item["installedAt"]) if item.get("installedAt") else None,
    )


class StationConfigRepository:
    def __init__(self, table: Any):
        self._table = table

    def configuration(self, charge_point_id: str) -> Configuration | None:
        item = self._table.get_item(Key=configuration_key(charge_point_id)).get("Item")
        return _configuration_from_item(item) if item else None

    def merge_configuration(
        self, charge_point_id: str, keys: dict[str, ConfigurationValue], unknown_keys: list[str], *, at: datetime
    ) -> None:
        """GetConfiguration answered: the reported keys replace what we knew of them."""
        current = self.configuration(charge_point_id)
        known = dict(current.keys) if current else {}
        self._put_configuration(charge_point_id, {**known, **keys}, sorted(set(unknown_keys)), at)

    def set_key(self, charge_point_id: str, name: str, value: str, *, at: datetime) -> None:
        """ChangeConfiguration accepted: one key changed."""
        current = self.configuration(charge_point_id)
        keys = dict(current.keys) if current else {}
        previous = keys.get(name)
        keys[name] = ConfigurationValue(value=value, readonly=previous.readonly if previous else False)
        self._put_configuration(charge_point_id, keys, list(current.unknown_keys) if current else [], at)

    def _put_configuration(
        self, charge_point_id: str, keys: dict[str, ConfigurationValue], unknown_keys: list[str], at: datetime
    ) -> None:
        # Read-modify-write is safe here: one central-system call per station is outstanding at a time.
        self._table.put_item(
            Item={
                **configuration_key(charge_point_id),
                "chargePointId": charge_point_id,
                "keys": {
                    name: {"value": entry.value, "readonly": entry.readonly} for name, entry in keys.items()
                },
                "unknownKeys": unknown_keys,
                "updatedAt": to_iso(at),
            }
        )

    def set_local_list_version(self, charge_point_id: str, version: int) -> None:
        self._table.update_item(
            Key=station_key(charge_point_id),
            UpdateExpression="SET localListVersion = :version",
            ConditionExpression="attribute_exists(chargePointId)",
            ExpressionAttributeValues={":version": version},
        )

    def set_password_hash(self, charge_point_id: str, password_hash: str) -> None:
        self._table.update_item(
            Key=station_key(charge_point_id),
            UpdateExpression="SET passwordHash = :hash",
            ConditionExpression="attribute_exists(chargePointId)",
            ExpressionAttributeValues={":hash": password_hash},
        )

    def profiles(self, charge_point_id: str) -> list[InstalledProfile]:
        return [_profile_from_item(item) for item in self._profile_items(charge_point_id)]

    def _profile_items(self, charge_point_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._table.query(
            KeyConditionExpression=Key(PARTITION_KEY).eq(station_pk(charge_point_id)) & Key(SORT_KEY).begins_with(PROFILE_PREFIX)
        )["Items"]
        return items

    def put_profile(self, charge_point_id: str, connector_id: int, profile: dict[str, Any], *, at: datetime) -> None:
        # OCPP 1.6 §5.16.1: a profile with the same chargingProfileId replaces the installed one, on any connector.
        for installed in self.profiles(charge_point_id):
            if installed.charging_profile_id == int(profile["chargingProfileId"]):
                self._table.delete_item(
                    Key=profile_key(charge_point_id, installed.connector_id, installed.charging_profile_id)
                )
        self._table.put_item(
            Item={
                **profile_key(charge_point_id, connector_id, int(profile["chargingProfileId"])),
                "chargePointId": charge_point_id,
                "connectorId": connector_id,
                "chargingProfile": to_item_value(profile),
                "installedAt": to_iso(at),
            }
        )

    def delete_profiles(self, charge_point_id: str, matches: Callable[[InstalledProfile], bool]) -> int:
        removed = 0
        for installed in self.profiles(charge_point_id):
            if matches(installed):
                self._table.delete_item(
                    Key=profile_key(charge_point_id, installed.connector_id, installed.charging_profile_id)
                )
                removed += 1
        return removed
