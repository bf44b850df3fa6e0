"""The operator API's API Gateway HTTP API, locally: one `$default` route, `$default` stage, Lambda proxy
integration with payload format 2.0, in front of the `api` function.

Each request becomes the event an HTTP API sends (API Gateway developer guide, "Create AWS Lambda proxy
integrations for HTTP APIs": `version`, `routeKey`, `rawPath`, `rawQueryString`, `cookies`, lower-cased
`headers` with repeated values joined by commas, `queryStringParameters`, `requestContext`, `body`,
`isBase64Encoded`; no `pathParameters` on a `$default` route), and the function's answer becomes the
response. As on AWS: the path reaches the function URL-decoded while `rawQueryString` stays encoded; a
function error answers 500 and an integration that outlasts the timeout (29 s, below the function's own)
answers 503, both with API Gateway's `{"message": ...}` bodies.

The function runs through the runtime's `LocalFunctions` like the station functions, on worker threads:
a request waiting for a station's answer never holds up the stations' messages. A small HTTP/1.1 server
on the event loop (keep-alive, Content-Length or chunked bodies), like the @connections endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.events import epoch_ms, request_time
from local.lambdas import FunctionTimeout

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Awaitable[Any]]

MAX_BODY_BYTES = 10 * 1024 * 1024
"""HTTP API payload quota (10 MB); bigger requests get 413."""
_MAX_HEAD_BYTES = 64 * 1024
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
)
_TEXT_SUFFIXES = ("+json", "+xml")


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class HttpApi:
    def __init__(
        self,
        invoke: Invoke,
        *,
        function: str,
        api_id: str,
        account_id: str,
        region: str,
        timeout_seconds: float = 29,
    ) -> None:
        self._invoke = invoke
        self._function = function
        self._api_id = api_id
        self._account_id = account_id
        self._region = region
        self.timeout_seconds = timeout_seconds
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._requests: set[asyncio.Task[Any]] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._serve_client, host, port, limit=_MAX_HEAD_BYTES)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._clients):
            writer.close()
        for task in list(self._requests):  # clients idle between requests, or waiting for a function
            task.cancel()
        await self._server.wait_closed()
        self._server = None

    # -- HTTP -------------------------------------------------------------------------------------------

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._requests.add(task)
        self._clients.add(writer)
        peer = writer.get_extra_info("peername")
        source_ip = peer[0] if isinstance(peer, tuple) else "127.0.0.1"
        try:
            keep_alive = True
            while keep_alive:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.LimitOverrunError:
                    too_large = _message(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Request Header Fields Too Large")
                    await _write(writer, too_large, keep_alive=False)
                    return
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                try:
                    method, target, version, headers = _parse_head(head)
                except ValueError:
                    await _write(writer, _message(HTTPStatus.BAD_REQUEST, "Bad Request"), keep_alive=False)
                    return
                keep_alive = version == "HTTP/1.1" and _header(headers, "connection").lower() != "close"
                if _header(headers, "expect").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                try:
                    body = await _read_body(reader, headers)
                except _TooLarge:
                    too_large = _message(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large")
                    await _write(writer, too_large, keep_alive=False)
                    return
                reply = await self._handle(method, target, version, headers, body, source_ip)
                await _write(writer, reply, keep_alive=keep_alive, head_only=method == "HEAD")
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            return
        finally:
            self._clients.discard(writer)
            if task is not None:
                self._requests.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(
        self, method: str, target: str, version: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> HttpReply:
        if not target.startswith("/"):
            return _message(HTTPStatus.BAD_REQUEST, "Bad Request")
        event = self.event(method, target, version, headers, body, source_ip)
        request_id = event["requestContext"]["requestId"]
        try:
            result = await asyncio.wait_for(self._invoke(self._function, event), timeout=self.timeout_seconds)
        except TimeoutError:
            logger.warning("%s %s: no answer within %g s (503)", method, event["rawPath"], self.timeout_seconds)
            return _message(HTTPStatus.SERVICE_UNAVAILABLE, "Service Unavailable", request_id)
        except FunctionTimeout:
            logger.warning("%s %s: the function timed out (503)", method, event["rawPath"])
            return _message(HTTPStatus.SERVICE_UNAVAILABLE, "Service Unavailable", request_id)
        except Exception:
            logger.exception("%s %s: the function failed (500)", method, event["rawPath"])
            return _message(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error", request_id)
        try:
            reply = _reply(result)
        except (TypeError, ValueError, binascii.Error):
            logger.exception("%s %s: malformed function response (500)", method, event["rawPath"])
            return _message(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error", request_id)
        return HttpReply(reply.status, [*reply.headers, ("apigw-requestid", request_id)], reply.body)

    def event(
        self, method: str, target: str, version: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> dict[str, Any]:
        """The payload format 2.0 event of one request."""
        split = urlsplit(target)
        path = unquote(split.path)  # HTTP APIs hand the function the decoded path
        cookies: list[str] = []
        joined: dict[str, str] = {}
        for name, value in headers:
            name = name.lower()
            if name == "cookie":
                cookies.extend(part.strip() for part in value.split(";") if part.strip())
                continue
            joined[name] = f"{joined[name]},{value}" if name in joined else value
        joined.setdefault("x-forwarded-for", source_ip)
        joined.setdefault("x-forwarded-proto", "http")
        joined.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}")
        query: dict[str, str] = {}
        for name, value in parse_qsl(split.query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        now = epoch_ms()
        domain = joined.get("host", f"{self._api_id}.execute-api.{self._region}.amazonaws.com")
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": split.query,
        }
        if cookies:
            event["cookies"] = cookies
        event["headers"] = joined
        if query:
            event["queryStringParameters"] = query
        event["requestContext"] = {
            "accountId": self._account_id,
            "apiId": self._api_id,
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": version,
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": _request_id(),
            "routeKey": "$default",
            "stage": "$default",
            "time": request_time(now),
            "timeEpoch": now,
        }
        if body:
            if _is_text(joined.get("content-type", "")):
                try:
                    event["body"], event["isBase64Encoded"] = body.decode(), False
                except UnicodeDecodeError:
                    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
            else:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event["isBase64Encoded"] = False
        return event


def _reply(result: Any) -> HttpReply:
    """Payload format 2.0 responses: a dict with statusCode is taken as is; anything else that is JSON is a
    200 application/json body."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return HttpReply(HTTPStatus.OK, [("content-type", "application/json")], json.dumps(result).encode())
    status = int(result["statusCode"])
    if not 100 <= status <= 599:
        raise ValueError(f"statusCode {status}")
    headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw, validate=True)
    else:
        body = (raw if isinstance(raw, str) else json.dumps(raw)).encode()
    return HttpReply(status, headers, body)


