"""A simulated OCPP 1.6J charge point built on the `ocpp` package's ChargePoint.

It boots, reports its connectors, heartbeats, charges (on its own with `sessions=True`, or when told with
RemoteStartTransaction), answers every central-system action of 1.6 and of the Security Whitepaper with
plausible semantics, and reconnects when its connection drops. Every message it sends or answers is checked
against the official schemas by the `ocpp` package.

Time: intervals and durations the station waits for on its own (heartbeat, meter values, session length,
boot retry, firmware/diagnostics steps) are multiplied by `time_scale`, so a test can run a 60 s meter
interval in 60 ms while the values reported stay those of a 60 s interval. Absolute dates sent by the
central system (reservation expiry, firmware retrieve date) and the test hooks' `delays` are real time.

Test hooks (see `SimulatedChargePoint.__init__`): `delays`, `silent`, `failures`, `answers`, and `received_calls`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from decimal import Decimal
from typing import Any

import websockets
from ocpp.exceptions import OCPPError, UnknownCallErrorCodeError
from ocpp.messages import Call, CallError, CallResult, MessageType, unpack
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    Reason,
    RegistrationStatus,
    ResetType,
    UploadLogStatus,
)
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from simulator import clock
from simulator.authorization import AuthorizationCache, LocalAuthorizationList
from simulator.calls import ReceivedCall, StationStats
from simulator.certificates import CertificateStore
from simulator.commands import CentralSystemCommands
from simulator.configuration import Configuration, default_keys
from simulator.connector import Connector, Reservation, Session
from simulator.smart_charging import ChargingProfiles, Electrical

LOGGER = logging.getLogger("simulator")

Report = Callable[[str], None]

BATTERY_WH = Decimal(60_000)
"""The simulated car's battery: state of charge rises by 1 % per 600 Wh."""
UNPLUG_SECONDS = 1
"""Nominal time a connector stays Finishing after a session, until the driver unplugs."""


