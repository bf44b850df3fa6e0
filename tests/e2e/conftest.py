"""End-to-end: a real OCPP 1.6 client over websockets against the local runtime (gateway + real handlers + moto)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import boto3
import pytest

from csms.domain.clock import Clock
from csms.runtime.settings import get_settings
from csms.runtime.wiring import get_services
from local.aws import emulated_aws
from local.runtime import LocalConfig, LocalRuntime

TABLE_NAME = "csms-e2e"
Scenario = Callable[[LocalRuntime], Awaitable[Any]]


@pytest.fixture
def run_local():
    """Runs an async scenario against a freshly started local runtime; returns the scenario's result."""

    def run(scenario: Scenario, *, clock: Clock | None = None, **config: Any) -> Any:
        """`clock`: the functions' clock and the workflows' (default: the system's)."""
        # A new runtime is a new deployment: the functions must read its settings, not a previous one's.
        get_settings.cache_clear()
        get_services.cache_clear()
        local_config = LocalConfig(ws_port=0, connections_port=0, api_port=0, table_name=TABLE_NAME, **config)

        async def main() -> Any:
            async with LocalRuntime(local_config, clock=clock) as runtime:
                return await asyncio.wait_for(scenario(runtime), timeout=60)

        with emulated_aws(TABLE_NAME):
            try:
                return asyncio.run(main())
            finally:
                get_settings.cache_clear()
                get_services.cache_clear()

    return run


def table():
    """The emulated table, read from the test (inside a scenario)."""
    return boto3.resource("dynamodb").Table(TABLE_NAME)


async def eventually(check: Callable[[], Any], *, timeout: float = 10, interval: float = 0.02) -> Any:
    """Wait for what happens asynchronously (a $disconnect after the socket closed): polls `check` until it
    returns something truthy, which it returns; fails after `timeout` seconds. Never a fixed sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := check()):
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {check}")
        await asyncio.sleep(interval)
    return result
