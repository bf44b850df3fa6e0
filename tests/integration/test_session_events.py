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
from tests.integration.test_operator_api import Client, stations  # noqa: F401  (stations: a fixture)

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


# --- SessionEnded: once the session is priced, or with no cost when no tariff applies ------------------------


def _stopped_session(services, *, tariff: bool) -> int:
    from tests.examples import STANDARD_TARIFF
    from tests.integration.stations import Station

    api = Client()
    if tariff:
        assert api.put("/tariffs/STD", STANDARD_TARIFF).status == 201
    assert api.put("/charge-points/CP9", {"tariffId": "STD"} if tariff else {}).status == 201
    station = Station(services, "CP9")
    start = {"connectorId": 2, "idTag": "DRIVER", "meterStart": 1000, "timestamp": "2026-11-24T10:00:00Z"}
    transaction_id = station.result("StartTransaction", start)["transactionId"]
    stop = {"transactionId": transaction_id, "meterStop": 13500, "timestamp": "2026-11-24T11:15:00Z"}
    station.result("StopTransaction", stop)
    return transaction_id


def _hand_off(services, transaction_id: int) -> None:
    from csms.billing.tasks import BillingTask, run_billing_task

    task = {"transactionId": transaction_id, "chargePointId": "CP9"}
    priced = run_billing_task(BillingTask.model_validate({**task, "step": "price"}), services)
    run_billing_task(BillingTask.model_validate({**task, "step": "store", "priced": priced}), services)


def ended(services, table, transaction_id: int) -> list:
    return [event for event in emitted(services, table, transaction_id) if event.type is EventType.SESSION_ENDED]


def test_a_priced_session_ends_with_its_energy_duration_and_cost_including_vat_once(stations, services, table, id_tags):  # noqa: F811
    id_tags("DRIVER")
    transaction_id = _stopped_session(services, tariff=True)
    _hand_off(services, transaction_id)
    _hand_off(services, transaction_id)  # the workflow's re-run
    (event,) = ended(services, table, transaction_id)
    detail = event.detail
    # 12.5 kWh x 0.30 + 1.25 h x 2.00 + 1.00 = 7.25, and 8.70 with 20 % VAT (tests/examples.py)
    assert (detail["energyWh"], detail["durationSeconds"], detail["cost"]) == (12_500, 4500, {"amount": "8.7", "currency": "EUR"})
    assert (detail["occurredAt"], detail["connectorId"], detail["idTag"]) == ("2026-11-24T11:15:00.000Z", 2, "DRIVER")


def test_a_session_no_tariff_applies_to_still_ends_for_its_driver_with_no_cost(stations, services, table, id_tags):  # noqa: F811
    from csms.billing.service import NoTariffApplies

    id_tags("DRIVER")
    transaction_id = _stopped_session(services, tariff=False)
    with pytest.raises(NoTariffApplies):  # the execution fails for the operator as before
        _hand_off(services, transaction_id)
    (event,) = ended(services, table, transaction_id)
    assert (event.detail["energyWh"], event.detail["durationSeconds"], event.detail["cost"]) == (12_500, 4500, None)
    # The operator sets a tariff and redrives: the CDR is made; the driver was told already, once.
    from tests.examples import STANDARD_TARIFF

    Client().put("/tariffs/STD", STANDARD_TARIFF)
    Client().put("/charge-points/CP9", {"tariffId": "STD"})
    services.clock.advance(minutes=1)
    _hand_off(services, transaction_id)
    assert [event.detail["cost"] for event in ended(services, table, transaction_id)] == [None]


def test_one_reading_keeps_energy_soc_and_current_at_once_and_a_late_one_changes_none(station, table):
    transaction_id = station.result("StartTransaction", START)["transactionId"]
    amps = {"value": "16", "unit": "A", "measurand": "Current.Import", "phase": "L1"}
    for minute, current in ((2, "16"), (4, "15.5")):
        newest = reading(minute, soc=str(50 + minute), wh=str(10_000 + minute * 1000))
        newest["sampledValue"].append(amps | {"value": current})
        send(station, transaction_id, newest)
    late = reading(3, soc="99", wh="99000")
    late["sampledValue"].append(amps | {"value": "40"})
    send(station, transaction_id, late)
    send(station, transaction_id, {"timestamp": "2026-11-24T10:01:00Z", "sampledValue": [amps | {"value": "40"}]})
    item = table.get_item(Key=transaction_key(transaction_id))["Item"]
    assert (item["lastMeterWh"], item["lastSoC"], item["firstSoC"]) == (14_000, 54, 52)
    assert (item["currentA0"], item["currentA1"], item.get("currentA2")) == (Decimal("15.5"), 16, None)


def test_a_refused_start_is_not_announced(station, services, table):
    transaction_id = station.result("StartTransaction", START | {"idTag": "NOBODY"})["transactionId"]
    assert emitted(services, table, transaction_id) == []
