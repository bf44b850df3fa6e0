"""Reservations through the operator API and the station path, against emulated DynamoDB, the station played by
the scripted @connections stand-in of the operator API tests (its answers arrive on another thread, as a real
answer arrives in another invocation): made, refused, cancelled, consumed by a StartTransaction, expired by its
workflow's task, and the events each change leaves for the table's stream to put, checked against their schemas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from boto3.dynamodb.conditions import Key

from csms.adapters.dynamodb.keys import reservation_pk, station_key
from csms.domain.authorization import IdTagRecord
from csms.domain.clock import to_iso
from csms.domain.station_config import ConfigurationValue
from csms.events.catalog import EVENT_KINDS, EventType, schema
from csms.ocpp.errors import ErrorCode
from csms.ocpp.frames import plain_json
from csms.reservations import tasks
from tests.examples import STANDARD_TARIFF
from tests.fakes.clock import EPOCH
from tests.integration.stations import Station
from tests.integration.test_operator_api import SILENT, Client, api, connect, stations  # noqa: F401 (fixtures)

IN_AN_HOUR = to_iso(EPOCH + timedelta(hours=1))


@pytest.fixture
def station(api, services):  # noqa: F811
    """CP1, connected, in Paris (its day ends at 23:00 UTC), its station path booted; DRIVER is a known tag."""
    connect(services)
    services.stations.register("CP1", {"time_zone": "Europe/Paris"})
    services.table.update_item(Key=station_key("CP1"), UpdateExpression="SET bootStatus = :a", ExpressionAttributeValues={":a": "Accepted"})
    services.id_tags.register(IdTagRecord(id_tag="DRIVER", status="Accepted", parent_id_tag="FLEET"))
    services.id_tags.register(IdTagRecord(id_tag="COLLEAGUE", status="Accepted", parent_id_tag="FLEET"))
    services.id_tags.register(IdTagRecord(id_tag="STRANGER", status="Accepted"))
    return api


def reserve(api: Client, **fields: Any):  # noqa: F811
    body = {"chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER", "expiryDate": IN_AN_HOUR} | fields
    return api.post("/reservations", body)


def follow_ups(services, reservation_id: int) -> dict[str, dict[str, Any]]:
    """The follow-up items in the reservation's partition: events by type, workflow starts by workflow."""
    items = services.table.query(KeyConditionExpression=Key("pk").eq(reservation_pk(reservation_id)))["Items"]
    found = {}
    for item in items:
        if item["sk"].startswith("EVENT#"):
            found[item["eventType"]] = plain_json(item)
        elif item["sk"].startswith("RUN#"):
            found[item["workflow"]] = plain_json(item)
    return found


