"""$connect authorizer: who may open an OCPP connection (OCPP 1.6 Security Whitepaper, profiles 1 and 2).

Raising `Unauthorized` makes API Gateway answer 401 (bad or missing credentials: the station should
retry with the right ones); a Deny policy makes it answer 403 (this station may not connect at all).
The Allow policy's context reaches every route of the connection, so the message path needs no lookup
to know who is talking. No password or header value is ever logged.
"""

from __future__ import annotations

import hmac
from typing import Any

from csms.domain.passwords import parse_basic_authorization, verify_password
from csms.domain.station_identity import is_valid_station_id
from csms.gateway.events import AuthorizerEvent
from csms.runtime.observability import logger
from csms.runtime.settings import UnknownStationPolicy
from csms.runtime.wiring import Services

ORIGIN_HEADER = "X-Origin-Verify"
CHARGE_POINT_ID_PARAMETER = "chargePointId"


class Unauthorized(Exception):
    def __init__(self) -> None:
        super().__init__("Unauthorized")  # the exact message API Gateway maps to 401


def authorize_connection(event: AuthorizerEvent, services: Services) -> dict[str, Any]:
    settings = services.settings
    charge_point_id = (event.query_string_parameters or {}).get(CHARGE_POINT_ID_PARAMETER)
    if settings.origin_secret and not hmac.compare_digest(
        (event.header(ORIGIN_HEADER) or "").encode(), settings.origin_secret.encode()
    ):
        logger.warning("Connection that bypassed the front door", extra={"source_ip": event.request_context.identity.source_ip})
        return _policy("Deny", charge_point_id or "unknown", event.method_arn)
    if not charge_point_id or not is_valid_station_id(charge_point_id):  # the front door refused it already
        return _policy("Deny", "unknown", event.method_arn)

    station = services.stations.get(charge_point_id)
    registered = station is not None and station.registered
    if not registered and settings.unknown_station_policy is UnknownStationPolicy.REJECT:
        logger.info("Unknown station refused", extra={"charge_point_id": charge_point_id})
        return _policy("Deny", charge_point_id, event.method_arn)

    if station is not None and station.password_hash:
        credentials = parse_basic_authorization(event.header("Authorization"))
        # OCPP 1.6 Security Whitepaper §2.3: the Basic auth username is the charge point identity.
        if credentials is None or credentials[0] != charge_point_id or not verify_password(credentials[1], station.password_hash):
            logger.warning("Station failed Basic authentication", extra={"charge_point_id": charge_point_id})
            raise Unauthorized()

    context = {
        "chargePointId": charge_point_id,
        "lenient": str(station is not None and station.lenient).lower(),
        "bootStatus": (station.boot_status if station else None) or "",
        # Read with the registration: the message path learns it from here, at no request of its own.
        "idTagSuffixSeparator": (station.id_tag_suffix_separator if station else None) or "",
    }
    return _policy("Allow", charge_point_id, event.method_arn, context)


def _policy(effect: str, principal_id: str, method_arn: str, context: dict[str, str] | None = None) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}],
        },
    }
    if context:
        policy["context"] = context
    return policy
