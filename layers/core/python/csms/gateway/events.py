"""API Gateway WebSocket events as Powertools Parser models, plus what Powertools leaves out:
the authorizer context (present on every route of an authorized connection) and the query string
(where the front door puts the station identity taken from the path)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketConnectEventRequestContext,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketDisconnectEventRequestContext,
    APIGatewayWebSocketEventIdentity,
    APIGatewayWebSocketMessageEventModel,
    APIGatewayWebSocketMessageEventRequestContext,
)
from pydantic import BaseModel, Field


class StationIdentity(BaseModel):
    """The authorizer's context, as API Gateway hands it to every route (values arrive as strings)."""

    principal_id: str = Field(alias="principalId")
    charge_point_id: str = Field(alias="chargePointId")
    lenient: bool = False
    boot_status: str | None = Field(default=None, alias="bootStatus")


class _Authorized(BaseModel):
    authorizer: StationIdentity


class ConnectRequestContext(APIGatewayWebSocketConnectEventRequestContext, _Authorized):
    pass


class MessageRequestContext(APIGatewayWebSocketMessageEventRequestContext, _Authorized):
    pass


class DisconnectRequestContext(APIGatewayWebSocketDisconnectEventRequestContext, _Authorized):
    pass


class ConnectEvent(APIGatewayWebSocketConnectEventModel):
    request_context: ConnectRequestContext = Field(alias="requestContext")
    query_string_parameters: dict[str, str] | None = Field(default=None, alias="queryStringParameters")


class MessageEvent(APIGatewayWebSocketMessageEventModel):
    request_context: MessageRequestContext = Field(alias="requestContext")
    body: str | None = None


class DisconnectEvent(APIGatewayWebSocketDisconnectEventModel):
    request_context: DisconnectRequestContext = Field(alias="requestContext")


class AuthorizerRequestContext(BaseModel):
    connection_id: str = Field(alias="connectionId")
    identity: APIGatewayWebSocketEventIdentity


class AuthorizerEvent(BaseModel):
    """A REQUEST authorizer event of a WebSocket API's $connect (Powertools models only the REST/HTTP ones)."""

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
