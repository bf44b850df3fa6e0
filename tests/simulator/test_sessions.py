"""Charging sessions: automatic ones, remotely started and stopped ones, and what changes them."""

from __future__ import annotations

from datetime import timedelta

from ocpp.v16 import call

from simulator import clock
from tests.simulator.central_system import CentralSystem
from tests.simulator.conftest import connected, sampled, statuses


def test_an_automatic_session_authorizes_starts_reports_meter_values_and_stops(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(
                central, connectors=1, sessions=True, id_tags=["DRIVER-1"], session_seconds=60, meter_interval=10
            ) as (station, _):
                stopped = await central.wait_for("StopTransaction", timeout=5)
                await central.wait_for("StatusNotification", lambda p: p["connector_id"] == 1 and p["status"] == "Available", count=2)
            authorize, started = central.sent("Authorize")[0], central.sent("StartTransaction")[0]
            assert authorize["id_tag"] == started["id_tag"] == "DRIVER-1"
            values = [v for v in central.sent("MeterValues") if v.get("transaction_id") == started["transaction_id"]]
            assert len(values) >= 2
            energy = [int(sampled(v["meter_value"][0], "Energy.Active.Import.Register")["value"]) for v in values]
            assert energy == sorted(energy) and energy[-1] > started["meter_start"]
            first = values[0]["meter_value"][0]
            assert sampled(first, "Energy.Active.Import.Register")["unit"] == "Wh"
            assert sampled(first, "Power.Active.Import") == {
                "value": "11000", "context": "Sample.Periodic", "measurand": "Power.Active.Import", "location": "Outlet", "unit": "W",
            }
            assert sampled(first, "SoC")["unit"] == "Percent"
            # 11 kW for 10 s per sample: about 30.6 Wh between two samples
            assert 25 <= energy[1] - energy[0] <= 40
            assert stopped["transaction_id"] == started["transaction_id"] and stopped["reason"] == "Local"
            assert stopped["meter_stop"] >= energy[-1] and stopped["id_tag"] == "DRIVER-1"
            contexts = [s["context"] for d in stopped["transaction_data"] for s in d["sampled_value"]]
            assert contexts == ["Transaction.Begin", "Transaction.End"]
            assert statuses(central, 1)[:5] == ["Available", "Preparing", "Charging", "Finishing", "Available"]
            assert station.stats.sessions_stopped >= 1 and station.stats.energy_wh > 0

    run(scenario)


def test_a_blocked_id_tag_gets_no_transaction(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, connectors=1, sessions=True, id_tags=["BAD-TAG"], session_seconds=30):
                await central.wait_for("Authorize")
                await central.wait_for("StatusNotification", lambda p: p["connector_id"] == 1 and p["status"] == "Available", count=2)
            assert central.sent("StartTransaction") == []
            assert statuses(central, 1)[:3] == ["Available", "Preparing", "Available"]

    run(scenario)


def test_remote_start_runs_a_session_after_the_answer_and_remote_stop_ends_it(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, connectors=2, meter_interval=5) as (station, csms):
                answer = await csms.call(call.RemoteStartTransaction(id_tag="APP-USER", connector_id=2))
                assert answer.status == "Accepted"
                started = await central.wait_for("StartTransaction")
                assert started["connector_id"] == 2 and started["id_tag"] == "APP-USER"
                assert central.sent("Authorize") == []  # AuthorizeRemoteTxRequests is false
                again = await csms.call(call.RemoteStartTransaction(id_tag="OTHER", connector_id=2))
                assert again.status == "Rejected"  # the connector is busy
                await central.wait_for("MeterValues", lambda p: p.get("transaction_id") == started["transaction_id"], count=2)
                unknown = await csms.call(call.RemoteStopTransaction(transaction_id=started["transaction_id"] + 100))
                assert unknown.status == "Rejected"
                stop = await csms.call(call.RemoteStopTransaction(transaction_id=started["transaction_id"]))
                assert stop.status == "Accepted"
                stopped = await central.wait_for("StopTransaction")
                await central.wait_for("StatusNotification", lambda p: p["connector_id"] == 2 and p["status"] == "Available", count=2)
            assert stopped["reason"] == "Remote"
            assert statuses(central, 2) == ["Available", "Preparing", "Charging", "Finishing", "Available"]
            # The station answered before it acted: the answer went out before its first follow-up status arrived.
            remote_start = station.received_calls[0]
            assert remote_start.action == "RemoteStartTransaction" and remote_start.outcome == "CallResult"
            preparing = next(
                m for m in central.messages
                if m.action == "StatusNotification" and m.payload["connector_id"] == 2 and m.payload["status"] == "Preparing"
            )
            assert remote_start.answered_at <= preparing.received_at

    run(scenario)


def test_remote_start_without_connector_takes_a_free_one_and_can_authorize_first(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, connectors=2, configuration={"AuthorizeRemoteTxRequests": "true"}) as (_, csms):
                await csms.call(call.RemoteStartTransaction(id_tag="FIRST"))
                await csms.call(call.RemoteStartTransaction(id_tag="SECOND"))
                assert (await csms.call(call.RemoteStartTransaction(id_tag="THIRD"))).status == "Rejected"
                await central.wait_for("StartTransaction", count=2)
            assert sorted(p["connector_id"] for p in central.sent("StartTransaction")) == [1, 2]
            assert sorted(p["id_tag"] for p in central.sent("Authorize")) == ["FIRST", "SECOND"]

    run(scenario)


def test_a_remote_start_with_a_charging_profile_limits_the_power(run):
    profile = {
        "chargingProfileId": 7, "stackLevel": 1, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}]},
    }

    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, meter_interval=5) as (station, csms):
                await csms.call(call.RemoteStartTransaction(id_tag="D", connector_id=1, charging_profile=profile))
                values = await central.wait_for("MeterValues", lambda p: p.get("transaction_id"))
                schedule = await csms.call(call.GetCompositeSchedule(connector_id=1, duration=600, charging_rate_unit="A"))
            assert sampled(values["meter_value"][0], "Power.Active.Import")["value"] == "6900"  # 10 A x 230 V x 3
            assert schedule.charging_schedule["charging_schedule_period"] == [{"start_period": 0, "limit": 10.0, "number_phases": 3}]
            assert station.charging_profiles.installed == []  # the TxProfile ended with its transaction

    run(scenario)


