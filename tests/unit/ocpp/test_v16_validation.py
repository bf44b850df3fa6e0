"""Parsing and writing OCPP 1.6 payloads as a station and the CSMS see them.

Realistic payloads of the important actions, the lenient mode a misbehaving station gets, UTC
timestamps, decimals, error codes and descriptions. Schema-wide agreement is in test_v16_schema_agreement.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import pkgutil
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import ocpp
import pytest
from jsonschema import Draft4Validator, FormatChecker
from pydantic import ValidationError

import csms.ocpp.v16
from csms.ocpp.errors import ErrorCode, OcppError
from csms.ocpp.router import ActionRouter
from csms.ocpp.v16.actions import ACTIONS, CENTRAL_SYSTEM_ACTIONS, STATION_ACTIONS, Action, Initiator, Profile
from csms.ocpp.v16.central_system import call as central_system_call
from csms.ocpp.v16.central_system.datatypes import ChargingSchedule, ChargingSchedulePeriod
from csms.ocpp.v16.datatypes import IdTagInfo
from csms.ocpp.v16.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingRateUnitType,
    Measurand,
    ReadingContext,
    RegistrationStatus,
    UnitOfMeasure,
    ValueFormat,
)
from csms.ocpp.v16.messages import messages, messages_sent_by
from csms.ocpp.v16.station import call, call_result
from csms.ocpp.v16.types import OcppModel
from csms.ocpp.v16.validation import Parsed, dump, parse_request, parse_response


def wire(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as frames.py hands it over: through JSON text and back."""
    return json.loads(json.dumps(payload))


def code_of(action: str, payload: dict[str, Any], *, lenient: bool = False, response: bool = False) -> tuple[ErrorCode, str]:
    with pytest.raises(OcppError) as raised:
        (parse_response if response else parse_request)(action, wire(payload), lenient=lenient)
    return raised.value.code, raised.value.description


def not_an_integer(field: str) -> tuple[ErrorCode, str]:
    return ErrorCode.TYPE_CONSTRAINT_VIOLATION, f"{field}: Input should be a valid integer"


# --- realistic station payloads -------------------------------------------------------------------

BOOT = {
    "chargePointVendor": "Alfen BV",
    "chargePointModel": "NG920-61001",
    "chargePointSerialNumber": "ACE0123456",
    "chargeBoxSerialNumber": "ACE0123456",
    "firmwareVersion": "6.1.4-4195",
    "iccid": "89314404000123456789",
    "imsi": "204043255812345",
    "meterType": "Carlo Gavazzi EM340",
    "meterSerialNumber": "KY1234567890",
}

OCMF = (
    'OCMF|{"FV":"1.0","GI":"KEBA P30","GS":"17619300","PG":"T32","MV":"Phoenix Contact","RD":[{"TM":'
    '"2026-11-24T10:15:00,000+0000 S","TX":"E","RV":12.345,"RI":"1-b:1.8.0","RU":"kWh","ST":"G"}]}'
    '|{"SA":"ECDSA-secp256r1-SHA256","SD":"3045022100ABCD"}'
)