class SimulatedChargePoint(CentralSystemCommands, ChargePoint):
    """An OCPP 1.6J station: `await station.run(url)` connects (and reconnects) until `await station.stop()`."""

    def __init__(
        self,
        charge_point_id: str,
        *,
        connectors: int = 2,
        password: str | None = None,
        vendor: str = "CSMS-Sim",
        model: str = "Sim-AC22",
        firmware_version: str = "1.0.0",
        data_transfer_vendor: str | None = None,
        configuration: Mapping[str, str] | None = None,
        heartbeat_interval: int = 300,
        meter_interval: int = 60,
        sessions: bool = False,
        id_tags: Sequence[str] = ("SIM-TAG-1",),
        session_seconds: float = 600,
        session_pause: float | None = None,
        ev_power_w: int = 11_000,
        max_current: int = 32,
        ignores_profiles: bool = False,
        time_scale: float = 1.0,
        response_timeout: float = 30,
        reconnect_delay: tuple[float, float] = (1.0, 60.0),
        delays: Mapping[str, float] | None = None,
        silent: Collection[str] | None = None,
        failures: Mapping[str, str] | None = None,
        answers: Mapping[str, dict[str, Any]] | None = None,
        report: Report | None = None,
        seed: int | None = None,
    ) -> None:
        """
        connectors, password (HTTP Basic `id:password`), vendor/model/firmware_version (BootNotification),
        data_transfer_vendor (the only vendorId DataTransfer accepts; it echoes `data`), configuration
        (initial values of configuration keys), heartbeat_interval (until the boot answer sets it),
        meter_interval (MeterValueSampleInterval), sessions (start charging sessions on its own, with one of
        `id_tags`, lasting about `session_seconds`, each after a pause of about `session_pause`, by default 5 to 30 %
        of `session_seconds`), ev_power_w / max_current (what the car draws and the
        connector can give), ignores_profiles (it accepts charging profiles and draws what the car takes all the
        same: a station a CSMS must flag from its measured current), time_scale (see the module), response_timeout
        (for the station's own CALLs),
        reconnect_delay (first and largest backoff, real seconds), report (progress lines), seed (randomness).

        Test hooks, per action name, changeable at any time:
          delays   {"Reset": 40}: wait this many (real) seconds before answering;
          silent   {"GetDiagnostics"}: never answer;
          failures {"UnlockConnector": "InternalError"}: answer a CALLERROR with this code;
          answers  {"RemoteStopTransaction": {"status": "Rejected"}}: answer this payload, doing nothing.
        `received_calls` records every central-system CALL (ReceivedCall: action, payload, received/answered
        time, outcome, and whether it overlapped a call still being handled).
        """
        super().__init__(charge_point_id, None, response_timeout=response_timeout)
        self.vendor, self.model, self.firmware_version = vendor, model, firmware_version
        self.password = password
        self.data_transfer_vendor = data_transfer_vendor
        self.auto_sessions = sessions
        self.id_tags = list(id_tags)
        self.session_seconds = session_seconds
        self.session_pause = session_pause
        self.ev_power_w = Decimal(ev_power_w)
        self.electrical = Electrical(max_current=Decimal(max_current))
        self.ignores_profiles = ignores_profiles
        self.time_scale = time_scale
        self.reconnect_delay = reconnect_delay
        self.delays: dict[str, float] = dict(delays or {})
        self.silent: set[str] = set(silent or ())
        self.failures: dict[str, str] = dict(failures or {})
        self.answers: dict[str, dict[str, Any]] = dict(answers or {})
        self.received_calls: list[ReceivedCall] = []
        self.stats = StationStats()
        self.errors: list[BaseException] = []
        """Unexpected exceptions in the station's own tasks (a test asserts there are none)."""
        self._report_to = report
        self._rng = random.Random(seed)

        self.configuration = Configuration(
            default_keys(
                connectors=connectors,
                heartbeat_interval=heartbeat_interval,
                meter_interval=meter_interval,
                password=password,
            ),
            configuration,
        )
        self.connectors = {n: Connector(n, meter_wh=self._rng.randrange(100_000, 5_000_000)) for n in range(connectors + 1)}
        self.local_list = LocalAuthorizationList()
        self.cache = AuthorizationCache()
        self.charging_profiles = ChargingProfiles()
        self.certificates = CertificateStore()
        self.reservations: dict[int, Reservation] = {}
        self.firmware_status: str = FirmwareStatus.idle
        self.diagnostics_status: str = DiagnosticsStatus.idle
        self.log_status: str = UploadLogStatus.idle
        self.log_request_id: int | None = None

        self._accepted = False  # BootNotification accepted since the last (re)boot
        self._rebooting = False
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._online = asyncio.Event()  # a connection is open
        self._ready = asyncio.Event()  # ... and the central system accepted the boot
        self._connection_lost = asyncio.Event()
        self._heartbeat_changed = asyncio.Event()
        self._booted = asyncio.Event()
        self._handling: dict[str, ReceivedCall] = {}
        self._tasks: set[asyncio.Task[Any]] = set()  # live as long as the station
        self._connection_tasks: set[asyncio.Task[Any]] = set()  # live as long as one connection
        self._session_drivers: list[asyncio.Task[None]] = []
        self._firmware_task: asyncio.Task[None] | None = None
        self._log_task: asyncio.Task[None] | None = None
        self._reset_reason: str | None = None

    # ------------------------------------------------------------------ running

    async def run(self, url: str) -> None:
        """Connect to `url` (the station id already appended), serve, reconnect with backoff, until `stop()`."""
        shortest, longest = self.reconnect_delay
        delay = shortest
        while not self._stopping:
            try:
                async with websockets.connect(
                    url,
                    subprotocols=["ocpp1.6"],
                    additional_headers=self._headers(),
                    ping_interval=self.configuration.integer("WebSocketPingInterval") or None,
                    open_timeout=max(self._response_timeout, 10),
                ) as connection:
                    delay = shortest
                    await self.serve(connection)
            except InvalidStatus as error:
                self._report(f"connection refused: HTTP {error.response.status_code}")
            except (OSError, TimeoutError, WebSocketException) as error:
                self._report(f"connection failed: {error!r}")
            if self._stopping:
                break
            if self._rebooting:
                await self._pause(self._scaled(3))
                continue
            await self._pause(delay * self._rng.uniform(0.5, 1.0))
            delay = min(delay * 2, longest)

    async def serve(self, connection: Any) -> None:
        """Boot (if needed), report, heartbeat and answer on one open connection, until it closes. `run()` calls it;
        a test holding its own connection may too (after a Reset the station closes it: connect again)."""
        if self._stopping:  # stop() came while this connection was being opened
            await connection.close()
            return
        self._connection = connection
        self._response_queue = asyncio.Queue()
        self._connection_lost = asyncio.Event()
        self._online.set()
        self.stats.connections += 1
        subprotocol = getattr(connection, "subprotocol", None)
        self._report(f"connected (subprotocol {subprotocol})")
        behaviour = self._spawn(self._on_connected(), connection=True)
        try:
            await self.start()
        finally:
            self._online.clear()
            self._ready.clear()
            self._connection_lost.set()
            behaviour.cancel()
            for task in list(self._connection_tasks):
                task.cancel()
            await asyncio.gather(*self._connection_tasks, return_exceptions=True)
            self._handling.clear()
            self._release_unstarted_sessions()
            code, reason = getattr(connection, "close_code", None), getattr(connection, "close_reason", "")
            self._report(f"disconnected (close code {code}{', ' + reason if reason else ''})")

    async def stop(self, *, reason: str = Reason.local, timeout: float = 10) -> None:
        """End the sessions (StopTransaction with `reason`), close the connection, end `run()`."""
        self._stopping = True
        self._stop_event.set()
        for driver in self._session_drivers:
            driver.cancel()
        await self._end_sessions(reason, timeout=timeout)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._connection is not None:
            await self._connection.close()

    async def wait_booted(self, timeout: float = 10) -> None:
        """Until the central system has accepted a BootNotification and the station reported its connectors."""
        await asyncio.wait_for(self._booted.wait(), timeout)

    async def wait_for_call(self, action: str, *, count: int = 1, answered: bool = True, timeout: float = 10) -> ReceivedCall:
        """The `count`-th CALL of `action` received (and answered or left silent, unless `answered=False`)."""
        async def arrived() -> ReceivedCall:
            while True:
                matching = [c for c in self.received_calls if c.action == action]
                if len(matching) >= count and (not answered or matching[count - 1].outcome is not None):
                    return matching[count - 1]
                await asyncio.sleep(0.01)

        return await asyncio.wait_for(arrived(), timeout)

    @property
    def overlapping_calls(self) -> list[ReceivedCall]:
        return [c for c in self.received_calls if c.overlapped]

    # ------------------------------------------------------------------ receiving and answering

    async def start(self) -> None:
        """Read frames until the connection closes. Unlike the base class, each CALL is answered in its own task:
        a slow answer does not hold up the replies to the station's own CALLs, and a CALL arriving while
        another is being handled is visible (ReceivedCall.overlapped)."""
        try:
            async for raw in self._connection:
                self._receive(raw)
        except ConnectionClosed:
            pass

    def _receive(self, raw: str | bytes) -> None:
        try:
            message = unpack(raw)
        except OCPPError as error:
            self._report(f"unreadable frame ignored: {error}")
            return
        if message.message_type_id != MessageType.Call:
            self._response_queue.put_nowait(message)
            return
        record = ReceivedCall(
            unique_id=message.unique_id,
            action=message.action,
            payload=message.payload,
            received_at=clock.now(),
            overlapped=bool(self._handling),
        )
        self.received_calls.append(record)
        self._handling[message.unique_id] = record
        self.stats.commands_received += 1
        self._report(f"<- {message.action} {_short(message.payload)}")
        self._spawn(self._answer(message, record), connection=True)

    async def _answer(self, message: Call, record: ReceivedCall) -> None:
        try:
            if message.action in self.silent:
                record.outcome = "Silent"
                self._handling.pop(message.unique_id, None)
                self._report(f"-> {message.action}: left unanswered (test hook)")
                return
            if delay := self.delays.get(message.action):
                await asyncio.sleep(delay)
            if code := self.failures.get(message.action):
                await self._send(CallError(message.unique_id, code, "Simulated failure (test hook)", {}).to_json())
                return
            if (answer := self.answers.get(message.action)) is not None:
                await self._send(CallResult(message.unique_id, answer, message.action).to_json())
                return
            try:
                await self._handle_call(message)
            except OCPPError as error:
                await self._send(message.create_call_error(error).to_json())
        except ConnectionClosed:
            pass
        finally:
            self._handling.pop(message.unique_id, None)

    async def _send(self, message: str) -> None:
        await super()._send(message)
        frame = json.loads(message)
        if frame[0] == MessageType.Call:
            return
        record = self._handling.pop(frame[1], None)
        if record is None:
            return
        record.answered_at = clock.now()
        self.stats.commands_answered += 1
        if frame[0] == MessageType.CallResult:
            record.outcome, record.response = "CallResult", frame[2]
            status = frame[2].get("status") if isinstance(frame[2], dict) else None
            self._report(f"-> {record.action}: {status or _short(frame[2])}")
        else:
            record.outcome, record.response = "CallError", {"errorCode": frame[2], "errorDescription": frame[3]}
            self.stats.command_errors += 1
            self._report(f"-> {record.action}: CALLERROR {frame[2]}")

    # ------------------------------------------------------------------ the station's own CALLs

    async def _send_call(self, payload: Any, *, transactional: bool = False, before_boot: bool = False) -> Any:
        """Send one CALL and return the central system's answer, or None (CALLERROR, no answer, offline).

        A transactional message (Start/StopTransaction, MeterValues of a transaction) waits for a connection
        and is sent again after a disconnection or a timeout, up to TransactionMessageAttempts (§4.10); any
        other message is dropped when the station is offline."""
        action = type(payload).__name__
        attempts = 0
        while True:
            gate = self._online if before_boot else self._ready
            if not gate.is_set():
                if not transactional:
                    return None
                await gate.wait()
            lost = self._connection_lost
            sending = asyncio.ensure_future(self.call(payload, suppress=False))
            watching = asyncio.ensure_future(lost.wait())
            try:
                await asyncio.wait({sending, watching}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                watching.cancel()
                if not sending.done():
                    sending.cancel()
                    sending.add_done_callback(_consume)
            if sending.done() and not sending.cancelled():
                try:
                    return sending.result()
                except ConnectionClosed:
                    pass
                except TimeoutError:
                    attempts += 1
                    self.stats.failed_calls += 1
                    self._report(f"{action}: no answer within {self._response_timeout} s")
                    if not transactional or attempts >= max(1, self.configuration.integer("TransactionMessageAttempts")):
                        return None
                    await self._pause(self._scaled(self.configuration.integer("TransactionMessageRetryInterval")))
                    continue
                except (OCPPError, UnknownCallErrorCodeError) as error:
                    self.stats.failed_calls += 1
                    self._report(f"{action}: answered with an error: {error}")
                    return None
            if not transactional:
                return None

    async def _on_connected(self) -> None:
        if self._accepted:
            self._ready.set()
            for connector in self.connectors.values():  # the central system may have lost track while we were away
                await self._send_status(connector)
        else:
            await self._boot()
        if self.auto_sessions and not self._session_drivers:
            self._session_drivers = [
                self._spawn(self._drive_sessions(connector)) for n, connector in self.connectors.items() if n
            ]
        await self._heartbeat()

    async def _boot(self) -> None:
        """BootNotification until Accepted; Pending or Rejected: again after the interval answered (§4.2)."""
        while not self._accepted:  # a triggered BootNotification may have been accepted meanwhile
            response = await self._send_call(self._boot_notification(), before_boot=True)
            if response is None:
                await self._pause(self._scaled(30))
            elif not self._boot_answered(response):
                await self._pause(self._scaled(response.interval or 30))
        for connector in self.connectors.values():
            await self._send_status(connector)
        self._booted.set()
        if self._reset_reason:
            await self._security_event("ResetOrReboot", f"{self._reset_reason} reset requested by the central system")
            self._reset_reason = None

    def _boot_notification(self) -> call.BootNotification:
        return call.BootNotification(
            charge_point_vendor=self.vendor[:20],
            charge_point_model=self.model[:20],
            charge_point_serial_number=f"SN-{self.id}"[:25],
            firmware_version=self.firmware_version[:50],
            meter_type="SimMeter"[:25],
        )

    def _boot_answered(self, response: call_result.BootNotification) -> bool:
        self.stats.boots += 1
        self.stats.boot_status = response.status
        if response.status != RegistrationStatus.accepted:
            self._report(f"boot {response.status}, retry in {response.interval} s")
            return False
        if response.interval > 0:
            self.configuration.key("HeartbeatInterval").value = str(response.interval)
            self._heartbeat_changed.set()
        self._accepted = True
        self._rebooting = False
        self._ready.set()
        self._report(f"boot Accepted, heartbeat every {self.configuration.get('HeartbeatInterval')} s")
        return True

    async def _heartbeat(self) -> None:
        while True:
            self._heartbeat_changed.clear()
            interval = self.configuration.integer("HeartbeatInterval")
            if await _wait(self._heartbeat_changed, self._scaled(interval) if interval > 0 else None):
                continue  # a new interval: start counting again
            if await self._send_call(call.Heartbeat()) is not None:
                self.stats.heartbeats += 1

    async def _send_status(self, connector: Connector, *, before_boot: bool = False) -> None:
        await self._send_call(
            call.StatusNotification(
                connector_id=connector.id,
                error_code=ChargePointErrorCode.no_error,
                status=connector.status,
                timestamp=clock.iso(clock.now()),
            ),
            before_boot=before_boot,
        )

    async def _set_status(self, connector: Connector, status: str) -> None:
        if connector.status == status:
            return
        connector.status = status
        await self._send_status(connector)

    def _idle_status(self, connector: Connector) -> str:
        if not connector.operative or (connector.id and not self.connectors[0].operative):
            return ChargePointStatus.unavailable
        if connector.id and self._reservation_on(connector.id):
            return ChargePointStatus.reserved
        return ChargePointStatus.available

    async def _security_event(self, kind: str, info: str) -> None:
        await self._send_call(call.SecurityEventNotification(type=kind, timestamp=clock.iso(clock.now()), tech_info=info[:255]))

    # ------------------------------------------------------------------ charging sessions

    async def _drive_sessions(self, connector: Connector) -> None:
        """Automatic sessions: a driver arrives now and then, charges for a while, leaves."""
        while not self._stopping:
            if self.session_pause is None:
                pause = self.session_seconds * self._rng.uniform(0.05, 0.3)
            else:
                pause = self.session_pause * self._rng.uniform(0.5, 1.5)
            await self._pause(self._scaled(pause))
            await self._ready.wait()
            busy = self._stopping or self._rebooting or connector.session
            if busy or self._idle_status(connector) != ChargePointStatus.available:
                continue
            in_use = {c.session.id_tag for c in self.connectors.values() if c.session}
            drivers = [tag for tag in self.id_tags if tag not in in_use]  # a driver charges at one connector at a time
            if not drivers:
                continue
            session = Session(
                connector.id,
                self._rng.choice(drivers),
                remote=False,
                duration=self.session_seconds * self._rng.uniform(0.5, 1.5),
            )
            self._begin(connector, session)
            await asyncio.wait([session.task])  # unlike awaiting it, cancelling the driver leaves the session be

    def _begin(self, connector: Connector, session: Session) -> None:
        connector.session = session
        session.soc = Decimal(self._rng.randrange(10, 60))
        session.task = self._spawn(self._run_session(connector, session))

    async def _run_session(self, connector: Connector, session: Session) -> None:
        try:
            await self._set_status(connector, ChargePointStatus.preparing)
            if await self._authorized(connector, session):
                if await self._start_transaction(connector, session):
                    await self._charge(connector, session)
                    await self._stop_transaction(connector, session)
            else:
                self._report(f"connector {connector.id}: idTag {session.id_tag} not authorized ({session.refusal})")
        finally:
            connector.session = None
        if connector.status != ChargePointStatus.preparing:
            await self._set_status(connector, ChargePointStatus.finishing)
            await self._pause(self._scaled(UNPLUG_SECONDS))
        await self._apply_scheduled_availability(connector)
        await self._set_status(connector, self._idle_status(connector))

    async def _authorized(self, connector: Connector, session: Session) -> bool:
        """Authorize (§4.1), unless the central system started it and AuthorizeRemoteTxRequests is false;
        the Local Authorization List or the cache answers first with LocalPreAuthorize (§3.5)."""
        reservation = self._reservation_on(connector.id)
        parent: str | None = None
        if not (session.remote and not self.configuration.boolean("AuthorizeRemoteTxRequests")):
            info = self._known_locally(session.id_tag) if self.configuration.boolean("LocalPreAuthorize") else None
            if info is None:
                response = await self._send_call(call.Authorize(id_tag=session.id_tag))
                if response is None:
                    info = self._offline_authorization(session.id_tag)
                else:
                    info = response.id_tag_info
                    self._remember(session.id_tag, info)
            if info is None or info.get("status") != AuthorizationStatus.accepted:
                session.refusal = "no answer" if info is None else info.get("status")
                return False
            parent = info.get("parent_id_tag")
        if reservation is not None:
            tags = {session.id_tag.upper()} | ({parent.upper()} if parent else set())
            if reservation.id_tag.upper() not in tags and (reservation.parent_id_tag or "").upper() not in tags:
                session.refusal = f"connector reserved for another idTag (reservation {reservation.id})"
                return False
            session.reservation_id = reservation.id
        return True

    def _known_locally(self, id_tag: str) -> dict[str, Any] | None:
        if self.configuration.boolean("LocalAuthListEnabled") and (info := self.local_list.lookup(id_tag)):
            return info
        if self.configuration.boolean("AuthorizationCacheEnabled") and (info := self.cache.lookup(id_tag)):
            return info
        return None

    def _offline_authorization(self, id_tag: str) -> dict[str, Any] | None:
        if self.configuration.boolean("LocalAuthorizeOffline") and (info := self._known_locally(id_tag)):
            return info
        if self.configuration.boolean("AllowOfflineTxForUnknownId"):
            return {"status": AuthorizationStatus.accepted}
        return None

    def _remember(self, id_tag: str, info: Mapping[str, Any]) -> None:
        if self.configuration.boolean("AuthorizationCacheEnabled"):
            self.cache.remember(id_tag, info)

    async def _start_transaction(self, connector: Connector, session: Session) -> bool:
        session.meter_start = connector.meter_wh
        session.begin_sample = self._meter_value(connector, session, "Transaction.Begin", stop_txn=True)
        response = await self._send_call(
            call.StartTransaction(
                connector_id=connector.id,
                id_tag=session.id_tag,
                meter_start=session.meter_start,
                timestamp=clock.iso(clock.now()),
                reservation_id=session.reservation_id,
            ),
            transactional=True,
        )
        if response is None:
            self._report(f"connector {connector.id}: StartTransaction failed, session abandoned")
            return False
        session.transaction_id = response.transaction_id
        session.started_at = clock.now()
        session.last_accrual = asyncio.get_running_loop().time()
        self._remember(session.id_tag, response.id_tag_info)
        if session.reservation_id is not None:
            self._drop_reservation(session.reservation_id)
        self.stats.sessions_started += 1
        status = response.id_tag_info.get("status")
        self._report(
            f"connector {connector.id}: session started, transaction {session.transaction_id}, idTag {session.id_tag}"
            + ("" if status == AuthorizationStatus.accepted else f" ({status})")
        )
        if status != AuthorizationStatus.accepted and self.configuration.boolean("StopTransactionOnInvalidId"):
            session.request_stop(Reason.de_authorized)  # §4.8: stop a transaction the central system refused
        if session.charging_profile is not None:
            profile = {**session.charging_profile, "transaction_id": session.transaction_id}
            self._install_profile(connector.id, profile)
        self._accrue(connector, session)  # sets the power drawn from now on
        return True

    async def _charge(self, connector: Connector, session: Session) -> None:
        loop = asyncio.get_running_loop()
        deadline = None if session.duration is None else loop.time() + self._scaled(session.duration)
        if session.stop_reason is None:
            await self._set_status(connector, ChargePointStatus.charging)
        while session.stop_reason is None:
            interval = self.configuration.integer("MeterValueSampleInterval")
            waits = [self._scaled(interval)] if interval > 0 else []
            if deadline is not None:
                waits.append(max(0.0, deadline - loop.time()))
            if await _wait(session.stop_requested, min(waits) if waits else None):
                break
            self._accrue(connector, session)
            if deadline is not None and loop.time() >= deadline:
                session.request_stop(Reason.local)  # the driver ends the session at the station
            elif session.soc >= 100:
                session.request_stop(Reason.ev_disconnected)  # battery full, the driver unplugs
            if interval > 0:
                await self._send_meter_values(connector, session, "Sample.Periodic")

    async def _stop_transaction(self, connector: Connector, session: Session) -> None:
        self._accrue(connector, session)
        session.power_w = Decimal(0)
        data = [session.begin_sample, self._meter_value(connector, session, "Transaction.End", stop_txn=True)]
        data = [d for d in data if d and d["sampled_value"]]
        await self._send_call(
            call.StopTransaction(
                meter_stop=connector.meter_wh,
                timestamp=clock.iso(clock.now()),
                transaction_id=session.transaction_id,
                reason=session.stop_reason or Reason.other,
                id_tag=session.id_tag,
                transaction_data=data or None,
            ),
            transactional=True,
        )
        energy = connector.meter_wh - session.meter_start
        self.stats.sessions_stopped += 1
        self.stats.energy_wh += energy
        self.charging_profiles.end_transaction(connector.id)
        self._report(
            f"connector {connector.id}: session stopped ({session.stop_reason}), transaction {session.transaction_id}, "
            f"{Decimal(energy) / 1000:.3f} kWh"
        )

    def _accrue(self, connector: Connector, session: Session) -> None:
        """Energy since the last reading at the power the car draws within the limit in force."""
        loop = asyncio.get_running_loop()
        if session.last_accrual is None or session.transaction_id is None:
            return
        nominal_seconds = Decimal(str((loop.time() - session.last_accrual) / self.time_scale))
        session.last_accrual = loop.time()
        energy = session.power_w * nominal_seconds / 3600
        session.energy_wh += energy
        session.soc = min(Decimal(100), session.soc + energy * 100 / BATTERY_WH)
        connector.meter_wh = session.meter_start + int(session.energy_wh)
        limit = self.charging_profiles.limit_at(
            connector.id, clock.now(), electrical=self.electrical, transaction_start=session.started_at
        )
        drawn = self.ev_power_w if self.ignores_profiles else min(self.ev_power_w, limit.watts)
        session.power_w = Decimal(0) if session.soc >= 100 else drawn

    async def _send_meter_values(self, connector: Connector, session: Session | None, context: str) -> None:
        await self._send_call(
            call.MeterValues(
                connector_id=connector.id,
                meter_value=[self._meter_value(connector, session, context)],
                transaction_id=session.transaction_id if session else None,
            ),
            transactional=session is not None and context != "Trigger",
        )

    def _meter_value(
        self, connector: Connector, session: Session | None, context: str, *, stop_txn: bool = False
    ) -> dict[str, Any]:
        """One MeterValue with the measurands configured in MeterValuesSampledData (or StopTxnSampledData)."""
        charging = session is not None and session.transaction_id is not None
        power = session.power_w if charging and session else Decimal(0)
        if connector.id == 0:
            register = sum(c.meter_wh for n, c in self.connectors.items() if n)
            power = sum((c.session.power_w for c in self.connectors.values() if c.session), Decimal(0))
        else:
            register = connector.meter_wh
        offered = self.charging_profiles.limit_at(
            connector.id, clock.now(), electrical=self.electrical, transaction_start=session.started_at if session else None
        ).watts
        volts = self.electrical.voltage * self.electrical.phases
        readings = {
            "Energy.Active.Import.Register": (str(register), "Wh", "Outlet"),
            "Power.Active.Import": (f"{power:.0f}", "W", "Outlet"),
            "Power.Offered": (f"{offered:.0f}", "W", "Outlet"),
            "Current.Import": (f"{power / volts:.1f}", "A", "Outlet"),
            "Current.Offered": (f"{offered / volts:.1f}", "A", "Outlet"),
            "Voltage": (f"{self.electrical.voltage:.1f}", "V", "Outlet"),
        }
        if session is not None and connector.id:
            readings["SoC"] = (f"{session.soc:.0f}", "Percent", "EV")
        key = "StopTxnSampledData" if stop_txn else "MeterValuesSampledData"
        values = []
        for measurand in self.configuration.items(key):
            if measurand == "Current.Import":
                # Per phase (each carries its share: the car draws evenly), as a CSMS compares it with per-phase limits.
                value, unit, location = readings[measurand]
                sample = {"value": value, "context": context, "measurand": measurand, "location": location, "unit": unit}
                values.extend(sample | {"phase": phase} for phase in ("L1", "L2", "L3")[: self.electrical.phases])
            elif measurand in readings:
                value, unit, location = readings[measurand]
                values.append({"value": value, "context": context, "measurand": measurand, "location": location, "unit": unit})
        return {"timestamp": clock.iso(clock.now()), "sampled_value": values}

    async def _end_sessions(self, reason: str, *, timeout: float) -> None:
        """Ask every session to stop with `reason`; wait up to `timeout` for their StopTransaction."""
        sessions = [c.session for c in self.connectors.values() if c.session is not None]
        for session in sessions:
            session.request_stop(reason)
        tasks = [s.task for s in sessions if s.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def _session_with(self, transaction_id: int) -> Session | None:
        for connector in self.connectors.values():
            if connector.session and connector.session.transaction_id == transaction_id:
                return connector.session
        return None

    def _release_unstarted_sessions(self) -> None:
        """A session claimed by RemoteStartTransaction whose answer never left (the connection dropped)."""
        for connector in self.connectors.values():
            if connector.session is not None and connector.session.task is None:
                connector.session = None

    # ------------------------------------------------------------------ reset and availability

    async def _reboot(self, kind: str) -> None:
        """Reset (§5.14): end the transactions (reason SoftReset / HardReset), close, boot again."""
        reason = Reason.hard_reset if kind == ResetType.hard else Reason.soft_reset
        self._report(f"{kind} reset: rebooting")
        self._rebooting = True  # no new session from here on
        await self._end_sessions(reason, timeout=max(self._response_timeout, 5))
        self._accepted = False
        self._reset_reason = kind
        self._ready.clear()
        for connector in self.connectors.values():
            connector.status = self._idle_status(connector)
        if self._connection is not None:
            await self._connection.close(code=1001, reason="rebooting")  # 1001 going away

    async def _apply_scheduled_availability(self, connector: Connector) -> None:
        """A ChangeAvailability answered Scheduled takes effect once the transaction(s) ended (§5.2)."""
        if connector.scheduled_operative is not None:
            connector.operative = connector.scheduled_operative
            connector.scheduled_operative = None
        station = self.connectors[0]
        if station.scheduled_operative is not None and not any(c.session for c in self.connectors.values()):
            station.operative = station.scheduled_operative
            station.scheduled_operative = None
            await self._set_status(station, self._idle_status(station))

    # ------------------------------------------------------------------ reservations

    def _reservation_on(self, connector_id: int) -> Reservation | None:
        return next((r for r in self.reservations.values() if r.connector_id == connector_id), None)

    def _drop_reservation(self, reservation_id: int) -> Reservation | None:
        reservation = self.reservations.pop(reservation_id, None)
        if reservation and reservation.timer and reservation.timer is not asyncio.current_task():
            reservation.timer.cancel()
        return reservation

    async def _expire(self, reservation: Reservation) -> None:
        await asyncio.sleep(max(0.0, (reservation.expiry - clock.now()).total_seconds()))
        if self.reservations.get(reservation.id) is reservation:
            self._drop_reservation(reservation.id)
            self._report(f"reservation {reservation.id} expired")
            await self._refresh_idle(reservation.connector_id)

    async def _refresh_idle(self, connector_id: int) -> None:
        connector = self.connectors[connector_id]
        if connector_id and connector.session is None:
            await self._set_status(connector, self._idle_status(connector))

    # ------------------------------------------------------------------ plumbing

    def _headers(self) -> dict[str, str]:
        if not self.password:
            return {}
        token = base64.b64encode(f"{self.id}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def _scaled(self, nominal_seconds: float) -> float:
        return nominal_seconds * self.time_scale

    async def _pause(self, seconds: float) -> None:
        """Sleep, cut short by `stop()`."""
        await _wait(self._stop_event, max(0.0, seconds))

    async def _until(self, date: str) -> None:
        await self._pause((clock.parse(date) - clock.now()).total_seconds())

    def _spawn(self, coroutine: Coroutine[Any, Any, Any], *, connection: bool = False) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        group = self._connection_tasks if connection else self._tasks
        group.add(task)
        task.add_done_callback(group.discard)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        if isinstance(error, ConnectionClosed):
            return
        self.errors.append(error)
        LOGGER.error("%s: task failed", self.id, exc_info=error)
        self._report(f"internal error: {error!r}")

    def _report(self, text: str) -> None:
        line = f"{self.id} {text}"
        if self._report_to is None:
            LOGGER.info(line)
        else:
            self._report_to(line)


async def _wait(event: asyncio.Event, timeout: float | None) -> bool:
    """Whether `event` is set within `timeout` seconds. Not `asyncio.wait_for`: on Python 3.11 that one loses a
    cancellation arriving as the event is set (stop() sets an event and cancels at once)."""
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()
    return bool(done)


def _consume(task: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of an abandoned CALL so asyncio does not warn about it."""
    if not task.cancelled():
        task.exception()


def _short(payload: Any, limit: int = 160) -> str:
    text = json.dumps(payload, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."
