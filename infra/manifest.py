"""The function and route manifest: one source of truth for the CDK stack and the local runtime.

Pure data, no CDK import, so the local runtime can read it without loading the CDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csms.adapters.dynamodb.schema import KIND_INDEX, LIVE_INDEX, STATION_INDEX
from csms.domain.notifications import MAX_ATTEMPTS
from csms.notifications.delivery import EVENT_PATTERN as DRIVER_EVENTS

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPO_ROOT / "lambdas"
CORE_LAYER_DIR = REPO_ROOT / "layers" / "core"


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    name: str
    """Logical name; also the folder under lambdas/ that holds its handler.py."""
    description: str
    handler: str = "handler.handler"
    memory_mb: int = 256
    timeout_seconds: int = 29
    posts_to_connections: bool = False
    """Whether it sends frames to stations through the @connections API (execute-api:ManageConnections, POST)."""
    closes_connections: bool = False
    """Whether it closes stations' connections through the @connections API (execute-api:ManageConnections, DELETE)."""
    publishes_events: bool = False
    """Whether it puts events on the CSMS bus (grants events:PutEvents, sets EVENT_BUS_NAME)."""
    table_actions: tuple[str, ...] = ()
    """The DynamoDB actions it performs on the table's items, granted on the table only (the items of a
    TransactWriteItems are authorised one by one as PutItem, UpdateItem, DeleteItem or ConditionCheckItem)."""
    table_indexes: tuple[str, ...] = ()
    """The global indexes (schema.py) it Queries: dynamodb:Query on exactly those."""
    consumes_table_stream: bool = False
    """Invoked by the table's stream (NEW_AND_OLD_IMAGES) through an event source mapping whose filter criteria
    are `csms.changes.reactions.FILTER_PATTERNS` (the local runtime applies the same)."""
    schedule_minutes: int | None = None
    """Invoked every so many minutes by an EventBridge schedule (locally: by the runtime), if set."""
    receives_events: Mapping[str, Any] | None = None
    """The CSMS bus events it takes, if any (an EventBridge pattern): a rule sends them to its own SQS queue,
    which invokes it (ReportBatchItemFailures); a message is tried `max_receives` times (its visibility set
    by the function: backoff), then moved to the queue's dead-letter queue, which is alarmed."""
    max_receives: int = 1
    """With `receives_events`: the queue's maxReceiveCount."""

    @property
    def code_dir(self) -> Path:
        return LAMBDAS_DIR / self.name


@dataclass(frozen=True, kw_only=True)
class WebSocketRoute:
    route_key: str
    function: str
    two_way: bool = False
    """The handler's return value is sent back to the station as the route response."""


AUTHORIZER = FunctionSpec(
    name="authorizer",
    description="$connect authorizer: HTTP Basic per OCPP 1.6 security profiles 1 and 2",
    memory_mb=512,  # scrypt password hashing wants the CPU share that comes with memory
    timeout_seconds=10,
    table_actions=("dynamodb:GetItem",),
)
CONNECT = FunctionSpec(
    name="connect",
    description="$connect: OCPP subprotocol negotiation, records the station's connection",
    timeout_seconds=10,
    closes_connections=True,  # the previous (ghost) connection of a reconnecting station
    # PutItem: a site's station back writes its site's load-control run (ALLOC#CONNECT#...).
    table_actions=("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"),
)
MESSAGE = FunctionSpec(
    name="message",
    description="$default: every OCPP-J frame a station sends",
    posts_to_connections=True,  # the next queued command, once the station answered the outstanding one
    table_actions=(
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",  # StartTransaction reads the id tag and the station (its reservations) at once
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",
    ),
)
DISCONNECT = FunctionSpec(
    name="disconnect",
    description="$disconnect: forgets the connection if it is still the station's current one",
    timeout_seconds=10,
    table_actions=("dynamodb:UpdateItem",),
)

OPERATOR_API = FunctionSpec(
    name="api",
    description="Operator and driver-app REST API (HTTP API, payload format 2.0): stations, id tags, transactions, commands",
    memory_mb=512,
    posts_to_connections=True,  # commands to stations go out through @connections
    closes_connections=True,  # a station removed by its operator is disconnected
    publishes_events=True,  # a corrected CDR and its credit CDR go to the partners
    table_actions=(
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    ),
    table_indexes=(STATION_INDEX.name, KIND_INDEX.name, LIVE_INDEX.name),
)
COMMAND = FunctionSpec(
    name="command",
    description="Step Functions task: sends a command to a station; the answer completes the task token",
    timeout_seconds=10,
    posts_to_connections=True,
    table_actions=("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"),
)