METER_VALUES = {
    "connectorId": 1,
    "transactionId": 1042,
    "meterValue": [
        {
            "timestamp": "2026-11-24T10:15:00Z",
            "sampledValue": [
                {
                    "value": "12.345",
                    "context": "Sample.Periodic",
                    "format": "Raw",
                    "measurand": "Energy.Active.Import.Register",
                    "location": "Outlet",
                    "unit": "kWh",
                },
                {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
                {"value": "16.1", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
                {"value": "81", "measurand": "SoC", "location": "EV", "unit": "Percent"},
                {
                    "value": OCMF,
                    "context": "Sample.Periodic",
                    "format": "SignedData",
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "kWh",
                },
            ],
        }
    ],
}


def test_boot_notification_of_a_real_station_is_parsed_into_snake_case_fields():
    parsed = parse_request("BootNotification", wire(BOOT))

    assert parsed == Parsed(call.BootNotification(
        charge_point_vendor="Alfen BV",
        charge_point_model="NG920-61001",
        charge_point_serial_number="ACE0123456",
        charge_box_serial_number="ACE0123456",
        firmware_version="6.1.4-4195",
        iccid="89314404000123456789",
        imsi="204043255812345",
        meter_type="Carlo Gavazzi EM340",
        meter_serial_number="KY1234567890",
    ), ())
    assert dump(parsed.message) == BOOT


def test_boot_notification_answer_is_written_with_a_utc_z_timestamp():
    answer = call_result.BootNotification(
        status=RegistrationStatus.ACCEPTED,
        current_time=datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=UTC),
        interval=300,
    )

    assert dump(answer) == {"status": "Accepted", "currentTime": "2026-11-24T10:00:00.123Z", "interval": 300}
    assert parse_response("BootNotification", dump(answer)).message == answer.model_copy(
        update={"current_time": datetime(2026, 11, 24, 10, 0, 0, 123000, tzinfo=UTC)}
    )


def test_start_transaction_without_offset_is_read_as_utc():
    payload = {
        "connectorId": 2,
        "idTag": "04A2B3C4D5E6F7",
        "meterStart": 1520,
        "reservationId": 7,
        "timestamp": "2026-11-24T09:59:58",
    }

    message = parse_request("StartTransaction", wire(payload)).message

    assert message.timestamp == datetime(2026, 11, 24, 9, 59, 58, tzinfo=UTC)
    assert message.timestamp.utcoffset() == timedelta(0)
    assert (message.connector_id, message.id_tag, message.meter_start, message.reservation_id) == (2, "04A2B3C4D5E6F7", 1520, 7)
    assert dump(message)["timestamp"] == "2026-11-24T09:59:58Z"


def test_an_offset_is_converted_to_utc():
    payload = {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": "2026-11-24T11:30:00.250+01:00"}

    message = parse_request("StartTransaction", payload).message

    assert message.timestamp == datetime(2026, 11, 24, 10, 30, 0, 250000, tzinfo=UTC)
    assert message.timestamp.tzinfo is UTC
    assert dump(message)["timestamp"] == "2026-11-24T10:30:00.250Z"


def test_the_naive_timestamp_is_a_deliberate_difference_from_the_schema():
    # RFC 3339 (the schema's "date-time") requires an offset; OCPP times are UTC and stations omit it.
    ocpp_package = importlib.util.find_spec("ocpp")
    assert ocpp_package is not None and ocpp_package.origin
    schema = json.loads((Path(ocpp_package.origin).parent / "v16/schemas/StartTransaction.json").read_text())
    payload = {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": "2026-11-24T10:00:00"}

    reference = list(Draft4Validator(schema, format_checker=FormatChecker(formats=["date-time"])).iter_errors(payload))

    assert [error.validator for error in reference] == ["format"]
    assert parse_request("StartTransaction", payload).violations == ()


def test_meter_values_in_kwh_with_signed_data_keep_the_wire_text():
    parsed = parse_request("MeterValues", wire(METER_VALUES))

    meter_value = parsed.message.meter_value[0]
    energy, power, current, soc, signed = meter_value.sampled_value
    assert parsed.violations == ()
    assert parsed.message.transaction_id == 1042
    assert meter_value.timestamp == datetime(2026, 11, 24, 10, 15, tzinfo=UTC)
    assert (energy.value, energy.unit, energy.measurand, energy.context) == (
        "12.345",
        UnitOfMeasure.KWH,
        Measurand.ENERGY_ACTIVE_IMPORT_REGISTER,
        ReadingContext.SAMPLE_PERIODIC,
    )
    assert Decimal(energy.value) * 1000 == Decimal("12345")  # the value is text: no float ever
    assert (power.unit, current.phase, soc.location) == (UnitOfMeasure.KW, "L1", "EV")
    assert signed.format is ValueFormat.SIGNED_DATA
    assert signed.value == OCMF
    assert dump(parsed.message) == METER_VALUES


def test_meter_values_without_transaction_id_are_valid():
    payload = {"connectorId": 0, "meterValue": [{"timestamp": "2026-11-24T10:15:00Z", "sampledValue": [{"value": "230.1"}]}]}

    assert parse_request("MeterValues", payload).message.transaction_id is None


def test_meter_values_need_at_least_one_meter_value_and_one_sampled_value():
    no_meter_value = {"connectorId": 1, "meterValue": []}
    no_sample = {"connectorId": 1, "meterValue": [{"timestamp": "2026-11-24T10:15:00Z", "sampledValue": []}]}

    assert code_of("MeterValues", no_meter_value) == (
        ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
        "meterValue: List should have at least 1 item after validation, not 0",
    )
    assert code_of("MeterValues", no_sample)[0] == ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    assert code_of("MeterValues", no_sample)[1].startswith("meterValue[0].sampledValue: ")


def test_hertz_is_a_unit_of_meter_values_but_not_of_stop_transaction_data():
    sample = {"timestamp": "2026-11-24T10:15:00Z", "sampledValue": [{"value": "50.0", "measurand": "Frequency", "unit": "Hertz"}]}
    stop = {"meterStop": 20345, "timestamp": "2026-11-24T11:00:00Z", "transactionId": 1042, "transactionData": [sample]}

    meter_values = parse_request("MeterValues", {"connectorId": 1, "meterValue": [sample]}).message
    assert meter_values.meter_value[0].sampled_value[0].unit is UnitOfMeasure.HERTZ
    assert code_of("StopTransaction", stop)[0] == ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert parse_request("StopTransaction", stop, lenient=True).message.transaction_data[0].sampled_value[0].unit == "Hertz"


def test_stop_transaction_with_reason_and_transaction_data():
    payload = {
        "idTag": "04A2B3C4D5E6F7",
        "meterStop": 20345,
        "timestamp": "2026-11-24T11:00:00Z",
        "transactionId": 1042,
        "reason": "EVDisconnected",
        "transactionData": [{"timestamp": "2026-11-24T11:00:00Z", "sampledValue": []}],
    }

    message = parse_request("StopTransaction", payload).message

    assert (message.meter_stop, message.reason, message.transaction_data[0].sampled_value) == (20345, "EVDisconnected", [])
    assert dump(message) == payload


# --- StatusNotification errorCode "Error": the lenient mode ---------------------------------------

STATUS_WITH_UNKNOWN_ERROR_CODE = {
    "connectorId": 1,
    "errorCode": "Error",
    "status": "Faulted",
    "timestamp": "2026-11-24T10:00:00Z",
    "vendorErrorCode": "E042",
}
ERROR_CODE_VIOLATION = (
    "errorCode: Input should be 'ConnectorLockFailure', 'EVCommunicationError', 'GroundFailure', 'HighTemperature', "
    "'InternalError', 'LocalListConflict', 'NoError', 'OtherError', 'OverCurrentFailure', 'PowerMeterFailure', "
    "'PowerSwitchFailure', 'ReaderFailure', 'ResetFailure', 'UnderVoltage', 'OverVoltage' or 'WeakSignal'"
)


def test_an_unknown_error_code_is_a_property_constraint_violation_in_strict_mode():
    assert code_of("StatusNotification", STATUS_WITH_UNKNOWN_ERROR_CODE) == (
        ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        ERROR_CODE_VIOLATION,
    )


def test_an_unknown_error_code_is_kept_as_text_in_lenient_mode_and_reported():
    parsed = parse_request("StatusNotification", wire(STATUS_WITH_UNKNOWN_ERROR_CODE), lenient=True)

    assert parsed.violations == (ERROR_CODE_VIOLATION,)
    assert parsed.message.error_code == "Error"
    assert type(parsed.message.error_code) is str
    assert parsed.message.status is ChargePointStatus.FAULTED
    assert dump(parsed.message) == STATUS_WITH_UNKNOWN_ERROR_CODE


def test_a_known_error_code_is_the_enum_member():
    payload = dict(STATUS_WITH_UNKNOWN_ERROR_CODE, errorCode="GroundFailure")

    parsed = parse_request("StatusNotification", payload, lenient=True)

    assert parsed.message.error_code is ChargePointErrorCode.GROUND_FAILURE
    assert parsed.violations == ()


# --- lenient mode, each relaxation, and what it still refuses -------------------------------------


def test_lenient_mode_accepts_strings_longer_than_their_type():
    payload = dict(BOOT, chargePointSerialNumber="SN-" + "9" * 30)

    parsed = parse_request("BootNotification", payload, lenient=True)

    assert code_of("BootNotification", payload) == (
        ErrorCode.TYPE_CONSTRAINT_VIOLATION,
        "chargePointSerialNumber: String should have at most 25 characters",
    )
    assert parsed.message.charge_point_serial_number == "SN-" + "9" * 30
    assert parsed.violations == ("chargePointSerialNumber: String should have at most 25 characters",)


def test_lenient_mode_ignores_unknown_properties_at_any_depth():
    payload = {
        "idTagInfo": {"status": "Accepted", "groupIdToken": "G1"},
        "transactionId": 5,
        "vendorExtension": {"x": 1},
    }

    parsed = parse_response("StartTransaction", payload, lenient=True)

    assert code_of("StartTransaction", payload, response=True) == (
        ErrorCode.FORMATION_VIOLATION,
        "idTagInfo.groupIdToken: Extra inputs are not permitted",
    )
    assert parsed.message == call_result.StartTransaction(id_tag_info=IdTagInfo(status=AuthorizationStatus.ACCEPTED), transaction_id=5)
    assert parsed.violations == (
        "idTagInfo.groupIdToken: Extra inputs are not permitted",
        "vendorExtension: Extra inputs are not permitted",
    )
    assert dump(parsed.message) == {"idTagInfo": {"status": "Accepted"}, "transactionId": 5}


def test_lenient_mode_takes_null_for_an_optional_field_as_absent():
    payload = {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "reservationId": None, "timestamp": "2026-11-24T10:00:00Z"}

    assert code_of("StartTransaction", payload) == not_an_integer("reservationId")
    assert parse_request("StartTransaction", payload, lenient=True).message.reservation_id is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            {"connectorId": 1, "errorCode": "Error"},
            (ErrorCode.PROTOCOL_ERROR, "status: Field required"),
            id="missing required field",
        ),
        pytest.param(
            {"connectorId": "1", "errorCode": "NoError", "status": "Available"},
            not_an_integer("connectorId"),
            id="string for integer",
        ),
        pytest.param(
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "info": 42},
            (ErrorCode.TYPE_CONSTRAINT_VIOLATION, "info: Input should be a valid string"),
            id="integer for string",
        ),
        pytest.param(
            {"connectorId": 1, "errorCode": "NoError", "status": None},
            (ErrorCode.TYPE_CONSTRAINT_VIOLATION, "status: Input should be a valid string"),
            id="null for a required field",
        ),
        pytest.param(
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "yesterday"},
            (ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, "timestamp: Input should be a valid datetime, expected an RFC 3339 date-time"),
            id="bad date-time",
        ),
    ],
)
def test_lenient_mode_still_refuses_missing_fields_wrong_types_and_bad_dates(payload, expected):
    assert code_of("StatusNotification", payload, lenient=True) == expected


