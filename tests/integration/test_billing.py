"""Issue 9 against emulated DynamoDB: tariffs through the operator API (versions, 400 paths, 409 delete), the
hand-off's tasks and the stream consumer, and the CDR routes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from csms.billing.tasks import BillingTask, run_billing_task
from csms.changes.reactions import REACTIONS
from csms.changes.stream import handle_records
from tests.examples import STANDARD_TARIFF
from tests.fakes.stream import stream_record
from tests.integration.stations import Station
from tests.integration.test_operator_api import Client, stations  # noqa: F401  (stations: a fixture)


@pytest.fixture
def api(stations) -> Client:  # noqa: F811  (the operator API's client, with its stations fixture)
    return Client()


TARIFF = STANDARD_TARIFF


def test_each_put_of_a_tariff_is_a_new_version_with_network_defaults(api, services):
    first = api.put("/tariffs/STD", TARIFF)
    assert first.status == 201
    assert first.json["version"] == 1
    tariff = first.json["tariff"]
    assert (tariff["id"], tariff["country_code"], tariff["party_id"]) == ("STD", "NL", "CSM")
    assert tariff["last_updated"] == "2026-11-24T10:00:00Z"  # the CSMS's clock, not the body's
    services.clock.advance(minutes=5)
    second = api.put("/tariffs/STD", {**TARIFF, "currency": "CHF", "last_updated": "2001-01-01T00:00:00Z"})
    assert (second.status, second.json["version"], second.json["tariff"]["currency"]) == (200, 2, "CHF")
    assert api.get("/tariffs/STD").json["tariff"]["currency"] == "CHF"
    assert [item["tariffId"] for item in api.get("/tariffs").json["items"]] == ["STD"]
    # The version in force at a moment is the one that took effect last before it.
    assert services.tariffs.version_at("STD", services.clock.now() - timedelta(minutes=1)).tariff.currency == "EUR"


def test_a_bad_tariff_is_a_400_naming_the_ocpi_path_and_nothing_is_stored(api):
    body = {**TARIFF, "elements": [{"price_components": [TARIFF["elements"][0]["price_components"][0], {"type": "KWH", "price": 1, "step_size": 1}]}]}
    refused = api.put("/tariffs/BAD", body)
    assert refused.status == 400
    assert [error["location"] for error in refused.json["errors"]] == ["elements[0].price_components[1].type"]
    assert api.get("/tariffs/BAD").status == 404
    assert api.put("/tariffs/BAD", {**TARIFF, "currency": "XXY"}).json["errors"][0]["location"] == "currency"
    assert api.put("/tariffs/BAD", {**TARIFF, "id": "OTHER"}).json["errors"][0]["location"] == "id"


def test_a_tariff_in_use_cannot_be_deleted(api):
    api.put("/tariffs/STD", TARIFF)
    assert api.put("/charge-points/CP1", {"tariffId": "STD", "timeZone": "Europe/Paris"}).status == 201
    assert api.put("/id-tags/TAG1", {"tariffId": "STD"}).status == 201
    assert api.delete("/tariffs/STD").status == 409
    api.put("/charge-points/CP1", {"tariffId": None})
    assert api.delete("/tariffs/STD").status == 409  # the id tag still names it
    api.delete("/id-tags/TAG1")
    assert api.delete("/tariffs/STD").status == 204
    assert api.get("/tariffs/STD").status == 404
    assert api.put("/charge-points/CP1", {"tariffId": "STD"}).status == 400  # unknown now


def test_an_unknown_time_zone_is_a_400_naming_the_field_and_registers_nothing(api, services):
    answer = api.put("/charge-points/CP1", {"timeZone": "Mars/Olympus"})
    assert answer.status == 400 and [error["location"] for error in answer.json["errors"]] == ["body.timeZone"]
    assert services.stations.get("CP1") is None
    assert api.put("/charge-points/CP1", {"timeZone": "Europe/Paris"}).json["timeZone"] == "Europe/Paris"


def test_the_tariff_a_driver_would_pay_names_why_it_applies(api, services):
    api.put("/tariffs/STD", TARIFF)
    api.put("/tariffs/STAFF", {**TARIFF, "elements": [{"price_components": [{"type": "FLAT", "price": 0, "step_size": 0}]}]})
    api.put("/charge-points/CP1", {"tariffId": "STD"})
    api.put("/id-tags/BOSS", {"tariffId": "STAFF"})
    assert api.get("/charge-points/CP1/tariff").json["appliesBecause"] == "station"
    staff = api.get("/charge-points/CP1/tariff", idTag="BOSS").json
    assert (staff["appliesBecause"], staff["tariff"]["id"]) == ("idTag", "STAFF")
    api.put("/charge-points/CP2", {})
    assert api.get("/charge-points/CP2/tariff").status == 404
    services.settings = services.settings.model_copy(update={"default_tariff_id": "STD"})
    assert api.get("/charge-points/CP2/tariff").json["appliesBecause"] == "default"


# --- the hand-off -----------------------------------------------------------------------------------


def session(api, services, *, meter_start: int = 1000, meter_stop: int = 13500, minutes: int = 75) -> int:
    api.put("/tariffs/STD", TARIFF)
    api.put("/charge-points/CP1", {"tariffId": "STD", "timeZone": "Europe/Paris"})
    station = Station(services, "CP1")
    started = station.result("StartTransaction", {"connectorId": 1, "idTag": "TAG1", "meterStart": meter_start, "timestamp": "2026-11-24T10:00:00Z"})
    transaction_id = started["transactionId"]
    services.clock.advance(minutes=minutes)
    end = f"2026-11-24T{10 + minutes // 60:02d}:{minutes % 60:02d}:00Z"
    station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": meter_stop, "timestamp": end})
    return transaction_id


def hand_off(services, transaction_id: int) -> dict:
    task = {"transactionId": transaction_id, "chargePointId": "CP1"}
    priced = run_billing_task(BillingTask.model_validate({**task, "step": "price"}), services)
    return run_billing_task(BillingTask.model_validate({**task, "step": "store", "priced": priced}), services)


def test_a_stopped_session_gets_one_cdr_priced_by_hand(api, services):
    transaction_id = session(api, services)
    detail = hand_off(services, transaction_id)
    cdr = detail["cdr"]
    # 12.5 kWh x 0.30 + 1.25 h x 2.00 + 1.00 = 3.75 + 2.50 + 1.00 = 7.25 excl. VAT, 8.70 incl. 20 % VAT
    assert cdr["total_cost"] == {"excl_vat": 7.25, "incl_vat": 8.7}
    assert (cdr["total_energy"], cdr["total_time"], cdr["total_parking_time"]) == (12.5, 1.25, 0)
    assert cdr["total_parking_cost"] == {"excl_vat": 0, "incl_vat": 0}
    assert (cdr["session_id"], cdr["cdr_location"]["evse_uid"], cdr["cdr_location"]["connector_id"]) == (
        str(transaction_id),
        "CP1-1",
        "1",
    )
    assert cdr["cdr_token"]["uid"] == "TAG1" and cdr["currency"] == "EUR"
    assert detail["eventId"] == cdr["id"] and detail["schemaVersion"] == "1.0"
    again = hand_off(services, transaction_id)  # a re-run of the workflow
    assert again["cdr"] == cdr
    assert api.get(f"/transactions/{transaction_id}/cdr").json == cdr
    assert api.get(f"/cdrs/{cdr['id']}").json == cdr
    assert [item["id"] for item in api.get("/cdrs", chargePointId="CP1").json["items"]] == [cdr["id"]]
    assert api.get("/cdrs", chargePointId="CP2").json["items"] == []
    assert api.get("/cdrs", to="2026-11-24T11:00:00Z").json["items"] == []
    stored = services.table.get_item(Key={"pk": f"TX#{transaction_id}", "sk": "TRANSACTION"})["Item"]
    assert (stored["tariffId"], stored["tariffVersion"], stored["cdrId"]) == ("STD", 1, cdr["id"])


def test_the_version_in_force_when_the_start_was_accepted_prices_the_session(api, services):
    api.put("/tariffs/STD", TARIFF)
    api.put("/charge-points/CP1", {"tariffId": "STD"})
    station = Station(services, "CP1")
    transaction_id = station.result("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"})["transactionId"]
    services.clock.advance(minutes=10)
    api.put("/tariffs/STD", {**TARIFF, "currency": "CHF"})
    station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 1000, "timestamp": "2026-11-24T10:20:00Z"})
    assert hand_off(services, transaction_id)["cdr"]["currency"] == "EUR"


def test_the_stream_consumer_starts_the_hand_off_named_after_the_transaction(services, monkeypatch):
    started = []

    class Client:
        class exceptions:  # noqa: N801
            class ExecutionAlreadyExists(Exception):
                pass

        def start_execution(self, **request):
            if any(request["name"] == other["name"] for other in started):
                raise Client.exceptions.ExecutionAlreadyExists()
            started.append(request)

    services.step_functions = Client()
    services.settings = services.settings.model_copy(update={"billing_hand_off_state_machine_arn": "arn:sm"})
    item = {"pk": "TX#7", "sk": "TRANSACTION", "transactionId": 7, "chargePointId": "CP1", "connectorId": 1, "idTag": "T",
            "meterStart": 0, "startedAt": "2026-11-24T10:00:00.000Z", "createdAt": "2026-11-24T10:00:00.123Z"}
    stopped = {**item, "stoppedAt": "2026-11-24T11:00:00.000Z", "meterStop": 10}
    event = {"Records": [stream_record("1", "MODIFY", stopped, item)]}
    assert handle_records(event, services, REACTIONS) == {"batchItemFailures": []}
    assert handle_records(event, services, REACTIONS) == {"batchItemFailures": []}  # the stream's retry
    assert [request["name"] for request in started] == ["tx-7-20261124100000123"]


def test_an_unmatched_stop_becomes_an_event_and_a_failed_put_is_retried(services):
    put = []

    class Publisher:
        fail = True

        def put(self, events):
            if Publisher.fail:
                Publisher.fail = False
                raise RuntimeError("EventBridge down")
            put.extend(events)

    services.events = Publisher()
    stop = {"transactionId": 42, "meterStop": Decimal(5), "timestamp": "2026-11-24T10:30:00Z", "receivedAt": "2026-11-24T10:30:01.000Z"}
    record = stream_record("9", "INSERT", {"pk": "CP#CP1", "sk": "STOP#42#x", "chargePointId": "CP1", "transactionId": 42, "stop": stop})
    assert handle_records({"Records": [record]}, services, REACTIONS) == {"batchItemFailures": [{"itemIdentifier": "9"}]}
    assert handle_records({"Records": [record]}, services, REACTIONS) == {"batchItemFailures": []}
    (event,) = put
    assert event.detail["chargePointId"] == "CP1" and event.detail["stop"]["meterStop"] == 5


@pytest.mark.parametrize("minutes", [75])
def test_no_cdr_without_a_tariff(api, services, minutes):
    api.put("/charge-points/CP1", {})
    station = Station(services, "CP1")
    transaction_id = station.result("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"})["transactionId"]
    station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 1000, "timestamp": "2026-11-24T11:15:00Z"})
    from csms.billing.service import NoTariffApplies

    with pytest.raises(NoTariffApplies):
        hand_off(services, transaction_id)
    assert api.get(f"/transactions/{transaction_id}/cdr").status == 404


def test_parking_starts_when_the_station_reports_the_car_no_longer_charging(api, services):
    parking = {"type": "PARKING_TIME", "price": 4.00, "vat": 20, "step_size": 1}
    with_parking = {**TARIFF, "elements": [{"price_components": [*TARIFF["elements"][0]["price_components"], parking]}]}
    api.put("/tariffs/STD", with_parking)
    api.put("/charge-points/CP1", {"tariffId": "STD"})
    station = Station(services, "CP1")
    started = station.result("StartTransaction", {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"})
    transaction_id = started["transactionId"]
    status = {"connectorId": 1, "errorCode": "NoError"}
    station.result("StatusNotification", status | {"status": "Charging", "timestamp": "2026-11-24T10:00:05Z"})
    # The car is full after an hour; the register keeps its last value but the station only says so at the stop.
    station.result("StatusNotification", status | {"status": "SuspendedEV", "timestamp": "2026-11-24T11:00:00Z"})
    station.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 10_000, "timestamp": "2026-11-24T11:15:00Z"})
    station.result("StatusNotification", status | {"status": "Finishing", "timestamp": "2026-11-24T11:15:01Z"})

    assert [report.status for report in services.transactions.get(transaction_id).statuses] == ["Charging", "SuspendedEV"]
    cdr = hand_off(services, transaction_id)["cdr"]
    # Charging 1 h: 10 kWh x 0.30 + 1 h x 2.00 = 5.00; parked 0.25 h x 4.00 = 1.00; 1.00 flat: 7.00, 8.40 with VAT.
    assert (cdr["total_time"], cdr["total_parking_time"]) == (1.25, 0.25)
    assert cdr["total_parking_cost"] == {"excl_vat": 1.0, "incl_vat": 1.2}
    assert cdr["total_cost"] == {"excl_vat": 7.0, "incl_vat": 8.4}


def test_a_correction_is_a_credit_cdr_and_a_new_cdr_both_issued_and_safe_to_repeat(api, services):
    issued = []
    services.events = type("Events", (), {"put": staticmethod(issued.extend)})()
    transaction_id = session(api, services)
    original = hand_off(services, transaction_id)["cdr"]
    api.put("/tariffs/STAFF", {**TARIFF, "elements": [{"price_components": [{"type": "FLAT", "price": 2.00, "vat": 20, "step_size": 1}]}]})

    corrected = api.post(f"/cdrs/{original['id']}/corrections", {"tariffId": "STAFF"})
    assert corrected.status == 201
    credit, replacement = corrected.json["credit"], corrected.json["cdr"]
    assert (credit["credit"], credit["credit_reference_id"], credit["id"]) == (True, original["id"], original["id"] + "-CR")
    assert credit["total_cost"] == {"excl_vat": -7.25, "incl_vat": -8.7} and credit["total_energy"] == 12.5
    assert replacement["id"] not in (original["id"], credit["id"])
    assert replacement["total_cost"] == {"excl_vat": 2.0, "incl_vat": 2.4}
    assert [(event.type, event.event_id) for event in issued] == [("CdrIssued", credit["id"]), ("CdrIssued", replacement["id"])]
    assert api.get(f"/transactions/{transaction_id}/cdr").json == replacement
    assert api.get(f"/cdrs/{original['id']}").json == original  # CDRs never change

    again = api.post(f"/cdrs/{original['id']}/corrections", {"tariffId": "STAFF"})
    assert again.status == 200 and again.json == corrected.json
    assert api.post(f"/cdrs/{credit['id']}/corrections", {}).status == 409
    assert api.post("/cdrs/no-such-cdr/corrections", {}).status == 404
    assert api.post(f"/cdrs/{replacement['id']}/corrections", {"tariffId": "NOPE"}).status == 400


def test_a_repeated_status_adds_nothing_to_the_session(api, services):
    api.put("/charge-points/CP1", {})
    station = Station(services, "CP1")
    started = station.result("StartTransaction", {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": "2026-11-24T10:00:00Z"})
    transaction_id = started["transactionId"]
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
    for second in ("05", "06", "07"):  # a station that resends its status after every reconnect
        station.result("StatusNotification", status | {"timestamp": f"2026-11-24T10:00:{second}Z"})
    assert [report.status for report in services.transactions.get(transaction_id).statuses] == ["Charging"]


def test_a_tariff_preview_prices_a_sample_session_as_a_cdr_and_stores_nothing(api):
    sample = {"startDateTime": "2026-11-24T08:00:00Z", "endDateTime": "2026-11-24T09:15:00Z", "energyWh": 12500}
    previewed = api.post("/tariffs/preview", {"tariff": TARIFF, "session": {**sample, "timeZone": "Europe/Paris"}})
    assert previewed.status == 200, previewed.json
    priced = previewed.json["priced"]
    # test_a_stopped_session_gets_one_cdr_priced_by_hand's figure: 3.75 energy + 2.50 time + 1.00 flat, 20 % VAT.
    assert (priced["total_cost"]["excl_vat"], priced["total_cost"]["incl_vat"]) == (7.25, 8.7)
    assert {line["dimension"] for line in priced["cost_lines"]} == {"ENERGY", "TIME", "FLAT"}
    assert previewed.json["timeZone"] == "Europe/Paris"
    assert api.get("/tariffs").json["items"] == [] and api.get("/tariffs/preview").status == 404


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"tariff": {**TARIFF, "currency": "XXY"}}, "tariff.currency"),
        ({"session": {"startDateTime": "2026-11-24T08:00:00Z", "endDateTime": "2026-11-24T07:00:00Z", "energyWh": 1}}, "body.session.endDateTime"),
        ({"session": {"startDateTime": "2026-11-24T08:00:00Z", "endDateTime": "2026-11-24T09:00:00Z", "energyWh": 1, "timeZone": "Mars/Base"}}, "body.session.timeZone"),
    ],
)
def test_a_bad_preview_is_a_400_naming_the_field(api, change, location):
    body = {"tariff": TARIFF, "session": {"startDateTime": "2026-11-24T08:00:00Z", "endDateTime": "2026-11-24T09:00:00Z", "energyWh": 1}}
    refused = api.post("/tariffs/preview", {**body, **change})
    assert refused.status == 400, refused.json
    assert refused.json["errors"][0]["location"] == location


def test_a_preview_missing_its_energy_is_a_422_naming_it(api):
    refused = api.post("/tariffs/preview", {"tariff": TARIFF, "session": {"startDateTime": "2026-11-24T08:00:00Z", "endDateTime": "2026-11-24T09:00:00Z"}})
    assert refused.status == 422
    assert "energyWh" in str(refused.json)
