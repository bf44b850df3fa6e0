"""Every central-system-initiated action of OCPP 1.6 and of the Security Whitepaper gets a schema-valid answer with
plausible semantics, and its follow-up messages. The central system's `call()` validates request and answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from ocpp.v16.enums import Action

from simulator import SimulatedChargePoint, clock
from tests.simulator.central_system import CentralSystem
from tests.simulator.conftest import connected

CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUE2x0\n-----END CERTIFICATE-----\n"

CENTRAL_SYSTEM_ACTIONS = {
    # Core, Firmware Management, Local Auth List Management, Reservation, Smart Charging, Remote Trigger
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache", "ClearChargingProfile",
    "DataTransfer", "GetCompositeSchedule", "GetConfiguration", "GetDiagnostics", "GetLocalListVersion",
    "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
    "TriggerMessage", "UnlockConnector", "UpdateFirmware",
    # Security Whitepaper
    "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage", "GetInstalledCertificateIds", "GetLog",
    "InstallCertificate", "SignedUpdateFirmware",
}


def test_the_station_has_a_handler_for_every_central_system_action():
    station = SimulatedChargePoint("CP1")
    handled = {action for action, handlers in station.route_map.items() if "_on_action" in handlers}
    assert handled == CENTRAL_SYSTEM_ACTIONS
    assert CENTRAL_SYSTEM_ACTIONS <= {a.value for a in Action}


def test_get_and_change_configuration(run):
    async def scenario():
        async with CentralSystem(heartbeat_interval=300) as central:
            async with connected(central, connectors=3, password="a-password-of-16+chars") as (station, csms):
                everything = await csms.call(call.GetConfiguration())
                keys = {k["key"]: k for k in everything.configuration_key}
                assert keys["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True, "value": "3"}
                assert keys["HeartbeatInterval"] == {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
                assert keys["SecurityProfile"]["value"] == "1"
                assert "AuthorizationKey" not in keys
                assert {"MeterValuesSampledData", "LocalAuthListEnabled", "LocalAuthListMaxLength", "SendLocalListMaxLength",
                        "ChargeProfileMaxStackLevel", "AuthorizeRemoteTxRequests", "SupportedFeatureProfiles"} <= set(keys)
                assert everything.unknown_key is None

                some = await csms.call(call.GetConfiguration(key=["heartbeatinterval", "Nope", "AuthorizationKey"]))
                assert [k["key"] for k in some.configuration_key] == ["HeartbeatInterval"]
                assert some.unknown_key == ["Nope", "AuthorizationKey"]

                async def change(key, value):
                    return (await csms.call(call.ChangeConfiguration(key=key, value=value))).status

                assert await change("MeterValueSampleInterval", "15") == "Accepted"
                assert await change("NumberOfConnectors", "4") == "Rejected"
                assert await change("NoSuchKey", "1") == "NotSupported"
                assert await change("WebSocketPingInterval", "30") == "RebootRequired"
                assert await change("HeartbeatInterval", "soon") == "Rejected"
                assert await change("MeterValuesSampledData", "Energy.Active.Import.Register,Temperature") == "Rejected"
                assert await change("MeterValuesSampledData", "Energy.Active.Import.Register,Current.Import") == "Accepted"
                assert await change("AuthorizeRemoteTxRequests", "TRUE") == "Accepted"
                assert await change("AuthorizationKey", "short") == "Rejected"
                assert await change("SecurityProfile", "0") == "Rejected"  # never lowered
                assert await change("SecurityProfile", "2") == "Accepted"
                assert station.configuration.get("AuthorizeRemoteTxRequests") == "true"
                read = await csms.call(call.GetConfiguration(key=["MeterValueSampleInterval"]))
                assert read.configuration_key[0]["value"] == "15"

                # A new HeartbeatInterval takes effect at once: 5 s nominal is 50 ms here.
                assert await change("HeartbeatInterval", "5") == "Accepted"
                await central.wait_for("Heartbeat", count=3, timeout=2)

    run(scenario)


def test_local_authorization_list_versions(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, configuration={"LocalPreAuthorize": "true"}) as (station, csms):
                assert (await csms.call(call.GetLocalListVersion())).list_version == 0

                async def send(version, kind, entries):
                    return (await csms.call(call.SendLocalList(list_version=version, update_type=kind, local_authorization_list=entries))).status

                full = [{"idTag": "LOCAL-1", "idTagInfo": {"status": "Accepted"}}, {"idTag": "LOCAL-2", "idTagInfo": {"status": "Blocked"}}]
                assert await send(3, "Full", full) == "Accepted"
                assert (await csms.call(call.GetLocalListVersion())).list_version == 3
                assert await send(3, "Differential", [{"idTag": "LOCAL-3", "idTagInfo": {"status": "Accepted"}}]) == "VersionMismatch"
                assert await send(2, "Differential", []) == "VersionMismatch"
                assert await send(4, "Differential", [{"idTag": "LOCAL-2"}, {"idTag": "LOCAL-3", "idTagInfo": {"status": "Accepted"}}]) == "Accepted"
                assert sorted(station.local_list.entries) == ["LOCAL-1", "LOCAL-3"]
                assert await send(5, "Full", [{"idTag": "DUP", "idTagInfo": {"status": "Accepted"}}] * 2) == "Failed"
                too_many = [{"idTag": f"T{n}", "idTagInfo": {"status": "Accepted"}} for n in range(251)]
                assert await send(5, "Full", too_many) == "Failed"
                assert (await csms.call(call.GetLocalListVersion())).list_version == 4

                # A driver on the local list starts without asking the central system (LocalPreAuthorize).
                assert (await csms.call(call.ChangeConfiguration(key="AuthorizeRemoteTxRequests", value="true"))).status == "Accepted"
                await csms.call(call.RemoteStartTransaction(id_tag="local-1", connector_id=1))
                await central.wait_for("StartTransaction")
                assert central.sent("Authorize") == []

                assert await send(6, "Full", []) == "Accepted"
                assert (await csms.call(call.GetLocalListVersion())).list_version == 0  # an empty list is version 0
                assert (await csms.call(call.ClearCache())).status == "Accepted"
                assert station.cache.entries == {}

    run(scenario)


def test_smart_charging_profiles_and_composite_schedule(run):
    def profile(profile_id, purpose, limit, *, stack=0, unit="A", periods=None, **extra):
        return {
            "chargingProfileId": profile_id, "stackLevel": stack, "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": unit, "startSchedule": clock.iso(clock.now() - timedelta(minutes=1)),
                "chargingSchedulePeriod": periods or [{"startPeriod": 0, "limit": limit}],
            },
            **extra,
        }

    async def scenario():
        async with CentralSystem() as central:
            async with connected(central) as (station, csms):
                async def set_profile(connector_id, body):
                    return (await csms.call(call.SetChargingProfile(connector_id=connector_id, cs_charging_profiles=body))).status

                assert await set_profile(0, profile(1, "TxDefaultProfile", 16.0)) == "Accepted"
                assert await set_profile(0, profile(2, "ChargePointMaxProfile", 20000.0, unit="W")) == "Accepted"
                assert await set_profile(1, profile(3, "ChargePointMaxProfile", 10.0)) == "Rejected"  # connector 0 only
                assert await set_profile(1, profile(4, "TxProfile", 10.0)) == "Rejected"  # no transaction
                assert await set_profile(1, profile(5, "TxDefaultProfile", 10.0, stack=11)) == "Rejected"  # > max level
                assert await set_profile(7, profile(6, "TxDefaultProfile", 10.0)) == "Rejected"  # no such connector

                composite = await csms.call(call.GetCompositeSchedule(connector_id=1, duration=3600, charging_rate_unit="W"))
                assert composite.status == "Accepted" and composite.connector_id == 1
                assert composite.charging_schedule["charging_schedule_period"] == [{"start_period": 0, "limit": 11040, "number_phases": 3}]

                # A connector's own TxDefaultProfile, with a step after 30 minutes, replaces connector 0's.
                steps = [{"startPeriod": 0, "limit": 8.0}, {"startPeriod": 1860, "limit": 32.0}]
                assert await set_profile(2, profile(7, "TxDefaultProfile", 0, periods=steps)) == "Accepted"
                composite = await csms.call(call.GetCompositeSchedule(connector_id=2, duration=3600, charging_rate_unit="A"))
                periods = composite.charging_schedule["charging_schedule_period"]
                assert [p["limit"] for p in periods] == [8, pytest.approx(29.0, abs=0.05)]  # 32 A capped at 20 kW
                assert 1795 <= periods[1]["start_period"] <= 1800

                assert (await csms.call(call.ClearChargingProfile(id=7))).status == "Accepted"
                assert (await csms.call(call.ClearChargingProfile(id=7))).status == "Unknown"
                assert (await csms.call(call.ClearChargingProfile(charging_profile_purpose="TxDefaultProfile"))).status == "Accepted"
                assert [p.id for p in station.charging_profiles.installed] == [2]
                assert (await csms.call(call.ClearChargingProfile())).status == "Accepted"
                assert (await csms.call(call.GetCompositeSchedule(connector_id=9, duration=60))).status == "Rejected"

    run(scenario)


def test_trigger_message_sends_the_requested_message_after_answering(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, connectors=2) as (_, csms):
                async def trigger(message, connector_id=None, extended=False):
                    request = call.ExtendedTriggerMessage if extended else call.TriggerMessage
                    return (await csms.call(request(requested_message=message, connector_id=connector_id))).status

                assert await trigger("StatusNotification", 9) == "Rejected"
                before = len(central.sent("StatusNotification"))
                assert await trigger("StatusNotification", 2) == "Accepted"
                assert (await central.wait_for("StatusNotification", count=before + 1))["connector_id"] == 2
                assert await trigger("Heartbeat") == "Accepted"
                await central.wait_for("Heartbeat")
                assert await trigger("MeterValues", 1) == "Accepted"
                values = await central.wait_for("MeterValues")
                assert values["connector_id"] == 1 and values["meter_value"][0]["sampled_value"][0]["context"] == "Trigger"
                assert await trigger("FirmwareStatusNotification") == "Accepted"
                assert (await central.wait_for("FirmwareStatusNotification"))["status"] == "Idle"
                assert await trigger("DiagnosticsStatusNotification") == "Accepted"
                assert (await central.wait_for("DiagnosticsStatusNotification"))["status"] == "Idle"
                assert await trigger("BootNotification") == "Accepted"
                await central.wait_for("BootNotification", count=2)
                assert await trigger("LogStatusNotification", extended=True) == "Accepted"
                assert (await central.wait_for("LogStatusNotification"))["status"] == "Idle"
                assert await trigger("SignChargePointCertificate", extended=True) == "Accepted"
                csr = (await central.wait_for("SignCertificate"))["csr"]
                assert csr.startswith("-----BEGIN CERTIFICATE REQUEST-----")
                assert await trigger("StatusNotification", extended=True) == "Accepted"

    run(scenario)


def test_diagnostics_firmware_and_log_uploads_report_their_progress(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central) as (station, csms):
                diagnostics = await csms.call(call.GetDiagnostics(location="ftp://logs.example.com/"))
                assert diagnostics.file_name.startswith("CP1-diagnostics-")
                await central.wait_for("DiagnosticsStatusNotification", lambda p: p["status"] == "Uploaded")

                retrieve = clock.iso(clock.now())
                await csms.call(call.UpdateFirmware(location="https://fw.example.com/sim-2.0.bin", retrieve_date=retrieve))
                await central.wait_for("FirmwareStatusNotification", lambda p: p["status"] == "Installed")

                log = await csms.call(call.GetLog(log={"remoteLocation": "https://logs.example.com/up"}, log_type="SecurityLog", request_id=42))
                assert log.status == "Accepted" and log.filename == "CP1-SecurityLog-42.log"
                await central.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploaded")

                firmware = {"location": "https://fw.example.com/sim-3.0.bin", "retrieveDateTime": retrieve, "signingCertificate": CERTIFICATE, "signature": "c2ln"}
                signed = await csms.call(call.SignedUpdateFirmware(request_id=7, firmware=firmware))
                assert signed.status == "Accepted"
                await central.wait_for("SignedFirmwareStatusNotification", lambda p: p["status"] == "Installed")
                await central.wait_for("SecurityEventNotification", lambda p: p["type"] == "FirmwareUpdated")
                unsigned = {**firmware, "signingCertificate": "not a certificate"}
                assert (await csms.call(call.SignedUpdateFirmware(request_id=8, firmware=unsigned))).status == "InvalidCertificate"
                assert station.firmware_version == "sim-3.0.bin"

            assert [p["status"] for p in central.sent("DiagnosticsStatusNotification")] == ["Uploading", "Uploaded"]
            assert [p["status"] for p in central.sent("FirmwareStatusNotification")] == ["Downloading", "Downloaded", "Installing", "Installed"]
            assert central.sent("LogStatusNotification") == [{"status": "Uploading", "request_id": 42}, {"status": "Uploaded", "request_id": 42}]
            assert [p["status"] for p in central.sent("SignedFirmwareStatusNotification")] == [
                "Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed"]
            assert {p["request_id"] for p in central.sent("SignedFirmwareStatusNotification")} == {7}

    run(scenario)


def test_certificates_are_installed_listed_deleted_and_signed(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central) as (_, csms):
                root = "CentralSystemRootCertificate"
                assert (await csms.call(call.GetInstalledCertificateIds(certificate_type=root))).status == "NotFound"
                assert (await csms.call(call.InstallCertificate(certificate_type=root, certificate=CERTIFICATE))).status == "Accepted"
                assert (await csms.call(call.InstallCertificate(certificate_type=root, certificate="garbage"))).status == "Rejected"
                installed = await csms.call(call.GetInstalledCertificateIds(certificate_type=root))
                assert installed.status == "Accepted" and len(installed.certificate_hash_data) == 1
                manufacturer = await csms.call(call.GetInstalledCertificateIds(certificate_type="ManufacturerRootCertificate"))
                assert manufacturer.status == "NotFound"
                hash_data = installed.certificate_hash_data[0]
                wire = {"hashAlgorithm": hash_data["hash_algorithm"], "issuerNameHash": hash_data["issuer_name_hash"],
                        "issuerKeyHash": hash_data["issuer_key_hash"], "serialNumber": hash_data["serial_number"]}
                assert (await csms.call(call.DeleteCertificate(certificate_hash_data=wire))).status == "Accepted"
                assert (await csms.call(call.DeleteCertificate(certificate_hash_data=wire))).status == "NotFound"
                assert (await csms.call(call.CertificateSigned(certificate_chain=CERTIFICATE))).status == "Accepted"
                assert (await csms.call(call.CertificateSigned(certificate_chain="nope"))).status == "Rejected"

    run(scenario)


def test_data_transfer_knows_only_the_configured_vendor(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central, data_transfer_vendor="com.example") as (_, csms):
                unknown = await csms.call(call.DataTransfer(vendor_id="org.other", data="x"))
                assert unknown.status == "UnknownVendorId"
                echo = await csms.call(call.DataTransfer(vendor_id="com.example", message_id="Echo", data="hello"))
                assert echo.status == "Accepted" and echo.data == "hello"

    run(scenario)


def test_a_request_that_breaks_the_schema_gets_a_call_error(run):
    async def scenario():
        async with CentralSystem() as central:
            async with connected(central) as (station, csms):
                request = call.Reset(type="Sideways")
                with pytest.raises(OCPPError) as raised:
                    await csms.call(request, suppress=False, skip_schema_validation=True)
                assert raised.value.code == "FormatViolation"  # the `ocpp` package's code for a payload off its schema
                record = station.received_calls[-1]
                assert record.outcome == "CallError" and record.response["errorCode"] == "FormatViolation"

    run(scenario)
