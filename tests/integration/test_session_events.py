"""Session events written by the station path (issue 10 §4): SessionStarted with the start's one transaction,
ThresholdReached from the reading's own update; each once per cause, each valid against its JSON Schema."""

from __future__ import annotations

from decimal import Decimal

import jsonschema
import pytest
from boto3.dynamodb.conditions import Key

from csms.adapters.dynamodb.keys import transaction_key
from csms.changes.reactions import REACTIONS
from csms.changes.stream import handle_records
from csms.events.catalog import EventType, schema
from tests.fakes.events import RecordingPublisher, as_delivered
from tests.fakes.stream import stream_record

START = {"connectorId": 1, "idTag": "DRIVER", "meterStart": 10_000, "timestamp": "2026-11-24T10:00:00Z"}


@pytest.fixture
def station(registered_station, id_tags):
    id_tags("DRIVER")
    return registered_station


def emitted(services, table, transaction_id: int) -> list:
    """The events the table's stream puts for the transaction's follow-up items (each once)."""
    publisher = RecordingPublisher()
    services.events = publisher
    items = table.query(KeyConditionExpression=Key("pk").eq(f"TX#{transaction_id}") & Key("sk").begins_with("EVENT#"))["Items"]
    records = [stream_record(str(n), "INSERT", item) for n, item in enumerate(items)]
    assert handle_records({"Records": records}, services, REACTIONS) == {"batchItemFailures": []}
    for event in publisher.events:
        jsonschema.Draft4Validator(schema(event.type)).validate(as_delivered(event))
    return publisher.events


def reading(minute: int, *, soc: str | None = None, wh: str | None = None) -> dict:
    sampled = []
    if wh is not None:
        sampled.append({"value": wh, "unit": "Wh", "measurand": "Energy.Active.Import.Register"})
    if soc is not None:
        sampled.append({"value": soc, "measurand": "SoC", "unit": "Percent", "location": "EV"})
    return {"timestamp": f"2026-11-24T10:{minute:02d}:00Z", "sampledValue": sampled}


def send(station, transaction_id: int, *meter_values: dict) -> None:
    assert station.result("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": list(meter_values)}) == {}


def test_a_start_is_announced_once_even_when_the_station_replays_it(station, services, table):
    first = station.result("StartTransaction", START)["transactionId"]
    assert station.result("StartTransaction", START)["transactionId"] == first
    (started,) = emitted(services, table, first)
    assert started.type is EventType.SESSION_STARTED
    assert started.detail | {"eventId": "x"} == {
        "eventId": "x", "schemaVersion": "1.0", "occurredAt": "2026-11-24T10:00:00.000Z", "chargePointId": "CP1",
        "connectorId": 1, "transactionId": first, "idTag": "DRIVER",
    }  # fmt: skip


def test_a_state_of_charge_climbing_past_80_is_told_once_whatever_it_does_after(station, services, table):
    transaction_id = station.result("StartTransaction", START)["transactionId"]
    for minute, soc in enumerate(("70", "79", "81", "78", "83", "90"), start=1):
        send(station, transaction_id, reading(minute, soc=soc, wh=str(10_000 + minute * 1000)))
    send(station, transaction_id, reading(3, soc="81", wh="13000"))  # a retransmission of the crossing
    (threshold,) = [event for event in emitted(services, table, transaction_id) if event.type is EventType.THRESHOLD_REACHED]
    assert (threshold.detail["measurand"], threshold.detail["threshold"], threshold.detail["value"]) == ("SoC", 80, 81)
    assert threshold.detail["occurredAt"] == "2026-11-24T10:03:00.000Z"
    first_soc = table.get_item(Key=transaction_key(transaction_id))["Item"]["firstSoC"]
    assert first_soc == 70


def test_a_session_that_starts_at_85_percent_is_told_no_threshold(station, services, table):
    transaction_id = station.result("StartTransaction", START)["transactionId"]
    for minute, soc in enumerate(("85", "79", "88"), start=1):  # a dip below 80 and back: still none
        send(station, transaction_id, reading(minute, soc=soc))
    assert [event.type for event in emitted(services, table, transaction_id)] == [EventType.SESSION_STARTED]


def test_a_reading_past_several_thresholds_tells_each_and_a_late_older_reading_tells_none(station, services, table):
    services.settings = services.settings.model_copy(update={"soc_thresholds": (Decimal(50), Decimal(80))})
    transaction_id = station.result("StartTransaction", START)["transactionId"]
    send(station, transaction_id, reading(1, soc="40"))
    send(station, transaction_id, reading(5, soc="85"))
    send(station, transaction_id, reading(3, soc="60"))  # from the station's offline queue: older than the newest
    thresholds = [event.detail["threshold"] for event in emitted(services, table, transaction_id) if event.type is EventType.THRESHOLD_REACHED]
    assert sorted(thresholds) == [50, 80]


def test_energy_thresholds_of_the_session_are_told_as_the_energy_delivered_passes_them(station, services, table):
    transaction_id = station.result("StartTransaction", START)["transactionId"]
    # Where the sessions part binds them (from the id tag or the app session): the transaction item.
    table.update_item(
        Key=transaction_key(transaction_id), UpdateExpression="SET notifyAtEnergyWh = :wh", ExpressionAttributeValues={":wh": [5000, 10000]}
    )
    send(station, transaction_id, reading(1, wh="12000"))  # 2 kWh delivered
    send(station, transaction_id, reading(2, wh="21000"))  # 11 kWh: past both
    send(station, transaction_id, reading(3, wh="25000"))
    crossed = [
        (event.detail["measurand"], event.detail["threshold"], event.detail["value"])
        for event in emitted(services, table, transaction_id)
        if event.type is EventType.THRESHOLD_REACHED
    ]
    assert sorted(crossed) == [("Energy.Active.Import.Register", 5000, 11000), ("Energy.Active.Import.Register", 10000, 11000)]


def test_another_station_s_readings_tell_nothing_about_a_transaction(station, services, table):
    from tests.integration.stations import Station

    transaction_id = station.result("StartTransaction", START)["transactionId"]
    send(station, transaction_id, reading(1, soc="70"))
    intruder = Station(services, "CP2")
    table.put_item(Item={"pk": "CP#CP2", "sk": "STATION", "chargePointId": "CP2", "registered": True, "bootStatus": "Accepted"})
    send(intruder, transaction_id, reading(2, soc="95"))
    assert [event.type for event in emitted(services, table, transaction_id)] == [EventType.SESSION_STARTED]
