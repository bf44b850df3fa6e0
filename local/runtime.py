"""The local runtime: station gateway + @connections endpoint + the manifest's functions, wired.

Start it in process (ports 0 = ephemeral) from a test::

    runtime = LocalRuntime(LocalConfig(ws_port=0, connections_port=0, api_port=0), handlers={...})
    await runtime.start()
    async with websockets.asyncio.client.connect(runtime.station_url("CP001"), ...) as station: ...
    await runtime.stop()

AWS itself comes from `local.aws.emulated_aws()`, entered around it by the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from csms.changes.reactions import FILTER_PATTERNS as TABLE_STREAM_FILTER_PATTERNS
from csms.domain.clock import Clock
from csms.runtime.wiring import get_services
from infra.manifest import FUNCTIONS, HTTP_API_FUNCTION, OCPP_PATH_PREFIX, FunctionSpec
from infra.workflows import WORKFLOWS, WorkflowSpec
from local.aws import ACCOUNT_ID, REGION
from local.connections import ConnectionsEndpoint
from local.event_bus import DEFAULT_EVENTS_FILE, LocalEventBus
from local.event_queues import LocalEventQueue
from local.events import ApiStage, new_api_id, scheduled_event
from local.garbage_collection import survivors_frozen
from local.gateway import Gateway, Quotas
from local.http_api import HttpApi
from local.lambdas import Handler, InvocationHook, LocalFunctions
from local.state import LocalState, connection_facts
from local.table_stream import LocalTableStream
from local.workflows import LOCAL_EVENT_BUS, LocalWorkflows, definitions_parsed_once

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class LocalConfig:
    host: str = "127.0.0.1"
    ws_port: int = 9000
    connections_port: int = 9001
    api_port: int = 8080
    """The operator API (HTTP API, payload format 2.0)."""
    max_connection_seconds: float = Quotas.max_connection_seconds
    idle_timeout_seconds: float = Quotas.idle_timeout_seconds
    max_frame_bytes: int = Quotas.max_frame_bytes
    unknown_station_policy: str = "accept"
    """Locally, a station nobody registered is let in (on AWS the stack's default is stricter)."""
    stage: str = "local"
    table_name: str = "csms"
    heartbeat_interval_seconds: int = 300
    """At most 300 s: a station must talk within API Gateway's 10 minute idle timeout."""
    metrics: bool = False
    log_level: str = "INFO"
    max_concurrent_invocations: int = 32
    """Worker threads running handlers at once (Lambda's concurrency, scaled to one machine)."""
    events_file: Path = DEFAULT_EVENTS_FILE
    """Every event put on the CSMS bus, one JSON line each, as a partner's target receives it."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LocalConfig:
        env = os.environ if environ is None else environ

        def number(name: str, default: float, kind: type[int | float]) -> Any:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                return kind(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r} is not a valid {kind.__name__}") from None

        return cls(
            host=env.get("CSMS_HOST", cls.host),
            ws_port=number("CSMS_WS_PORT", cls.ws_port, int),
            connections_port=number("CSMS_CONNECTIONS_PORT", cls.connections_port, int),
            api_port=number("CSMS_API_PORT", cls.api_port, int),
            max_connection_seconds=number("CSMS_WS_MAX_CONNECTION_SECONDS", cls.max_connection_seconds, float),
            idle_timeout_seconds=number("CSMS_WS_IDLE_TIMEOUT_SECONDS", cls.idle_timeout_seconds, float),
            max_frame_bytes=number("CSMS_WS_MAX_FRAME_BYTES", cls.max_frame_bytes, int),
            unknown_station_policy=env.get("CSMS_UNKNOWN_STATION_POLICY", cls.unknown_station_policy),
            stage=env.get("CSMS_STAGE", cls.stage),
            table_name=env.get("TABLE_NAME", cls.table_name),
            heartbeat_interval_seconds=number("HEARTBEAT_INTERVAL_SECONDS", cls.heartbeat_interval_seconds, int),
            metrics=env.get("CSMS_METRICS", "").lower() == "on",
            log_level=env.get("LOG_LEVEL", cls.log_level),
            max_concurrent_invocations=number("CSMS_MAX_CONCURRENT_INVOCATIONS", cls.max_concurrent_invocations, int),
            events_file=Path(env.get("CSMS_EVENTS_FILE") or cls.events_file),
        )

    @property
    def quotas(self) -> Quotas:
        return Quotas(
            max_connection_seconds=self.max_connection_seconds,
            idle_timeout_seconds=self.idle_timeout_seconds,
            max_frame_bytes=self.max_frame_bytes,
        )

    def lambda_environment(self, connections_url: str) -> dict[str, str]:
        """The functions' environment variables, as the CDK stack sets them on AWS."""
        return {
            "TABLE_NAME": self.table_name,
            "CONNECTIONS_ENDPOINT_URL": connections_url,
            "UNKNOWN_STATION_POLICY": self.unknown_station_policy,
            "HEARTBEAT_INTERVAL_SECONDS": str(self.heartbeat_interval_seconds),
            "POWERTOOLS_SERVICE_NAME": "csms",
            "POWERTOOLS_METRICS_NAMESPACE": "CSMS",
            "POWERTOOLS_METRICS_DISABLED": "false" if self.metrics else "true",
            "LOG_LEVEL": self.log_level,
            "EVENT_BUS_NAME": LOCAL_EVENT_BUS,
        } | (
            # Where stations connect, for the console's instructions: known only for a fixed port (port 0, as tests
            # use, is chosen when the gateway listens, after the functions have read their settings).
            {"STATION_URL": f"ws://{self.host}:{self.ws_port}{OCPP_PATH_PREFIX}"} if self.ws_port else {}
        )


class LocalRuntime:
    def __init__(
        self,
        config: LocalConfig | None = None,
        *,
        handlers: Mapping[str, Handler] | None = None,
        invocation_hook: InvocationHook | None = None,
        workflows: tuple[WorkflowSpec, ...] = WORKFLOWS,
        state: LocalState | None = None,
        clock: Clock | None = None,
    ) -> None:
        """`workflows` are created in moto at start, so AWS must be emulated (`local.aws.emulated_aws`)
        around the runtime unless there are none. With `state` (entered by the caller, see `local.state`), the
        gateway logs its connections there, and `start()` delivers the $disconnect of those a previous run left
        open before letting stations in. `clock` replaces the functions' clock (tests move time by hand; the
        workflows' Wait states count on the same clock)."""
        self.config = config or LocalConfig.from_env()
        self.state = state
        self._clock = clock
        self.functions = LocalFunctions(
            handlers=handlers,
            invocation_hook=invocation_hook,
            max_concurrency=self.config.max_concurrent_invocations,
        )
        api = ApiStage(api_id=new_api_id(), stage=self.config.stage, region=REGION, account_id=ACCOUNT_ID)
        self.gateway = Gateway(self.functions.invoke, api=api, quotas=self.config.quotas, connection_log=state)
        self._connections = ConnectionsEndpoint(self.gateway, stage=self.config.stage)
        self.http_api = HttpApi(
            self.functions.invoke,
            function=HTTP_API_FUNCTION,
            api_id=new_api_id(),
            account_id=ACCOUNT_ID,
            region=REGION,
            timeout_seconds=self.functions.spec(HTTP_API_FUNCTION).timeout_seconds,  # API Gateway's 29 s
        )
        self.workflows = LocalWorkflows(self.functions, table_name=self.config.table_name, workflows=workflows)
        self.event_bus = LocalEventBus(LOCAL_EVENT_BUS, self.config.events_file)
        self.table_streams = [
            LocalTableStream(self.functions.invoke, function=spec.name, filter_patterns=TABLE_STREAM_FILTER_PATTERNS)
            for spec in FUNCTIONS
            if spec.consumes_table_stream
        ]
        self.event_queues = [
            LocalEventQueue(self.functions.invoke, spec=spec, bus_name=LOCAL_EVENT_BUS)
            for spec in FUNCTIONS
            if spec.receives_events is not None
        ]
        self._lambda_tasks: contextlib.ExitStack | None = None
        self._schedules: list[asyncio.Task[None]] = []
        self._api_port: int | None = None
        self._saved_environment: dict[str, str | None] = {}
        self._ws_port: int | None = None
        self._connections_port: int | None = None

    @property
    def ws_url(self) -> str:
        """`ws://host:port/ocpp`: a station connects to `{ws_url}/{chargePointId}`."""
        return f"ws://{self.config.host}:{self._bound(self._ws_port)}{OCPP_PATH_PREFIX.rstrip('/')}"

    @property
    def connections_url(self) -> str:
        """The @connections endpoint including the stage: CONNECTIONS_ENDPOINT_URL."""
        return f"http://{self.config.host}:{self._bound(self._connections_port)}/{self.config.stage}"

    @property
    def api_url(self) -> str:
        """The operator API: `http://host:port` (`GET {api_url}/openapi.json`, Swagger UI at `/docs`)."""
        return f"http://{self.config.host}:{self._bound(self._api_port)}"

    def station_url(self, charge_point_id: str) -> str:
        return f"{self.ws_url}/{quote(charge_point_id, safe='')}"

    async def start(self) -> None:
        config = self.config
        try:
            self._connections_port = await self._connections.start(config.host, config.connections_port)
            # Before the first invocation: handlers read their settings from the environment.
            environment = config.lambda_environment(self.connections_url) | self.workflows.create()
            self._saved_environment = {name: os.environ.get(name) for name in environment}
            os.environ.update(environment)
            if self._clock is not None:
                get_services().clock = self._clock
            self._lambda_tasks = contextlib.ExitStack()
            # What moto holds lives as long as the runtime: full collections walk only what is new (see the module).
            self._lambda_tasks.enter_context(survivors_frozen())
            self._lambda_tasks.enter_context(self.workflows.lambda_tasks_in_process())
            self._lambda_tasks.enter_context(definitions_parsed_once())
            if self.workflows.arns:  # AWS is emulated: the bus and the table's stream too
                self._lambda_tasks.enter_context(self.event_bus.running())
                for stream in self.table_streams:
                    self._lambda_tasks.enter_context(stream.capturing(asyncio.get_running_loop()))
                    stream.start()
                for queue in self.event_queues:
                    queue.create()
                    queue.start()
            if self.state is not None and self.workflows.arns:
                lost_executions, self.state.lost_executions = self.state.lost_executions, []
                self.workflows.restart(lost_executions)
                self.state.running_executions = self.workflows.running
            if self.state is not None:
                lost, self.state.lost_connections = self.state.lost_connections, []
                await asyncio.gather(*(self.gateway.disconnect_lost(connection_facts(saved)) for saved in lost))
            self._ws_port = await self.gateway.start(config.host, config.ws_port)
            self._api_port = await self.http_api.start(config.host, config.api_port)
            self._schedules = [
                asyncio.create_task(self._run_on_schedule(spec)) for spec in FUNCTIONS if spec.schedule_minutes
            ]
        except BaseException:
            await self.stop()  # e.g. the port is taken: leave nothing listening, the environment as it was
            raise

    async def stop(self) -> None:
        """The schedules, the operator API, then stations closed with 1001 and $disconnected, then the endpoint,
        then the workers."""
        for task in self._schedules:
            task.cancel()
        await asyncio.gather(*self._schedules, return_exceptions=True)
        self._schedules = []
        await self.http_api.stop()
        await self.gateway.stop()
        for stream in self.table_streams:  # what the stations' last messages changed is still delivered
            await stream.stop()
        for queue in self.event_queues:
            await queue.stop()
        await self._connections.stop()
        if self.workflows.arns:
            if self.state is not None:  # what is running now is what the next start runs again
                await asyncio.to_thread(self.state.save)
                self.state.running_executions = None
            await asyncio.to_thread(self.workflows.stop_all)
        await asyncio.to_thread(self.functions.close)
        if self._lambda_tasks is not None:
            self._lambda_tasks.close()
            self._lambda_tasks = None
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = {}

    async def _run_on_schedule(self, spec: FunctionSpec) -> None:
        """What the stack's EventBridge schedule rule does on AWS: invoke the function every so many minutes."""
        assert spec.schedule_minutes is not None
        while True:
            await asyncio.sleep(spec.schedule_minutes * 60)
            try:
                await self.functions.invoke(
                    spec.name, scheduled_event(rule_name=f"{spec.name}-schedule", region=REGION, account_id=ACCOUNT_ID)
                )
            except Exception:  # a failed run is retried at the next tick, as a schedule would
                logger.exception("Scheduled invocation of %s failed", spec.name)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @staticmethod
    def _bound(port: int | None) -> int:
        if port is None:
            raise RuntimeError("LocalRuntime is not started")
        return port