def event_as_delivered(item: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge event the follow-up becomes, as a partner's target receives it; checked against its schema."""
    event_type = EventType(item["eventType"])
    event = {
        "version": "0", "id": "x", "detail-type": event_type.value, "source": EVENT_KINDS[event_type].source.value,
        "account": "123456789012", "time": item["occurredAt"], "region": "us-east-1", "resources": [], "detail": item["detail"],
    }  # fmt: skip
    jsonschema.Draft4Validator(schema(event_type), format_checker=jsonschema.FormatChecker()).validate(event)
    return event


def hold(services, connector_id: int = 1) -> dict[str, Any] | None:
    return services.table.get_item(Key=station_key("CP1"))["Item"].get(f"reservation_{connector_id}")


def start(services, *, id_tag: str = "DRIVER", connector_id: int = 1, reservation_id: int | None = None, minute: int = 5):
    payload = {"connectorId": connector_id, "idTag": id_tag, "meterStart": 100, "timestamp": f"2026-11-24T10:{minute:02d}:00Z"}
    if reservation_id is not None:
        payload["reservationId"] = reservation_id
    return Station(services, "CP1").result("StartTransaction", payload)


# --- making one ---------------------------------------------------------------------------------------------


def test_a_reservation_the_station_accepts_is_201_held_and_confirmed_once(station, stations, services):  # noqa: F811
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    station.put("/tariffs/STD", STANDARD_TARIFF)
    station.put("/charge-points/CP1", {"tariffId": "STD"})
    limits = {"maxCost": {"amount": "30.00", "currency": "EUR"}, "maxEnergyWh": 20000, "maxDurationSeconds": 3600, "maxSoC": 80}
    answer = reserve(station, limits=limits)
    assert answer.status == 201, answer.text
    made = answer.json
    reservation_id = made["reservationId"]
    assert made | {"reservationId": 0, "createdAt": "", "acceptedAt": ""} == {
        "reservationId": 0, "status": "Accepted", "chargePointId": "CP1", "connectorId": 1, "idTag": "DRIVER",
        "parentIdTag": "FLEET",  # the tag's registered parent, so a colleague may use it (§5.13)
        "expiryDate": "2026-11-24T11:00:00.000Z", "limits": limits, "createdAt": "", "acceptedAt": "",
        "startAt": None, "endedAt": None, "transactionId": None, "refusal": None,
    }  # fmt: skip
    (sent,) = [message for _, message in stations.sent if message[2] == "ReserveNow"]
    assert sent[3] == {
        "connectorId": 1, "expiryDate": "2026-11-24T11:00:00Z", "idTag": "DRIVER", "parentIdTag": "FLEET",
        "reservationId": reservation_id,
    }  # fmt: skip
    assert station.get(f"/reservations/{reservation_id}").json == made
    assert hold(services)["reservationId"] == reservation_id
    assert station.get("/charge-points/CP1").status == 200
    done = follow_ups(services, reservation_id)
    assert set(done) == {"ReservationConfirmed", "ReservationExpiry"}
    confirmed = event_as_delivered(done["ReservationConfirmed"])["detail"]
    assert (confirmed["reservationId"], confirmed["idTag"], confirmed["connectorId"], confirmed["transactionId"]) == (
        reservation_id, "DRIVER", 1, None
    )
    assert done["ReservationExpiry"]["input"] == {"reservationId": reservation_id, "expiryDate": "2026-11-24T11:00:00.000Z"}


def test_reservation_ids_come_from_a_counter(station, stations, services):  # noqa: F811
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    ids = [reserve(station, connectorId=connector).json["reservationId"] for connector in (1, 2)]
    assert ids[1] == ids[0] + 1 and ids[0] >= 1


@pytest.mark.parametrize("refusal", ["Occupied", "Faulted", "Unavailable", "Rejected"])
def test_a_reservation_the_station_refuses_is_409_with_its_answer_and_leaves_nothing_but_the_event(
    station, stations, services, refusal  # noqa: F811
):
    stations.replies["ReserveNow"] = {"status": refusal}
    answer = reserve(station)
    assert answer.status == 409, answer.text
    assert answer.json["response"] == {"status": refusal} and refusal in answer.json["message"]
    (sent,) = [message for _, message in stations.sent if message[2] == "ReserveNow"]
    reservation_id = sent[3]["reservationId"]
    assert answer.json["reservationId"] == reservation_id  # the id its ReservationRefused event carries
    assert station.get(f"/reservations/{reservation_id}").status == 404
    assert hold(services) is None
    assert station.get("/reservations", chargePointId="CP1").json["items"] == []
    done = follow_ups(services, reservation_id)
    assert set(done) == {"ReservationRefused"}
    assert event_as_delivered(done["ReservationRefused"])["detail"]["refusal"] == refusal


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"expiryDate": "2026-11-24T09:59:00Z"}, "body.expiryDate"),  # past
        ({"expiryDate": "2026-11-24T23:00:01Z"}, "body.expiryDate"),  # after midnight in Paris
        ({"expiryDate": "2026-11-25T00:30:00+01:00"}, "body.expiryDate"),
        ({"startAt": "2026-11-24T09:00:00Z"}, "body.startAt"),
        ({"startAt": "2026-11-24T12:00:00Z"}, "body.startAt"),  # after expiryDate
    ],
)
def test_a_time_that_cannot_be_is_400_naming_the_field_and_sends_nothing(station, stations, fields, location):  # noqa: F811
    answer = reserve(station, **fields)
    assert answer.status == 400, answer.text
    assert [error["location"] for error in answer.json["errors"]] == [location]
    assert stations.sent == []


