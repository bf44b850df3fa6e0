"""The API Gateway Management API (`@connections`) of the local gateway, over plain HTTP.

`POST|GET|DELETE /{stage}/@connections/{connectionId}` answer as the real API does, so the handlers'
boto3 `apigatewaymanagementapi` client works unchanged against `CONNECTIONS_ENDPOINT_URL`, including
`GoneException` (410) for connections that no longer exist. moto's own `post_to_connection` only
appends to a buffer and never answers 410, hence this endpoint.

It is a small HTTP/1.1 server on the gateway's event loop (keep-alive, Content-Length bodies: what
botocore sends), so frames are handed to the sockets without crossing threads. Requests are not
SigV4-verified: locally any signature, even none, is accepted.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from local.gateway import Gateway, StationConnection
from local.http_server import (
    HttpReply,
    HttpServer,
    continue_if_expected,
    header,
    keeps_alive,
    parse_head,
    write_response,
)


class ConnectionsEndpoint(HttpServer):
    def __init__(self, gateway: Gateway, *, stage: str) -> None:
        super().__init__()
        self._gateway = gateway
        self._stage = stage
        # PostToConnection's `Data` limit is the message quota (128 KB); beyond, PayloadTooLargeException.
        self._max_payload_bytes = gateway.quotas.max_message_bytes

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        keep_alive = True
        while keep_alive:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                return
            method, target, version, headers = parse_head(head)
            keep_alive = keeps_alive(version, headers)
            if header(headers, "transfer-encoding"):  # botocore always sends Content-Length
                await write_response(writer, _reply(HTTPStatus.LENGTH_REQUIRED), keep_alive=False)
                return
            length = int(header(headers, "content-length") or "0")
            if length > 4 * self._max_payload_bytes:  # not worth reading to answer 413
                await write_response(writer, _payload_too_large(), keep_alive=False)
                return
            continue_if_expected(writer, headers)
            body = await reader.readexactly(length)
            await write_response(writer, await self._handle(method, target, body), keep_alive=keep_alive)

    async def _handle(self, method: str, target: str, body: bytes) -> HttpReply:
        parts = urlsplit(target).path.split("/")
        # ['', stage, '@connections', encoded connectionId]; the id is percent-encoded ('=' -> %3D).
        if len(parts) != 4 or parts[0] or parts[2] != "@connections" or not parts[3]:
            return _error(HTTPStatus.NOT_FOUND, "NotFoundException", "Not Found")
        if unquote(parts[1]) != self._stage:
            return _error(HTTPStatus.FORBIDDEN, "ForbiddenException", "Forbidden")
        connection_id = unquote(parts[3])
        if method == "POST":
            if len(body) > self._max_payload_bytes:
                return _payload_too_large()
            if not await self._gateway.post_to_connection(connection_id, body):
                return _gone()
            return _reply(HTTPStatus.OK)
        if method == "GET":
            station = self._gateway.connection(connection_id)
            return _gone() if station is None else _reply(HTTPStatus.OK, json.dumps(_describe(station)).encode())
        if method == "DELETE":
            if not await self._gateway.delete_connection(connection_id):
                return _gone()
            return _reply(HTTPStatus.NO_CONTENT)
        return _error(HTTPStatus.METHOD_NOT_ALLOWED, "MethodNotAllowedException", "Method Not Allowed")


def _describe(station: StationConnection) -> dict[str, Any]:
    """GetConnection's answer; lastActiveAt is the station's last data frame (as the idle quota)."""
    facts = station.facts
    return {
        "connectedAt": _iso8601(facts.connected_at),
        "identity": {"sourceIp": facts.source_ip, "userAgent": facts.user_agent},
        "lastActiveAt": _iso8601(facts.last_active_at),
    }


def _iso8601(epoch_milliseconds: int) -> str:
    moment = datetime.fromtimestamp(epoch_milliseconds / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _gone() -> HttpReply:
    # botocore reads the error code from x-amzn-ErrorType: that is what makes the client raise
    # `client.exceptions.GoneException`. The real API gives no message.
    return _error(HTTPStatus.GONE, "GoneException", None)


def _payload_too_large() -> HttpReply:
    return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "PayloadTooLargeException", "Message too long")


def _error(status: int, code: str, message: str | None) -> HttpReply:
    return _reply(status, json.dumps({"message": message}).encode(), [("x-amzn-ErrorType", code)])


def _reply(status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> HttpReply:
    """Every answer carries a request id, as the real API's do."""
    stamped = [("x-amzn-RequestId", str(uuid.uuid4())), *(headers or [])]
    if body:
        stamped.append(("Content-Type", "application/json"))
    return HttpReply(status, stamped, body)