def _message(status: int, message: str, request_id: str | None = None) -> HttpReply:
    headers = [("content-type", "application/json")]
    if request_id:
        headers.append(("apigw-requestid", request_id))
    return HttpReply(status, headers, json.dumps({"message": message}).encode())


def _request_id() -> str:
    """HTTP APIs' request id style ('JNW2LiqXoAMEVHw=')."""
    return base64.b64encode(os.urandom(10)).decode()


def _is_text(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return not media_type or media_type.startswith(_TEXT_TYPES) or media_type.endswith(_TEXT_SUFFIXES)


class _TooLarge(Exception):
    pass


async def _read_body(reader: asyncio.StreamReader, headers: list[tuple[str, str]]) -> bytes:
    if "chunked" in _header(headers, "transfer-encoding").lower():
        chunks = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return bytes(chunks)
            if len(chunks) + size > MAX_BODY_BYTES:
                raise _TooLarge()
            chunks += await reader.readexactly(size)
            await reader.readexactly(2)
    length = int(_header(headers, "content-length") or "0")
    if length < 0:
        raise ValueError("negative Content-Length")
    if length > MAX_BODY_BYTES:
        raise _TooLarge()
    return await reader.readexactly(length)


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


def _parse_head(head: bytes) -> tuple[str, str, str, list[tuple[str, str]]]:
    request_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, target, version = request_line.split(" ", 2)
    if not version.startswith("HTTP/"):
        raise ValueError(version)
    headers = []
    for line in header_lines:
        name, separator, value = line.partition(":")
        if not separator:
            raise ValueError(line)
        headers.append((name.strip(), value.strip()))
    return method.upper(), target, version, headers


async def _write(writer: asyncio.StreamWriter, reply: HttpReply, *, keep_alive: bool, head_only: bool = False) -> None:
    lines = [
        f"HTTP/1.1 {reply.status} {_phrase(reply.status)}",
        f"Date: {formatdate(usegmt=True)}",
        "Connection: keep-alive" if keep_alive else "Connection: close",
    ]
    if reply.status != HTTPStatus.NO_CONTENT and reply.status >= 200:
        lines.append(f"Content-Length: {len(reply.body)}")
    skip = {"content-length", "connection", "date", "transfer-encoding"}
    lines.extend(f"{name}: {value}" for name, value in reply.headers if name.lower() not in skip)
    body = b"" if head_only or reply.status == HTTPStatus.NO_CONTENT else reply.body
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
