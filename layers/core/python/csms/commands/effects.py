"""What a station's answer to a command changes in what the CSMS knows (issue: operators see the station's
configuration, local list version and charging profiles as the station last confirmed them; a reservation exists
once its station accepted it).

Every command also stays in the station's history (the commands index), so Reset, UnlockConnector and
the rest are visible there without an effect of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csms.domain.commands import Command
from csms.domain.passwords import hash_password
from csms.domain.station_config import ConfigurationValue, InstalledProfile
from csms.ocpp.v16.actions import Action
from csms.reservations import answers as reservations
from csms.runtime.wiring import Services

AUTHORIZATION_KEY = "AuthorizationKey"  # Security Whitepaper §2.3: the station's Basic auth password
REDACTED = "***"
CONFIG_CHANGED = ("Accepted", "RebootRequired")


def prepare(action: Action, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the request as it may be stored and shown, what the answer's effects will need).
    A new AuthorizationKey is never stored in clear: only its salted hash waits for the station's Accepted."""
    if action is Action.CHANGE_CONFIGURATION and payload.get("key") == AUTHORIZATION_KEY:
        return {**payload, "value": REDACTED}, {"passwordHash": hash_password(payload["value"])}
    return payload, None


def apply(services: Services, command: Command) -> None:
    effect = _EFFECTS.get(command.action)
    if effect is not None and command.response is not None:
        effect(services, command, command.request, command.response)


def _get_configuration(services: Services, command: Command, request: dict[str, Any], response: dict[str, Any]) -> None:
    keys = {
        entry["key"]: ConfigurationValue(value=entry.get("value"), readonly=entry["readonly"])
        for entry in response.get("configurationKey", [])
        if entry["key"] != AUTHORIZATION_KEY  # write-only by the spec; never keep it even if a station leaks it
    }
    services.station_config.merge_configuration(
        command.charge_point_id, keys, response.get("unknownKey", []), at=services.clock.now()
    )


def _change_configuration(services: Services, command: Command, request: dict[str, Any], response: dict[str, Any]) -> None:
    if response["status"] not in CONFIG_CHANGED:
        return
    if request["key"] == AUTHORIZATION_KEY:
        # The station took the new key: from now on only it opens a connection.
        services.station_config.set_password_hash(command.charge_point_id, (command.context or {})["passwordHash"])
        return
    services.station_config.set_key(command.charge_point_id, request["key"], request["value"], at=services.clock.now())


def _send_local_list(services: Services, command: Command, request: dict[str, Any], response: dict[str, Any]) -> None:
    if response["status"] == "Accepted":
        services.station_config.set_local_list_version(command.charge_point_id, int(request["listVersion"]))


def _get_local_list_version(services: Services, command: Command, request: dict[str, Any], response: dict[str, Any]) -> None:
    services.station_config.set_local_list_version(command.charge_point_id, int(response["listVersion"]))


def _set_charging_profile(services: Services, command: Command, request: dict[str, Any], response: dict[str, Any]) -> None:
    if response["status"] == "Accepted":
        services.station_config.put_profile(
            command.charge_point_id, int(request["connectorId"]), request["csChargingProfiles"], at=services.clock.now()
        )


def _clear_charging_profile(services: Services, command: Command, request: dict[str, Any], response: dict[str, Any]) -> None:
    """OCPP 1.6 §5.5: by id alone, or by every criterion given (connector, purpose, stack level)."""
    if response["status"] != "Accepted":
        return

    def matches(installed: InstalledProfile) -> bool:
        profile = installed.charging_profile
        if "id" in request:
            return installed.charging_profile_id == int(request["id"])
        return (
            ("connectorId" not in request or installed.connector_id == int(request["connectorId"]))
            and (
                "chargingProfilePurpose" not in request or profile["chargingProfilePurpose"] == request["chargingProfilePurpose"]
            )
            and ("stackLevel" not in request or int(profile["stackLevel"]) == int(request["stackLevel"]))
        )

    services.station_config.delete_profiles(command.charge_point_id, matches)


_EFFECTS: dict[Action, Callable[[Services, Command, dict[str, Any], dict[str, Any]], None]] = {
    Action.GET_CONFIGURATION: _get_configuration,
    Action.CHANGE_CONFIGURATION: _change_configuration,
    Action.SEND_LOCAL_LIST: _send_local_list,
    Action.GET_LOCAL_LIST_VERSION: _get_local_list_version,
    Action.SET_CHARGING_PROFILE: _set_charging_profile,
    Action.CLEAR_CHARGING_PROFILE: _clear_charging_profile,
    Action.RESERVE_NOW: lambda services, command, request, response: reservations.reserve_now_answered(
        services, command, response
    ),
    Action.CANCEL_RESERVATION: lambda services, command, request, response: reservations.cancel_reservation_answered(
        services, command, response
    ),
}
