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
import contextlib
import json
import logging
import uuid
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from local.gateway import Gateway, StationConnection

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 128 * 1024
"""PostToConnection's `Data` limit (the 128 KB message quota); beyond, PayloadTooLargeException."""
_MAX_BODY_READ = 4 * MAX_PAYLOAD_BYTES
_MAX_HEAD_BYTES = 64 * 1024

Reply = tuple[int, dict[str, str], bytes]


class ConnectionsEndpoint:
    def __init__(self, gateway: Gateway, *, stage: str) -> None:
        self._gateway = gateway
        self._stage = stage
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._serve_client, host, port, limit=_MAX_HEAD_BYTES)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._clients):  # idle keep-alive connections of the handlers' clients
            writer.close()
        await self._server.wait_closed()

    # -- HTTP -------------------------------------------------------------------------------------------

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        try:
            keep_alive = True
            while keep_alive:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                method, target, version, headers = _parse_head(head)
                keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                if "transfer-encoding" in headers:  # botocore always sends Content-Length
                    await _write(writer, (HTTPStatus.LENGTH_REQUIRED, {}, b""), keep_alive=False)
                    return
                length = int(headers.get("content-length", "0") or "0")
                if length > _MAX_BODY_READ:
                    await _write(writer, _payload_too_large(), keep_alive=False)
                    return
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = await reader.readexactly(length)
                await _write(writer, await self._handle(method, target, body), keep_alive=keep_alive)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            return
        finally:
            self._clients.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(self, method: str, target: str, body: bytes) -> Reply:
        parts = urlsplit(target).path.split("/")
        # ['', stage, '@connections', encoded connectionId]; the id is percent-encoded ('=' -> %3D).
        if len(parts) != 4 or parts[0] or parts[2] != "@connections" or not parts[3]:
            return _error(HTTPStatus.NOT_FOUND, "NotFoundException", "Not Found")
        if unquote(parts[1]) != self._stage:
            return _error(HTTPStatus.FORBIDDEN, "ForbiddenException", "Forbidden")
        connection_id = unquote(parts[3])
        if method == "POST":
            if len(body) > MAX_PAYLOAD_BYTES:
                return _payload_too_large()
            if not await self._gateway.post_to_connection(connection_id, body):
                return _gone()
            return HTTPStatus.OK, {}, b""
        if method == "GET":
            station = self._gateway.connection(connection_id)
            return _gone() if station is None else (HTTPStatus.OK, {}, json.dumps(_describe(station)).encode())
        if method == "DELETE":
            if not await self._gateway.delete_connection(connection_id):
                return _gone()
            return HTTPStatus.NO_CONTENT, {}, b""
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


def _gone() -> Reply:
    # botocore reads the error code from x-amzn-ErrorType: that is what makes the client raise
    # `client.exceptions.GoneException`. The real API gives no message.
    return _error(HTTPStatus.GONE, "GoneException", None)


def _payload_too_large() -> Reply:
    return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "PayloadTooLargeException", "Message too long")


def _error(status: int, code: str, message: str | None) -> Reply:
    return status, {"x-amzn-ErrorType": code}, json.dumps({"message": message}).encode()


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    request_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, target, version = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return method, target, version, headers


async def _write(writer: asyncio.StreamWriter, reply: Reply, *, keep_alive: bool) -> None:
    status, headers, body = reply
    lines = [
        f"HTTP/1.1 {int(status)} {HTTPStatus(status).phrase}",
        f"Date: {formatdate(usegmt=True)}",
        f"x-amzn-RequestId: {uuid.uuid4()}",
        "Connection: keep-alive" if keep_alive else "Connection: close",
    ]
    if status != HTTPStatus.NO_CONTENT:  # RFC 9110 8.6: no Content-Length on a 204
        lines.append(f"Content-Length: {len(body)}")
    if body:
        lines.append("Content-Type: application/json")
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
