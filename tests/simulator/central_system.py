"""A tiny central system for testing the simulator: `websockets.serve` + the `ocpp` package's ChargePoint on the
CSMS side. It answers every station-initiated 1.6 message (both sides validate every payload against the official
schemas) and records what each station sent."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action
from websockets.exceptions import ConnectionClosed

from simulator import clock


@dataclass
class Message:
    station: str
    action: str
    payload: dict[str, Any]  # snake_case, as the `ocpp` package hands it to a handler
    received_at: datetime = field(default_factory=clock.now)


@dataclass
class CentralSystem:
    boot_statuses: list[str] = field(default_factory=lambda: ["Accepted"])
    """Answers to successive BootNotifications; the last one repeats."""
    heartbeat_interval: int = 300
    id_tag_status: Callable[[str], str] = lambda id_tag: "Blocked" if id_tag.startswith("BAD") else "Accepted"
    password: str | None = None
    response_timeout: float = 2

    def __post_init__(self) -> None:
        self.messages: list[Message] = []
        self.stations: dict[str, StationHandle] = {}
        self.connections: list[str] = []
        self.refused: list[str] = []
        self.authorization_headers: list[str | None] = []
        self._transaction_ids = itertools.count(1)
        self._boots = 0

    async def __aenter__(self) -> CentralSystem:
        self._server = await websockets.serve(
            self._serve, "127.0.0.1", 0, subprotocols=["ocpp1.6"], process_request=self._authenticate
        )
        return self

    async def __aexit__(self, *_: Any) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/ocpp"

    def station_url(self, charge_point_id: str) -> str:
        return f"{self.url}/{charge_point_id}"

    def _authenticate(self, connection: Any, request: Any) -> Any:
        header = request.headers.get("Authorization")
        self.authorization_headers.append(header)
        if self.password is None:
            return None
        station = request.path.rsplit("/", 1)[-1]
        expected = "Basic " + base64.b64encode(f"{station}:{self.password}".encode()).decode()
        if header != expected:
            self.refused.append(station)
            return connection.respond(401, "Unauthorized\n")
        return None

    async def _serve(self, connection: Any) -> None:
        station_id = connection.request.path.rsplit("/", 1)[-1]
        handle = StationHandle(station_id, connection, response_timeout=self.response_timeout)
        handle.central = self
        self.stations[station_id] = handle
        self.connections.append(station_id)
        with contextlib.suppress(ConnectionClosed):
            await handle.start()

    def record(self, station: str, action: str, payload: dict[str, Any]) -> None:
        self.messages.append(Message(station, action, payload))

    def next_boot_status(self) -> str:
        status = self.boot_statuses[min(self._boots, len(self.boot_statuses) - 1)]
        self._boots += 1
        return status

    def next_transaction_id(self) -> int:
        return next(self._transaction_ids)

    def sent(self, action: str, station: str | None = None) -> list[dict[str, Any]]:
        """Payloads of `action` the station(s) sent so far, oldest first."""
        return [m.payload for m in self.messages if m.action == action and station in (None, m.station)]

    async def wait_for(
        self,
        action: str,
        match: Callable[[dict[str, Any]], bool] = lambda payload: True,
        *,
        count: int = 1,
        timeout: float = 5,
    ) -> dict[str, Any]:
        """The `count`-th payload of `action` that `match`es."""
        async def arrived() -> dict[str, Any]:
            while True:
                found = [p for p in self.sent(action) if match(p)]
                if len(found) >= count:
                    return found[count - 1]
                await asyncio.sleep(0.005)

        return await asyncio.wait_for(arrived(), timeout)

    async def wait_connections(self, count: int, timeout: float = 5) -> None:
        async def arrived() -> None:
            while len(self.connections) < count:
                await asyncio.sleep(0.005)

        await asyncio.wait_for(arrived(), timeout)


class StationHandle(ChargePoint):
    """The central system's side of one station connection."""

    central: CentralSystem

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self.central.record(self.id, action, payload)

    @property
    def connection(self) -> Any:
        return self._connection

    @on(Action.boot_notification)
    def on_boot_notification(self, **payload: Any) -> call_result.BootNotification:
        self._record("BootNotification", payload)
        return call_result.BootNotification(
            current_time=clock.iso(clock.now()), interval=self.central.heartbeat_interval, status=self.central.next_boot_status()
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **payload: Any) -> call_result.Heartbeat:
        self._record("Heartbeat", payload)
        return call_result.Heartbeat(current_time=clock.iso(clock.now()))

    @on(Action.status_notification)
    def on_status_notification(self, **payload: Any) -> call_result.StatusNotification:
        self._record("StatusNotification", payload)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **payload: Any) -> call_result.Authorize:
        self._record("Authorize", {"id_tag": id_tag, **payload})
        return call_result.Authorize(id_tag_info={"status": self.central.id_tag_status(id_tag)})

    @on(Action.start_transaction)
    def on_start_transaction(self, id_tag: str, **payload: Any) -> call_result.StartTransaction:
        transaction_id = self.central.next_transaction_id()
        self._record("StartTransaction", {"id_tag": id_tag, "transaction_id": transaction_id, **payload})
        return call_result.StartTransaction(
            transaction_id=transaction_id, id_tag_info={"status": self.central.id_tag_status(id_tag)}
        )

    @on(Action.meter_values)
    def on_meter_values(self, **payload: Any) -> call_result.MeterValues:
        self._record("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop_transaction(self, **payload: Any) -> call_result.StopTransaction:
        self._record("StopTransaction", payload)
        return call_result.StopTransaction(id_tag_info={"status": "Accepted"})

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(self, **payload: Any) -> call_result.DiagnosticsStatusNotification:
        self._record("DiagnosticsStatusNotification", payload)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, **payload: Any) -> call_result.FirmwareStatusNotification:
        self._record("FirmwareStatusNotification", payload)
        return call_result.FirmwareStatusNotification()

    @on(Action.data_transfer)
    def on_data_transfer(self, **payload: Any) -> call_result.DataTransfer:
        self._record("DataTransfer", payload)
        return call_result.DataTransfer(status="Accepted")

    @on(Action.log_status_notification)
    def on_log_status_notification(self, **payload: Any) -> call_result.LogStatusNotification:
        self._record("LogStatusNotification", payload)
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification)
    def on_signed_firmware_status_notification(self, **payload: Any) -> call_result.SignedFirmwareStatusNotification:
        self._record("SignedFirmwareStatusNotification", payload)
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.security_event_notification)
    def on_security_event_notification(self, **payload: Any) -> call_result.SecurityEventNotification:
        self._record("SecurityEventNotification", payload)
        return call_result.SecurityEventNotification()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, **payload: Any) -> call_result.SignCertificate:
        self._record("SignCertificate", payload)
        return call_result.SignCertificate(status="Accepted")