@pytest.mark.parametrize(
    ("tariff", "location"),
    [(None, "body.limits.maxCost"), ("STD", "body.limits.maxCost.currency")],
)
def test_a_cost_limit_no_tariff_prices_in_its_currency_is_400_and_sends_nothing(station, stations, services, tariff, location):  # noqa: F811
    if tariff:
        station.put("/tariffs/STD", STANDARD_TARIFF)  # in EUR
        station.put("/charge-points/CP1", {"tariffId": tariff})
    answer = reserve(station, limits={"maxCost": {"amount": "30.00", "currency": "USD"}})
    assert answer.status == 400, answer.text
    assert [error["location"] for error in answer.json["errors"]] == [location]
    assert stations.sent == []
    assert station.get("/reservations", chargePointId="CP1").json["items"] == []


def test_the_reservation_day_is_the_stations_in_its_time_zone(station, stations, services):  # noqa: F811
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    late = {"expiryDate": "2026-11-24T23:30:00Z"}
    assert reserve(station, **late).status == 400  # 00:30 in Paris: tomorrow there
    services.stations.register("CP1", {"time_zone": None})  # no zone: the UTC day
    assert reserve(station, **late).status == 201


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"limits": {"maxSoC": 101}}, "body.limits.maxSoC"),
        ({"limits": {"maxEnergyWh": 0}}, "body.limits.maxEnergyWh"),
        ({"limits": {"maxDurationSeconds": 1.5}}, "body.limits.maxDurationSeconds"),
        ({"limits": {"maxCost": {"amount": 30, "currency": "EUR"}}}, "body.limits.maxCost.amount"),
        ({"limits": {"maxCost": {"amount": "0.00", "currency": "EUR"}}}, "body.limits.maxCost.amount"),
        ({"limits": {"maxCost": {"amount": "thirty", "currency": "EUR"}}}, "body.limits.maxCost.amount"),
        ({"limits": {"maxCost": {"amount": "30", "currency": "eur"}}}, "body.limits.maxCost.currency"),
        ({"connectorId": -1}, "body.connectorId"),
        ({"idTag": "X" * 21}, "body.idTag"),
        ({"chargePointId": "CP/1"}, "body.chargePointId"),
    ],
)
def test_a_body_that_breaks_the_schema_is_422_naming_the_field(station, stations, body, location):  # noqa: F811
    answer = reserve(station, **body)
    assert answer.status == 422, answer.text
    assert location in [error["location"] for error in answer.json["errors"]]
    assert stations.sent == []


def test_an_unknown_station_is_404_and_a_disconnected_one_409(station, stations, services):  # noqa: F811
    assert reserve(station, chargePointId="NOPE").status == 404
    services.stations.forget_connection("CP1", "conn-1", disconnected_at=EPOCH)
    answer = reserve(station)
    assert answer.status == 409 and "not connected" in answer.json["message"]
    assert stations.sent == []


# --- connector 0 ------------------------------------------------------------------------------------------


def known_configuration(services, value: str | None) -> None:
    keys = {} if value is None else {"ReserveConnectorZeroSupported": ConfigurationValue(value=value, readonly=True)}
    unknown = ["ReserveConnectorZeroSupported"] if value is None else []
    services.station_config.merge_configuration("CP1", keys, unknown, at=EPOCH)


def test_connector_zero_is_reserved_where_the_stored_configuration_allows_it(station, stations, services):  # noqa: F811
    known_configuration(services, "true")
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    answer = reserve(station, connectorId=0)
    assert answer.status == 201 and answer.json["connectorId"] == 0
    assert stations.actions() == ["ReserveNow"]
    assert hold(services, 0)["reservationId"] == answer.json["reservationId"]


@pytest.mark.parametrize("value", ["false", None])  # None: the station reported the key unknown (absent: false)
def test_connector_zero_where_it_is_not_supported_is_409_and_sends_nothing(station, stations, services, value):  # noqa: F811
    known_configuration(services, value)
    answer = reserve(station, connectorId=0)
    assert answer.status == 409 and "ReserveConnectorZeroSupported" in answer.json["message"]
    assert stations.sent == []


@pytest.mark.parametrize(
    ("reported", "expected_status", "actions"),
    [
        ({"configurationKey": [{"key": "ReserveConnectorZeroSupported", "readonly": True, "value": "true"}]}, 201, ["GetConfiguration", "ReserveNow"]),
        ({"unknownKey": ["ReserveConnectorZeroSupported"]}, 409, ["GetConfiguration"]),
    ],
)
def test_when_unknown_the_station_is_asked_with_get_configuration_first(station, stations, services, reported, expected_status, actions):  # noqa: F811
    stations.replies["GetConfiguration"] = reported
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    assert reserve(station, connectorId=0).status == expected_status
    assert stations.actions() == actions
    assert stations.sent[0][1][3] == {"key": ["ReserveConnectorZeroSupported"]}
    reserve(station, connectorId=0)  # known now: not asked again
    assert stations.actions().count("GetConfiguration") == 1


