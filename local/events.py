"""Lambda events shaped the way API Gateway WebSocket APIs build them.

Key sets follow the API Gateway developer guide ("WebSocket API Lambda authorizers", "Set up a Lambda
proxy integration for a WebSocket API") and the Powertools `apigw_websocket` parser models, so a
handler cannot come to depend on something API Gateway does not send.
"""

from __future__ import annotations

import base64
import os
import secrets
import string
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def new_id() -> str:
    """An id in API Gateway's style ('L0SM9cOFvHcCIhw='): connectionId, requestId, messageId."""
    return base64.b64encode(os.urandom(11)).decode("ascii")


def new_api_id() -> str:
    """Ten lowercase letters and digits, like a real API id in `{apiId}.execute-api...`."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(10))


def trace_id() -> str:
    """An X-Amzn-Trace-Id root as the AWS front door adds it: epoch seconds in hex, then 96 random bits."""
    return f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}"


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


def request_time(epoch_milliseconds: int) -> str:
    """CLF-style `requestTime` ('24/Nov/2026:00:25:35 +0000'); month names never localised."""
    t = time.gmtime(epoch_milliseconds / 1000)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def single_and_multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """API Gateway's `headers`/`multiValueHeaders` (and query) split: last value wins in the former."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


@dataclass(frozen=True, kw_only=True)
class ApiStage:
    """Which API and stage the events claim to come from."""

    api_id: str
    stage: str
    region: str
    account_id: str

    def method_arn(self, route_key: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{self.stage}/{route_key}"


@dataclass(kw_only=True)
class ConnectionFacts:
    """What API Gateway remembers about one connection and repeats in each of its events."""

    connection_id: str
    connected_at: int
    """Epoch milliseconds of the $connect request."""
    source_ip: str
    user_agent: str
    domain_name: str
    headers: list[tuple[str, str]]
    query: list[tuple[str, str]]
    authorizer: dict[str, Any] | None = None
    """`{"principalId": ..., **context}` from the authorizer; in every event of the connection."""
    last_active_at: int = field(init=False)

    def __post_init__(self) -> None:
        self.last_active_at = self.connected_at


def _request_context(
    api: ApiStage, connection: ConnectionFacts, *, route_key: str, event_type: str, **specific: Any
) -> dict[str, Any]:
    now = epoch_ms()
    request_id = new_id()
    context: dict[str, Any] = {
        "routeKey": route_key,
        **specific,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(now),
        "messageDirection": "IN",
        "stage": api.stage,
        "connectedAt": connection.connected_at,
        "requestTimeEpoch": now,
        "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
        "requestId": request_id,
        "domainName": connection.domain_name,
        "connectionId": connection.connection_id,
        "apiId": api.api_id,
    }
    if connection.authorizer is not None:
        context["authorizer"] = dict(connection.authorizer)
    return context


def authorizer_event(api: ApiStage, connection: ConnectionFacts) -> dict[str, Any]:
    """A REQUEST authorizer event; API Gateway runs WebSocket authorizers on $connect only."""
    headers, multi_headers = single_and_multi(connection.headers)
    query, multi_query = single_and_multi(connection.query)
    context = _request_context(api, connection, route_key="$connect", event_type="CONNECT")
    context.pop("authorizer", None)
    return {
        "type": "REQUEST",
        "methodArn": api.method_arn("$connect"),
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "stageVariables": {},
        "requestContext": context,
    }


def connect_event(api: ApiStage, connection: ConnectionFacts) -> dict[str, Any]:
    headers, multi_headers = single_and_multi(connection.headers)
    query, multi_query = single_and_multi(connection.query)
    return {
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": _request_context(api, connection, route_key="$connect", event_type="CONNECT"),
        "isBase64Encoded": False,
    }


def message_event(api: ApiStage, connection: ConnectionFacts, *, route_key: str, body: str) -> dict[str, Any]:
    """API Gateway sends neither headers nor query parameters after $connect."""
    return {
        "requestContext": _request_context(
            api, connection, route_key=route_key, event_type="MESSAGE", messageId=new_id()
        ),
        "body": body,
        "isBase64Encoded": False,
    }


def disconnect_event(api: ApiStage, connection: ConnectionFacts, *, status_code: int, reason: str) -> dict[str, Any]:
    # On $disconnect API Gateway no longer has the handshake's headers: it sends a fixed few.
    headers, multi_headers = single_and_multi(
        [("Host", connection.domain_name), ("x-api-key", ""), ("X-Forwarded-For", ""), ("x-restapi", "")]
    )
    return {
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "requestContext": _request_context(
            api,
            connection,
            route_key="$disconnect",
            event_type="DISCONNECT",
            disconnectStatusCode=status_code,
            disconnectReason=reason,
        ),
        "isBase64Encoded": False,
    }


def scheduled_event(*, rule_name: str, region: str, account_id: str) -> dict[str, Any]:
    """What an EventBridge schedule rule hands its Lambda target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account_id}:rule/{rule_name}"],
        "detail": {},
    }
