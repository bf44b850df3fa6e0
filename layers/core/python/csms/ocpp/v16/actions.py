"""The catalog of OCPP 1.6 actions: the single source of truth of what exists, who sends it, and
which feature profile it belongs to (OCPP 1.6 §3.3 feature profiles, §4/§5 who initiates, and the
OCPP 1.6 Security Whitepaper). Each action's request and response models are looked up by `messages.py`, in the
package of its initiators: what only needs the names (commands, their records, the operator API's listings) does
not build them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


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


class Action(StrEnum):
    """Every OCPP 1.6 action (and Security Whitepaper message), as named on the wire. Each has exactly one entry
    in the catalog below, checked at import."""

    AUTHORIZE = "Authorize"
    BOOT_NOTIFICATION = "BootNotification"
    CANCEL_RESERVATION = "CancelReservation"
    CERTIFICATE_SIGNED = "CertificateSigned"
    CHANGE_AVAILABILITY = "ChangeAvailability"
    CHANGE_CONFIGURATION = "ChangeConfiguration"
    CLEAR_CACHE = "ClearCache"
    CLEAR_CHARGING_PROFILE = "ClearChargingProfile"
    DATA_TRANSFER = "DataTransfer"
    DELETE_CERTIFICATE = "DeleteCertificate"
    DIAGNOSTICS_STATUS_NOTIFICATION = "DiagnosticsStatusNotification"
    EXTENDED_TRIGGER_MESSAGE = "ExtendedTriggerMessage"
    FIRMWARE_STATUS_NOTIFICATION = "FirmwareStatusNotification"
    GET_COMPOSITE_SCHEDULE = "GetCompositeSchedule"
    GET_CONFIGURATION = "GetConfiguration"
    GET_DIAGNOSTICS = "GetDiagnostics"
    GET_INSTALLED_CERTIFICATE_IDS = "GetInstalledCertificateIds"
    GET_LOCAL_LIST_VERSION = "GetLocalListVersion"
    GET_LOG = "GetLog"
    HEARTBEAT = "Heartbeat"
    INSTALL_CERTIFICATE = "InstallCertificate"
    LOG_STATUS_NOTIFICATION = "LogStatusNotification"
    METER_VALUES = "MeterValues"
    REMOTE_START_TRANSACTION = "RemoteStartTransaction"
    REMOTE_STOP_TRANSACTION = "RemoteStopTransaction"
    RESERVE_NOW = "ReserveNow"
    RESET = "Reset"
    SECURITY_EVENT_NOTIFICATION = "SecurityEventNotification"
    SEND_LOCAL_LIST = "SendLocalList"
    SET_CHARGING_PROFILE = "SetChargingProfile"
    SIGN_CERTIFICATE = "SignCertificate"
    SIGNED_FIRMWARE_STATUS_NOTIFICATION = "SignedFirmwareStatusNotification"
    SIGNED_UPDATE_FIRMWARE = "SignedUpdateFirmware"
    START_TRANSACTION = "StartTransaction"
    STATUS_NOTIFICATION = "StatusNotification"
    STOP_TRANSACTION = "StopTransaction"
    TRIGGER_MESSAGE = "TriggerMessage"
    UNLOCK_CONNECTOR = "UnlockConnector"
    UPDATE_FIRMWARE = "UpdateFirmware"


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: Action
    initiated_by: frozenset[Initiator]
    profile: Profile


_STATION = frozenset({Initiator.STATION})
_CENTRAL_SYSTEM = frozenset({Initiator.CENTRAL_SYSTEM})
_BOTH = frozenset(Initiator)

# (action, initiated by, profile).
_CATALOG: tuple[tuple[Action, frozenset[Initiator], Profile], ...] = (
    # Core
    (Action.AUTHORIZE, _STATION, Profile.CORE),
    (Action.BOOT_NOTIFICATION, _STATION, Profile.CORE),
    (Action.CHANGE_AVAILABILITY, _CENTRAL_SYSTEM, Profile.CORE),
    (Action.CHANGE_CONFIGURATION, _CENTRAL_SYSTEM, Profile.CORE),
    (Action.CLEAR_CACHE, _CENTRAL_SYSTEM, Profile.CORE),
    (Action.DATA_TRANSFER, _BOTH, Profile.CORE),  # vendor-specific, either side may call (OCPP 1.6 §4.3, §5.6)
    (Action.GET_CONFIGURATION, _CENTRAL_SYSTEM, Profile.CORE),
    (Action.HEARTBEAT, _STATION, Profile.CORE),
    (Action.METER_VALUES, _STATION, Profile.CORE),
    (Action.REMOTE_START_TRANSACTION, _CENTRAL_SYSTEM, Profile.CORE),
    (Action.REMOTE_STOP_TRANSACTION, _CENTRAL_SYSTEM, Profile.CORE),
    (Action.RESET, _CENTRAL_SYSTEM, Profile.CORE),
    (Action.START_TRANSACTION, _STATION, Profile.CORE),
    (Action.STATUS_NOTIFICATION, _STATION, Profile.CORE),
    (Action.STOP_TRANSACTION, _STATION, Profile.CORE),
    (Action.UNLOCK_CONNECTOR, _CENTRAL_SYSTEM, Profile.CORE),
    # Firmware Management
    (Action.DIAGNOSTICS_STATUS_NOTIFICATION, _STATION, Profile.FIRMWARE_MANAGEMENT),
    (Action.FIRMWARE_STATUS_NOTIFICATION, _STATION, Profile.FIRMWARE_MANAGEMENT),
    (Action.GET_DIAGNOSTICS, _CENTRAL_SYSTEM, Profile.FIRMWARE_MANAGEMENT),
    (Action.UPDATE_FIRMWARE, _CENTRAL_SYSTEM, Profile.FIRMWARE_MANAGEMENT),
    # Local Auth List Management
    (Action.GET_LOCAL_LIST_VERSION, _CENTRAL_SYSTEM, Profile.LOCAL_AUTH_LIST_MANAGEMENT),
    (Action.SEND_LOCAL_LIST, _CENTRAL_SYSTEM, Profile.LOCAL_AUTH_LIST_MANAGEMENT),
    # Reservation
    (Action.CANCEL_RESERVATION, _CENTRAL_SYSTEM, Profile.RESERVATION),
    (Action.RESERVE_NOW, _CENTRAL_SYSTEM, Profile.RESERVATION),
    # Smart Charging
    (Action.CLEAR_CHARGING_PROFILE, _CENTRAL_SYSTEM, Profile.SMART_CHARGING),
    (Action.GET_COMPOSITE_SCHEDULE, _CENTRAL_SYSTEM, Profile.SMART_CHARGING),
    (Action.SET_CHARGING_PROFILE, _CENTRAL_SYSTEM, Profile.SMART_CHARGING),
    # Remote Trigger
    (Action.TRIGGER_MESSAGE, _CENTRAL_SYSTEM, Profile.REMOTE_TRIGGER),
    # Security Whitepaper
    (Action.CERTIFICATE_SIGNED, _CENTRAL_SYSTEM, Profile.SECURITY),
    (Action.DELETE_CERTIFICATE, _CENTRAL_SYSTEM, Profile.SECURITY),
    (Action.EXTENDED_TRIGGER_MESSAGE, _CENTRAL_SYSTEM, Profile.SECURITY),
    (Action.GET_INSTALLED_CERTIFICATE_IDS, _CENTRAL_SYSTEM, Profile.SECURITY),
    (Action.GET_LOG, _CENTRAL_SYSTEM, Profile.SECURITY),
    (Action.INSTALL_CERTIFICATE, _CENTRAL_SYSTEM, Profile.SECURITY),
    (Action.LOG_STATUS_NOTIFICATION, _STATION, Profile.SECURITY),
    (Action.SECURITY_EVENT_NOTIFICATION, _STATION, Profile.SECURITY),
    (Action.SIGN_CERTIFICATE, _STATION, Profile.SECURITY),
    (Action.SIGNED_FIRMWARE_STATUS_NOTIFICATION, _STATION, Profile.SECURITY),
    (Action.SIGNED_UPDATE_FIRMWARE, _CENTRAL_SYSTEM, Profile.SECURITY),
)

ACTIONS: Mapping[Action, ActionSpec] = MappingProxyType(
    {
        name: ActionSpec(name, initiated_by, profile)
        for name, initiated_by, profile in _CATALOG
    }
)
if len(ACTIONS) != len(_CATALOG) or set(ACTIONS) != set(Action):
    raise RuntimeError(f"The action catalog and the Action enum disagree: {sorted(set(Action) ^ set(ACTIONS))}")

STATION_ACTIONS: frozenset[Action] = frozenset(
    name for name, spec in ACTIONS.items() if Initiator.STATION in spec.initiated_by
)
CENTRAL_SYSTEM_ACTIONS: frozenset[Action] = frozenset(
    name for name, spec in ACTIONS.items() if Initiator.CENTRAL_SYSTEM in spec.initiated_by
)


def parse_action(name: str) -> Action | None:
    """The Action a wire name stands for; None for a name OCPP 1.6 does not define (case-sensitive, as on the wire)."""
    try:
        return Action(name)
    except ValueError:
        return None
