"""The API Gateway WebSocket events our functions receive, with the fields they read.

Our own models rather than Powertools Parser's: importing Parser and building its event models cost the
station functions about a tenth of their cold start, for fields we never read. These models validate what
we use, with API Gateway's names and types: an event without them is refused with pydantic's
`ValidationError`, as `event_parser` refused it. Powertools' models stay the independent check that the
local gateway sends API Gateway's shape (tests/local/test_local_events.py).

The authorizer's context is present on every route of an authorized connection; the query string carries
the station identity that the front door took from the path.

Each function validates one or two of these events: their validators are built when first used (`defer_build`),
not all of them at every cold start.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class GatewayEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)


class StationIdentity(GatewayEvent):
    """The authorizer's context, as API Gateway hands it to every route (values arrive as strings)."""

    principal_id: str = Field(alias="principalId")
    charge_point_id: str = Field(alias="chargePointId")
    lenient: bool = False
    boot_status: str | None = Field(default=None, alias="bootStatus")
    id_tag_suffix_separator: str | None = Field(default=None, alias="idTagSuffixSeparator")


class Identity(GatewayEvent):
    # Kept as API Gateway writes it (behind some proxies with a port): a record, never a reason to refuse.
    source_ip: str = Field(alias="sourceIp")


class _RequestContext(GatewayEvent):
    connection_id: str = Field(alias="connectionId")
    authorizer: StationIdentity


class ConnectRequestContext(_RequestContext):
    event_type: Literal["CONNECT"] = Field(alias="eventType")
    identity: Identity


class MessageRequestContext(_RequestContext):
    event_type: Literal["MESSAGE"] = Field(alias="eventType")


class DisconnectRequestContext(_RequestContext):
    event_type: Literal["DISCONNECT"] = Field(alias="eventType")
    disconnect_status_code: int = Field(alias="disconnectStatusCode")


class ConnectEvent(GatewayEvent):
    headers: dict[str, str]
    request_context: ConnectRequestContext = Field(alias="requestContext")


class MessageEvent(GatewayEvent):
    request_context: MessageRequestContext = Field(alias="requestContext")
    is_base64_encoded: bool = Field(alias="isBase64Encoded")
    body: str | None = None


class DisconnectEvent(GatewayEvent):
    request_context: DisconnectRequestContext = Field(alias="requestContext")


class AuthorizerRequestContext(GatewayEvent):
    connection_id: str = Field(alias="connectionId")
    identity: Identity


class AuthorizerEvent(GatewayEvent):
    """A REQUEST authorizer event of a WebSocket API's $connect."""

    method_arn: str = Field(alias="methodArn")
    headers: dict[str, str] = Field(default_factory=dict)
    query_string_parameters: dict[str, str] | None = Field(default=None, alias="queryStringParameters")
    request_context: AuthorizerRequestContext = Field(alias="requestContext")

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


def header(headers: dict[str, str] | None, name: str) -> str | None:
    """HTTP header names are case-insensitive; API Gateway passes them as the client spelled them."""
    wanted = name.lower()
    return next((value for key, value in (headers or {}).items() if key.lower() == wanted), None)


def http_response(status_code: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status_code, **({"headers": headers} if headers else {})}