# --- a late answer ---------------------------------------------------------------------------------------


def test_an_answer_after_the_api_gave_up_still_makes_the_reservation(station, stations, services):  # noqa: F811
    services.settings = services.settings.model_copy(update={"command_wait_seconds": 0.2})
    stations.replies["ReserveNow"] = SILENT
    answer = reserve(station)
    assert answer.status == 504, answer.text
    reservation_id = answer.json["reservationId"]
    assert f"/reservations/{reservation_id}" in answer.json["message"]
    assert station.get(f"/reservations/{reservation_id}").status == 404
    stations.answer(answer.json["commandId"], {"status": "Accepted"})
    assert station.get(f"/reservations/{reservation_id}").json["status"] == "Accepted"
    assert set(follow_ups(services, reservation_id)) == {"ReservationConfirmed", "ReservationExpiry"}


def test_an_operators_own_reserve_now_records_no_reservation(station, stations, services):  # noqa: F811
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    payload = {"connectorId": 1, "expiryDate": IN_AN_HOUR, "idTag": "DRIVER", "reservationId": 4242}
    assert station.post("/charge-points/CP1/commands/ReserveNow", payload).status == 200
    assert station.get("/reservations/4242").status == 404 and hold(services) is None


# --- cancelling ------------------------------------------------------------------------------------------


@pytest.fixture
def reserved(station, stations):  # noqa: F811
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    return reserve(station, limits={"maxEnergyWh": 5000}).json


def test_a_cancellation_the_station_accepts_is_200_cancelled_released_and_announced(station, stations, services, reserved):  # noqa: F811
    stations.replies["CancelReservation"] = {"status": "Accepted"}
    reservation_id = reserved["reservationId"]
    answer = station.delete(f"/reservations/{reservation_id}")
    assert answer.status == 200, answer.text
    assert (answer.json["status"], answer.json["endedAt"]) == ("Cancelled", to_iso(EPOCH))
    assert stations.sent[-1][1][2:] == ["CancelReservation", {"reservationId": reservation_id}]
    assert hold(services) is None
    assert event_as_delivered(follow_ups(services, reservation_id)["ReservationCancelled"])["detail"]["reservationId"] == reservation_id
    again = station.delete(f"/reservations/{reservation_id}")
    assert again.status == 409 and "Cancelled" in again.json["message"]
    assert stations.actions().count("CancelReservation") == 1


def test_a_cancellation_the_station_rejects_is_502_and_the_reservation_stays(station, stations, services, reserved):  # noqa: F811
    stations.replies["CancelReservation"] = {"status": "Rejected"}
    reservation_id = reserved["reservationId"]
    answer = station.delete(f"/reservations/{reservation_id}")
    assert answer.status == 502 and answer.json["response"] == {"status": "Rejected"}
    assert station.get(f"/reservations/{reservation_id}").json["status"] == "Accepted"
    assert hold(services)["reservationId"] == reservation_id
    assert "ReservationCancelled" not in follow_ups(services, reservation_id)


def test_cancelling_an_unknown_reservation_is_404(station):
    assert station.delete("/reservations/999").status == 404


def test_a_call_error_to_cancel_reservation_is_502(station, stations, reserved):  # noqa: F811
    stations.replies["CancelReservation"] = ErrorCode.NOT_SUPPORTED
    answer = station.delete(f"/reservations/{reserved['reservationId']}")
    assert answer.status == 502 and answer.json["code"] == "NotSupported"


# --- listing ----------------------------------------------------------------------------------------------


