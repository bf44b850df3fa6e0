"""A station built on the `ocpp` package boots, authorizes a driver, charges and stops; everything is stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import websockets
from boto3.dynamodb.conditions import Key
from ocpp.v16 import ChargePoint, call

from csms.adapters.dynamodb.keys import station_key, transaction_key
from csms.domain.authorization import IdTagRecord
from csms.runtime.wiring import get_services
from tests.e2e.conftest import eventually, table

pytestmark = pytest.mark.e2e


class Station(ChargePoint):
    """The `ocpp` package's charge point; it validates everything it sends and receives against the schemas."""


async def connected(runtime, charge_point_id: str = "CP001", **connect_options):
    socket = await websockets.connect(runtime.station_url(charge_point_id), subprotocols=["ocpp1.6"], **connect_options)
    station = Station(charge_point_id, socket)
    task = asyncio.create_task(station.start())
    return station, socket, task


def now() -> str:
    return datetime.now(UTC).isoformat()


def test_a_full_charging_session_is_stored(run_local):
    async def charge(runtime):
        station, socket, task = await connected(runtime)
        assert socket.subprotocol == "ocpp1.6"
        boot = await station.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Wallbox", firmware_version="4.2"))
        assert boot.status == "Accepted" and boot.interval == 300
        await station.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        get_services().id_tags.register(IdTagRecord(id_tag="DRIVER-1", status="Accepted"))
        authorized = await station.call(call.Authorize(id_tag="DRIVER-1"))
        assert authorized.id_tag_info["status"] == "Accepted"
        started = await station.call(call.StartTransaction(connector_id=1, id_tag="DRIVER-1", meter_start=10_000, timestamp=now()))
        assert started.id_tag_info["status"] == "Accepted"
        transaction_id = started.transaction_id
        await station.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        for minute, kwh in ((5, "11.5"), (10, "13.0")):
            await station.call(call.MeterValues(
                connector_id=1, transaction_id=transaction_id,
                meter_value=[{"timestamp": f"2026-11-24T10:{minute:02d}:00Z", "sampledValue": [
                    {"value": kwh, "unit": "kWh", "measurand": "Energy.Active.Import.Register", "context": "Sample.Periodic"},
                    {"value": "11000", "unit": "W", "measurand": "Power.Active.Import"},
                ]}],
            ))
        heartbeat = await station.call(call.Heartbeat())
        assert heartbeat.current_time
        stopped = await station.call(call.StopTransaction(meter_stop=13_000, timestamp=now(), transaction_id=transaction_id, id_tag="DRIVER-1", reason="EVDisconnected"))
        assert stopped.id_tag_info["status"] == "Accepted"
        await station.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        await socket.close()
        task.cancel()
        return transaction_id

    async def scenario(runtime):
        transaction_id = await charge(runtime)
        transaction = table().get_item(Key=transaction_key(transaction_id))["Item"]
        assert transaction["energyWh"] == 3000 and transaction["stopReason"] == "EVDisconnected"
        assert transaction["lastMeterWh"] == Decimal("13000.0")
        values = table().query(KeyConditionExpression=Key("pk").eq(f"TX#{transaction_id}") & Key("sk").begins_with("MV#"))["Items"]
        assert [v["sampledValue"][0]["energyWh"] for v in values] == [Decimal("11500.0"), Decimal("13000.0")]
        station = table().get_item(Key=station_key("CP001"))["Item"]
        assert station["boot"]["chargePointVendor"] == "Acme" and station["bootStatus"] == "Accepted"
        assert station["connector_1"]["status"] == "Available"
        # $disconnect runs after the socket is gone.
        await eventually(lambda: "connectionId" not in table().get_item(Key=station_key("CP001"))["Item"])

    run_local(scenario)
