"""Every station-initiated OCPP 1.6 action through the $default dispatcher, against emulated DynamoDB."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Key

from csms.adapters.dynamodb.keys import station_key, transaction_key
from csms.gateway.authorizer import authorize_connection
from csms.gateway.events import MessageEvent
from csms.gateway.message import on_message
from csms.runtime.settings import UnknownStationPolicy
from tests.integration.stations import NOW, Station
from tests.integration.test_connection_lifecycle import authorizer_event

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Wallbox 22", "firmwareVersion": "1.2.3"}


def station_item(table, charge_point_id="CP1"):
    return table.get_item(Key=station_key(charge_point_id))["Item"]


def start(station, id_tag="TAG1", connector_id=1, meter_start=1000, timestamp="2026-11-24T10:00:00Z", **extra):
    return station.result(
        "StartTransaction",
        {"connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start, "timestamp": timestamp, **extra},
    )


# --- BootNotification and the boot gate -------------------------------------------------------------


def test_registered_station_boot_is_accepted_and_stored(registered_station, table):
    answer = registered_station.result("BootNotification", BOOT | {"chargePointSerialNumber": "SN-1"})
    assert answer["status"] == "Accepted"
    assert answer["interval"] == 300
    assert answer["currentTime"].endswith("Z")
    item = station_item(table)
    assert item["bootStatus"] == "Accepted"
    assert item["boot"] == BOOT | {"chargePointSerialNumber": "SN-1"}


@pytest.mark.parametrize(
    ("policy", "status", "interval", "registered"),
    [
        (UnknownStationPolicy.ACCEPT, "Accepted", 300, True),
        (UnknownStationPolicy.PENDING, "Pending", 60, False),
        (UnknownStationPolicy.REJECT, "Rejected", 60, False),
    ],
)
def test_unknown_station_boot_follows_the_policy(services, table, policy, status, interval, registered):
    services.settings = services.settings.model_copy(update={"unknown_station_policy": policy})
    station = Station(services, "NEW1", boot_status=None)
    answer = station.result("BootNotification", BOOT)
    assert (answer["status"], answer["interval"]) == (status, interval)
    item = station_item(table, "NEW1")
    assert item["bootStatus"] == status
    assert bool(item.get("registered", False)) is registered


def test_a_pending_station_registered_meanwhile_is_accepted_at_its_next_boot(services, table):
    from csms.domain.passwords import hash_password

    services.settings = services.settings.model_copy(update={"unknown_station_policy": UnknownStationPolicy.PENDING})
    station = Station(services, "NEW2", boot_status=None)  # one connection throughout, as §4.2 asks of Pending
    assert station.result("BootNotification", BOOT)["status"] == "Pending"
    services.stations.register("NEW2", {"password_hash": hash_password("0123456789abcdef")})
    assert station.result("BootNotification", BOOT)["status"] == "Accepted"
    assert station_item(table, "NEW2")["bootStatus"] == "Accepted"


def test_requests_before_an_accepted_boot_get_security_error(services, table):
    table.put_item(Item={**station_key("CP9"), "chargePointId": "CP9", "registered": True})
    station = Station(services, "CP9", boot_status=None)
    assert station.error_code("Heartbeat", {}) == "SecurityError"
    station.result("BootNotification", BOOT)
    # The same connection, now booted: the table says Accepted although the connection opened before.
    assert "currentTime" in station.result("Heartbeat", {})


def test_a_rejected_station_may_only_boot(services, table):
    table.put_item(Item={**station_key("CP8"), "chargePointId": "CP8", "bootStatus": "Rejected"})
    station = Station(services, "CP8", boot_status="Rejected")
    assert station.error_code("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}) == "SecurityError"


def test_heartbeat_answers_current_time_and_records_last_seen(registered_station, table):
    answer = registered_station.result("Heartbeat", {})
    assert answer["currentTime"].endswith("Z")
    assert "lastSeenAt" in station_item(table)


# --- StatusNotification ----------------------------------------------------------------------------------


def test_status_notifications_are_kept_per_connector_newest_wins(registered_station, table):
    send = lambda connector, status, at: registered_station.result(  # noqa: E731
        "StatusNotification",
        {"connectorId": connector, "errorCode": "NoError", "status": status, "timestamp": at},
    )
    send(0, "Available", "2026-11-24T10:00:00Z")
    send(1, "Charging", "2026-11-24T10:05:00Z")
    send(1, "Preparing", "2026-11-24T10:01:00Z")  # a late, offline-queued notification
    item = station_item(table)
    assert item["connector_0"]["status"] == "Available"
    assert item["connector_1"]["status"] == "Charging"
    assert item["connector_1"]["reportedAt"] == "2026-11-24T10:05:00.000Z"


def test_faulted_status_keeps_error_details(registered_station, table):
    registered_station.result(
        "StatusNotification",
        {"connectorId": 2, "errorCode": "GroundFailure", "status": "Faulted", "info": "RCD", "vendorErrorCode": "E42"},
    )
    assert station_item(table)["connector_2"].items() >= {"errorCode": "GroundFailure", "info": "RCD", "vendorErrorCode": "E42"}.items()


def test_schema_violation_is_refused_in_strict_mode_and_stored_in_lenient_mode(services, table):
    table.put_item(Item={**station_key("CP1"), "chargePointId": "CP1", "registered": True})
    payload = {"connectorId": 1, "errorCode": "Error", "status": "Faulted"}
    assert Station(services).error_code("StatusNotification", payload) == "PropertyConstraintViolation"
    Station(services, lenient=True).result("StatusNotification", payload)
    assert station_item(table)["connector_1"]["errorCode"] == "Error"


# --- Authorize ---------------------------------------------------------------------------------------------


def test_authorize_answers_the_id_tag_status(registered_station, id_tags):
    id_tags("GOOD", parent_id_tag="FLEET", expiry_date=NOW + timedelta(days=365))
    id_tags("BLOCKED", "Blocked")
    id_tags("OLD", expiry_date=NOW - timedelta(days=1))
    good = registered_station.result("Authorize", {"idTag": "good"})["idTagInfo"]  # CiString: case-insensitive
    assert good["status"] == "Accepted" and good["parentIdTag"] == "FLEET" and good["expiryDate"].startswith("2027-11-24")
    assert registered_station.result("Authorize", {"idTag": "BLOCKED"})["idTagInfo"] == {"status": "Blocked"}
    assert registered_station.result("Authorize", {"idTag": "OLD"})["idTagInfo"]["status"] == "Expired"
    assert registered_station.result("Authorize", {"idTag": "NOBODY"})["idTagInfo"] == {"status": "Invalid"}


# --- vendor idTag suffixes --------------------------------------------------------------------------------


@pytest.fixture
def suffixing_station(services, table):
    """A KEBA-style station: it sends the card 04A2B3C4 as 04A2B3C4_KC-P30, and its operator said so."""
    services.stations.register("CP1", {"id_tag_suffix_separator": "_"})
    table.update_item(Key=station_key("CP1"), UpdateExpression="SET bootStatus = :accepted", ExpressionAttributeValues={":accepted": "Accepted"})
    return Station(services, id_tag_suffix_separator="_")  # as the authorizer's context hands it to the message path


def test_a_suffixed_tag_is_authorized_as_its_card(suffixing_station, services, id_tags):
    id_tags("04A2B3C4")
    assert suffixing_station.result("Authorize", {"idTag": "04A2B3C4_KC-P30"})["idTagInfo"]["status"] == "Accepted"
    without_the_option = Station(services)
    assert without_the_option.result("Authorize", {"idTag": "04A2B3C4_KC-P30"})["idTagInfo"] == {"status": "Invalid"}


def test_a_session_started_and_stopped_with_a_suffixed_tag_is_the_cards(suffixing_station, services, id_tags):
    id_tags("04A2B3C4")
    started = start(suffixing_station, id_tag="04A2B3C4_KC-P30")
    assert started["idTagInfo"]["status"] == "Accepted"
    transaction_id = started["transactionId"]
    assert services.transactions.get(transaction_id).id_tag == "04A2B3C4"
    assert services.stations.get("CP1").session_on(1).id_tag == "04A2B3C4"
    # The card is busy: the same card on another connector, suffixed or not, is the same tag.
    assert start(suffixing_station, id_tag="04A2B3C4", connector_id=2, timestamp="2026-11-24T10:01:00Z")["idTagInfo"]["status"] == "ConcurrentTx"
    stop = {"transactionId": transaction_id, "meterStop": 5000, "timestamp": "2026-11-24T11:00:00Z", "idTag": "04A2B3C4_KC-P30"}
    assert suffixing_station.result("StopTransaction", stop) == {"idTagInfo": {"status": "Accepted"}}
    assert services.transactions.get(transaction_id).stop.id_tag == "04A2B3C4"


def test_the_option_reaches_the_message_path_through_the_authorizers_context(services, id_tags):
    id_tags("04A2B3C4")
    services.stations.register("CP1", {"id_tag_suffix_separator": "_"})
    services.stations.record_boot("CP1", boot=BOOT, status="Accepted", at=NOW, register=False)
    policy = authorize_connection(authorizer_event("CP1"), services)
    event = MessageEvent.model_validate({
        "requestContext": {"connectionId": "c1", "eventType": "MESSAGE", "authorizer": {"principalId": "CP1", **policy["context"]}},
        "isBase64Encoded": False,
        "body": json.dumps([2, "m1", "Authorize", {"idTag": "04A2B3C4_KC-P30"}]),
    })
    assert json.loads(on_message(event, services)["body"]) == [3, "m1", {"idTagInfo": {"status": "Accepted"}}]


# --- Transactions ------------------------------------------------------------------------------------------


def test_start_transaction_is_stored_with_a_new_id(registered_station, id_tags, table):
    id_tags("TAG1")
    answer = start(registered_station, reservationId=5)
    assert answer["idTagInfo"]["status"] == "Accepted"
    transaction = table.get_item(Key=transaction_key(answer["transactionId"]))["Item"]
    assert transaction["chargePointId"] == "CP1" and transaction["connectorId"] == 1
    assert transaction["meterStart"] == 1000 and transaction["reservationId"] == 5
    assert "stoppedAt" not in transaction


def test_a_replayed_start_gets_the_same_transaction_id(registered_station, id_tags):
    id_tags("TAG1")
    first = start(registered_station)
    replay = start(registered_station)
    assert replay == first
    assert start(registered_station, meter_start=2000, timestamp="2026-11-24T11:00:00Z")["transactionId"] != first["transactionId"]


def test_a_tag_in_another_transaction_is_concurrent(registered_station, id_tags):
    id_tags("TAG1")
    start(registered_station, connector_id=1)
    second = start(registered_station, connector_id=2, timestamp="2026-11-24T10:01:00Z")
    assert second["idTagInfo"]["status"] == "ConcurrentTx"
    assert second["transactionId"] > 0  # recorded all the same: the station decides to stop it


def test_a_start_with_an_unknown_tag_is_recorded_and_answered_invalid(registered_station, table):
    answer = start(registered_station, id_tag="STRANGER")
    assert answer["idTagInfo"] == {"status": "Invalid"}
    assert table.get_item(Key=transaction_key(answer["transactionId"]))["Item"]["authorizationStatus"] == "Invalid"


def test_stop_computes_energy_and_frees_the_tag(registered_station, id_tags, table):
    id_tags("TAG1")
    transaction_id = start(registered_station)["transactionId"]
    stop = {"transactionId": transaction_id, "meterStop": 21000, "timestamp": "2026-11-24T11:00:00Z", "idTag": "TAG1", "reason": "EVDisconnected"}
    assert registered_station.result("StopTransaction", stop) == {"idTagInfo": {"status": "Accepted"}}
    transaction = table.get_item(Key=transaction_key(transaction_id))["Item"]
    assert transaction["energyWh"] == 20000 and transaction["stopReason"] == "EVDisconnected"
    assert transaction["stoppedAt"] == "2026-11-24T11:00:00.000Z"
    # Repeating the stop changes nothing and is answered the same way.
    assert registered_station.result("StopTransaction", stop | {"meterStop": 99999}) == {"idTagInfo": {"status": "Accepted"}}
    assert table.get_item(Key=transaction_key(transaction_id))["Item"]["energyWh"] == 20000
    assert start(registered_station, timestamp="2026-11-24T12:00:00Z")["idTagInfo"]["status"] == "Accepted"


def test_stop_without_reason_defaults_to_local_and_without_id_tag_has_no_id_tag_info(registered_station, table):
    transaction_id = start(registered_station)["transactionId"]
    answer = registered_station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 1500, "timestamp": "2026-11-24T10:30:00Z"})
    assert answer == {}
    assert table.get_item(Key=transaction_key(transaction_id))["Item"]["stopReason"] == "Local"


def test_stop_of_an_unknown_transaction_is_answered_and_kept(registered_station, table):
    answer = registered_station.result("StopTransaction", {"transactionId": 424242, "meterStop": 5, "timestamp": "2026-11-24T10:30:00Z"})
    assert answer == {}
    kept = table.query(KeyConditionExpression=Key("pk").eq("CP#CP1") & Key("sk").begins_with("STOP#424242#"))["Items"]
    assert len(kept) == 1 and kept[0]["stop"]["meterStop"] == 5
    assert "Item" not in table.get_item(Key=transaction_key(424242))


def test_stop_transaction_data_is_stored_as_meter_values(registered_station, table):
    transaction_id = start(registered_station)["transactionId"]
    data = [{"timestamp": "2026-11-24T10:59:00Z", "sampledValue": [{"value": "20.5", "unit": "kWh", "context": "Transaction.End"}]}]
    registered_station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 20500, "timestamp": "2026-11-24T11:00:00Z", "transactionData": data})
    values = meter_values_of(table, transaction_id)
    assert [v["sampledValue"][0]["energyWh"] for v in values] == [Decimal("20500.0")]


def test_another_station_cannot_stop_my_transaction(registered_station, services, table):
    transaction_id = start(registered_station)["transactionId"]
    table.put_item(Item={**station_key("CP2"), "chargePointId": "CP2", "registered": True, "bootStatus": "Accepted"})
    Station(services, "CP2").result("StopTransaction", {"transactionId": transaction_id, "meterStop": 9, "timestamp": "2026-11-24T10:30:00Z"})
    assert "stoppedAt" not in table.get_item(Key=transaction_key(transaction_id))["Item"]


# --- MeterValues -----------------------------------------------------------------------------------------


def meter_values_of(table, transaction_id):
    return table.query(KeyConditionExpression=Key("pk").eq(f"TX#{transaction_id}") & Key("sk").begins_with("MV#"))["Items"]


def test_meter_values_are_kept_with_energy_in_wh(registered_station, table):
    transaction_id = start(registered_station)["transactionId"]
    sampled = [
        {"value": "1.5", "unit": "kWh", "measurand": "Energy.Active.Import.Register", "context": "Sample.Periodic", "location": "Outlet"},
        {"value": "7200", "unit": "W", "measurand": "Power.Active.Import", "phase": "L1"},
        {"value": "3045022100AB", "format": "SignedData", "measurand": "Energy.Active.Import.Register"},
    ]
    payload = {"connectorId": 1, "transactionId": transaction_id, "meterValue": [{"timestamp": "2026-11-24T10:15:00Z", "sampledValue": sampled}]}
    registered_station.result("MeterValues", payload)
    registered_station.result("MeterValues", payload)  # retransmitted: stored once
    (stored,) = meter_values_of(table, transaction_id)
    assert stored["sampledValue"][0] == sampled[0] | {"energyWh": Decimal("1500.0")}
    assert stored["sampledValue"][1] == sampled[1]
    assert stored["sampledValue"][2] == sampled[2]
    transaction = table.get_item(Key=transaction_key(transaction_id))["Item"]
    assert transaction["lastMeterWh"] == Decimal("1500.0")


def test_a_late_older_reading_does_not_replace_the_latest(registered_station, table):
    transaction_id = start(registered_station)["transactionId"]
    reading = lambda at, wh: {"connectorId": 1, "transactionId": transaction_id, "meterValue": [{"timestamp": at, "sampledValue": [{"value": wh}]}]}  # noqa: E731
    registered_station.result("MeterValues", reading("2026-11-24T10:30:00Z", "5000"))
    registered_station.result("MeterValues", reading("2026-11-24T10:15:00Z", "3000"))
    assert table.get_item(Key=transaction_key(transaction_id))["Item"]["lastMeterWh"] == 5000
    assert len(meter_values_of(table, transaction_id)) == 2


@pytest.mark.parametrize("transaction", [{}, {"transactionId": 0}])
def test_meter_values_outside_a_transaction_belong_to_the_connector(registered_station, table, transaction):
    payload = {"connectorId": 2, "meterValue": [{"timestamp": "2026-11-24T10:15:00Z", "sampledValue": [{"value": "230", "measurand": "Voltage", "unit": "V"}]}]}
    registered_station.result("MeterValues", payload | transaction)
    stored = table.query(KeyConditionExpression=Key("pk").eq("CP#CP1") & Key("sk").begins_with("MV#2#"))["Items"]
    assert len(stored) == 1 and "transactionId" not in stored[0]


# --- Other station messages ---------------------------------------------------------------------------------


def test_data_transfer_for_an_unknown_vendor(registered_station):
    assert registered_station.result("DataTransfer", {"vendorId": "com.acme", "messageId": "x", "data": "{}"}) == {"status": "UnknownVendorId"}


@pytest.mark.parametrize(
    ("action", "payload", "attribute"),
    [
        ("DiagnosticsStatusNotification", {"status": "Uploaded"}, "diagnosticsStatus"),
        ("FirmwareStatusNotification", {"status": "Installed"}, "firmwareStatus"),
        ("SignedFirmwareStatusNotification", {"status": "SignatureVerified", "requestId": 3}, "firmwareStatus"),
        ("LogStatusNotification", {"status": "Uploading", "requestId": 4}, "logStatus"),
    ],
)
def test_operation_status_notifications_are_kept_on_the_station(registered_station, table, action, payload, attribute):
    assert registered_station.result(action, payload) == {}
    assert station_item(table)[attribute].items() >= payload.items()


def test_security_events_and_csrs_are_stored(registered_station, table):
    event = {"type": "FirmwareUpdated", "timestamp": "2026-11-24T09:00:00Z", "techInfo": "v1.2.3"}
    assert registered_station.result("SecurityEventNotification", event) == {}
    assert registered_station.result("SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----..."}) == {"status": "Accepted"}
    records = table.query(KeyConditionExpression=Key("pk").eq("CP#CP1"))["Items"]
    assert any(r["sk"].startswith("SECURITY#") and r["type"] == "FirmwareUpdated" for r in records)
    assert any(r["sk"].startswith("CSR#") and r["csr"].startswith("-----BEGIN") for r in records)


# --- CallError paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("FlyToTheMoon", {}, "NotImplemented"),
        ("Reset", {"type": "Soft"}, "NotSupported"),  # a central-system action sent by a station
        ("BootNotification", {"chargePointVendor": "Acme"}, "ProtocolError"),
        ("StatusNotification", {"connectorId": "1", "errorCode": "NoError", "status": "Available"}, "TypeConstraintViolation"),
        ("BootNotification", BOOT | {"chargePointSerialNumber": "S" * 26}, "TypeConstraintViolation"),
        ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}, "PropertyConstraintViolation"),
        ("Heartbeat", {"extra": 1}, "FormationViolation"),
        ("MeterValues", {"connectorId": 1, "meterValue": []}, "OccurenceConstraintViolation"),
    ],
)
def test_invalid_calls_get_the_matching_call_error(registered_station, action, payload, code):
    assert registered_station.error_code(action, payload) == code


def test_a_serial_too_long_is_accepted_from_a_lenient_station(services, table):
    table.put_item(Item={**station_key("CP1"), "chargePointId": "CP1", "registered": True})
    Station(services, lenient=True).result("BootNotification", BOOT | {"chargePointSerialNumber": "S" * 30})
    assert station_item(table)["boot"]["chargePointSerialNumber"] == "S" * 30


def test_malformed_json_gets_formation_violation(registered_station):
    assert registered_station.send_raw("[2, 'single quotes']")[:3] == [4, "-1", "FormationViolation"]


def test_a_failing_handler_answers_internal_error_and_logs(registered_station, services, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.stations, "record_heartbeat", broken)
    reply = registered_station.call("Heartbeat", {})
    assert reply[0] == 4 and reply[2] == "InternalError" and "disk on fire" not in reply[3]


def test_answers_to_central_system_calls_get_no_reply(registered_station):
    assert registered_station.send_raw('[3,"cs-1",{"status":"Accepted"}]') is None
    assert registered_station.send_raw('[4,"cs-2","NotSupported","",{}]') is None


def test_the_boot_gate_reads_the_table_once_per_connection(services, table, monkeypatch):
    from csms.station.dispatcher import booted_connections

    table.put_item(Item={**station_key("CP5"), "chargePointId": "CP5", "registered": True, "bootStatus": "Accepted"})
    reads = []
    original = services.stations.get
    monkeypatch.setattr(services.stations, "get", lambda cp: reads.append(cp) or original(cp))
    station = Station(services, "CP5", boot_status=None)  # connected before its boot, booted elsewhere
    assert station.connection_id not in booted_connections
    for _ in range(3):
        station.result("Heartbeat", {})
    assert reads == ["CP5"]


def test_a_rejected_boot_closes_the_gate_again(services, table):
    services.settings = services.settings.model_copy(update={"unknown_station_policy": UnknownStationPolicy.REJECT})
    station = Station(services, "CP6", boot_status=None)
    assert station.result("BootNotification", BOOT)["status"] == "Rejected"
    assert station.error_code("Heartbeat", {}) == "SecurityError"


# --- connectors point at their session ---------------------------------------------------------------


def test_a_connector_points_at_its_transaction_from_start_to_stop(registered_station, services, id_tags):
    id_tags("TAG1")
    transaction_id = start(registered_station, connector_id=2)["transactionId"]
    station = services.stations.get("CP1")
    assert station.session_on(2).transaction_id == transaction_id
    assert station.session_on(2).id_tag == "TAG1"
    assert [session.transaction_id for session in station.active_sessions] == [transaction_id]
    registered_station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 2000, "timestamp": "2026-11-24T10:30:00Z"})
    assert services.stations.get("CP1").active_sessions == ()


def test_a_late_stop_of_an_older_transaction_leaves_the_newer_session_of_its_connector_alone(registered_station, services, id_tags):
    id_tags("TAG1")
    id_tags("TAG2")
    older = start(registered_station, id_tag="TAG1", connector_id=1)["transactionId"]
    newer = start(registered_station, id_tag="TAG2", connector_id=1, timestamp="2026-11-24T11:00:00Z")["transactionId"]
    assert services.stations.get("CP1").session_on(1).transaction_id == newer
    # The older one's stop was queued offline and arrives now.
    registered_station.result("StopTransaction", {"transactionId": older, "meterStop": 1500, "timestamp": "2026-11-24T10:50:00Z"})
    assert services.stations.get("CP1").session_on(1).transaction_id == newer
    assert services.id_tags.get("TAG1").active_transaction_id is None  # the older one's tag is released all the same
    assert services.id_tags.get("TAG2").active_transaction_id == newer


def test_another_stations_stop_never_ends_a_session(registered_station, services, table, id_tags):
    id_tags("TAG1")
    transaction_id = start(registered_station, connector_id=1)["transactionId"]
    table.put_item(Item={**station_key("CP2"), "chargePointId": "CP2", "registered": True, "bootStatus": "Accepted"})
    Station(services, "CP2").result("StopTransaction", {"transactionId": transaction_id, "meterStop": 999999, "timestamp": "2026-11-24T10:30:00Z"})
    assert services.stations.get("CP1").session_on(1).transaction_id == transaction_id
    assert services.transactions.get(transaction_id).stop is None


def test_an_unexpected_status_transition_is_recorded_all_the_same(registered_station, services):
    status = {"connectorId": 1, "errorCode": "NoError", "timestamp": "2026-11-24T10:00:00Z"}
    registered_station.result("StatusNotification", status | {"status": "Available"})
    registered_station.result("StatusNotification", status | {"status": "Finishing", "timestamp": "2026-11-24T10:01:00Z"})
    assert services.stations.get("CP1").connector(1).status == "Finishing"


@pytest.mark.parametrize("lookalike", ["\u017fIGIL1", "S\u0131gil1", " SIGIL1", "SIGIL1\t"])
def test_a_lookalike_of_a_registered_tag_is_not_authorized(registered_station, id_tags, lookalike):
    id_tags("SIGIL1")
    assert registered_station.result("Authorize", {"idTag": "sigil1"})["idTagInfo"]["status"] == "Accepted"
    assert registered_station.result("Authorize", {"idTag": lookalike})["idTagInfo"]["status"] == "Invalid"


# --- no station touches another station's transaction ---------------------------------------------


def _meter_value(wh: str, timestamp: str = "2026-11-24T10:10:00Z") -> dict:
    return {"timestamp": timestamp, "sampledValue": [{"value": wh, "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}


@pytest.fixture
def foreign_station(services, table):
    table.put_item(Item={**station_key("CP2"), "chargePointId": "CP2", "registered": True, "bootStatus": "Accepted"})
    return Station(services, "CP2")


def test_meter_values_naming_another_stations_transaction_are_kept_apart_and_never_applied(
    registered_station, foreign_station, services, table, id_tags
):
    id_tags("TAG1")
    transaction_id = start(registered_station, connector_id=1)["transactionId"]
    registered_station.result("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [_meter_value("1500")]})
    answer = foreign_station.result(
        "MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [_meter_value("999999", "2026-11-24T10:20:00Z")]}
    )
    assert answer == {}  # answered, so the station does not retry forever
    assert services.transactions.get(transaction_id).last_meter_wh == Decimal(1500)
    assert [value.timestamp for value in services.meter_values.list_for_transaction(transaction_id)] == ["2026-11-24T10:10:00Z"]
    kept = table.query(KeyConditionExpression=Key("pk").eq("CP#CP2") & Key("sk").begins_with("MV#"))["Items"]
    assert [(item["unmatchedTransactionId"], item["sampledValue"][0]["value"]) for item in kept] == [(transaction_id, "999999")]


def test_meter_values_without_energy_for_another_stations_transaction_are_not_stored_with_it(
    registered_station, foreign_station, services, id_tags
):
    id_tags("TAG1")
    transaction_id = start(registered_station, connector_id=1)["transactionId"]
    power = {"timestamp": "2026-11-24T10:10:00Z", "sampledValue": [{"value": "7000", "measurand": "Power.Active.Import", "unit": "W"}]}
    foreign_station.result("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [power]})
    assert services.meter_values.list_for_transaction(transaction_id) == []


def test_a_stop_naming_another_stations_transaction_changes_nothing_of_it(
    registered_station, foreign_station, services, table, id_tags
):
    id_tags("TAG1")
    transaction_id = start(registered_station, connector_id=1)["transactionId"]
    answer = foreign_station.result(
        "StopTransaction",
        {"transactionId": transaction_id, "meterStop": 999999, "timestamp": "2026-11-24T10:30:00Z",
         "transactionData": [_meter_value("999999", "2026-11-24T10:29:00Z")]},
    )  # fmt: skip
    assert answer == {}
    transaction = services.transactions.get(transaction_id)
    assert transaction.stop is None and transaction.last_meter_wh is None
    assert services.meter_values.list_for_transaction(transaction_id) == []
    assert services.id_tags.get("TAG1").active_transaction_id == transaction_id
    unmatched = table.query(KeyConditionExpression=Key("pk").eq("CP#CP2") & Key("sk").begins_with("STOP#"))["Items"]
    assert [int(item["transactionId"]) for item in unmatched] == [transaction_id]


def test_an_older_reading_of_the_stations_own_transaction_still_stores_its_values(registered_station, services, id_tags):
    id_tags("TAG1")
    transaction_id = start(registered_station, connector_id=1)["transactionId"]
    registered_station.result("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [_meter_value("1500", "2026-11-24T10:20:00Z")]})
    registered_station.result("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [_meter_value("1200", "2026-11-24T10:10:00Z")]})
    assert services.transactions.get(transaction_id).last_meter_wh == Decimal(1500)
    assert len(services.meter_values.list_for_transaction(transaction_id)) == 2


def test_a_replayed_start_gets_its_first_answer_even_when_its_tag_is_now_in_a_newer_transaction(registered_station, id_tags):
    id_tags("TAG1")
    first = start(registered_station, connector_id=1)
    registered_station.result("StopTransaction", {"transactionId": first["transactionId"], "meterStop": 2000, "timestamp": "2026-11-24T10:30:00Z"})
    newer = start(registered_station, connector_id=1, timestamp="2026-11-24T10:40:00Z")
    assert newer["idTagInfo"]["status"] == "Accepted" and newer["transactionId"] != first["transactionId"]
    replay = start(registered_station, connector_id=1)  # the station rebooted and sends its queue again
    assert replay == first


# --- hostile frames are answered with the CallError their fault calls for, never InternalError ---------


def _start_payload(**fields):
    return {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"} | fields


@pytest.mark.parametrize(
    "field", ["connectorId", "meterStart", "reservationId"]
)
def test_an_integer_beyond_38_digits_is_a_property_constraint_violation(registered_station, field):
    assert registered_station.error_code("StartTransaction", _start_payload(**{field: 10**38})) == "PropertyConstraintViolation"


def test_integers_beyond_38_digits_in_stop_and_meter_values_too(registered_station):
    stop = {"transactionId": 10**40, "meterStop": 1, "timestamp": "2026-11-24T10:00:00Z"}
    assert registered_station.error_code("StopTransaction", stop) == "PropertyConstraintViolation"
    assert registered_station.error_code("StopTransaction", stop | {"transactionId": 1, "meterStop": -(10**39)}) == "PropertyConstraintViolation"
    values = {"connectorId": 1, "transactionId": 10**39, "meterValue": [_meter_value("1")]}
    assert registered_station.error_code("MeterValues", values) == "PropertyConstraintViolation"


def test_a_date_time_beyond_the_year_9999_in_utc_is_a_property_constraint_violation(registered_station):
    payload = _start_payload(timestamp="9999-12-31T23:59:59-01:00")
    assert registered_station.error_code("StartTransaction", payload) == "PropertyConstraintViolation"


def test_a_frame_nested_a_thousand_levels_deep_is_a_formation_violation(registered_station):
    deep = "[" * 1000 + "]" * 1000
    reply = registered_station.send_raw(f'[2,"m1","DataTransfer",{{"vendorId":"x","data":{deep}}}]')
    assert reply[0] == 4 and reply[2] == "FormationViolation"
    reply = registered_station.send_raw("[" * 100_000 + "]" * 100_000)
    assert reply[0] == 4 and reply[2] == "FormationViolation"


def test_a_lone_surrogate_in_a_string_is_a_formation_violation(registered_station):
    reply = registered_station.send_raw('[2,"m1","Authorize",{"idTag":"TAG\\ud800"}]')
    assert reply == [4, "m1", "FormationViolation", reply[3], {}]
    json.dumps(reply, ensure_ascii=False).encode()  # the answer itself can be sent


@pytest.mark.parametrize("frame", ['[2,"m\\ud800","Heartbeat",{}]', '[2,"m1","Heart\\udc00beat",{}]'])
def test_a_lone_surrogate_in_the_message_id_or_action_is_still_answered(registered_station, frame):
    reply = registered_station.send_raw(frame)
    assert reply[0] == 4 and reply[2] == "FormationViolation"
    json.dumps(reply, ensure_ascii=False).encode()


@pytest.mark.parametrize("value", ["1e400", "1e-200", "-1e400", "123456789012345678901234567890123456789012"])
def test_an_unstorable_sampled_value_is_kept_as_sent_and_answered(registered_station, services, id_tags, value):
    id_tags("TAG1")
    transaction_id = start(registered_station)["transactionId"]
    answer = registered_station.result(
        "MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [_meter_value(value)]}
    )
    assert answer == {}
    (stored,) = services.meter_values.list_for_transaction(transaction_id)
    assert stored.sampled_value[0]["value"] == value
