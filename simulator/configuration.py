"""The station's configuration keys (OCPP 1.6 §9 and the Security Whitepaper's keys) and the rules of
GetConfiguration / ChangeConfiguration (§5.3, §5.8)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ocpp.v16.enums import ConfigurationStatus

SAMPLED_MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Power.Offered",
    "Current.Import",
    "Current.Offered",
    "Voltage",
    "SoC",
)
"""What the simulated meter can measure: the values a *SampledData / *AlignedData key may list."""

FEATURE_PROFILES = "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"


class Kind(StrEnum):
    INTEGER = "integer"
    BOOLEAN = "boolean"
    MEASURANDS = "measurands"  # comma separated list of measurands
    TEXT = "text"


@dataclass
class Key:
    name: str
    value: str
    kind: Kind
    readonly: bool = False
    write_only: bool = False
    """Security Whitepaper: AuthorizationKey is never reported by GetConfiguration."""
    reboot_required: bool = False
    """The new value takes effect after a reboot: ChangeConfiguration answers RebootRequired."""


def default_keys(*, connectors: int, heartbeat_interval: int, meter_interval: int, password: str | None) -> list[Key]:
    """A realistic key set for a station with `connectors` outlets, every feature profile supported."""
    integer, boolean, text = Kind.INTEGER, Kind.BOOLEAN, Kind.TEXT

    def measurands(name: str, value: str) -> list[Key]:
        """A *SampledData / *AlignedData key and its MaxLength: at most every measurand the meter has."""
        return [
            Key(name, value, Kind.MEASURANDS),
            Key(f"{name}MaxLength", str(len(SAMPLED_MEASURANDS)), integer, readonly=True),
        ]

    return [
        # Core
        Key("AllowOfflineTxForUnknownId", "false", boolean),
        Key("AuthorizationCacheEnabled", "true", boolean),
        Key("AuthorizeRemoteTxRequests", "false", boolean),
        Key("ClockAlignedDataInterval", "0", integer),
        Key("ConnectionTimeOut", "60", integer),
        Key("ConnectorPhaseRotation", ",".join(f"{n}.RST" for n in range(connectors + 1)), text),
        Key("GetConfigurationMaxKeys", "100", integer, readonly=True),
        Key("HeartbeatInterval", str(heartbeat_interval), integer),
        Key("LocalAuthorizeOffline", "true", boolean),
        Key("LocalPreAuthorize", "false", boolean),
        *measurands("MeterValuesAlignedData", "Energy.Active.Import.Register"),
        *measurands("MeterValuesSampledData", "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC"),
        Key("MeterValueSampleInterval", str(meter_interval), integer),
        Key("MinimumStatusDuration", "0", integer),
        Key("NumberOfConnectors", str(connectors), integer, readonly=True),
        Key("ResetRetries", "3", integer),
        Key("StopTransactionOnEVSideDisconnect", "true", boolean),
        Key("StopTransactionOnInvalidId", "true", boolean),
        *measurands("StopTxnAlignedData", ""),
        *measurands("StopTxnSampledData", "Energy.Active.Import.Register"),
        Key("SupportedFeatureProfiles", FEATURE_PROFILES, text, readonly=True),
        Key("TransactionMessageAttempts", "3", integer),
        Key("TransactionMessageRetryInterval", "60", integer),
        Key("UnlockConnectorOnEVSideDisconnect", "true", boolean),
        Key("WebSocketPingInterval", "60", integer, reboot_required=True),
        # Local Auth List Management
        Key("LocalAuthListEnabled", "true", boolean),
        Key("LocalAuthListMaxLength", "1000", integer, readonly=True),
        Key("SendLocalListMaxLength", "250", integer, readonly=True),
        # Reservation
        Key("ReserveConnectorZeroSupported", "false", boolean, readonly=True),
        # Smart Charging
        Key("ChargeProfileMaxStackLevel", "10", integer, readonly=True),
        Key("ChargingScheduleAllowedChargingRateUnit", "Current,Power", text, readonly=True),
        Key("ChargingScheduleMaxPeriods", "24", integer, readonly=True),
        Key("ConnectorSwitch3to1PhaseSupported", "false", boolean, readonly=True),
        Key("MaxChargingProfilesInstalled", "20", integer, readonly=True),
        # Security Whitepaper
        Key("AdditionalRootCertificateCheck", "false", boolean, readonly=True),
        Key("AuthorizationKey", password or "", text, write_only=True),
        Key("CertificateSignedMaxChainSize", "10000", integer, readonly=True),
        Key("CertificateStoreMaxLength", "10", integer, readonly=True),
        Key("CpoName", "", text),
        Key("SecurityProfile", "1" if password else "0", integer),
    ]


class Configuration:
    """Keys by name; OCPP key names are CiString50, compared without case (§7)."""

    def __init__(self, keys: Iterable[Key], overrides: Mapping[str, str] | None = None) -> None:
        self._keys = {key.name.lower(): key for key in keys}
        for name, value in (overrides or {}).items():
            self.key(name).value = value

    def key(self, name: str) -> Key:
        try:
            return self._keys[name.lower()]
        except KeyError:
            raise KeyError(f"unknown configuration key {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._keys

    def get(self, name: str) -> str:
        return self.key(name).value

    def integer(self, name: str) -> int:
        return int(self.get(name))

    def boolean(self, name: str) -> bool:
        return self.get(name).lower() == "true"

    def items(self, name: str) -> list[str]:
        return [item.strip() for item in self.get(name).split(",") if item.strip()]

    def read(self, names: list[str] | None) -> tuple[list[dict[str, object]], list[str]]:
        """GetConfiguration: every readable key when none is named, else the named ones and the unknown names.
        A write-only key is reported as unknown rather than revealed."""
        if not names:
            return [self._key_value(key) for key in self._keys.values() if not key.write_only], []
        known: list[dict[str, object]] = []
        unknown: list[str] = []
        for name in names:
            key = self._keys.get(name.lower())
            if key is None or key.write_only:
                unknown.append(name)
            else:
                known.append(self._key_value(key))
        return known, unknown

    def change(self, name: str, value: str) -> ConfigurationStatus:
        """ChangeConfiguration: NotSupported for an unknown key, Rejected for a read-only key or a value out of
        the key's range, RebootRequired when the key takes effect at the next boot, else Accepted."""
        key = self._keys.get(name.lower())
        if key is None:
            return ConfigurationStatus.not_supported
        if key.readonly:
            return ConfigurationStatus.rejected
        normalized = self._valid_value(key, value)
        if normalized is None:
            return ConfigurationStatus.rejected
        key.value = normalized
        return ConfigurationStatus.reboot_required if key.reboot_required else ConfigurationStatus.accepted

    def _valid_value(self, key: Key, value: str) -> str | None:
        value = value.strip()
        if key.name == "AuthorizationKey":
            # Security Whitepaper (security profile 1): the Basic-auth password has 16 to 40 characters.
            return value if 16 <= len(value) <= 40 else None
        if key.kind is Kind.INTEGER:
            if not value.isdigit():
                return None
            if key.name == "SecurityProfile" and not int(self.get("SecurityProfile")) <= int(value) <= 3:
                return None  # Security Whitepaper: the profile can be raised, never lowered
            return str(int(value))
        if key.kind is Kind.BOOLEAN:
            return value.lower() if value.lower() in ("true", "false") else None
        if key.kind is Kind.MEASURANDS:
            items = [item.strip() for item in value.split(",") if item.strip()]
            limit_key = f"{key.name}MaxLength"
            limit = self.integer(limit_key) if limit_key in self else len(SAMPLED_MEASURANDS)
            if len(items) > limit or any(item not in SAMPLED_MEASURANDS for item in items):
                return None
            return ",".join(items)
        return value

    @staticmethod
    def _key_value(key: Key) -> dict[str, object]:
        return {"key": key.name, "readonly": key.readonly, "value": key.value}
