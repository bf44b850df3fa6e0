"""The local runtime keeps its data across a restart: a session started before it is stopped whole after it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import websockets
from ocpp.v16 import ChargePoint, call

from csms.domain.authorization import IdTagRecord
from csms.runtime.settings import get_settings
from csms.runtime.wiring import get_services
from local.aws import emulated_aws
from local.runtime import LocalConfig, LocalRuntime
from local.state import LocalState
from tests.e2e.conftest import TABLE_NAME
from tests.e2e.operator_client import OperatorApi

pytestmark = pytest.mark.e2e


def run_once(state_dir: Path, scenario: Any, *, fresh: bool = False) -> Any:
    """One life of `make run`: moto, the saved state loaded, the runtime; all stopped cleanly at the end."""
    get_settings.cache_clear()
    get_services.cache_clear()
    config = LocalConfig(ws_port=0, connections_port=0, api_port=0, table_name=TABLE_NAME)

    async def main() -> Any:
        async with LocalRuntime(config, state=state) as runtime:
            return await asyncio.wait_for(scenario(runtime), timeout=60)

    try:
        with emulated_aws(TABLE_NAME), LocalState(state_dir, fresh=fresh) as state:
            return asyncio.run(main())
    finally:
        get_settings.cache_clear()
        get_services.cache_clear()


def now() -> str:
    return datetime.now(UTC).isoformat()


def meter_values(transaction_id: int, wh: int, minute: int) -> call.MeterValues:
    return call.MeterValues(
        connector_id=1,
        transaction_id=transaction_id,
        meter_value=[{"timestamp": f"2026-11-24T10:{minute:02d}:00Z", "sampledValue": [
            {"value": str(wh), "unit": "Wh", "measurand": "Energy.Active.Import.Register", "context": "Sample.Periodic"},
        ]}],
    )


async def station(runtime: LocalRuntime) -> tuple[ChargePoint, Any, asyncio.Task[None]]:
    socket = await websockets.connect(runtime.station_url("CP001"), subprotocols=["ocpp1.6"])
    charge_point = ChargePoint("CP001", socket)
    return charge_point, socket, asyncio.create_task(charge_point.start())


def test_a_transaction_started_before_a_restart_is_stopped_whole_after_it(tmp_path):
    state_dir = tmp_path / "state"

    async def before(runtime: LocalRuntime) -> int:
        get_services().id_tags.register(IdTagRecord(id_tag="DRIVER-1", status="Accepted"))
        charge_point, socket, task = await station(runtime)
        await charge_point.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Wallbox"))
        started = await charge_point.call(call.StartTransaction(connector_id=1, id_tag="DRIVER-1", meter_start=10_000, timestamp=now()))
        assert started.id_tag_info["status"] == "Accepted"
        await charge_point.call(meter_values(started.transaction_id, 11_500, 5))
        task.cancel()
        return started.transaction_id  # the runtime stops with the station still connected: it is closed with 1001

    async def after(runtime: LocalRuntime) -> dict[str, Any]:
        charge_point, socket, task = await station(runtime)
        await charge_point.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Wallbox"))
        await charge_point.call(meter_values(transaction_id, 13_000, 10))
        stopped = await charge_point.call(call.StopTransaction(meter_stop=13_250, timestamp=now(), transaction_id=transaction_id, id_tag="DRIVER-1"))
        assert stopped.id_tag_info["status"] == "Accepted"  # DRIVER-1's registration survived too
        await socket.close()
        task.cancel()
        status, transaction = await OperatorApi(runtime.api_url).request("GET", f"/transactions/{transaction_id}")
        assert status == 200
        return transaction

    transaction_id = run_once(state_dir, before)
    transaction = run_once(state_dir, after)
    assert transaction["transactionId"] == transaction_id and transaction["chargePointId"] == "CP001"
    assert transaction["active"] is False and transaction["meterStart"] == 10_000 and transaction["meterStop"] == 13_250
    assert transaction["energyWh"] == 3_250
    assert [value["sampledValue"][0]["value"] for value in transaction["meterValues"]] == ["11500", "13000"]


def test_a_fresh_start_forgets_the_saved_state(tmp_path):
    state_dir = tmp_path / "state"

    async def boot(runtime: LocalRuntime) -> None:
        charge_point, socket, task = await station(runtime)
        await charge_point.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Wallbox"))
        await socket.close()
        task.cancel()

    async def charge_points(runtime: LocalRuntime) -> list[str]:
        status, page = await OperatorApi(runtime.api_url).request("GET", "/charge-points")
        assert status == 200
        return [item["chargePointId"] for item in page["items"]]

    run_once(state_dir, boot)
    assert run_once(state_dir, charge_points) == ["CP001"]
    assert run_once(state_dir, charge_points, fresh=True) == []