# --- strict JSON types ------------------------------------------------------------------------------


@pytest.mark.parametrize("connector_id", ["1", 1.0, 1.5, True, None, [1]], ids=repr)
def test_connector_id_must_be_a_json_integer(connector_id):
    payload = {"connectorId": connector_id, "idTag": "TAG", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"}

    assert code_of("StartTransaction", payload) == not_an_integer("connectorId")


def test_the_first_violation_in_schema_order_decides_the_code():
    payload = {"connectorId": "1", "meterStart": 1.5, "timestamp": "2026-11-24T10:00:00Z"}  # idTag is missing too

    assert code_of("StartTransaction", payload) == not_an_integer("connectorId")


def test_python_field_names_are_not_wire_names():
    payload = {"connector_id": 1, "idTag": "TAG", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"}

    assert code_of("StartTransaction", payload) == (ErrorCode.PROTOCOL_ERROR, "connectorId: Field required")


def test_an_empty_payload_is_a_message_with_no_fields():
    assert parse_request("Heartbeat", {}).message == call.Heartbeat()
    assert dump(central_system_call.ClearCache()) == {}
    assert code_of("Heartbeat", {"ts": 1}) == (ErrorCode.FORMATION_VIOLATION, "ts: Extra inputs are not permitted")


def test_an_unknown_action_is_not_implemented():
    with pytest.raises(OcppError) as raised:
        parse_request("StartCharging", {})

    assert raised.value.code == ErrorCode.NOT_IMPLEMENTED
    assert raised.value.description == "Unknown action 'StartCharging'"


# --- decimals ---------------------------------------------------------------------------------------


def _set_charging_profile(limit: Any) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 12,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit, "numberPhases": 3}],
                "minChargingRate": 6,
            },
        },
    }


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(0.3, Decimal("0.3")), (16, Decimal("16")), (16.0, Decimal("16.0")), (2200.5, Decimal("2200.5"))],
)
def test_charging_limits_are_exact_decimals(limit, expected):
    message = parse_request("SetChargingProfile", wire(_set_charging_profile(limit))).message

    parsed_limit = message.cs_charging_profiles.charging_schedule.charging_schedule_period[0].limit
    assert type(parsed_limit) is Decimal
    assert parsed_limit == expected
    assert str(parsed_limit) == str(expected)
    assert json.dumps(dump(message)) == json.dumps(wire(_set_charging_profile(limit)))


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (0.35, (ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, "Input should be a multiple of 0.1")),
        ("16", (ErrorCode.TYPE_CONSTRAINT_VIOLATION, "Input should be a valid number")),
        (True, (ErrorCode.TYPE_CONSTRAINT_VIOLATION, "Input should be a valid number")),
    ],
)
def test_charging_limits_must_be_numbers_with_one_decimal(limit, expected):
    code, description = code_of("SetChargingProfile", _set_charging_profile(limit))

    assert (code, description) == (expected[0], f"csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit: {expected[1]}")


