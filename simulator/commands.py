"""The simulated station's answers to every central-system-initiated action of OCPP 1.6 (all six feature
profiles) and of the Security Whitepaper, each followed, after the answer has gone, by what a real station does.

A mixin of `SimulatedChargePoint`: it works on that class's state (connectors, configuration, local list,
profiles, certificates, reservations) and uses its behaviour (`_spawn`, `_send_call`, sessions).
"""

from __future__ import annotations

import base64
from collections.abc import Coroutine, Iterable
from datetime import datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    Action,
    AvailabilityStatus,
    AvailabilityType,
    CancelReservationStatus,
    ChargePointStatus,
    ChargingRateUnitType,
    ClearCacheStatus,
    ConfigurationStatus,
    DataTransferStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    GetCompositeScheduleStatus,
    GetInstalledCertificateStatus,
    LogStatus,
    MessageTrigger,
    Reason,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateFirmwareStatus,
    UploadLogStatus,
)

from simulator import clock
from simulator.certificates import looks_like_pem
from simulator.connector import BUSY, Connector, Reservation, Session
from simulator.smart_charging import TX

STEP_SECONDS = 2
"""Nominal duration of one step of an upload or a firmware installation."""


class CentralSystemCommands:
    """One `@on` handler per action answers at once, from the station's state; the `@after` handler that the
    `ocpp` package runs once the answer is sent starts what follows (a session, a reboot, notifications)."""

    # ------------------------------------------------------------------ Core profile

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str, **_: Any) -> call_result.ChangeAvailability:
        if connector_id not in self.connectors:
            return call_result.ChangeAvailability(AvailabilityStatus.rejected)
        operative = type == AvailabilityType.operative
        targets = list(self.connectors.values()) if connector_id == 0 else [self.connectors[connector_id]]
        scheduled = False
        for connector in targets:
            busy = connector.session is not None or any(c.session for c in targets if connector.id == 0)
            if busy and not operative and connector.operative:
                connector.scheduled_operative = operative  # §5.2: after the transaction
                scheduled = True
            else:
                connector.operative = operative
                connector.scheduled_operative = None
        return call_result.ChangeAvailability(AvailabilityStatus.scheduled if scheduled else AvailabilityStatus.accepted)

    @after(Action.change_availability)
    def after_change_availability(self, connector_id: int, **_: Any) -> None:
        if connector_id in self.connectors:
            self._spawn(self._refresh_statuses(list(self.connectors) if connector_id == 0 else [connector_id]))

    async def _refresh_statuses(self, connector_ids: Iterable[int]) -> None:
        for n in connector_ids:
            connector = self.connectors[n]
            if n == 0:
                await self._set_status(connector, self._idle_status(connector))
            else:
                await self._refresh_idle(n)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_: Any) -> call_result.ChangeConfiguration:
        status = self.configuration.change(key, value)
        if status in (ConfigurationStatus.accepted, ConfigurationStatus.reboot_required):
            name = self.configuration.key(key).name
            if name == "HeartbeatInterval":
                self._heartbeat_changed.set()
            elif name == "AuthorizationKey":
                self.password = self.configuration.get(name)
                self._report("new AuthorizationKey: used from the next connection")
        return call_result.ChangeConfiguration(status)

    @after(Action.change_configuration)
    def after_change_configuration(self, key: str, **_: Any) -> None:
        if key.lower() in ("authorizationkey", "securityprofile"):
            self._spawn(self._security_event("ReconfigurationOfSecurityParameters", f"{key} changed"))

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> call_result.ClearCache:
        self.cache.clear()
        return call_result.ClearCache(ClearCacheStatus.accepted)

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> call_result.GetConfiguration:
        known, unknown = self.configuration.read(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self, id_tag: str, connector_id: int | None = None, charging_profile: dict[str, Any] | None = None, **_: Any
    ) -> call_result.RemoteStartTransaction:
        connector = self._free_connector(connector_id, id_tag)
        if connector is None or (charging_profile and charging_profile["charging_profile_purpose"] != TX):
            return call_result.RemoteStartTransaction(RemoteStartStopStatus.rejected)
        # Claimed now, so that a second RemoteStart cannot take the same connector; started after the answer.
        connector.session = Session(connector.id, id_tag, remote=True, duration=None, charging_profile=charging_profile)
        return call_result.RemoteStartTransaction(RemoteStartStopStatus.accepted)

    @after(Action.remote_start_transaction)
    def after_remote_start_transaction(self, **_: Any) -> None:
        for connector in self.connectors.values():
            if connector.session is not None and connector.session.task is None:
                self._begin(connector, connector.session)

    def _free_connector(self, connector_id: int | None, id_tag: str) -> Connector | None:
        if self._rebooting:
            return None
        candidates = [n for n in self.connectors if n] if connector_id is None else [connector_id]
        for n in candidates:
            connector = self.connectors.get(n)
            if connector is None or n == 0 or connector.session is not None:
                continue
            status = self._idle_status(connector)
            reservation = self._reservation_on(n)
            if status == ChargePointStatus.available or (
                status == ChargePointStatus.reserved and reservation and id_tag.upper() in
                {reservation.id_tag.upper(), (reservation.parent_id_tag or "").upper()}
            ):
                return connector
        return None

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id: int, **_: Any) -> call_result.RemoteStopTransaction:
        running = self._session_with(transaction_id) is not None
        return call_result.RemoteStopTransaction(RemoteStartStopStatus.accepted if running else RemoteStartStopStatus.rejected)

    @after(Action.remote_stop_transaction)
    def after_remote_stop_transaction(self, transaction_id: int, **_: Any) -> None:
        if session := self._session_with(transaction_id):
            session.request_stop(Reason.remote)

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        return call_result.Reset(ResetStatus.accepted)

    @after(Action.reset)
    def after_reset(self, type: str, **_: Any) -> None:
        self._spawn(self._reboot(type))

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int, **_: Any) -> call_result.UnlockConnector:
        if connector_id == 0 or connector_id not in self.connectors:
            return call_result.UnlockConnector(UnlockStatus.not_supported)
        return call_result.UnlockConnector(UnlockStatus.unlocked)

    @after(Action.unlock_connector)
    def after_unlock_connector(self, connector_id: int, **_: Any) -> None:
        connector = self.connectors.get(connector_id)
        if connector_id and connector and connector.session:
            connector.session.request_stop(Reason.unlock_command)  # §5.18: stop the transaction first

    @on(Action.data_transfer)
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None, **_: Any
    ) -> call_result.DataTransfer:
        if self.data_transfer_vendor is None or vendor_id != self.data_transfer_vendor:
            return call_result.DataTransfer(DataTransferStatus.unknown_vendor_id)
        return call_result.DataTransfer(DataTransferStatus.accepted, data=data)

    # ------------------------------------------------------------------ Firmware Management profile

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, **_: Any) -> call_result.GetDiagnostics:
        return call_result.GetDiagnostics(file_name=f"{self.id}-diagnostics-{clock.now():%Y%m%dT%H%M%SZ}.log")

    @after(Action.get_diagnostics)
    def after_get_diagnostics(self, location: str, **_: Any) -> None:
        self._spawn(self._upload_diagnostics(location))

    async def _upload_diagnostics(self, location: str) -> None:
        for status in (DiagnosticsStatus.uploading, DiagnosticsStatus.uploaded):
            self.diagnostics_status = status
            await self._send_call(call.DiagnosticsStatusNotification(status=status))
            if status == DiagnosticsStatus.uploading:
                await self._pause(self._scaled(STEP_SECONDS))
        self._report(f"diagnostics uploaded to {location}")
        self.diagnostics_status = DiagnosticsStatus.idle

    @on(Action.update_firmware)
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> call_result.UpdateFirmware:
        return call_result.UpdateFirmware()

    @after(Action.update_firmware)
    def after_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> None:
        self._replace_firmware_task(self._update_firmware(location, retrieve_date))

    async def _update_firmware(self, location: str, retrieve_date: str) -> None:
        await self._until(retrieve_date)
        steps = (FirmwareStatus.downloading, FirmwareStatus.downloaded, FirmwareStatus.installing, FirmwareStatus.installed)
        for status in steps:
            self.firmware_status = status
            await self._send_call(call.FirmwareStatusNotification(status=status))
            if status != FirmwareStatus.installed:
                await self._pause(self._scaled(STEP_SECONDS))
        self._install_firmware(location)
        self._report(f"firmware {self.firmware_version} installed (reported at the next boot)")
        self.firmware_status = FirmwareStatus.idle

    def _install_firmware(self, location: str) -> None:
        """The new version is the file name of the firmware's location (BootNotification's firmwareVersion: 50)."""
        self.firmware_version = location.rstrip("/").rsplit("/", 1)[-1][:50] or self.firmware_version

    def _replace_firmware_task(self, coroutine: Coroutine[Any, Any, None]) -> None:
        if self._firmware_task and not self._firmware_task.done():
            self._firmware_task.cancel()
        self._firmware_task = self._spawn(coroutine)

    # ------------------------------------------------------------------ Local Auth List Management profile

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(list_version=self.local_list.version)

    @on(Action.send_local_list)
    def on_send_local_list(
        self, list_version: int, update_type: str, local_authorization_list: list[dict[str, Any]] | None = None, **_: Any
    ) -> call_result.SendLocalList:
        status = self.local_list.update(
            list_version=list_version,
            update_type=update_type,
            authorization_list=local_authorization_list or [],
            max_list_length=self.configuration.integer("LocalAuthListMaxLength"),
            max_send_length=self.configuration.integer("SendLocalListMaxLength"),
        )
        return call_result.SendLocalList(status)

    # ------------------------------------------------------------------ Reservation profile

    @on(Action.reserve_now)
    def on_reserve_now(
        self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int, parent_id_tag: str | None = None, **_: Any
    ) -> call_result.ReserveNow:
        status = self._reservation_status(connector_id, reservation_id, clock.parse(expiry_date))
        if status == ReservationStatus.accepted:
            self._drop_reservation(reservation_id)  # §5.13: the same id replaces the reservation
            self.reservations[reservation_id] = Reservation(
                reservation_id, connector_id, id_tag, parent_id_tag, clock.parse(expiry_date)
            )
        return call_result.ReserveNow(status)

    def _reservation_status(self, connector_id: int, reservation_id: int, expiry: datetime) -> str:
        if connector_id not in self.connectors or expiry <= clock.now():
            return ReservationStatus.rejected
        if connector_id == 0:
            if not self.configuration.boolean("ReserveConnectorZeroSupported"):
                return ReservationStatus.rejected
            free = [c for n, c in self.connectors.items() if n and c.session is None and c.status == ChargePointStatus.available]
            return ReservationStatus.accepted if free else ReservationStatus.occupied
        connector = self.connectors[connector_id]
        held = self._reservation_on(connector_id)
        if not connector.operative or not self.connectors[0].operative:
            return ReservationStatus.unavailable
        if connector.status == ChargePointStatus.faulted:
            return ReservationStatus.faulted
        if connector.session is not None or connector.status in BUSY or (held and held.id != reservation_id):
            return ReservationStatus.occupied
        return ReservationStatus.accepted

    @after(Action.reserve_now)
    def after_reserve_now(self, reservation_id: int, **_: Any) -> None:
        reservation = self.reservations.get(reservation_id)
        if reservation is not None and reservation.timer is None:
            reservation.timer = self._spawn(self._expire(reservation))
            # every connector: a reservation id given again may have moved from another one
            self._spawn(self._refresh_statuses(n for n in self.connectors if n))

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> call_result.CancelReservation:
        reservation = self._drop_reservation(reservation_id)
        if reservation is None:
            return call_result.CancelReservation(CancelReservationStatus.rejected)
        return call_result.CancelReservation(CancelReservationStatus.accepted)

    @after(Action.cancel_reservation)
    def after_cancel_reservation(self, **_: Any) -> None:
        self._spawn(self._refresh_statuses(n for n in self.connectors if n))

    # ------------------------------------------------------------------ Smart Charging profile

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        return call_result.SetChargingProfile(self._install_profile(connector_id, cs_charging_profiles))

    def _install_profile(self, connector_id: int, profile: dict[str, Any]) -> str:
        connector = self.connectors.get(connector_id)
        session = connector.session if connector else None
        return self.charging_profiles.install(
            connector_id,
            profile,
            connectors=len(self.connectors) - 1,
            transaction_id=session.transaction_id if session else None,
            max_stack_level=self.configuration.integer("ChargeProfileMaxStackLevel"),
            max_installed=self.configuration.integer("MaxChargingProfilesInstalled"),
            max_periods=self.configuration.integer("ChargingScheduleMaxPeriods"),
            allowed_units=self.configuration.items("ChargingScheduleAllowedChargingRateUnit"),
        )

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        status = self.charging_profiles.clear(
            id=id, connector_id=connector_id, purpose=charging_profile_purpose, stack_level=stack_level
        )
        return call_result.ClearChargingProfile(status)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        if connector_id not in self.connectors:
            return call_result.GetCompositeSchedule(GetCompositeScheduleStatus.rejected)
        start = clock.now()
        session = self.connectors[connector_id].session
        schedule = self.charging_profiles.composite(
            connector_id,
            start=start,
            duration=duration,
            unit=charging_rate_unit or ChargingRateUnitType.watts,
            electrical=self.electrical,
            transaction_start=session.started_at if session else None,
        )
        return call_result.GetCompositeSchedule(
            GetCompositeScheduleStatus.accepted,
            connector_id=connector_id,
            schedule_start=clock.iso(start),
            charging_schedule=schedule,
        )

    # ------------------------------------------------------------------ Remote Trigger profile

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, connector_id: int | None = None, **_: Any) -> call_result.TriggerMessage:
        return call_result.TriggerMessage(self._trigger_status(requested_message, connector_id))

    @after(Action.trigger_message)
    def after_trigger_message(self, requested_message: str, connector_id: int | None = None, **_: Any) -> None:
        if self._trigger_status(requested_message, connector_id) == TriggerMessageStatus.accepted:
            self._spawn(self._triggered(requested_message, connector_id))

    @on(Action.extended_trigger_message)
    def on_extended_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> call_result.ExtendedTriggerMessage:
        return call_result.ExtendedTriggerMessage(self._trigger_status(requested_message, connector_id))

    @after(Action.extended_trigger_message)
    def after_extended_trigger_message(self, requested_message: str, connector_id: int | None = None, **_: Any) -> None:
        if self._trigger_status(requested_message, connector_id) == TriggerMessageStatus.accepted:
            self._spawn(self._triggered(requested_message, connector_id))

    def _trigger_status(self, requested: str, connector_id: int | None) -> str:
        if connector_id is not None and connector_id not in self.connectors:
            return TriggerMessageStatus.rejected
        return TriggerMessageStatus.accepted if requested in set(MessageTrigger) else TriggerMessageStatus.not_implemented

    async def _triggered(self, requested: str, connector_id: int | None) -> None:
        """The message a TriggerMessage asked for, sent after the answer (§5.17)."""
        if requested == MessageTrigger.boot_notification:
            response = await self._send_call(self._boot_notification(), before_boot=True)
            if response is not None:
                self._boot_answered(response)
        elif requested == MessageTrigger.heartbeat:
            if await self._send_call(call.Heartbeat(), before_boot=True) is not None:
                self.stats.heartbeats += 1
        elif requested == MessageTrigger.status_notification:
            ids = list(self.connectors) if connector_id is None else [connector_id]
            for n in ids:
                await self._send_status(self.connectors[n], before_boot=True)
        elif requested == MessageTrigger.meter_values:
            ids = [n for n in self.connectors if n] if connector_id is None else [connector_id]
            for n in ids:
                connector = self.connectors[n]
                session = connector.session if connector.session and connector.session.transaction_id else None
                if session:
                    self._accrue(connector, session)
                await self._send_meter_values(connector, session, "Trigger")
        elif requested == MessageTrigger.firmware_status_notification:
            await self._send_call(call.FirmwareStatusNotification(status=self.firmware_status), before_boot=True)
        elif requested == MessageTrigger.diagnostics_status_notification:
            await self._send_call(call.DiagnosticsStatusNotification(status=self.diagnostics_status), before_boot=True)
        elif requested == MessageTrigger.log_status_notification:
            await self._send_call(
                call.LogStatusNotification(status=self.log_status, request_id=self.log_request_id), before_boot=True
            )
        elif requested == MessageTrigger.sign_charge_point_certificate:
            await self._send_call(call.SignCertificate(csr=self._certificate_signing_request()))

    def _certificate_signing_request(self) -> str:
        """A PEM-framed stand-in for a CSR (the simulator has no key pair): subject CN = station id."""
        subject = f"CN={self.id},O={self.configuration.get('CpoName') or 'Simulated CPO'}".encode()
        body = base64.encodebytes(subject).decode().strip()
        return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n"

    # ------------------------------------------------------------------ Security Whitepaper

    @on(Action.get_log)
    def on_get_log(self, log: dict[str, Any], log_type: str, request_id: int, **_: Any) -> call_result.GetLog:
        busy = self._log_task is not None and not self._log_task.done()
        filename = f"{self.id}-{log_type}-{request_id}.log"
        return call_result.GetLog(LogStatus.accepted_canceled if busy else LogStatus.accepted, filename=filename)

    @after(Action.get_log)
    def after_get_log(self, log: dict[str, Any], request_id: int, **_: Any) -> None:
        if self._log_task and not self._log_task.done():
            self._log_task.cancel()
        self._log_task = self._spawn(self._upload_log(log.get("remote_location", ""), request_id))

    async def _upload_log(self, location: str, request_id: int) -> None:
        self.log_request_id = request_id
        for status in (UploadLogStatus.uploading, UploadLogStatus.uploaded):
            self.log_status = status
            await self._send_call(call.LogStatusNotification(status=status, request_id=request_id))
            if status == UploadLogStatus.uploading:
                await self._pause(self._scaled(STEP_SECONDS))
        self._report(f"log {request_id} uploaded to {location}")
        self.log_status, self.log_request_id = UploadLogStatus.idle, None

    @on(Action.signed_update_firmware)
    def on_signed_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> call_result.SignedUpdateFirmware:
        if not looks_like_pem(firmware.get("signing_certificate", "")):
            return call_result.SignedUpdateFirmware(UpdateFirmwareStatus.invalid_certificate)
        busy = self._firmware_task is not None and not self._firmware_task.done()
        return call_result.SignedUpdateFirmware(UpdateFirmwareStatus.accepted_canceled if busy else UpdateFirmwareStatus.accepted)

    @after(Action.signed_update_firmware)
    def after_signed_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> None:
        if looks_like_pem(firmware.get("signing_certificate", "")):
            self._replace_firmware_task(self._signed_update_firmware(request_id, firmware))

    async def _signed_update_firmware(self, request_id: int, firmware: dict[str, Any]) -> None:
        async def notify(status: str) -> None:
            self.firmware_status = status
            await self._send_call(call.SignedFirmwareStatusNotification(status=status, request_id=request_id))

        retrieve, install = firmware["retrieve_date_time"], firmware.get("install_date_time")
        if clock.parse(retrieve) > clock.now():
            await notify(FirmwareStatus.download_scheduled)
            await self._until(retrieve)
        await notify(FirmwareStatus.downloading)
        await self._pause(self._scaled(STEP_SECONDS))
        await notify(FirmwareStatus.downloaded)
        await notify(FirmwareStatus.signature_verified)
        if install and clock.parse(install) > clock.now():
            await notify(FirmwareStatus.install_scheduled)
            await self._until(install)
        await notify(FirmwareStatus.installing)
        await self._pause(self._scaled(STEP_SECONDS))
        await notify(FirmwareStatus.installed)
        self._install_firmware(firmware["location"])
        await self._security_event("FirmwareUpdated", f"firmware {self.firmware_version} installed")
        self._report(f"signed firmware {self.firmware_version} installed (request {request_id})")
        self.firmware_status = FirmwareStatus.idle

    @on(Action.install_certificate)
    def on_install_certificate(self, certificate_type: str, certificate: str, **_: Any) -> call_result.InstallCertificate:
        status = self.certificates.install(
            certificate_type, certificate, max_length=self.configuration.integer("CertificateStoreMaxLength")
        )
        return call_result.InstallCertificate(status)

    @on(Action.delete_certificate)
    def on_delete_certificate(self, certificate_hash_data: dict[str, Any], **_: Any) -> call_result.DeleteCertificate:
        return call_result.DeleteCertificate(self.certificates.delete(certificate_hash_data))

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(self, certificate_type: str, **_: Any) -> call_result.GetInstalledCertificateIds:
        ids = self.certificates.ids(certificate_type)
        if not ids:
            return call_result.GetInstalledCertificateIds(GetInstalledCertificateStatus.not_found)
        return call_result.GetInstalledCertificateIds(GetInstalledCertificateStatus.accepted, certificate_hash_data=ids)

    @on(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain: str, **_: Any) -> call_result.CertificateSigned:
        status = self.certificates.sign(
            certificate_chain, max_chain_size=self.configuration.integer("CertificateSignedMaxChainSize")
        )
        return call_result.CertificateSigned(status)