def test_reservations_are_listed_by_station_by_driver_and_the_live_ones_network_wide(station, stations, services, clock):  # noqa: F811
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    stations.replies["CancelReservation"] = {"status": "Accepted"}
    first = reserve(station, connectorId=1).json["reservationId"]
    clock.advance(seconds=1)
    second = reserve(station, connectorId=2, idTag="STRANGER").json["reservationId"]
    clock.advance(seconds=1)
    third = reserve(station, connectorId=3, idTag="driver").json["reservationId"]  # the same tag, spelt otherwise
    station.delete(f"/reservations/{third}")

    def ids(**query: Any) -> list[int]:
        answer = station.get("/reservations", **query)
        assert answer.status == 200, answer.text
        return [item["reservationId"] for item in answer.json["items"]]

    assert ids(chargePointId="CP1") == [third, second, first]  # newest first
    assert ids(chargePointId="CP1", status="Accepted") == [second, first]
    assert ids(chargePointId="CP1", idTag="DRIVER") == [third, first]
    assert ids(idTag="Driver") == [third, first]
    assert ids(idTag="DRIVER", status="Cancelled") == [third]
    assert sorted(ids()) == [first, second]  # live ones only
    assert ids(chargePointId="CP2") == []
    assert station.get("/reservations", status="Cancelled").status == 400  # ended ones: name a station or a tag


def test_a_listing_pages_with_next_token(station, stations, clock):  # noqa: F811
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    made = []
    for connector in (1, 2, 3):
        made.append(reserve(station, connectorId=connector).json["reservationId"])
        clock.advance(seconds=1)
    for query in ({"chargePointId": "CP1"}, {"idTag": "DRIVER"}, {}):
        page = station.get("/reservations", limit=2, **query).json
        rest = station.get("/reservations", limit=2, nextToken=page["nextToken"], **query).json
        assert sorted(item["reservationId"] for item in page["items"] + rest["items"]) == made, query
        assert rest["nextToken"] is None
    assert station.get("/reservations", nextToken="bm9wZQ").status == 400


# --- consumed by a StartTransaction ----------------------------------------------------------------------


def test_a_start_naming_the_reservation_consumes_it_and_takes_its_limits(station, stations, services, reserved):  # noqa: F811
    reservation_id = reserved["reservationId"]
    started = start(services, reservation_id=reservation_id)
    assert started["idTagInfo"]["status"] == "Accepted"
    transaction_id = started["transactionId"]
    view = station.get(f"/reservations/{reservation_id}").json
    assert (view["status"], view["transactionId"]) == ("Consumed", transaction_id)
    assert hold(services) is None
    assert services.transactions.get(transaction_id).start.limits.max_energy_wh == 5000
    assert station.get(f"/transactions/{transaction_id}").json["reservationId"] == reservation_id
    consumed = event_as_delivered(follow_ups(services, reservation_id)["ReservationConsumed"])["detail"]
    assert (consumed["transactionId"], consumed["connectorId"], consumed["reservedConnectorId"]) == (transaction_id, 1, 1)
    # The station replays its start (our answer was lost): the same transaction, nothing consumed twice.
    assert start(services, reservation_id=reservation_id)["transactionId"] == transaction_id
    assert station.get(f"/reservations/{reservation_id}").json["transactionId"] == transaction_id


def test_the_reserved_tag_consumes_it_without_naming_it(station, services, reserved):
    transaction_id = start(services)["transactionId"]
    assert station.get(f"/reservations/{reserved['reservationId']}").json["transactionId"] == transaction_id
    assert services.transactions.get(transaction_id).start.reservation_id == reserved["reservationId"]


def test_the_reserved_card_sent_with_a_vendor_suffix_consumes_it(station, services, reserved):
    payload = {"connectorId": 1, "idTag": "DRIVER_KC-P30", "meterStart": 100, "timestamp": "2026-11-24T10:05:00Z"}
    transaction_id = Station(services, "CP1", id_tag_suffix_separator="_").result("StartTransaction", payload)["transactionId"]
    assert station.get(f"/reservations/{reserved['reservationId']}").json["status"] == "Consumed"
    assert event_as_delivered(follow_ups(services, reserved["reservationId"])["ReservationConsumed"])["detail"]["idTag"] == "DRIVER"
    assert services.transactions.get(transaction_id).start.id_tag == "DRIVER"


def test_tc053_a_tag_sharing_the_parent_consumes_it(station, services, reserved):
    transaction_id = start(services, id_tag="COLLEAGUE")["transactionId"]
    assert station.get(f"/reservations/{reserved['reservationId']}").json["status"] == "Consumed"
    assert event_as_delivered(follow_ups(services, reserved["reservationId"])["ReservationConsumed"])["detail"]["idTag"] == "COLLEAGUE"
    assert services.transactions.get(transaction_id).start.limits.max_energy_wh == 5000