GAUGES = FunctionSpec(
    name="gauges",
    description="Every minute: publishes the network's gauges (connected stations, active transactions) and each "
    "site's allocated and measured current as metrics",
    memory_mb=128,
    timeout_seconds=30,
    # Counts the live index; lists the sites (the byKind index, then their items) and reads each one's control
    # (GetItem), stations and sessions' transactions (BatchGetItem).
    table_actions=("dynamodb:GetItem", "dynamodb:BatchGetItem"),
    table_indexes=(LIVE_INDEX.name, KIND_INDEX.name),
    schedule_minutes=1,
)

TABLE_CHANGES = FunctionSpec(
    name="table_changes",
    description="Table stream: a stopped transaction starts its BillingHandOff and ends its session (duration timer, "
    "app session); events to put, workflows to start and sites' load control runs are done",
    timeout_seconds=30,
    publishes_events=True,
    consumes_table_stream=True,
    posts_to_connections=True,  # a site's TxProfiles go out through the outbox (energy/control.py)
    table_actions=(
        "dynamodb:UpdateItem",  # the app session of a stopped transaction reads Stopped; the outbox's slot
        # Load control: reads the site, its control, its stations (BatchGetItem), their configuration and the
        # commands in flight; stores its next version with its events and runs (Put), queues and supersedes
        # profiles in the outbox (Put, Query, Delete).
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    ),
)
BILLING = FunctionSpec(
    name="billing",
    description="BillingHandOff tasks: price a stopped transaction as an OCPI CDR, store it once",
    memory_mb=512,
    timeout_seconds=60,
    # Reads the transaction, its meter values, the station, the id tag and the tariff version; stores the CDR
    # (conditional put) and records it on the transaction.
    table_actions=("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"),
)

RESERVATIONS = FunctionSpec(
    name="reservations",
    description="ReservationExpiry and ReservationStart tasks: expire a reservation, claim or refuse a scheduled one",
    timeout_seconds=10,
    # Reads the reservation; changes its status with its hold and its event (TransactWriteItems: Update, Put).
    table_actions=("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"),
)

SESSION_LIMITS = FunctionSpec(
    name="session_limits",
    description="SessionLimit tasks: claim a session's limit marker, check it still runs, report a stop that failed",
    timeout_seconds=10,
    # Reads the transaction; the marker and its follow-ups are one TransactWriteItems (an UpdateItem and PutItems);
    # SessionLimitStopFailed is a follow-up put on its own.
    table_actions=("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"),
)

NOTIFICATIONS = FunctionSpec(
    name="notifications",
    description="Driver events (sessions, reservations) POSTed, signed, to the webhook of the driver's id tag",
    timeout_seconds=60,  # a batch of 10, each POST at most 5 s
    table_actions=("dynamodb:GetItem",),  # the id tag's webhook
    receives_events=DRIVER_EVENTS,
    max_receives=MAX_ATTEMPTS,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    AUTHORIZER, CONNECT, MESSAGE, DISCONNECT, OPERATOR_API, COMMAND, GAUGES, TABLE_CHANGES, BILLING, RESERVATIONS,
    SESSION_LIMITS, NOTIFICATIONS,
)

WEBSOCKET_ROUTES: tuple[WebSocketRoute, ...] = (
    WebSocketRoute(route_key="$connect", function=CONNECT.name),
    WebSocketRoute(route_key="$default", function=MESSAGE.name, two_way=True),
    WebSocketRoute(route_key="$disconnect", function=DISCONNECT.name),
)

WEBSOCKET_AUTHORIZER = AUTHORIZER.name
HTTP_API_FUNCTION = OPERATOR_API.name
"""Serves every operator API route (`$default` of the HTTP API); the routes themselves live in its resolver."""

# Where the station identity travels after the front door moved it out of the path
# (API Gateway WebSocket accepts no path after the stage, see DESIGN.md).
CHARGE_POINT_ID_QUERY_PARAMETER = "chargePointId"
OCPP_PATH_PREFIX = "/ocpp/"