def test_unlocking_a_connector_in_use_stops_its_transaction(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central) as (_, csms):
                assert (await csms.call(call.UnlockConnector(connector_id=2))).status == "Unlocked"
                assert (await csms.call(call.UnlockConnector(connector_id=0))).status == "NotSupported"
                assert (await csms.call(call.UnlockConnector(connector_id=9))).status == "NotSupported"
                await csms.call(call.RemoteStartTransaction(id_tag="D", connector_id=1))
                await central.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
                assert (await csms.call(call.UnlockConnector(connector_id=1))).status == "Unlocked"
                stopped = await central.wait_for("StopTransaction")
            assert stopped["reason"] == "UnlockCommand"

    run(scenario)


def test_change_availability_is_scheduled_while_a_transaction_runs(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central) as (_, csms):
                assert (await csms.call(call.ChangeAvailability(connector_id=2, type="Inoperative"))).status == "Accepted"
                await central.wait_for("StatusNotification", lambda p: p["connector_id"] == 2 and p["status"] == "Unavailable")
                assert (await csms.call(call.RemoteStartTransaction(id_tag="D", connector_id=2))).status == "Rejected"
                await csms.call(call.RemoteStartTransaction(id_tag="D", connector_id=1))
                started = await central.wait_for("StartTransaction")
                answer = await csms.call(call.ChangeAvailability(connector_id=1, type="Inoperative"))
                assert answer.status == "Scheduled"
                await csms.call(call.RemoteStopTransaction(transaction_id=started["transaction_id"]))
                await central.wait_for("StatusNotification", lambda p: p["connector_id"] == 1 and p["status"] == "Unavailable")
                assert (await csms.call(call.ChangeAvailability(connector_id=0, type="Operative"))).status == "Accepted"
                await central.wait_for("StatusNotification", lambda p: p["connector_id"] == 1 and p["status"] == "Available", count=2)
                assert (await csms.call(call.ChangeAvailability(connector_id=5, type="Operative"))).status == "Rejected"
            assert statuses(central, 1) == ["Available", "Preparing", "Charging", "Finishing", "Unavailable", "Available"]

    run(scenario)


