"""The catalog of OCPP 1.6 actions: the single source of truth of what exists, who sends it, and
which feature profile it belongs to (OCPP 1.6 §3.3 feature profiles, §4/§5 who initiates, and the
OCPP 1.6 Security Whitepaper).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from csms.ocpp.v16 import call, call_result
from csms.ocpp.v16.types import OcppModel


class Initiator(StrEnum):
    """Who sends the CALL of an action."""

    STATION = "ChargePoint"
    CENTRAL_SYSTEM = "CentralSystem"


class Profile(StrEnum):
    """Feature profile; the first six values are those of the SupportedFeatureProfiles key (OCPP 1.6 §9)."""

    CORE = "Core"
    FIRMWARE_MANAGEMENT = "FirmwareManagement"
    LOCAL_AUTH_LIST_MANAGEMENT = "LocalAuthListManagement"
    RESERVATION = "Reservation"
    SMART_CHARGING = "SmartCharging"
    REMOTE_TRIGGER = "RemoteTrigger"
    SECURITY = "Security"  # OCPP 1.6 Security Whitepaper, not a 1.6 feature profile of its own


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    request: type[OcppModel]
    response: type[OcppModel]
    initiated_by: frozenset[Initiator]
    profile: Profile


_STATION = frozenset({Initiator.STATION})
_CENTRAL_SYSTEM = frozenset({Initiator.CENTRAL_SYSTEM})
_BOTH = frozenset(Initiator)

# (action, initiated by, profile). The request and response classes are looked up by the action name,
# so a class named differently from its action cannot be registered by mistake.
_CATALOG: tuple[tuple[str, frozenset[Initiator], Profile], ...] = (
    # Core
    ("Authorize", _STATION, Profile.CORE),
    ("BootNotification", _STATION, Profile.CORE),
    ("ChangeAvailability", _CENTRAL_SYSTEM, Profile.CORE),
    ("ChangeConfiguration", _CENTRAL_SYSTEM, Profile.CORE),
    ("ClearCache", _CENTRAL_SYSTEM, Profile.CORE),
    ("DataTransfer", _BOTH, Profile.CORE),  # vendor-specific, either side may call (OCPP 1.6 §4.3, §5.6)
    ("GetConfiguration", _CENTRAL_SYSTEM, Profile.CORE),
    ("Heartbeat", _STATION, Profile.CORE),
    ("MeterValues", _STATION, Profile.CORE),
    ("RemoteStartTransaction", _CENTRAL_SYSTEM, Profile.CORE),
    ("RemoteStopTransaction", _CENTRAL_SYSTEM, Profile.CORE),
    ("Reset", _CENTRAL_SYSTEM, Profile.CORE),
    ("StartTransaction", _STATION, Profile.CORE),
    ("StatusNotification", _STATION, Profile.CORE),
    ("StopTransaction", _STATION, Profile.CORE),
    ("UnlockConnector", _CENTRAL_SYSTEM, Profile.CORE),
    # Firmware Management
    ("DiagnosticsStatusNotification", _STATION, Profile.FIRMWARE_MANAGEMENT),
    ("FirmwareStatusNotification", _STATION, Profile.FIRMWARE_MANAGEMENT),
    ("GetDiagnostics", _CENTRAL_SYSTEM, Profile.FIRMWARE_MANAGEMENT),
    ("UpdateFirmware", _CENTRAL_SYSTEM, Profile.FIRMWARE_MANAGEMENT),
    # Local Auth List Management
    ("GetLocalListVersion", _CENTRAL_SYSTEM, Profile.LOCAL_AUTH_LIST_MANAGEMENT),
    ("SendLocalList", _CENTRAL_SYSTEM, Profile.LOCAL_AUTH_LIST_MANAGEMENT),
    # Reservation
    ("CancelReservation", _CENTRAL_SYSTEM, Profile.RESERVATION),
    ("ReserveNow", _CENTRAL_SYSTEM, Profile.RESERVATION),
    # Smart Charging
    ("ClearChargingProfile", _CENTRAL_SYSTEM, Profile.SMART_CHARGING),
    ("GetCompositeSchedule", _CENTRAL_SYSTEM, Profile.SMART_CHARGING),
    ("SetChargingProfile", _CENTRAL_SYSTEM, Profile.SMART_CHARGING),
    # Remote Trigger
    ("TriggerMessage", _CENTRAL_SYSTEM, Profile.REMOTE_TRIGGER),
    # Security Whitepaper
    ("CertificateSigned", _CENTRAL_SYSTEM, Profile.SECURITY),
    ("DeleteCertificate", _CENTRAL_SYSTEM, Profile.SECURITY),
    ("ExtendedTriggerMessage", _CENTRAL_SYSTEM, Profile.SECURITY),
    ("GetInstalledCertificateIds", _CENTRAL_SYSTEM, Profile.SECURITY),
    ("GetLog", _CENTRAL_SYSTEM, Profile.SECURITY),
    ("InstallCertificate", _CENTRAL_SYSTEM, Profile.SECURITY),
    ("LogStatusNotification", _STATION, Profile.SECURITY),
    ("SecurityEventNotification", _STATION, Profile.SECURITY),
    ("SignCertificate", _STATION, Profile.SECURITY),
    ("SignedFirmwareStatusNotification", _STATION, Profile.SECURITY),
    ("SignedUpdateFirmware", _CENTRAL_SYSTEM, Profile.SECURITY),
)

ACTIONS: Mapping[str, ActionSpec] = MappingProxyType(
    {
        name: ActionSpec(name, getattr(call, name), getattr(call_result, name), initiated_by, profile)
        for name, initiated_by, profile in _CATALOG
    }
)

STATION_ACTIONS: frozenset[str] = frozenset(
    name for name, spec in ACTIONS.items() if Initiator.STATION in spec.initiated_by
)
CENTRAL_SYSTEM_ACTIONS: frozenset[str] = frozenset(
    name for name, spec in ACTIONS.items() if Initiator.CENTRAL_SYSTEM in spec.initiated_by
)