def test_an_app_start_on_a_connector_reserved_for_another_driver_is_409_and_sends_nothing(station, stations, reserved):  # noqa: F811
    sent_before = len(stations.sent)
    answer = station.post("/sessions", {"chargePointId": "CP1", "connectorId": 1, "idTag": "STRANGER"})
    assert answer.status == 409, answer.text
    assert str(reserved["reservationId"]) in answer.json["message"]
    assert len(stations.sent) == sent_before
    stations.replies["RemoteStartTransaction"] = {"status": "Accepted"}
    for driver, connector_id in (("COLLEAGUE", 1), ("STRANGER", 2)):  # its parent's, or another connector: sent
        assert station.post("/sessions", {"chargePointId": "CP1", "connectorId": connector_id, "idTag": driver}).status == 201


def test_a_start_naming_it_for_another_driver_leaves_it_held(station, services, reserved):
    reservation_id = reserved["reservationId"]
    transaction_id = start(services, id_tag="STRANGER", reservation_id=reservation_id)["transactionId"]
    assert station.get(f"/reservations/{reservation_id}").json["status"] == "Accepted"
    assert hold(services)["reservationId"] == reservation_id
    assert services.transactions.get(transaction_id).start.limits is None
    assert "ReservationConsumed" not in follow_ups(services, reservation_id)


def test_tc049_a_connector_zero_reservation_is_consumed_on_any_connector(station, stations, services):  # noqa: F811
    known_configuration(services, "true")
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    reservation_id = reserve(station, connectorId=0).json["reservationId"]
    transaction_id = start(services, connector_id=2)["transactionId"]
    assert station.get(f"/reservations/{reservation_id}").json["transactionId"] == transaction_id
    assert hold(services, 0) is None
    assert services.stations.get("CP1").session_on(2).transaction_id == transaction_id


def test_a_reservation_that_ended_is_not_consumed(station, stations, services, reserved):  # noqa: F811
    stations.replies["CancelReservation"] = {"status": "Accepted"}
    station.delete(f"/reservations/{reserved['reservationId']}")
    transaction_id = start(services, reservation_id=reserved["reservationId"])["transactionId"]
    assert station.get(f"/reservations/{reserved['reservationId']}").json["status"] == "Cancelled"
    assert services.transactions.get(transaction_id).start.limits is None


# --- the workflows' tasks ---------------------------------------------------------------------------------


def test_expiry_marks_it_expired_releases_it_and_announces_it_once(station, services, clock, reserved):
    reservation_id = reserved["reservationId"]
    with pytest.raises(tasks.NotExpiredYet):  # the wait ended early by our clock: the workflow retries
        tasks.expire(services, reservation_id)
    clock.advance(hours=1)
    assert tasks.expire(services, reservation_id) == {"status": "Expired"}
    view = station.get(f"/reservations/{reservation_id}").json
    assert (view["status"], view["endedAt"]) == ("Expired", reserved["expiryDate"])
    assert hold(services) is None
    expired = event_as_delivered(follow_ups(services, reservation_id)["ReservationExpired"])
    assert expired["detail"]["occurredAt"] == reserved["expiryDate"]
    assert tasks.expire(services, reservation_id) == {"status": "Expired"}  # run twice: nothing new
    assert station.get("/reservations").json["items"] == []


def test_expiry_of_a_consumed_reservation_changes_nothing(station, services, clock, reserved):
    start(services)
    clock.advance(hours=2)
    assert tasks.expire(services, reserved["reservationId"]) == {"status": "Consumed"}
    assert "ReservationExpired" not in follow_ups(services, reserved["reservationId"])


def test_expiry_leaves_a_newer_hold_on_the_connector_alone(station, services, clock, reserved):
    services.table.update_item(
        Key=station_key("CP1"), UpdateExpression="SET reservation_1.reservationId = :other", ExpressionAttributeValues={":other": 77}
    )
    clock.advance(hours=1)
    assert tasks.expire(services, reserved["reservationId"]) == {"status": "Expired"}
    assert hold(services)["reservationId"] == 77


# --- startAt: scheduled ------------------------------------------------------------------------------------