def test_a_reservation_holds_the_connector_for_its_driver_and_expires(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central) as (_, csms):
                soon = clock.iso(clock.now() + timedelta(hours=1))
                reserve = call.ReserveNow(connector_id=1, expiry_date=soon, id_tag="HOLDER", reservation_id=11)
                assert (await csms.call(reserve)).status == "Accepted"
                await central.wait_for("StatusNotification", lambda p: p["connector_id"] == 1 and p["status"] == "Reserved")
                other = call.ReserveNow(connector_id=1, expiry_date=soon, id_tag="OTHER", reservation_id=12)
                assert (await csms.call(other)).status == "Occupied"
                assert (await csms.call(call.RemoteStartTransaction(id_tag="OTHER", connector_id=1))).status == "Rejected"
                assert (await csms.call(call.RemoteStartTransaction(id_tag="HOLDER", connector_id=1))).status == "Accepted"
                started = await central.wait_for("StartTransaction")
                assert started["reservation_id"] == 11
                assert (await csms.call(call.CancelReservation(reservation_id=11))).status == "Rejected"  # used up

                # A reservation that expires sets the connector free again.
                shortly = clock.now() + timedelta(seconds=0.3)
                short = call.ReserveNow(connector_id=2, expiry_date=shortly.isoformat(), id_tag="LATE", reservation_id=13)
                assert (await csms.call(short)).status == "Accepted"
                await central.wait_for("StatusNotification", lambda p: p["connector_id"] == 2 and p["status"] == "Reserved")
                await central.wait_for("StatusNotification", lambda p: p["connector_id"] == 2 and p["status"] == "Available", count=2)

                reserve_2 = call.ReserveNow(connector_id=2, expiry_date=soon, id_tag="X", reservation_id=14)
                assert (await csms.call(reserve_2)).status == "Accepted"
                assert (await csms.call(call.CancelReservation(reservation_id=14))).status == "Accepted"
                await central.wait_for("StatusNotification", lambda p: p["connector_id"] == 2 and p["status"] == "Available", count=3)
                zero = call.ReserveNow(connector_id=0, expiry_date=soon, id_tag="X", reservation_id=15)
                assert (await csms.call(zero)).status == "Rejected"  # ReserveConnectorZeroSupported is false
                past = call.ReserveNow(connector_id=2, expiry_date=clock.iso(clock.now() - timedelta(minutes=1)), id_tag="X", reservation_id=16)
                assert (await csms.call(past)).status == "Rejected"

    run(scenario)


def test_a_station_reports_the_current_its_profile_allows_per_phase_unless_it_ignores_profiles(run):
    profile = {
        "chargingProfileId": 7, "stackLevel": 1, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}]},
    }  # fmt: skip

    async def current_drawn(**options) -> list[dict]:
        async with CentralSystem() as central:
            async with connected(central, meter_interval=5, **options) as (_, csms):
                await csms.call(call.RemoteStartTransaction(id_tag="D", connector_id=1, charging_profile=profile))
                values = await central.wait_for("MeterValues", lambda p: p.get("transaction_id"))
        return [s for s in values["meter_value"][0]["sampled_value"] if s["measurand"] == "Current.Import"]

    async def scenario():
        obeying = await current_drawn()
        assert [(s["phase"], s["value"], s["unit"]) for s in obeying] == [("L1", "10.0", "A"), ("L2", "10.0", "A"), ("L3", "10.0", "A")]
        ignoring = await current_drawn(ignores_profiles=True)
        assert {s["value"] for s in ignoring} == {"15.9"}  # the car's 11 kW, its profile accepted and ignored

    run(scenario)
