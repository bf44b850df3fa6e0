"""A station built on the `ocpp` package charges under a tariff; its session becomes exactly one CDR, priced as
a person would price it, handed to partners as exactly one `CdrIssued` event, whatever the station retransmits."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import jsonschema
import pytest
import websockets
from ocpp.v16 import ChargePoint, call

from csms.events.catalog import EventType, schema
from tests.e2e.conftest import eventually
from tests.e2e.operator_client import OperatorApi
from tests.examples import STANDARD_TARIFF

pytestmark = pytest.mark.e2e

TARIFF = STANDARD_TARIFF
STOP = {"meter_stop": 12_500, "timestamp": "2026-11-24T11:15:00Z", "reason": "EVDisconnected"}


async def connected(runtime, charge_point_id: str):
    socket = await websockets.connect(runtime.station_url(charge_point_id), subprotocols=["ocpp1.6"])
    station = ChargePoint(charge_point_id, socket)
    task = asyncio.create_task(station.start())
    await station.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Wallbox"))
    return station, socket, task


async def disconnected(socket, task) -> None:
    await socket.close()
    task.cancel()


def cdr_issued_lines(events_file) -> list[dict]:
    if not events_file.exists():
        return []
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    return [event for event in events if event["detail-type"] == EventType.CDR_ISSUED]


def test_a_session_gives_one_cdr_priced_by_hand_and_one_event_despite_retransmitted_stops(run_local, tmp_path):
    events_file = tmp_path / "events.jsonl"

    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        assert (await api.request("PUT", "/tariffs/STANDARD", TARIFF))[0] == 201
        assert (await api.request("PUT", "/charge-points/CP-BILL", {"tariffId": "STANDARD", "timeZone": "Europe/Paris"}))[0] == 201
        assert (await api.request("PUT", "/id-tags/DRIVER-9", {"status": "Accepted"}))[0] == 201

        station, socket, task = await connected(runtime, "CP-BILL")
        started = await station.call(
            call.StartTransaction(connector_id=1, id_tag="DRIVER-9", meter_start=0, timestamp="2026-11-24T10:00:00Z")
        )
        transaction_id = started.transaction_id
        for minute, wh in ((30, "5000"), (60, "10000")):
            await station.call(call.MeterValues(
                connector_id=1, transaction_id=transaction_id,
                meter_value=[{"timestamp": f"2026-11-24T{10 + minute // 60}:{minute % 60:02d}:00Z", "sampledValue": [
                    {"value": wh, "unit": "Wh", "measurand": "Energy.Active.Import.Register"}]}],
            ))  # fmt: skip
        # The station loses our answer twice and reconnects in between: the same stop arrives three times.
        for attempt in range(3):
            await station.call(call.StopTransaction(transaction_id=transaction_id, **STOP))
            if attempt < 2:
                await disconnected(socket, task)
                station, socket, task = await connected(runtime, "CP-BILL")
        await disconnected(socket, task)

        async def the_cdr():
            status, body = await api.request("GET", f"/transactions/{transaction_id}/cdr")
            return body if status == 200 else None

        cdr = await eventually_async(the_cdr, timeout=30)
        await eventually(lambda: cdr_issued_lines(events_file), timeout=30)
        await runtime.table_streams[0].stop()  # every stream record delivered: no further event can come
        return transaction_id, cdr, await api.request("GET", "/cdrs?chargePointId=CP-BILL")

    transaction_id, cdr, (listed_status, listed) = run_local(scenario, events_file=events_file)

    # By hand: 12.5 kWh x 0.30 = 3.75; 1.25 h x 2.00 = 2.50; 1.00 per session: 7.25, and 8.70 with 20 % VAT.
    assert Decimal(str(cdr["total_cost"]["excl_vat"])) == Decimal("7.25")
    assert Decimal(str(cdr["total_cost"]["incl_vat"])) == Decimal("8.70")
    assert (cdr["session_id"], cdr["total_energy"], cdr["total_time"]) == (str(transaction_id), 12.5, 1.25)
    assert cdr["cdr_location"]["evse_uid"] == "CP-BILL-1" and cdr["cdr_location"]["connector_id"] == "1"
    assert listed_status == 200 and [item["id"] for item in listed["items"]] == [cdr["id"]]

    (event,) = cdr_issued_lines(events_file)
    jsonschema.Draft4Validator(schema(EventType.CDR_ISSUED)).validate(event)
    assert event["source"] == "csms.billing"
    assert event["detail"]["eventId"] == cdr["id"] and event["detail"]["cdr"] == cdr


async def eventually_async(check, *, timeout: float):
    deadline = asyncio.get_running_loop().time() + timeout
    while (result := await check()) is None:
        assert asyncio.get_running_loop().time() < deadline, "still no CDR"
        await asyncio.sleep(0.05)
    return result


def test_a_stop_of_a_transaction_never_seen_reaches_partners_as_one_unmatched_stop(run_local, tmp_path):
    events_file = tmp_path / "events.jsonl"

    def unmatched_stops() -> list[dict]:
        lines = events_file.read_text().splitlines() if events_file.exists() else []
        return [event for event in map(json.loads, lines) if event["detail-type"] == EventType.UNMATCHED_STOP]

    async def scenario(runtime):
        station, socket, task = await connected(runtime, "CP-LOST")
        for _ in range(2):  # retransmitted: the same stop
            answer = await station.call(call.StopTransaction(transaction_id=987654, **STOP))
            assert answer.id_tag_info is None
        await disconnected(socket, task)
        await eventually(unmatched_stops, timeout=30)
        await runtime.table_streams[0].stop()

    run_local(scenario, events_file=events_file)
    (event,) = unmatched_stops()
    jsonschema.Draft4Validator(schema(EventType.UNMATCHED_STOP)).validate(event)
    assert (event["detail"]["chargePointId"], event["detail"]["transactionId"]) == ("CP-LOST", 987654)
    assert event["detail"]["stop"]["meterStop"] == STOP["meter_stop"]