def test_the_csms_builds_a_schedule_from_decimals_and_writes_json_numbers():
    schedule = ChargingSchedule(
        charging_rate_unit=ChargingRateUnitType.WATT,
        charging_schedule_period=[
            ChargingSchedulePeriod(start_period=0, limit=Decimal("11000.0")),
            ChargingSchedulePeriod(start_period=3600, limit=Decimal("7400.5"), number_phases=None),
        ],
    )

    assert json.dumps(dump(schedule)) == (
        '{"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}, '
        '{"startPeriod": 3600, "limit": 7400.5}]}'
    )


# --- building messages in Python ------------------------------------------------------------------


def test_python_code_may_pass_none_for_optional_fields_and_naive_utc_times():
    info = IdTagInfo(status="Accepted", expiry_date=datetime(2026, 12, 31, 23, 59, 59), parent_id_tag=None)

    assert info.expiry_date == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert info.status is AuthorizationStatus.ACCEPTED
    assert dump(info) == {"expiryDate": "2026-12-31T23:59:59Z", "status": "Accepted"}


def test_an_aware_local_time_is_stored_in_utc():
    paris = timezone(timedelta(hours=1))

    answer = call_result.Heartbeat(current_time=datetime(2026, 11, 24, 11, 0, tzinfo=paris))

    assert answer.current_time == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert dump(answer) == {"currentTime": "2026-11-24T10:00:00Z"}


