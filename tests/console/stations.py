"""A charging station for the browser tests: the `ocpp` package's ChargePoint over websockets, on the runtime's loop.

It answers RemoteStopTransaction as a real station does: Accepted, then its StopTransaction (OCPP 1.6 §5.12) and
its connector becoming Available again; RemoteStartTransaction on a free connector: Accepted, then its
StartTransaction (§5.11); ReserveNow and CancelReservation are Accepted, the connector turning Reserved and
Available again (§5.13, §5.1); ChangeAvailability is Accepted (and recorded in `availability`), and so are the
charging profiles a site's load control sends (SetChargingProfile: a station with Smart Charging, never flagged for
refusing them). Other actions get the `ocpp` package's NotImplemented CallError.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    AvailabilityStatus,
    CancelReservationStatus,
    ChargingProfileStatus,
    RemoteStartStopStatus,
    ReservationStatus,
)

from tests.console.conftest import LiveRuntime


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Station(ChargePoint):
    def __init__(self, charge_point_id: str, connection: Any) -> None:
        super().__init__(charge_point_id, connection)
        self.transaction_id: int | None = None
        self.meter_wh = 10_000
        self.reservations: dict[int, int] = {}  # reservationId -> connectorId
        self.availability: list[tuple[int, str]] = []  # (connectorId, type) of each ChangeAvailability

    @on(Action.remote_start_transaction)
    def remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any) -> call_result.RemoteStartTransaction:
        free = self.transaction_id is None
        return call_result.RemoteStartTransaction(
            status=RemoteStartStopStatus.accepted if free else RemoteStartStopStatus.rejected
        )

    @after(Action.remote_start_transaction)
    async def start_after_remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any) -> None:
        if self.transaction_id is None:
            await self.start_charging(id_tag, connector_id=connector_id or 1)

    @on(Action.change_availability)
    def change_availability(self, connector_id: int, **payload: Any) -> call_result.ChangeAvailability:
        self.availability.append((connector_id, payload["type"]))
        return call_result.ChangeAvailability(status=AvailabilityStatus.accepted)

    @on(Action.set_charging_profile)
    def set_charging_profile(self, **_: Any) -> call_result.SetChargingProfile:
        return call_result.SetChargingProfile(status=ChargingProfileStatus.accepted)

    @on(Action.remote_stop_transaction)
    def remote_stop(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        accepted = transaction_id == self.transaction_id
        return call_result.RemoteStopTransaction(
            status=RemoteStartStopStatus.accepted if accepted else RemoteStartStopStatus.rejected
        )

    @after(Action.remote_stop_transaction)
    async def stop_after_remote_stop(self, transaction_id: int) -> None:
        if transaction_id == self.transaction_id:
            await self.stop_charging(reason="Remote")

    @on(Action.reserve_now)
    def reserve_now(self, connector_id: int, reservation_id: int, **_: Any) -> call_result.ReserveNow:
        self.reservations[reservation_id] = connector_id
        return call_result.ReserveNow(status=ReservationStatus.accepted)

    @after(Action.reserve_now)
    async def reserved(self, connector_id: int, **_: Any) -> None:
        await self.status(connector_id, "Reserved")

    @on(Action.cancel_reservation)
    def cancel_reservation(self, reservation_id: int) -> call_result.CancelReservation:
        known = reservation_id in self.reservations
        return call_result.CancelReservation(status=CancelReservationStatus.accepted if known else CancelReservationStatus.rejected)

    @after(Action.cancel_reservation)
    async def cancelled(self, reservation_id: int) -> None:
        connector_id = self.reservations.pop(reservation_id, None)
        if connector_id:
            await self.status(connector_id, "Available")

    async def boot(self, connectors: int = 2) -> None:
        await self.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="Wallbox 22"))
        for connector_id in range(1, connectors + 1):
            await self.status(connector_id, "Available")

    async def status(self, connector_id: int, status: str, error_code: str = "NoError") -> None:
        await self.call(call.StatusNotification(connector_id=connector_id, error_code=error_code, status=status))

    async def authorize(self, id_tag: str) -> str:
        answer = await self.call(call.Authorize(id_tag=id_tag))
        return str(answer.id_tag_info["status"])

    async def start_charging(self, id_tag: str, started_at: datetime | None = None, connector_id: int = 1) -> int:
        await self.status(connector_id, "Preparing")
        answer = await self.call(call.StartTransaction(
            connector_id=connector_id, id_tag=id_tag, meter_start=self.meter_wh, timestamp=iso(started_at or datetime.now(UTC))
        ))
        assert answer.id_tag_info["status"] == "Accepted", answer
        self.transaction_id = answer.transaction_id
        await self.status(connector_id, "Charging")
        return int(answer.transaction_id)

    async def meter(
        self, at: datetime, *, energy_wh: int, power_w: int, soc: int | None = None, current_a: float | None = None,
        connector_id: int = 1,
    ) -> None:
        sampled = [
            {"value": str(energy_wh), "unit": "Wh", "measurand": "Energy.Active.Import.Register", "context": "Sample.Periodic"},
            {"value": str(power_w), "unit": "W", "measurand": "Power.Active.Import", "context": "Sample.Periodic"},
        ]
        if soc is not None:
            sampled.append({"value": str(soc), "unit": "Percent", "measurand": "SoC", "location": "EV"})
        if current_a is not None:  # per phase, as the CSMS reads a site's draw
            sampled.extend({"value": str(current_a), "unit": "A", "measurand": "Current.Import", "phase": phase}
                           for phase in ("L1", "L2", "L3"))
        self.meter_wh = energy_wh
        await self.call(call.MeterValues(
            connector_id=connector_id, transaction_id=self.transaction_id,
            meter_value=[{"timestamp": iso(at), "sampledValue": sampled}],
        ))

    async def stop_charging(self, reason: str = "Local", at: datetime | None = None, connector_id: int = 1) -> None:
        await self.call(call.StopTransaction(
            meter_stop=self.meter_wh, timestamp=iso(at or datetime.now(UTC)), transaction_id=self.transaction_id, reason=reason
        ))
        self.transaction_id = None
        await self.status(connector_id, "Available")


async def _connect(runtime: LiveRuntime, charge_point_id: str) -> Station:
    socket = await websockets.connect(runtime.runtime.station_url(charge_point_id), subprotocols=["ocpp1.6"])
    station = Station(charge_point_id, socket)
    station.task = asyncio.get_running_loop().create_task(station.start())  # type: ignore[attr-defined]
    return station


def connect(live: LiveRuntime, charge_point_id: str) -> Station:
    return live.run(_connect(live, charge_point_id))


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)
