"""Fixtures for the local runtime's tests: fake functions, a runtime on ephemeral ports, a station.

The functions are plain callables recording their events; a test swaps a behaviour by
assigning e.g. `functions.behaviour["message"] = lambda event, context: ...`.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from local.runtime import LocalConfig, LocalRuntime

STATION = "CP001"
PASSWORD = "s3cret-passw0rd"


def allow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An authorizer that lets the station in with its id as principal and some context."""
    station = event["queryStringParameters"]["chargePointId"]
    return {
        "principalId": station,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}],
        },
        "context": {"chargePointId": station, "securityProfile": 1, "lenient": False},
    }


def accept_ocpp16(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "ocpp1.6"}}


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": event["body"]}


class FakeFunctions:
    def __init__(self) -> None:
        self.behaviour: dict[str, Callable[[dict[str, Any], Any], Any]] = {
            "authorizer": allow,
            "connect": accept_ocpp16,
            "message": echo,
            "disconnect": lambda event, context: None,
            "api": lambda event, context: {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"},
        }
        self.events: dict[str, list[dict[str, Any]]] = {name: [] for name in self.behaviour}
        self.contexts: dict[str, list[Any]] = {name: [] for name in self.behaviour}
        self._lock = threading.Lock()

    @property
    def handlers(self) -> dict[str, Callable[[dict[str, Any], Any], Any]]:
        def recording(name: str) -> Callable[[dict[str, Any], Any], Any]:
            def handler(event: dict[str, Any], context: Any) -> Any:
                with self._lock:
                    self.events[name].append(event)
                    self.contexts[name].append(context)
                return self.behaviour[name](event, context)

            return handler

        return {name: recording(name) for name in self.behaviour}

    async def wait_for(self, name: str, count: int = 1, timeout: float = 3.0) -> list[dict[str, Any]]:
        """The first `count` events of `name`, once they arrived (invocations are asynchronous)."""
        deadline = time.monotonic() + timeout
        while len(self.events[name]) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} got {len(self.events[name])} events, expected {count}")
            await asyncio.sleep(0.01)
        return self.events[name][:count]


@pytest.fixture(autouse=True)
def _ephemeral_api_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m local` started by a test inherits this: no test binds the operator API's fixed 8080."""
    monkeypatch.setenv("CSMS_API_PORT", "0")


@pytest.fixture(autouse=True)
def _state_in_tmp_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """`python -m local` started by a test keeps its state in the test's directory, never in the repository."""
    monkeypatch.setenv("CSMS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("CSMS_FRESH", raising=False)


@pytest.fixture
def functions() -> FakeFunctions:
    return FakeFunctions()


@pytest.fixture
def run() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Runs one scenario on a fresh event loop (no pytest-asyncio), bounded in time."""

    def run(scenario: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
        return asyncio.run(asyncio.wait_for(scenario, timeout))

    return run


@pytest.fixture
def local_runtime(functions: FakeFunctions) -> Callable[..., LocalRuntime]:
    """`async with local_runtime(idle_timeout_seconds=0.3) as runtime:` on ephemeral ports."""

    def make(**config: Any) -> LocalRuntime:
        config.setdefault("api_port", 0)
        return LocalRuntime(LocalConfig(ws_port=0, connections_port=0, **config), handlers=functions.handlers, workflows=())

    return make


@pytest.fixture
def station() -> Callable[..., AbstractAsyncContextManager[ClientConnection]]:
    """`async with station(runtime) as ws:` a station offering ocpp1.6 with HTTP Basic credentials."""

    def open_station(
        runtime: LocalRuntime, charge_point_id: str = STATION, **options: Any
    ) -> AbstractAsyncContextManager[ClientConnection]:
        credentials = base64.b64encode(f"{charge_point_id}:{PASSWORD}".encode()).decode()
        options.setdefault("subprotocols", ["ocpp1.6"])
        options.setdefault("additional_headers", {"Authorization": f"Basic {credentials}"})
        options.setdefault("open_timeout", 5)
        options.setdefault("close_timeout", 2)
        return connect(runtime.station_url(charge_point_id), **options)

    return open_station
