"""Reservation rules: the checks of a request, the lifecycle, and which StartTransaction consumes which reservation
(OCPP 1.6 §3.13, §5.13 and the OCTT reservation cases the CSMS must pass)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csms.domain.limits import SessionLimits
from csms.domain.reservations import (
    RESERVATION_ID_MAX,
    TRANSITIONS,
    ConnectorZeroNotSupported,
    Consumption,
    Hold,
    InvalidReservation,
    Match,
    Mismatch,
    Reservation,
    ReservationStatus,
    check_connector,
    check_times,
    connector_zero_supported,
    consumed_by_start,
    end_of_day,
    may_become,
    reservation_id_from_counter,
    send_at,
    station_zone,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0, *, day: int = 24, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# --- reservationId ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counter", "reservation_id"),
    [(1, 1), (2, 2), (RESERVATION_ID_MAX, RESERVATION_ID_MAX), (RESERVATION_ID_MAX + 1, 1), (2 * RESERVATION_ID_MAX + 5, 5)],
)
def test_reservation_ids_are_positive_int32_and_wrap_around(counter, reservation_id):
    assert reservation_id_from_counter(counter) == reservation_id


def test_a_reservation_id_is_never_zero_or_negative_whatever_the_counter():
    assert all(1 <= reservation_id_from_counter(counter) <= RESERVATION_ID_MAX for counter in range(-3, 4))


# --- the reservation day --------------------------------------------------------------------------------


def test_the_reservation_day_ends_at_the_next_midnight_in_the_stations_zone():
    assert end_of_day(NOW, station_zone(None)) == at(0, day=25)
    assert end_of_day(NOW, station_zone("Europe/Paris")) == at(23)  # 00:00 +01:00
    assert end_of_day(NOW, station_zone("Asia/Tokyo")) == at(15)  # 19:00 there: its day ends at 00:00 +09:00
    assert end_of_day(at(23, 30), station_zone("Asia/Tokyo")) == at(15, day=25)  # already the 25th there


def test_a_day_of_daylight_saving_change_ends_at_its_own_midnight():
    # 2026-10-25 in Paris has 25 hours: from 00:00 +02:00 (22:00 UTC the day before) to 24:00 +01:00.
    morning = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 +02:00, before the clocks go back
    day_end = end_of_day(morning, station_zone("Europe/Paris"))
    assert day_end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert day_end - datetime(2026, 10, 24, 22, 0, tzinfo=UTC) == timedelta(hours=25)


def test_an_expiry_within_the_stations_day_is_taken():
    check_times(now=NOW, expiry_date=at(22, 59), start_at=None, time_zone="Europe/Paris")
    check_times(now=NOW, expiry_date=at(23), start_at=None, time_zone="Europe/Paris")  # its very end
    check_times(now=NOW, expiry_date=at(0, day=25), start_at=at(23), time_zone=None)  # UTC without a zone


@pytest.mark.parametrize(
    ("expiry", "start_at", "zone", "field"),
    [
        (at(9, 59), None, None, "body.expiryDate"),  # past
        (NOW, None, None, "body.expiryDate"),  # now is not ahead
        (at(23, 1), None, "Europe/Paris", "body.expiryDate"),  # after midnight in Paris
        (at(16), None, "Asia/Tokyo", "body.expiryDate"),  # the day is over there at 15:00 UTC
        (at(0, 1, day=25), None, None, "body.expiryDate"),  # UTC, a minute into the next day
        (at(12), at(9), None, "body.startAt"),  # startAt in the past
        (at(12), at(12), None, "body.startAt"),  # startAt not before expiry
        (at(12), at(13), None, "body.startAt"),
    ],
)
def test_a_time_that_cannot_be_is_refused_naming_its_field(expiry, start_at, zone, field):
    with pytest.raises(InvalidReservation) as refused:
        check_times(now=NOW, expiry_date=expiry, start_at=start_at, time_zone=zone)
    assert refused.value.field == field


# --- connector 0 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "supported"), [("true", True), ("TRUE", True), (" True ", True), ("false", False), ("", False), (None, False), ("1", False)])
def test_connector_zero_needs_reserve_connector_zero_supported_true_and_absent_means_false(value, supported):
    assert connector_zero_supported(value) is supported


def test_connector_zero_is_refused_unless_supported_other_connectors_always_pass():
    check_connector(0, connector_zero_supported=True)
    check_connector(2, connector_zero_supported=False)
    with pytest.raises(ConnectorZeroNotSupported):
        check_connector(0, connector_zero_supported=False)


# --- startAt ----------------------------------------------------------------------------------------------


def test_the_reserve_now_of_a_start_at_goes_out_a_lead_time_before_it():
    lead = timedelta(minutes=15)
    assert send_at(start_at=None, lead=lead, now=NOW) is None
    assert send_at(start_at=at(14), lead=lead, now=NOW) == at(13, 45)
    assert send_at(start_at=at(10, 15), lead=lead, now=NOW) is None  # the lead time has begun: at once
    assert send_at(start_at=at(10, 10), lead=lead, now=NOW) is None


# --- lifecycle ----------------------------------------------------------------------------------------------


def test_only_a_live_reservation_changes_and_each_ending_is_final():
    assert may_become(ReservationStatus.SCHEDULED, ReservationStatus.ACCEPTED)
    assert may_become(ReservationStatus.SCHEDULED, ReservationStatus.CANCELLED)
    assert may_become(ReservationStatus.ACCEPTED, ReservationStatus.CONSUMED)
    assert may_become(ReservationStatus.ACCEPTED, ReservationStatus.EXPIRED)
    assert not may_become(ReservationStatus.SCHEDULED, ReservationStatus.CONSUMED)  # the station never held it
    assert not may_become(ReservationStatus.ACCEPTED, ReservationStatus.REFUSED)
    for final in (ReservationStatus.CONSUMED, ReservationStatus.EXPIRED, ReservationStatus.CANCELLED, ReservationStatus.REFUSED):
        assert TRANSITIONS[final] == frozenset()


def test_reserve_now_carries_the_reservation_as_ocpp_names_it():
    reservation = Reservation(
        reservation_id=7, charge_point_id="CP1", connector_id=2, id_tag="DRIVER", parent_id_tag="FLEET",
        expiry_date=at(11), status=ReservationStatus.ACCEPTED, created_at=NOW, limits=SessionLimits(max_energy_wh=5000),
    )  # fmt: skip
    assert reservation.reserve_now == {
        "connectorId": 2, "expiryDate": "2026-11-24T11:00:00.000Z", "idTag": "DRIVER", "reservationId": 7, "parentIdTag": "FLEET"
    }  # fmt: skip
    assert reservation.hold == Hold(
        reservation_id=7, connector_id=2, id_tag="DRIVER", parent_id_tag="FLEET", expiry_date=at(11),
        limits=SessionLimits(max_energy_wh=5000),
    )  # fmt: skip


# --- consumption (OCTT 046, 049, 053; §5.13) ----------------------------------------------------------------


def hold(reservation_id: int, connector_id: int, id_tag: str = "DRIVER", parent_id_tag: str | None = None) -> Hold:
    return Hold(reservation_id=reservation_id, connector_id=connector_id, id_tag=id_tag, parent_id_tag=parent_id_tag, expiry_date=at(11))


def consumed(holds, *, connector_id=1, id_tag="DRIVER", parent_id_tag=None, reservation_id=None):
    return consumed_by_start(
        holds, connector_id=connector_id, id_tag=id_tag, parent_id_tag=parent_id_tag, reservation_id=reservation_id
    )


def test_tc046_a_start_naming_the_reservation_of_its_connector_consumes_it():
    reserved = hold(5, 1)
    assert consumed([reserved], reservation_id=5) == Consumption(reserved, Match.RESERVATION_ID)


def test_a_start_of_the_reserved_tag_consumes_it_even_without_reservation_id_and_in_any_case():
    reserved = hold(5, 1, id_tag="Driver")
    assert consumed([reserved], id_tag="dRIVER") == Consumption(reserved, Match.ID_TAG)


def test_tc049_a_connector_zero_reservation_is_consumed_on_any_connector():
    reserved = hold(6, 0)
    assert consumed([reserved], connector_id=2) == Consumption(reserved, Match.ID_TAG)
    assert consumed([reserved], connector_id=3, reservation_id=6) == Consumption(reserved, Match.RESERVATION_ID)


def test_tc053_a_tag_sharing_the_reserved_parent_consumes_it():
    reserved = hold(8, 1, id_tag="PARENT-CHILD-1", parent_id_tag="FLEET")
    assert consumed([reserved], id_tag="CHILD-2", parent_id_tag="fleet") == Consumption(reserved, Match.PARENT_ID_TAG)
    assert consumed([reserved], id_tag="CHILD-2", parent_id_tag="fleet", reservation_id=8) == Consumption(
        reserved, Match.RESERVATION_ID
    )


def test_a_tag_without_a_parent_never_matches_a_reservation_without_one():
    assert consumed([hold(8, 1, parent_id_tag=None)], id_tag="OTHER", parent_id_tag=None) is None
    assert consumed([hold(8, 1, parent_id_tag="FLEET")], id_tag="OTHER", parent_id_tag=None) is None


def test_a_start_on_another_connector_leaves_a_connector_reservation_alone():
    assert consumed([hold(5, 1)], connector_id=2) is None


def test_the_reservation_of_the_starts_own_connector_wins_over_one_for_any_connector():
    own, anywhere = hold(5, 1), hold(6, 0)
    assert consumed([anywhere, own], connector_id=1) == Consumption(own, Match.ID_TAG)


def test_a_start_naming_a_reservation_of_another_driver_consumes_nothing():
    reserved = hold(5, 1, id_tag="DRIVER")
    assert consumed([reserved], id_tag="STRANGER", reservation_id=5) == Mismatch(reserved)
    # The station's bug seen in the field: a remote start of another tag on a reserved connector.
    assert consumed([reserved], id_tag="STRANGER") is None


def test_a_reservation_id_the_station_does_not_hold_falls_back_to_the_tag():
    reserved = hold(5, 1)
    assert consumed([reserved], reservation_id=-1) == Consumption(reserved, Match.ID_TAG)  # reservationId -1, seen
    assert consumed([], reservation_id=5) is None