def test_messages_are_immutable():
    message = call.Authorize(id_tag="TAG")

    with pytest.raises(ValidationError):
        message.id_tag = "OTHER"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Parsed(message).violations = ("x",)  # type: ignore[misc]


def test_python_code_cannot_build_an_invalid_message():
    with pytest.raises(ValidationError):
        call.Authorize(id_tag="T" * 21)
    with pytest.raises(ValidationError):
        central_system_call.ChangeAvailability(connector_id=1, type="Sometimes")


# --- the catalog -------------------------------------------------------------------------------------


def test_the_catalog_knows_who_sends_what():
    assert STATION_ACTIONS == {
        "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
        "Heartbeat", "MeterValues", "StartTransaction", "StatusNotification", "StopTransaction",
        "LogStatusNotification", "SecurityEventNotification", "SignCertificate", "SignedFirmwareStatusNotification",
    }  # fmt: skip
    assert STATION_ACTIONS & CENTRAL_SYSTEM_ACTIONS == {"DataTransfer"}
    assert STATION_ACTIONS | CENTRAL_SYSTEM_ACTIONS == set(ACTIONS)
    assert ACTIONS["DataTransfer"].initiated_by == {Initiator.STATION, Initiator.CENTRAL_SYSTEM}
    assert ACTIONS["RemoteStartTransaction"].initiated_by == {Initiator.CENTRAL_SYSTEM}


def test_the_catalog_sorts_actions_into_the_feature_profiles():
    by_profile: dict[Profile, set[str]] = {}
    for name, spec in ACTIONS.items():
        by_profile.setdefault(spec.profile, set()).add(name)

    assert {profile: len(names) for profile, names in by_profile.items()} == {
        Profile.CORE: 16,
        Profile.FIRMWARE_MANAGEMENT: 4,
        Profile.LOCAL_AUTH_LIST_MANAGEMENT: 2,
        Profile.RESERVATION: 2,
        Profile.SMART_CHARGING: 3,
        Profile.REMOTE_TRIGGER: 1,
        Profile.SECURITY: 11,
    }
    assert by_profile[Profile.SMART_CHARGING] == {"ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile"}
    assert by_profile[Profile.RESERVATION] == {"CancelReservation", "ReserveNow"}


