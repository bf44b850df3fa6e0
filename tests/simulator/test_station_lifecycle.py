"""Boot, status, heartbeats, authentication, reconnection and reset, as a central system sees them."""

from __future__ import annotations

import asyncio
import base64

from ocpp.v16 import call

from simulator import SimulatedChargePoint
from tests.simulator.central_system import CentralSystem
from tests.simulator.conftest import connected, statuses


def test_boots_reports_every_connector_and_heartbeats_at_the_interval_answered(run):
    async def scenario():
        async with CentralSystem(heartbeat_interval=5) as central:  # 5 s nominal: 50 ms here
            async with connected(central, connectors=2, vendor="Acme", model="Wallbox", firmware_version="4.2"):
                await central.wait_for("Heartbeat", count=3, timeout=2)
            boot = central.sent("BootNotification")
            assert boot == [{
                "charge_point_vendor": "Acme", "charge_point_model": "Wallbox", "charge_point_serial_number": "SN-CP1",
                "firmware_version": "4.2", "meter_type": "SimMeter",
            }]
            assert sorted(p["connector_id"] for p in central.sent("StatusNotification")) == [0, 1, 2]
            assert {p["status"] for p in central.sent("StatusNotification")} == {"Available"}
            assert all(p["error_code"] == "NoError" and p["timestamp"].endswith("Z") for p in central.sent("StatusNotification"))
            first = [m.action for m in central.messages][:4]
            assert first == ["BootNotification", "StatusNotification", "StatusNotification", "StatusNotification"]

    run(scenario)


def test_a_pending_or_rejected_boot_is_retried_after_the_interval_and_nothing_else_is_sent_before(run):
    async def scenario():
        async with CentralSystem(boot_statuses=["Pending", "Rejected", "Accepted"], heartbeat_interval=2) as central:
            async with connected(central) as (station, _):
                assert station.stats.boots == 3 and station.stats.boot_status == "Accepted"
            actions = [m.action for m in central.messages]
            assert actions[:3] == ["BootNotification"] * 3

    run(scenario)


def test_basic_auth_carries_the_station_id_and_password_and_a_refusal_is_retried(run):
    async def scenario():
        async with CentralSystem(password="correct horse battery") as central:
            async with connected(central, "CP9", password="wrong", wait_boot=False) as (station, _):
                while len(central.refused) < 2:
                    await asyncio.sleep(0.01)
                assert central.sent("BootNotification") == []
                station.password = "correct horse battery"
                await station.wait_booted(3)
            sent = central.authorization_headers
            assert sent[0] == "Basic " + base64.b64encode(b"CP9:wrong").decode()
            assert sent[-1] == "Basic " + base64.b64encode(b"CP9:correct horse battery").decode()

    run(scenario)


def test_a_new_authorization_key_is_used_at_the_next_connection(run):
    async def scenario():
        async with CentralSystem(password="first-password-0001") as central:
            async with connected(central, password="first-password-0001") as (station, csms):
                answer = await csms.call(call.ChangeConfiguration(key="AuthorizationKey", value="second-password-0002"))
                assert answer.status == "Accepted"
                await central.wait_for("SecurityEventNotification", lambda p: p["type"] == "ReconfigurationOfSecurityParameters")
                central.password = "second-password-0002"
                await csms.connection.close()
                await central.wait_connections(2)
                assert (await central.stations["CP1"].call(call.GetLocalListVersion())).list_version == 0
            assert central.refused == []

    run(scenario)


def test_after_the_central_system_closes_the_connection_the_station_reconnects_and_carries_on(run):
    async def scenario():
        async with CentralSystem(heartbeat_interval=5) as central:
            async with connected(central, meter_interval=5) as (station, csms):
                assert (await csms.call(call.RemoteStartTransaction(id_tag="DRIVER", connector_id=1))).status == "Accepted"
                started = await central.wait_for("StartTransaction")
                await central.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
                await csms.connection.close(code=1000, reason="connection lifetime reached")
                await central.wait_connections(2)
                # Not a reboot: no new BootNotification, the statuses again, the same transaction continues.
                await central.wait_for("StatusNotification", lambda p: p["status"] == "Charging", count=2)
                before = len(central.sent("MeterValues"))
                await central.wait_for("MeterValues", count=before + 2)
                await central.wait_for("Heartbeat", count=len(central.sent("Heartbeat")) + 1)
                new_csms = central.stations["CP1"]
                assert (await new_csms.call(call.RemoteStopTransaction(transaction_id=started["transaction_id"]))).status == "Accepted"
                stopped = await central.wait_for("StopTransaction")
            assert len(central.sent("BootNotification")) == 1 and station.stats.connections == 2
            assert stopped["transaction_id"] == started["transaction_id"] and stopped["reason"] == "Remote"

    run(scenario)


def test_a_station_that_cannot_connect_keeps_trying_with_backoff(run):
    async def scenario():
        async with CentralSystem() as central:
            url = central.url
        # The server is gone: every attempt fails, the station keeps trying until stopped.
        lines: list[str] = []
        station = SimulatedChargePoint("CP1", reconnect_delay=(0.01, 0.04), report=lines.append)
        task = asyncio.create_task(station.run(f"{url}/CP1"))
        while sum("connection failed" in line for line in lines) < 3:
            await asyncio.sleep(0.01)
        await station.stop()
        await asyncio.wait_for(task, 2)
        assert station.stats.connections == 0

    run(scenario)


def test_a_reset_ends_the_transaction_then_the_station_reconnects_and_boots_again(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, meter_interval=5) as (station, csms):
                await csms.call(call.RemoteStartTransaction(id_tag="DRIVER", connector_id=2))
                await central.wait_for("StartTransaction")
                assert (await csms.call(call.Reset(type="Soft"))).status == "Accepted"
                stopped = await central.wait_for("StopTransaction")
                await central.wait_for("BootNotification", count=2)
                await central.wait_for("SecurityEventNotification", lambda p: p["type"] == "ResetOrReboot")
            assert stopped["reason"] == "SoftReset"
            assert central.connections == ["CP1", "CP1"]
            assert statuses(central, 2)[-1] == "Available"

    run(scenario)
