"""The small HTTP/1.1 server under the local @connections endpoint and the local operator HTTP API.

asyncio streams on the runtime's event loop (keep-alive, one request at a time per client), so a request
reaches the gateway and the functions without crossing threads. Each API parses its bodies and builds its
answers; the listening, the request head, the response framing and the clean stop are here.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

MAX_HEAD_BYTES = 64 * 1024
"""Request line and headers; beyond, `readuntil` raises LimitOverrunError."""

Headers = list[tuple[str, str]]
_FRAMING_HEADERS = frozenset({"content-length", "connection", "date", "transfer-encoding"})


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: Headers
    body: bytes


class HttpServer:
    """Listens from `start()`; `stop()` also ends idle keep-alive clients and requests still being served.

    A subclass serves one client connection in `_serve_client`; when it returns or the client goes away
    (IncompleteReadError, ConnectionError, a malformed number: ValueError) the connection is closed here."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._clients: dict[asyncio.StreamWriter, asyncio.Task[Any]] = {}

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._client, host, port, limit=MAX_HEAD_BYTES)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer, task in list(self._clients.items()):  # idle between requests, or waiting for an answer
            writer.close()
            task.cancel()
        await self._server.wait_closed()
        self._server = None

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # start_server runs each client in its own task
        self._clients[writer] = task
        try:
            await self._serve_client(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            del self._clients[writer]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def parse_head(head: bytes) -> tuple[str, str, str, Headers]:
    """Method (upper-cased), target, version and headers (as sent) of a request head; ValueError if malformed."""
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


def header(headers: Headers, name: str) -> str:
    """The first value of the (lower-case) `name`, or ""."""
    return next((value for key, value in headers if key.lower() == name), "")


def keeps_alive(version: str, headers: Headers) -> bool:
    return version == "HTTP/1.1" and header(headers, "connection").lower() != "close"


def continue_if_expected(writer: asyncio.StreamWriter, headers: Headers) -> None:
    """Before reading the body of a request that waits for it (botocore sends `Expect: 100-continue`)."""
    if header(headers, "expect").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")


async def write_response(writer: asyncio.StreamWriter, reply: HttpReply, *, keep_alive: bool, head_only: bool = False) -> None:
    """The reply with Date, Connection and Content-Length set here (none on a 204: RFC 9110 8.6)."""
    lines = [
        f"HTTP/1.1 {reply.status} {_phrase(reply.status)}",
        f"Date: {formatdate(usegmt=True)}",
        "Connection: keep-alive" if keep_alive else "Connection: close",
    ]
    if reply.status != HTTPStatus.NO_CONTENT and reply.status >= 200:
        lines.append(f"Content-Length: {len(reply.body)}")
    lines.extend(f"{name}: {value}" for name, value in reply.headers if name.lower() not in _FRAMING_HEADERS)
    body = b"" if head_only or reply.status == HTTPStatus.NO_CONTENT else reply.body
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
