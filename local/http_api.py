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
on the event loop (`local.http_server`; Content-Length or chunked bodies), like the @connections endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.events import epoch_ms, new_id, request_time, trace_id
from local.http_server import (
    Headers,
    HttpReply,
    HttpServer,
    continue_if_expected,
    header,
    keeps_alive,
    parse_head,
    write_response,
)
from local.lambdas import FunctionTimeout

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Awaitable[Any]]

MAX_BODY_BYTES = 10 * 1024 * 1024
"""HTTP API payload quota (10 MB); bigger requests get 413."""
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
)
_TEXT_SUFFIXES = ("+json", "+xml")


class HttpApi(HttpServer):
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
        super().__init__()
        self._invoke = invoke
        self._function = function
        self._api_id = api_id
        self._account_id = account_id
        self._region = region
        self.timeout_seconds = timeout_seconds

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source_ip = peer[0] if isinstance(peer, tuple) else "127.0.0.1"
        keep_alive = True
        while keep_alive:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                too_large = _message(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Request Header Fields Too Large")
                await write_response(writer, too_large, keep_alive=False)
                return
            try:
                method, target, version, headers = parse_head(head)
            except ValueError:
                await write_response(writer, _message(HTTPStatus.BAD_REQUEST, "Bad Request"), keep_alive=False)
                return
            keep_alive = keeps_alive(version, headers)
            continue_if_expected(writer, headers)
            try:
                body = await _read_body(reader, headers)
            except _TooLarge:
                too_large = _message(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large")
                await write_response(writer, too_large, keep_alive=False)
                return
            except _BadFraming as error:  # the body's end cannot be found: answer, then close (RFC 9112 6.3)
                await write_response(writer, _message(HTTPStatus.BAD_REQUEST, f"Bad Request: {error}"), keep_alive=False)
                return
            reply = await self._handle(method, target, version, headers, body, source_ip)
            await write_response(writer, reply, keep_alive=keep_alive, head_only=method == "HEAD")

    async def _handle(
        self, method: str, target: str, version: str, headers: Headers, body: bytes, source_ip: str
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
        self, method: str, target: str, version: str, headers: Headers, body: bytes, source_ip: str
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
        joined.setdefault("x-amzn-trace-id", trace_id())
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
            "requestId": new_id(),
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


def _is_text(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return not media_type or media_type.startswith(_TEXT_TYPES) or media_type.endswith(_TEXT_SUFFIXES)


class _TooLarge(Exception):
    pass


class _BadFraming(Exception):
    """A Content-Length or chunked encoding that does not say where the body ends."""


async def _read_body(reader: asyncio.StreamReader, headers: Headers) -> bytes:
    if "chunked" in header(headers, "transfer-encoding").lower():
        chunks = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size_text = size_line.split(b";", 1)[0].strip()
            if not size_text or any(byte not in b"0123456789abcdefABCDEF" for byte in size_text):
                raise _BadFraming("malformed chunk size")
            size = int(size_text, 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return bytes(chunks)
            if len(chunks) + size > MAX_BODY_BYTES:
                raise _TooLarge()
            chunks += await reader.readexactly(size)
            if await reader.readexactly(2) != b"\r\n":
                raise _BadFraming("a chunk is longer than its size")
    lengths = {value.strip() for name, value in headers if name.lower() == "content-length"}
    if len(lengths) > 1:
        raise _BadFraming("conflicting Content-Length headers")
    text = lengths.pop() if lengths else "0"
    if not text.isdigit() or not text.isascii():  # RFC 9110 8.6: 1*DIGIT, no sign
        raise _BadFraming("malformed Content-Length")
    length = int(text)
    if length > MAX_BODY_BYTES:
        raise _TooLarge()
    return await reader.readexactly(length)


