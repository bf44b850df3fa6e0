"""Helpers to run a simulated station against the in-test central system, in one event loop per test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from simulator import SimulatedChargePoint
from tests.simulator.central_system import CentralSystem, StationHandle

FAST = 0.01
"""time_scale of the tests' stations: a nominal 60 s meter interval takes 0.6 s, a 2 s firmware step 20 ms."""


@pytest.fixture
def run() -> Callable[[Callable[[], Awaitable[Any]]], Any]:
    def runner(scenario: Callable[[], Awaitable[Any]], timeout: float = 15) -> Any:
        async def main() -> Any:
            return await asyncio.wait_for(scenario(), timeout)

        return asyncio.run(main())

    return runner


@contextlib.asynccontextmanager
async def connected(
    central: CentralSystem, charge_point_id: str = "CP1", *, wait_boot: bool = True, **options: Any
) -> AsyncIterator[tuple[SimulatedChargePoint, StationHandle]]:
    """A station running against `central`, booted; stopped at the end, with no internal error."""
    options = {"time_scale": FAST, "reconnect_delay": (0.02, 0.1), "response_timeout": 2, "seed": 7, **options}
    station = SimulatedChargePoint(charge_point_id, **options)
    task = asyncio.create_task(station.run(central.station_url(charge_point_id)))
    try:
        if wait_boot:
            await station.wait_booted(5)
        yield station, central.stations.get(charge_point_id)
    finally:
        await station.stop(timeout=3)
        await asyncio.wait_for(task, 5)
    assert station.errors == []


def statuses(central: CentralSystem, connector_id: int) -> list[str]:
    """The statuses a connector went through, as the central system saw them (repeats collapsed)."""
    seen: list[str] = []
    for payload in central.sent("StatusNotification"):
        if payload["connector_id"] == connector_id and (not seen or seen[-1] != payload["status"]):
            seen.append(payload["status"])
    return seen


def sampled(meter_value: dict[str, Any], measurand: str) -> dict[str, Any]:
    return next(v for v in meter_value["sampled_value"] if v.get("measurand") == measurand)
