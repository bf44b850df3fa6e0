"""What the CSMS learned from a station's answers: its configuration snapshot and installed charging profiles.

- configuration  pk `CP#{station}`, sk `CONFIG`: `keys` {key: {value, readonly}}, `unknownKeys`, `updatedAt`
                 (its own item: it can be large, and the station item must stay small for cheap heartbeats)
- profile        pk `CP#{station}`, sk `PROFILE#{connectorId}#{chargingProfileId}`: the installed profile
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from csms.adapters.dynamodb.keys import key, station_key, station_pk
from csms.adapters.dynamodb.schema import PARTITION_KEY, SORT_KEY
from csms.adapters.dynamodb.values import to_item_value
from csms.domain.clock import to_iso

CONFIG_SK = "CONFIG"
PROFILE_PREFIX = "PROFILE#"


class StationConfigRepository:
    def __init__(self, table: Any):
        self._table = table

    def configuration(self, charge_point_id: str) -> dict[str, Any] | None:
        return self._table.get_item(Key=key(station_pk(charge_point_id), CONFIG_SK)).get("Item")

    def merge_configuration(
        self, charge_point_id: str, keys: dict[str, dict[str, Any]], unknown_keys: list[str], *, at: datetime
    ) -> None:
        """GetConfiguration answered: the reported keys replace what we knew of them."""
        current = self.configuration(charge_point_id) or {}
        self._put_configuration(charge_point_id, {**current.get("keys", {}), **keys}, sorted(set(unknown_keys)), at)

    def set_key(self, charge_point_id: str, name: str, value: str, *, at: datetime) -> None:
        """ChangeConfiguration accepted: one key changed."""
        current = self.configuration(charge_point_id) or {}
        keys = current.get("keys", {})
        keys[name] = {**keys.get(name, {"readonly": False}), "value": value}
        self._put_configuration(charge_point_id, keys, current.get("unknownKeys", []), at)

    def _put_configuration(
        self, charge_point_id: str, keys: dict[str, Any], unknown_keys: list[str], at: datetime
    ) -> None:
        # Read-modify-write is safe here: one central-system call per station is outstanding at a time.
        self._table.put_item(
            Item={
                **key(station_pk(charge_point_id), CONFIG_SK),
                "chargePointId": charge_point_id,
                "keys": keys,
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

    def profiles(self, charge_point_id: str) -> list[dict[str, Any]]:
        return self._table.query(
            KeyConditionExpression=Key(PARTITION_KEY).eq(station_pk(charge_point_id)) & Key(SORT_KEY).begins_with(PROFILE_PREFIX)
        )["Items"]

    def put_profile(self, charge_point_id: str, connector_id: int, profile: dict[str, Any], *, at: datetime) -> None:
        # OCPP 1.6 §5.16.1: a profile with the same chargingProfileId replaces the installed one, on any connector.
        for installed in self.profiles(charge_point_id):
            if installed["chargingProfile"]["chargingProfileId"] == profile["chargingProfileId"]:
                self._table.delete_item(Key=key(installed[PARTITION_KEY], installed[SORT_KEY]))
        self._table.put_item(
            Item={
                **key(station_pk(charge_point_id), f"{PROFILE_PREFIX}{connector_id}#{profile['chargingProfileId']}"),
                "chargePointId": charge_point_id,
                "connectorId": connector_id,
                "chargingProfile": to_item_value(profile),
                "installedAt": to_iso(at),
            }
        )

    def delete_profiles(self, charge_point_id: str, matches: Any) -> int:
        removed = 0
        for installed in self.profiles(charge_point_id):
            if matches(int(installed["connectorId"]), installed["chargingProfile"]):
                self._table.delete_item(Key=key(installed[PARTITION_KEY], installed[SORT_KEY]))
                removed += 1
        return removed