# Who initiates an action -> the package that defines its request (`call`) and response (`call_result`).
PACKAGES = {
    frozenset({Initiator.STATION}): "csms.ocpp.v16.station",
    frozenset({Initiator.CENTRAL_SYSTEM}): "csms.ocpp.v16.central_system",
    frozenset(Initiator): "csms.ocpp.v16.either",
}


def models_defined_in(module_name: str) -> dict[str, type[OcppModel]]:
    module = importlib.import_module(module_name)
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, OcppModel) and value.__module__ == module_name
    }


def test_every_action_has_request_and_response_classes_named_like_the_action():
    for name, spec in ACTIONS.items():
        package = PACKAGES[spec.initiated_by]
        found = messages(name)
        assert spec.name == name
        assert found.request is models_defined_in(f"{package}.call")[name]
        assert found.response is models_defined_in(f"{package}.call_result")[name]
        assert found.request.__name__ == found.response.__name__ == name


@pytest.mark.parametrize("initiated_by", PACKAGES, ids=PACKAGES.values())
def test_a_package_defines_the_messages_of_the_actions_of_its_initiators_and_nothing_else(initiated_by):
    actions = {name for name, spec in ACTIONS.items() if spec.initiated_by == initiated_by}
    package = PACKAGES[initiated_by]

    assert set(models_defined_in(f"{package}.call")) == actions
    assert set(models_defined_in(f"{package}.call_result")) == actions


def test_every_model_is_defined_once():
    # One source of truth: the split by initiator declares no request, response or datatype twice.
    defined: dict[tuple[str, str], list[str]] = {}  # (call, call_result, datatypes or types; class name) -> modules
    for module in pkgutil.walk_packages(csms.ocpp.v16.__path__, "csms.ocpp.v16."):
        kind = module.name.rsplit(".", 1)[1]
        for name in models_defined_in(module.name):
            defined.setdefault((kind, name), []).append(module.name)

    assert {key: modules for key, modules in defined.items() if len(modules) > 1} == {}
    assert {name for kind, name in defined if kind == "call"} == set(Action)
    assert {name for kind, name in defined if kind == "call_result"} == set(Action)


def test_the_messages_an_initiator_sends_are_those_of_its_actions():
    for initiator, actions in ((Initiator.STATION, STATION_ACTIONS), (Initiator.CENTRAL_SYSTEM, CENTRAL_SYSTEM_ACTIONS)):
        assert messages_sent_by(initiator) == {action: messages(action) for action in actions}
    assert messages_sent_by(Initiator.STATION)["DataTransfer"] is messages_sent_by(Initiator.CENTRAL_SYSTEM)["DataTransfer"]


def test_the_action_enum_names_every_message_of_the_official_schemas():
    schemas = Path(ocpp.__file__).parent / "v16" / "schemas"
    names = {path.stem for path in schemas.glob("*.json") if not path.stem.endswith("Response")}
    assert len(names) == 39  # the six 1.6 feature profiles and the Security Whitepaper
    assert {action.value for action in Action} == names


def test_a_handler_for_an_action_outside_the_catalog_is_refused_at_registration():
    router = ActionRouter(initiator=Initiator.STATION)
    with pytest.raises(ValueError, match="not an OCPP 1.6 action"):
        router.action("StartTransactions")  # type: ignore[arg-type]


def test_a_station_router_refuses_a_handler_for_a_central_system_action():
    router = ActionRouter(initiator=Initiator.STATION)
    with pytest.raises(ValueError, match="not initiated by the ChargePoint"):
        router.action(Action.REMOTE_START_TRANSACTION)
    router.action(Action.DATA_TRANSFER)(lambda request, ctx: None)  # either side may send DataTransfer
    assert router.actions == {Action.DATA_TRANSFER}


def test_every_station_action_has_a_handler():
    from csms.station.dispatcher import station_router

    assert station_router.actions == STATION_ACTIONS
