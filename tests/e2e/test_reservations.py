"""Reservations end to end against the local runtime, with a station built on the `ocpp` package: one accepted and
consumed by a StartTransaction, one that expires by itself (its ReservationExpiry workflow's real Wait in moto),
one cancelled, one for an occupied connector refused with a 409 leaving nothing stored; each event lands in the
events file exactly once, valid against its schema."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import jsonschema
import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, CancelReservationStatus, ReservationStatus

from csms.domain.clock import to_iso
from csms.events.catalog import EventType, Source, schema
from tests.e2e.conftest import eventually
from tests.e2e.operator_client import OperatorApi
from tests.fakes.clock import RunningClock

pytestmark = pytest.mark.e2e

STATION = "CP-RES"
OCCUPIED_CONNECTOR = 2


class ReservingStation(ChargePoint):
    """Holds reservations as a 1.6 station does (§5.13): refuses one for its occupied connector."""

    reserved: dict[int, dict]
    cancelled: list[int]

    @on(Action.reserve_now)
    def on_reserve_now(self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int, **_: object):
        if connector_id == OCCUPIED_CONNECTOR:
            return call_result.ReserveNow(status=ReservationStatus.occupied)
        self.reserved[reservation_id] = {"connectorId": connector_id, "idTag": id_tag, "expiryDate": expiry_date}
        return call_result.ReserveNow(status=ReservationStatus.accepted)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int):
        if self.reserved.pop(reservation_id, None) is None:
            return call_result.CancelReservation(status=CancelReservationStatus.rejected)
        self.cancelled.append(reservation_id)
        return call_result.CancelReservation(status=CancelReservationStatus.accepted)


def reservation_events(events_file) -> list[dict]:
    lines = events_file.read_text().splitlines() if events_file.exists() else []
    return [event for event in map(json.loads, lines) if event["source"] == Source.RESERVATIONS]


def test_reservations_are_consumed_expire_are_cancelled_and_refused_each_event_once(run_local, tmp_path):
    events_file = tmp_path / "events.jsonl"
    clock = RunningClock()

    async def scenario(runtime):
        api = OperatorApi(runtime.api_url)
        assert (await api.request("PUT", f"/charge-points/{STATION}", {"timeZone": "Europe/Paris"}))[0] == 201
        assert (await api.request("PUT", "/id-tags/DRIVER-A", {"status": "Accepted"}))[0] == 201
        socket = await websockets.connect(runtime.station_url(STATION), subprotocols=["ocpp1.6"])
        station = ReservingStation(STATION, socket)
        station.reserved, station.cancelled = {}, []
        running = asyncio.create_task(station.start())
        await station.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Wallbox"))

        def reserve(connector_id: int, id_tag: str, *, expires_in: timedelta = timedelta(hours=1), **fields):
            body = {"chargePointId": STATION, "connectorId": connector_id, "idTag": id_tag,
                    "expiryDate": to_iso(clock.now() + expires_in), **fields}  # fmt: skip
            return api.request("POST", "/reservations", body)

        # Accepted, then consumed by the driver's StartTransaction, which takes its limits.
        status, consumed = await reserve(1, "DRIVER-A", limits={"maxEnergyWh": 15000})
        assert (status, consumed["status"]) == (201, "Accepted"), consumed
        started = await station.call(call.StartTransaction(
            connector_id=1, id_tag="DRIVER-A", meter_start=0, timestamp=to_iso(clock.now()),
            reservation_id=consumed["reservationId"],
        ))  # fmt: skip
        assert started.id_tag_info["status"] == "Accepted"
        status, view = await api.request("GET", f"/reservations/{consumed['reservationId']}")
        assert (status, view["status"], view["transactionId"]) == (200, "Consumed", started.transaction_id)

        # Expires by itself a few seconds ahead: the workflow's Wait, then its task.
        status, expiring = await reserve(3, "DRIVER-B", expires_in=timedelta(seconds=3))
        assert status == 201, expiring

        async def expired():
            return (await api.request("GET", f"/reservations/{expiring['reservationId']}"))[1]["status"] == "Expired"

        # Cancelled: the station is asked and accepts.
        status, cancelled = await reserve(4, "DRIVER-C")
        assert status == 201
        status, view = await api.request("DELETE", f"/reservations/{cancelled['reservationId']}")
        assert (status, view["status"]) == (200, "Cancelled") and station.cancelled == [cancelled["reservationId"]]

        # Occupied: 409 with the station's answer, nothing stored.
        status, refused = await reserve(OCCUPIED_CONNECTOR, "DRIVER-D")
        assert (status, refused["response"]) == (409, {"status": "Occupied"}), refused
        refused_id = refused["reservationId"]
        assert (await api.request("GET", f"/reservations/{refused_id}"))[0] == 404
        status, listed = await api.request("GET", f"/reservations?chargePointId={STATION}")
        assert {item["reservationId"] for item in listed["items"]} == {
            consumed["reservationId"], expiring["reservationId"], cancelled["reservationId"]
        }

        deadline = asyncio.get_running_loop().time() + 20
        while not await expired():
            assert asyncio.get_running_loop().time() < deadline, "the reservation never expired"
            await asyncio.sleep(0.1)
        await eventually(lambda: len(reservation_events(events_file)) >= 7, timeout=30)
        await runtime.table_streams[0].stop()  # every stream record delivered: no further event can come
        await socket.close()
        running.cancel()
        return consumed["reservationId"], expiring["reservationId"], cancelled["reservationId"], refused_id

    consumed, expiring, cancelled, refused = run_local(scenario, clock=clock, events_file=events_file)

    events = reservation_events(events_file)
    for event in events:
        jsonschema.Draft4Validator(schema(EventType(event["detail-type"]))).validate(event)
    seen = sorted((event["detail-type"], event["detail"]["reservationId"]) for event in events)
    assert seen == sorted([
        ("ReservationConfirmed", consumed), ("ReservationConsumed", consumed),
        ("ReservationConfirmed", expiring), ("ReservationExpired", expiring),
        ("ReservationConfirmed", cancelled), ("ReservationCancelled", cancelled),
        ("ReservationRefused", refused),
    ])  # fmt: skip