def scheduled(station, **fields: Any):
    body = {"startAt": to_iso(EPOCH + timedelta(hours=3)), "expiryDate": to_iso(EPOCH + timedelta(hours=4))} | fields
    answer = reserve(station, **body)
    assert answer.status == 201, answer.text
    return answer.json


def test_a_reservation_for_later_is_scheduled_and_sends_nothing_yet(station, stations, services):  # noqa: F811
    made = scheduled(station)
    assert made["status"] == "Scheduled" and stations.sent == []
    start_item = follow_ups(services, made["reservationId"])["ReservationStart"]
    assert start_item["input"] == {"reservationId": made["reservationId"], "sendAt": "2026-11-24T12:45:00.000Z"}  # 15 min before
    assert hold(services) is None
    assert [item["reservationId"] for item in station.get("/reservations", status="Scheduled").json["items"]] == [made["reservationId"]]


def test_a_start_at_within_the_lead_time_is_reserved_at_once(station, stations):  # noqa: F811
    stations.replies["ReserveNow"] = {"status": "Accepted"}
    answer = reserve(station, startAt=to_iso(EPOCH + timedelta(minutes=10)))
    assert answer.status == 201 and answer.json["status"] == "Accepted" and answer.json["startAt"]
    assert stations.actions() == ["ReserveNow"]


def test_a_scheduled_reservation_goes_out_when_claimed_and_the_answer_makes_it_accepted(station, stations, services):  # noqa: F811
    made = scheduled(station, limits={"maxDurationSeconds": 1800})
    command = tasks.claim(services, made["reservationId"])
    assert command["send"] is True and command["action"] == "ReserveNow" and command["payload"]["reservationId"] == made["reservationId"]
    # The workflow hands it to the command function: sent with its context, its answer recorded by its effect.
    from csms.commands.service import send_command

    stations.replies["ReserveNow"] = {"status": "Accepted"}
    send_command(services, command["chargePointId"], "ReserveNow", command["payload"], context=command["context"])
    for thread in stations.threads:
        thread.join(timeout=5)
    view = station.get(f"/reservations/{made['reservationId']}").json
    assert (view["status"], view["limits"]["maxDurationSeconds"], view["startAt"]) == ("Accepted", 1800, made["startAt"])
    assert hold(services)["reservationId"] == made["reservationId"]
    assert {"ReservationConfirmed", "ReservationExpiry"} <= set(follow_ups(services, made["reservationId"]))


def test_a_scheduled_reservation_the_station_refuses_becomes_refused(station, stations, services):  # noqa: F811
    made = scheduled(station)
    command = tasks.claim(services, made["reservationId"])
    from csms.commands.service import send_command

    stations.replies["ReserveNow"] = {"status": "Occupied"}
    send_command(services, command["chargePointId"], "ReserveNow", command["payload"], context=command["context"])
    for thread in stations.threads:
        thread.join(timeout=5)
    view = station.get(f"/reservations/{made['reservationId']}").json
    assert (view["status"], view["refusal"]) == ("Refused", "Occupied")
    assert event_as_delivered(follow_ups(services, made["reservationId"])["ReservationRefused"])["detail"]["refusal"] == "Occupied"


def test_a_scheduled_reservation_that_could_not_be_delivered_is_refused(station, services):
    made = scheduled(station)
    tasks.claim(services, made["reservationId"])
    assert tasks.refuse(services, made["reservationId"], "States.Timeout") == {"status": "Refused"}
    assert station.get(f"/reservations/{made['reservationId']}").json["refusal"] == "TimedOut"
    assert tasks.refuse(services, made["reservationId"], "StationNotConnected") == {"status": "Refused"}  # once


def test_a_scheduled_reservation_is_cancelled_without_asking_the_station(station, stations, services):  # noqa: F811
    made = scheduled(station)
    answer = station.delete(f"/reservations/{made['reservationId']}")
    assert answer.status == 200 and answer.json["status"] == "Cancelled"
    assert stations.sent == []
    assert tasks.claim(services, made["reservationId"]) == {"send": False}  # its workflow then sends nothing
    assert "ReservationCancelled" in follow_ups(services, made["reservationId"])


def test_a_scheduled_reservation_on_its_way_cannot_be_cancelled_yet(station, services):
    made = scheduled(station)
    tasks.claim(services, made["reservationId"])
    answer = station.delete(f"/reservations/{made['reservationId']}")
    assert answer.status == 409 and "on its way" in answer.json["message"]
