"""The station-facing front door: CloudFront Function + API Gateway WebSocket API, on one port.

`ws://{host}:{port}/ocpp/{chargePointId}` is handled as on AWS:
1. the CloudFront Function moves the identity out of the path into the query string (API Gateway
   WebSocket accepts no path after the stage);
2. API Gateway runs the REQUEST authorizer, then the $connect route, before answering 101;
3. every text message goes to $default, concurrently, its route response back to the station;
4. $disconnect follows the close, best effort;
5. the service quotas close connections the way API Gateway does.

The functions are reached through an injected `invoke(function_name, event)` coroutine, so the
gateway never imports handler code and tests can stand in plain callables.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from csms.domain.station_identity import is_valid_station_id
from infra.manifest import (
    CHARGE_POINT_ID_QUERY_PARAMETER,
    OCPP_PATH_PREFIX,
    WEBSOCKET_AUTHORIZER,
    WEBSOCKET_ROUTES,
    WebSocketRoute,
)
from local.authorizer import (
    UNAUTHORIZED_MESSAGE,
    HandshakeRefused,
    authorizer_context,
    internal_server_error,
    refusal_for_exception,
)
from local.events import (
    ApiStage,
    ConnectionFacts,
    authorizer_event,
    connect_event,
    disconnect_event,
    epoch_ms,
    message_event,
    new_id,
    trace_id,
)

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Awaitable[Any]]

GOING_AWAY_REASON = "Going away"
# Response headers of the handshake that belong to the WebSocket protocol, not to the $connect route.
_HANDSHAKE_HEADERS = frozenset({"connection", "upgrade", "sec-websocket-accept", "sec-websocket-extensions"})


class ConnectionLog(Protocol):
    """Told which connections may hold state in the functions' data: from before $connect runs until after
    $disconnect ran. A restarted runtime delivers the $disconnect of those still open (`local.state`)."""

    def connection_opened(self, facts: ConnectionFacts) -> None: ...

    def connection_closed(self, connection_id: str) -> None: ...


class _NoLog:
    def connection_opened(self, facts: ConnectionFacts) -> None:
        pass

    def connection_closed(self, connection_id: str) -> None:
        pass


@dataclass(frozen=True, kw_only=True)
class Quotas:
    """API Gateway WebSocket quotas (developer guide, "Amazon API Gateway quotas for WebSocket APIs")."""

    max_connection_seconds: float = 7200
    """"Connection duration for WebSocket API: 2 hours", then closed with 1001."""
    idle_timeout_seconds: float = 600
    """"Idle Connection Timeout: 10 minutes", then closed with 1001; control frames (pings) do not count."""
    max_frame_bytes: int = 32 * 1024
    """"WebSocket frame size: 32 KB"; a bigger frame closes the connection with 1009."""
    max_message_bytes: int = 128 * 1024
    """"Message payload size: 128 KB" (in frames of at most 32 KB); beyond, 1009 too."""


@dataclass(eq=False, kw_only=True)
class StationConnection:
    """One open connection: what API Gateway knows of it plus the socket behind it."""

    facts: ConnectionFacts
    socket: ServerConnection
    opened: float
    """time.monotonic() at the 101, for the duration quota."""
    last_active: float
    """time.monotonic() of the last data frame from the station, for the idle quota."""

    def touch(self) -> None:
        self.last_active = time.monotonic()
        self.facts.last_active_at = epoch_ms()


@dataclass(kw_only=True)
class _Handshake:
    facts: ConnectionFacts
    response_headers: list[tuple[str, str]]


class Gateway:
    def __init__(
        self,
        invoke: Invoke,
        *,
        api: ApiStage,
        quotas: Quotas = Quotas(),
        routes: Sequence[WebSocketRoute] = WEBSOCKET_ROUTES,
        authorizer: str | None = WEBSOCKET_AUTHORIZER,
        connection_log: ConnectionLog | None = None,
    ) -> None:
        self._invoke = invoke
        self._log: ConnectionLog = connection_log or _NoLog()
        self.api = api
        self.quotas = quotas
        self._routes = {route.route_key: route for route in routes}
        self._authorizer = authorizer
        self._connections: dict[str, StationConnection] = {}
        self._handshakes: weakref.WeakKeyDictionary[ServerConnection, _Handshake] = weakref.WeakKeyDictionary()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: Server | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        self._server = await serve(
            self._serve_station,
            host,
            port,
            process_request=self._open,
            process_response=self._answer_handshake,
            # The $connect function negotiates the subprotocol, not the gateway: with no
            # `subprotocols`, websockets leaves Sec-WebSocket-Protocol alone.
            subprotocols=None,
            compression=None,  # API Gateway does not negotiate permessage-deflate
            server_header=None,
            ping_interval=None,  # API Gateway answers pings but never sends any
            open_timeout=None,  # the authorizer and $connect invocations have their own timeouts
            max_size=(self.quotas.max_message_bytes, self.quotas.max_frame_bytes),
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close every connection with 1001, as API Gateway does when it goes away; $disconnect each."""
        if self._server is not None:
            self._server.close(close_connections=True, code=CloseCode.GOING_AWAY, reason=GOING_AWAY_REASON)
            await self._server.wait_closed()
        while self._tasks:  # in-flight messages and $disconnect invocations finish, as Lambdas would
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- the @connections API's view ------------------------------------------------------------------

    def connection(self, connection_id: str) -> StationConnection | None:
        return self._connections.get(connection_id)

    async def post_to_connection(self, connection_id: str, data: bytes) -> bool:
        """Send one message; False when the connection is gone (the API's 410)."""
        station = self._connections.get(connection_id)
        if station is None:
            return False
        try:
            await self._send(station, data)
        except ConnectionClosed:
            return False
        return True

    async def delete_connection(self, connection_id: str) -> bool:
        """Close with 1000 and let $disconnect follow; False when already gone (the API's 410)."""
        station = self._connections.pop(connection_id, None)
        if station is None:
            return False
        # DeleteConnection answers at once; the closing handshake goes on in the background.
        self._spawn(station.socket.close(CloseCode.NORMAL_CLOSURE))
        return True

    # -- opening handshake ------------------------------------------------------------------------------

    async def _open(self, socket: ServerConnection, request: Request) -> Response | None:
        """process_request: CloudFront Function, authorizer and $connect, before the 101."""
        target = urlsplit(request.path)
        if not target.path.startswith(OCPP_PATH_PREFIX):
            return _json_response(socket, HTTPStatus.NOT_FOUND, {"message": "Not Found"})
        charge_point_id = _charge_point_id(target.path)
        if charge_point_id is None:
            return _json_response(socket, HTTPStatus.BAD_REQUEST, {"message": "Bad Request"})
        query = [
            (name, value)
            for name, value in parse_qsl(target.query, keep_blank_values=True)
            if name != CHARGE_POINT_ID_QUERY_PARAMETER
        ]
        query.append((CHARGE_POINT_ID_QUERY_PARAMETER, charge_point_id))
        source_ip = str(socket.remote_address[0]) if socket.remote_address else ""
        facts = ConnectionFacts(
            connection_id=new_id(),
            connected_at=epoch_ms(),
            source_ip=source_ip,
            user_agent=request.headers.get("User-Agent", ""),
            domain_name=request.headers.get("Host", ""),
            headers=[
                *request.headers.raw_items(),
                ("X-Amzn-Trace-Id", trace_id()),
                ("X-Forwarded-For", source_ip),
                ("X-Forwarded-Port", str(socket.local_address[1])),
                ("X-Forwarded-Proto", "http"),  # what this socket is; on AWS it is https
            ],
            query=query,
        )
        try:
            if self._authorizer is not None:
                facts.authorizer = await self._authorize(facts)
            self._log.connection_opened(facts)
            try:
                response_headers = await self._connect(facts)
            except BaseException:
                self._log.connection_closed(facts.connection_id)  # refused: API Gateway sends no $disconnect
                raise
        except HandshakeRefused as refusal:
            logger.info("refused %s (%s): %s", charge_point_id, facts.connection_id, refusal)
            return _json_response(socket, refusal.status, {"message": refusal.message})
        self._handshakes[socket] = _Handshake(facts=facts, response_headers=response_headers)
        return None

    async def _authorize(self, facts: ConnectionFacts) -> dict[str, Any]:
        event = authorizer_event(self.api, facts)
        try:
            result = await self._invoke(self._authorizer or "", event)
        except Exception as exc:
            if str(exc) != UNAUTHORIZED_MESSAGE:
                logger.exception("authorizer failed for %s", facts.connection_id)
            raise refusal_for_exception(exc) from exc
        return authorizer_context(result, event["methodArn"])

    async def _connect(self, facts: ConnectionFacts) -> list[tuple[str, str]]:
        """Invoke $connect; its 2xx accepts the connection, with the headers it returned."""
        route = self._routes.get("$connect")
        if route is None:
            return []
        try:
            result = await self._invoke(route.function, connect_event(self.api, facts))
        except Exception as exc:
            logger.exception("$connect failed for %s", facts.connection_id)
            raise internal_server_error() from exc
        result = result if isinstance(result, dict) else {}
        status = result.get("statusCode", HTTPStatus.OK)  # WebSocket $connect accepts when it succeeds
        if not isinstance(status, int) or not 200 <= status < 300:
            raise HandshakeRefused(_http_status(status), _reason(status))
        headers = [(name, str(value)) for name, value in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((name, str(value)) for value in values)
        return headers

    def _answer_handshake(self, socket: ServerConnection, request: Request, response: Response) -> None:
        """process_response: the 101 carries the headers the $connect function returned."""
        handshake = self._handshakes.get(socket)
        if handshake is None:
            return
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            # websockets refused a malformed upgrade after $connect had run; nothing opened.
            del self._handshakes[socket]
            self._log.connection_closed(handshake.facts.connection_id)
            return
        returned = [
            (name, value) for name, value in handshake.response_headers if name.lower() not in _HANDSHAKE_HEADERS
        ]
        for name in {name for name, _ in returned}:
            if name in response.headers:
                del response.headers[name]
        for name, value in returned:
            response.headers[name] = value

    # -- open connection ----------------------------------------------------------------------------------

    async def _serve_station(self, socket: ServerConnection) -> None:
        handshake = self._handshakes.pop(socket)
        now = time.monotonic()
        station = StationConnection(facts=handshake.facts, socket=socket, opened=now, last_active=now)
        connection_id = station.facts.connection_id
        self._connections[connection_id] = station
        quotas = asyncio.create_task(self._enforce_quotas(station))
        try:
            async for message in socket:
                station.touch()
                if isinstance(message, bytes):
                    # "API Gateway WebSocket APIs don't support binary frames in incoming message
                    # payloads": it closes the connection with 1003.
                    await socket.close(CloseCode.UNSUPPORTED_DATA, "Binary frames are not supported")
                    break
                self._spawn(self._dispatch(station, message))
        except ConnectionClosed:
            pass  # e.g. 1009 for a frame over the quota: websockets already closed the socket
        finally:
            quotas.cancel()
            if self._connections.get(connection_id) is station:
                del self._connections[connection_id]
            self._spawn(self._disconnect(station))

    async def _enforce_quotas(self, station: StationConnection) -> None:
        while True:
            deadline = min(
                station.last_active + self.quotas.idle_timeout_seconds,
                station.opened + self.quotas.max_connection_seconds,
            )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(remaining)
        logger.info("closing %s: idle or maximum duration quota reached", station.facts.connection_id)
        # Spawned, not awaited: the station's handler cancels this task once the socket closes.
        self._spawn(station.socket.close(CloseCode.GOING_AWAY, GOING_AWAY_REASON))

    async def _dispatch(self, station: StationConnection, body: str) -> None:
        """One message, one invocation: API Gateway does not wait for a reply before the next."""
        route = self._routes.get("$default")
        if route is None:
            return
        event = message_event(self.api, station.facts, route_key=route.route_key, body=body)
        try:
            result = await self._invoke(route.function, event)
        except Exception:
            logger.exception("$default failed for %s", station.facts.connection_id)
            # What API Gateway sends the client when the integration fails.
            reply: str | None = json.dumps(
                {
                    "message": "Internal server error",
                    "connectionId": station.facts.connection_id,
                    "requestId": event["requestContext"]["requestId"],
                }
            )
        else:
            reply = _route_response(result) if route.two_way else None
        if reply is not None:
            try:
                await self._send(station, reply)
            except ConnectionClosed:
                logger.info("route response dropped: %s is closed", station.facts.connection_id)

    async def _disconnect(self, station: StationConnection) -> None:
        """$disconnect after the socket is gone; best effort, as on AWS."""
        await station.socket.wait_closed()
        code, reason = _close_status(station.socket)
        await self._run_disconnect(station.facts, code, reason)

    async def disconnect_lost(self, facts: ConnectionFacts) -> None:
        """$disconnect for a connection a previous run of the gateway had open when it was stopped or killed:
        API Gateway reports a connection that dropped without a closing handshake with 1006."""
        await self._run_disconnect(facts, CloseCode.ABNORMAL_CLOSURE, "")

    async def _run_disconnect(self, facts: ConnectionFacts, code: int, reason: str) -> None:
        route = self._routes.get("$disconnect")
        if route is not None:
            event = disconnect_event(self.api, facts, status_code=code, reason=reason)
            try:
                await self._invoke(route.function, event)
            except Exception:
                logger.exception("$disconnect failed for %s", facts.connection_id)
        self._log.connection_closed(facts.connection_id)

    async def _send(self, station: StationConnection, message: str | bytes) -> None:
        """A text message, split into frames of at most the frame quota, as API Gateway does."""
        data = message.encode() if isinstance(message, str) else message
        size = self.quotas.max_frame_bytes
        if len(data) <= size:
            await station.socket.send(data, text=True)
        else:
            await station.socket.send([data[i : i + size] for i in range(0, len(data), size)], text=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _charge_point_id(path: str) -> str | None:
    """The CloudFront Function's rule: `/ocpp/{id}`, id percent-decoded as strict UTF-8 and a valid station
    identity (csms.domain.station_identity); None otherwise (answered 400, as the front door does)."""
    encoded = path[len(OCPP_PATH_PREFIX) :]
    try:
        identity = unquote(encoded, errors="strict")
    except UnicodeDecodeError:
        return None
    return identity if is_valid_station_id(identity) else None


def _route_response(result: Any) -> str | None:
    """A two-way route's response is the function result's `body`, when it has one."""
    if isinstance(result, dict) and result.get("body") is not None:
        body = result["body"]
        return body if isinstance(body, str) else json.dumps(body)
    return None


def _close_status(socket: ServerConnection) -> tuple[int, str]:
    """The close code and reason of whoever closed first; 1006 when the TCP connection just dropped."""
    protocol = socket.protocol
    if protocol.close_sent is not None and not protocol.close_rcvd_then_sent:
        return protocol.close_sent.code, protocol.close_sent.reason
    if protocol.close_rcvd is not None:
        return protocol.close_rcvd.code, protocol.close_rcvd.reason
    return CloseCode.ABNORMAL_CLOSURE, ""


def _json_response(socket: ServerConnection, status: int, body: dict[str, Any]) -> Response:
    response = socket.respond(status, json.dumps(body))
    del response.headers["Content-Type"]  # respond() made it text/plain
    response.headers["Content-Type"] = "application/json"
    return response


def _http_status(status: Any) -> int:
    return status if isinstance(status, int) and 100 <= status <= 599 else HTTPStatus.INTERNAL_SERVER_ERROR


def _reason(status: Any) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
