"""What a station confirmed of its set-up in answers to commands: configuration keys and charging profiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, kw_only=True)
class ConfigurationValue:
    value: str | None
    readonly: bool


@dataclass(frozen=True, kw_only=True)
class Configuration:
    """The station's last GetConfiguration answer, updated by the ChangeConfigurations it accepted since."""

    keys: dict[str, ConfigurationValue]
    unknown_keys: tuple[str, ...]
    updated_at: datetime | None = None

    def value(self, key: str) -> str | None:
        entry = self.keys.get(key)
        return entry.value if entry else None


@dataclass(frozen=True, kw_only=True)
class InstalledProfile:
    """A charging profile the station accepted (SetChargingProfile), until it is cleared or replaced."""

    connector_id: int
    charging_profile: dict[str, Any]
    """The csChargingProfiles as sent."""
    installed_at: datetime | None = None

    @property
    def charging_profile_id(self) -> int:
        return int(self.charging_profile["chargingProfileId"])
