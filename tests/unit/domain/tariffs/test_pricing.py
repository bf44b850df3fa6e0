"""How a session is priced: time zones, restrictions, step_size, VAT, parking and imperfect meter data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from csms.domain.tariffs.consumption import NoteCode
from csms.domain.tariffs.pricing import price_session

from .builders import at, component, element, session, steady_session, tariff

D = Decimal


def minutes_billed(priced, dimension: str) -> list[Decimal]:
    """Billed minutes per cost line of a dimension, from the exact hours the lines publish (4 decimals)."""
    return [round(line.billed_volume * 60, 1) for line in priced.cost_lines if line.dimension.value == dimension]


def test_the_issues_end_to_end_figure_priced_by_hand():
    # ENERGY 0.30/kWh, TIME 2.00/h, FLAT 1.00, all at 20 % VAT; 12.5 kWh over 75 minutes.
    issue_tariff = tariff(
        element(component("ENERGY", "0.30", 1, vat=20), component("TIME", "2.00", 1, vat=20), component("FLAT", "1.00", 1, vat=20))
    )
    car = steady_session("2024-05-01T10:00:00Z", charging_minutes=75, kwh="12.5", readings_every_minutes=1, meter_start_wh=1234567)

    priced = price_session(issue_tariff, car, "Europe/Paris")

    energy = D("12.5") * D("0.30")  # 3.75
    time = D(75) / 60 * D("2.00")  # 2.50
    flat = D("1.00")
    excl = energy + time + flat  # 7.25
    assert priced.total_cost.excl_vat == excl == D("7.25")
    assert priced.total_cost.incl_vat == excl * D("1.2") == D("8.70")
    assert (priced.total_energy, priced.total_time, priced.total_parking_time) == (D("12.5"), D("1.25"), D(0))


NIGHT_AND_DAY = tariff(
    element(component("TIME", "1.00", 1), start_time="22:00", end_time="06:00"),  # crosses midnight
    element(component("TIME", "3.00", 1)),
)


def test_a_band_crossing_midnight_applies_on_both_sides_of_it():
    car = steady_session("2024-01-10T20:00:00Z", charging_minutes=11 * 60, kwh=40)  # 20:00 to 07:00 UTC

    priced = price_session(NIGHT_AND_DAY, car, "UTC")

    assert minutes_billed(priced, "TIME") == [120, 480, 60]
    assert priced.total_time_cost.excl_vat == D(2 * 3 + 8 * 1 + 1 * 3)
    assert [p.start_date_time.hour for p in priced.charging_periods] == [20, 22, 6]


def test_the_night_band_is_seven_hours_long_when_paris_springs_forward():
    # 2024-03-31: 02:00 CET becomes 03:00 CEST. Local 21:00 to 08:00 is 10 real hours; 22:00-06:00 is 7.
    car = steady_session("2024-03-30T20:00:00Z", charging_minutes=10 * 60, kwh=40)

    priced = price_session(NIGHT_AND_DAY, car, "Europe/Paris")

    assert minutes_billed(priced, "TIME") == [60, 420, 120]
    assert [p.start_date_time.isoformat() for p in priced.charging_periods] == [
        "2024-03-30T20:00:00+00:00",
        "2024-03-30T21:00:00+00:00",  # 22:00 CET
        "2024-03-31T04:00:00+00:00",  # 06:00 CEST
    ]


def test_the_night_band_is_nine_hours_long_when_paris_falls_back():
    # 2024-10-27: 03:00 CEST becomes 02:00 CET. 22:00 CEST is 20:00 UTC, 06:00 CET is 05:00 UTC.
    car = steady_session("2024-10-26T19:00:00Z", charging_minutes=11 * 60, kwh=40)

    priced = price_session(NIGHT_AND_DAY, car, "Europe/Paris")

    assert minutes_billed(priced, "TIME") == [60, 540, 60]


def test_an_hour_that_paris_skips_is_never_billed_and_one_it_repeats_is_billed_twice():
    two_to_three = tariff(element(component("TIME", "10.00", 1), start_time="02:00", end_time="03:00"), element(component("TIME", "0.00", 1)))
    spring = steady_session("2024-03-30T23:00:00Z", charging_minutes=4 * 60, kwh=20)
    autumn = steady_session("2024-10-26T23:00:00Z", charging_minutes=4 * 60, kwh=20)

    assert price_session(two_to_three, spring, "Europe/Paris").total_time_cost.excl_vat == D(0)
    assert price_session(two_to_three, autumn, "Europe/Paris").total_time_cost.excl_vat == D(20)


def test_day_of_week_is_the_stations_local_day():
    # Weekend energy is cheaper. Friday 23:30 to Saturday 00:30 in Paris (CET, UTC+1) is 22:30-23:30 UTC,
    # still Friday in UTC: the station's day decides.
    weekend = tariff(element(component("ENERGY", "0.20", 1), day_of_week=["SATURDAY", "SUNDAY"]), element(component("ENERGY", "0.40", 1)))
    car = steady_session("2024-01-12T22:30:00Z", charging_minutes=60, kwh=10)

    in_paris = price_session(weekend, car, "Europe/Paris")
    in_utc = price_session(weekend, car, "UTC")

    assert in_paris.total_energy_cost.excl_vat == 5 * D("0.40") + 5 * D("0.20")
    assert in_utc.total_energy_cost.excl_vat == 10 * D("0.40")


def test_start_and_end_date_are_local_days_end_exclusive():
    promotion = tariff(
        element(component("ENERGY", "0.10", 1), start_date="2024-07-01", end_date="2024-07-02"), element(component("ENERGY", "0.50", 1))
    )
    car = steady_session("2024-07-01T21:00:00Z", charging_minutes=120, kwh=10)  # 23:00-01:00 CEST

    priced = price_session(promotion, car, "Europe/Paris")

    assert priced.total_energy_cost.excl_vat == 5 * D("0.10") + 5 * D("0.50")


def test_min_and_max_kwh_split_the_energy_exactly_at_the_threshold():
    # First 10 kWh at 0.40, then 0.30; a reading every 7 minutes does not fall on the threshold.
    tiered = tariff(element(component("ENERGY", "0.40", 1), max_kwh=10), element(component("ENERGY", "0.30", 1), min_kwh=10))
    car = steady_session("2024-03-04T10:00:00Z", charging_minutes=90, kwh=15, readings_every_minutes=7)

    priced = price_session(tiered, car, "UTC")

    assert [line.volume for line in priced.cost_lines] == [D(10), D(5)]
    assert priced.total_energy_cost.excl_vat == D("5.50")
    assert priced.charging_periods[1].start_date_time == at("2024-03-04T11:00:00Z")


def test_min_and_max_power_follow_the_power_the_station_reports():
    fast = tariff(
        element(component("TIME", "6.00", 1), min_power=50), element(component("TIME", "2.00", 1), min_power=11, max_power=50), element(component("TIME", "1.00", 1))
    )
    car = steady_session(
        "2024-03-04T10:00:00Z",
        charging_minutes=90,
        kwh=60,
        power_kw=[
            {"timestamp": "2024-03-04T10:00:00Z", "value": 120},
            {"timestamp": "2024-03-04T10:30:00Z", "value": 22},
            {"timestamp": "2024-03-04T11:00:00Z", "value": 7},
        ],
    )

    priced = price_session(fast, car, "UTC")

    assert [(line.element, line.volume) for line in priced.cost_lines] == [(0, D("0.5")), (1, D("0.5")), (2, D("0.5"))]
    assert priced.total_time_cost.excl_vat == D("4.50")


def test_min_and_max_current_follow_the_current_the_station_reports():
    by_current = tariff(element(component("TIME", "4.00", 1), min_current=32), element(component("TIME", "2.00", 1), max_current=32))
    car = steady_session(
        "2024-03-04T10:00:00Z",
        charging_minutes=60,
        kwh=20,
        current_a=[{"timestamp": "2024-03-04T10:00:00Z", "value": 48}, {"timestamp": "2024-03-04T10:15:00Z", "value": 16}],
    )

    priced = price_session(by_current, car, "UTC")

    assert priced.total_time_cost.excl_vat == D("0.25") * 4 + D("0.75") * 2
    assert [d.type.value for d in priced.charging_periods[0].dimensions] == ["ENERGY", "TIME", "MAX_CURRENT", "MIN_CURRENT"]


def test_without_current_samples_a_current_restriction_does_not_apply_and_is_noted():
    by_current = tariff(element(component("TIME", "4.00", 1), min_current=32), element(component("TIME", "2.00", 1)))
    car = steady_session("2024-03-04T10:00:00Z", charging_minutes=60, kwh=20)

    priced = price_session(by_current, car, "UTC")

    assert priced.total_time_cost.excl_vat == D("2.00")
    assert [note.code for note in priced.notes] == [NoteCode.CURRENT_UNKNOWN]


def test_min_and_max_duration_count_from_the_session_start():
    # A blocking fee: charging time is free for 2 hours, then 10/h; 20 minutes into the third hour.
    blocking = tariff(element(component("TIME", "0", 1), max_duration=7200), element(component("TIME", "10.00", 1), min_duration=7200))
    car = steady_session("2024-03-04T10:00:00Z", charging_minutes=140, kwh=30)

    priced = price_session(blocking, car, "UTC")

    assert priced.total_time_cost.excl_vat == D("3.3333")
    assert priced.charging_periods[1].start_date_time == at("2024-03-04T12:00:00Z")


def test_step_size_rounds_what_is_billed_but_not_what_was_measured():
    per_kwh_block = tariff(element(component("ENERGY", "0.50", 1000), component("TIME", "1.20", 900)))
    car = steady_session("2024-03-04T10:00:00Z", charging_minutes=31, kwh="7.2")

    priced = price_session(per_kwh_block, car, "UTC")

    assert priced.total_energy_cost.excl_vat == 8 * D("0.50")
    assert priced.total_time_cost.excl_vat == D("0.75") * D("1.20")
    assert (priced.total_energy, priced.total_time) == (D("7.2"), D("0.5167"))


@pytest.mark.parametrize(
    ("kwh", "expected"),
    [(2, (D("3.00"), D("3.60"))), (10, (D("5.00"), D("6.00"))), (80, (D("20.00"), D("24.00")))],
)
def test_min_and_max_price_bound_the_total_cost_only(kwh, expected):
    bounded = tariff(
        element(component("ENERGY", "0.50", 1, vat=20)),
        min_price={"excl_vat": "3.00", "incl_vat": "3.60"},
        max_price={"excl_vat": "20.00", "incl_vat": "24.00"},
    )
    priced = price_session(bounded, steady_session("2024-03-04T10:00:00Z", charging_minutes=60, kwh=kwh), "UTC")

    assert (priced.total_cost.excl_vat, priced.total_cost.incl_vat) == expected
    assert priced.total_energy_cost.excl_vat == D("0.50") * kwh


def test_readings_in_kwh_and_in_wh_price_the_same():
    per_kwh = tariff(element(component("ENERGY", "0.30", 1, vat=20)))
    in_wh = session(
        "2024-03-04T10:00:00Z", "2024-03-04T11:00:00Z", readings=[("2024-03-04T10:00:00Z", 1500300), ("2024-03-04T11:00:00Z", 1522800)]
    )
    in_kwh = session(
        "2024-03-04T10:00:00Z",
        "2024-03-04T11:00:00Z",
        readings=[("2024-03-04T10:00:00Z", "1500.3"), ("2024-03-04T11:00:00Z", "1522.8")],
        unit="kWh",
    )

    assert price_session(per_kwh, in_wh, "UTC") == price_session(per_kwh, in_kwh, "UTC")
    assert price_session(per_kwh, in_kwh, "UTC").total_energy == D("22.5")


def test_a_register_reset_never_gives_negative_energy_and_is_reported():
    per_kwh = tariff(element(component("ENERGY", "0.30", 1)))
    rebooted = session(
        "2024-03-04T10:00:00Z",
        "2024-03-04T11:00:00Z",
        readings=[
            ("2024-03-04T10:00:00Z", 1000),
            ("2024-03-04T10:20:00Z", 5000),
            ("2024-03-04T10:30:00Z", 200),  # the station rebooted and its register restarted
            ("2024-03-04T11:00:00Z", 3200),
        ],
    )

    priced = price_session(per_kwh, rebooted, "UTC")

    assert priced.total_energy == D(7)  # 4 kWh before, 3 kWh after; the reset interval is unknown
    assert [(note.code, note.at) for note in priced.notes] == [(NoteCode.REGISTER_RESET, at("2024-03-04T10:30:00Z"))]


def test_a_missing_stop_reading_counts_energy_to_the_last_reading_and_is_reported():
    per_kwh = tariff(element(component("ENERGY", "0.30", 1)))
    no_stop = session("2024-03-04T10:00:00Z", "2024-03-04T11:00:00Z", readings=[("2024-03-04T10:00:00Z", 0), ("2024-03-04T10:40:00Z", 8000)])

    priced = price_session(per_kwh, no_stop, "UTC")

    assert priced.total_energy == D(8)
    assert [note.code for note in priced.notes] == [NoteCode.NO_STOP_READING]


def test_no_readings_at_all_is_zero_energy_and_reported():
    per_kwh = tariff(element(component("ENERGY", "0.30", 1), component("TIME", "1.00", 1)))
    priced = price_session(per_kwh, session("2024-03-04T10:00:00Z", "2024-03-04T11:00:00Z"), "UTC")

    assert (priced.total_energy, priced.total_cost.excl_vat) == (D(0), D(1))
    assert [note.code for note in priced.notes] == [NoteCode.NO_ENERGY_READINGS]


def test_parking_starts_when_the_car_reports_suspended_ev():
    with_parking = tariff(element(component("TIME", "2.00", 1), component("PARKING_TIME", "6.00", 1)))
    car = steady_session("2024-03-04T10:00:00Z", charging_minutes=60, kwh=20, parking_minutes=30)

    priced = price_session(with_parking, car, "UTC")

    assert (priced.total_time_cost.excl_vat, priced.total_parking_cost.excl_vat) == (D(2), D(3))
    assert priced.total_parking_time == D("0.5")
    assert [d.type.value for d in priced.charging_periods[1].dimensions] == ["PARKING_TIME"]


def test_parking_starts_when_the_energy_stops_increasing_even_without_statuses():
    with_parking = tariff(element(component("TIME", "2.00", 1), component("PARKING_TIME", "6.00", 1)))
    car = steady_session("2024-03-04T10:00:00Z", charging_minutes=60, kwh=20, parking_minutes=30, statuses=False)

    priced = price_session(with_parking, car, "UTC")

    assert priced.total_parking_time == D("0.5")
    assert priced.total_parking_cost.excl_vat == D(3)


def test_a_station_withholding_power_is_charging_time_not_parking():
    # OCPI (release-2.2.1-bugfixes) PARKING_TIME: the vehicle is not requesting power. SuspendedEVSE is the
    # station not offering it to a car that wants it.
    with_parking = tariff(element(component("TIME", "2.00", 1), component("PARKING_TIME", "6.00", 1)))
    car = session(
        "2024-03-04T10:00:00Z",
        "2024-03-04T11:00:00Z",
        readings=[("2024-03-04T10:00:00Z", 0), ("2024-03-04T10:30:00Z", 5000), ("2024-03-04T11:00:00Z", 5000)],
        statuses=[("2024-03-04T10:00:00Z", "Charging"), ("2024-03-04T10:30:00Z", "SuspendedEVSE")],
    )

    priced = price_session(with_parking, car, "UTC")

    assert (priced.total_parking_time, priced.total_time_cost.excl_vat) == (D(0), D(2))


def test_no_parking_gives_zero_parking_totals_not_missing_ones():
    priced = price_session(tariff(element(component("ENERGY", "0.30", 1))), steady_session("2024-03-04T10:00:00Z", charging_minutes=60, kwh=7), "UTC")

    assert priced.total_parking_time == D(0)
    assert (priced.total_parking_cost.excl_vat, priced.total_parking_cost.incl_vat) == (D(0), D(0))


def test_flat_is_charged_once_by_the_first_flat_that_applies():
    # A start fee that differs by time of day: the session crosses 17:00 and pays only the first one.
    two_fees = tariff(
        element(component("FLAT", "1.00", 1), component("TIME", "1.00", 1), end_time="17:00"),
        element(component("FLAT", "2.00", 1), component("TIME", "2.00", 1), start_time="17:00"),
    )
    car = steady_session("2024-03-04T16:00:00Z", charging_minutes=120, kwh=20)

    priced = price_session(two_fees, car, "UTC")

    assert [line.cost.excl_vat for line in priced.cost_lines if line.dimension.value == "FLAT"] == [D(1)]
    assert priced.total_fixed_cost.excl_vat == D(1)
    assert len(priced.charging_periods) == 2


def test_vat_left_out_means_none_applies_which_is_not_zero_percent():
    exempt = tariff(element(component("ENERGY", "0.30", 1), component("FLAT", "1.00", 1, vat=0)))
    priced = price_session(exempt, steady_session("2024-03-04T10:00:00Z", charging_minutes=60, kwh=10), "UTC")

    energy, flat = sorted(priced.cost_lines, key=lambda line: line.dimension.value)
    assert (energy.vat, flat.vat) == (None, D(0))  # no VAT line at all, against a 0 % VAT line
    assert priced.total_cost.incl_vat == priced.total_cost.excl_vat == D(4)


def test_vat_is_applied_per_component_and_summed():
    mixed = tariff(element(component("ENERGY", "0.25", 1, vat=10), component("FLAT", "0.50", 1, vat=20)))
    priced = price_session(mixed, steady_session("2024-03-04T10:00:00Z", charging_minutes=60, kwh=10), "UTC")

    assert priced.total_cost.incl_vat == D("2.50") * D("1.1") + D("0.50") * D("1.2")


def test_reservation_elements_do_not_price_a_charging_session():
    with_reservation = tariff(
        element(component("TIME", "5.00", 60), reservation="RESERVATION"), element(component("TIME", "1.00", 60))
    )
    priced = price_session(with_reservation, steady_session("2024-03-04T10:00:00Z", charging_minutes=60, kwh=10), "UTC")

    assert priced.total_time_cost.excl_vat == D(1)


def test_the_running_cost_is_the_bill_the_session_would_get_if_it_stopped_now():
    stepped = tariff(
        element(component("ENERGY", "0.30", 1000, vat=20), component("TIME", "2.00", 900, vat=20), component("FLAT", "1.00", 1, vat=20)),
        min_price={"excl_vat": "5.00"},
    )
    readings = [("2024-03-04T10:00:00Z", 0), ("2024-03-04T10:10:00Z", 3000), ("2024-03-04T10:20:00Z", 6100)]
    running = session("2024-03-04T10:00:00Z", None, readings=readings)
    stopped = session("2024-03-04T10:00:00Z", "2024-03-04T10:20:00Z", readings=readings)

    now = at("2024-03-04T10:20:00Z")
    priced_now = price_session(stepped, running, "Europe/Paris", now=now)
    bill = price_session(stepped, stopped, "Europe/Paris")

    assert priced_now.in_progress and not bill.in_progress
    assert priced_now.total_cost == bill.total_cost
    assert priced_now.total_cost.excl_vat == D("5.00")  # 1.00 + 7 kWh x 0.30 + 15 min x 2.00/h = 3.60: min price


def test_a_running_session_after_its_last_reading_is_still_charging_time():
    hourly = tariff(element(component("TIME", "2.00", 1), component("PARKING_TIME", "6.00", 1)))
    running = session("2024-03-04T10:00:00Z", None, readings=[("2024-03-04T10:00:00Z", 0), ("2024-03-04T10:30:00Z", 5000)])

    priced = price_session(hourly, running, "UTC", now=at("2024-03-04T11:00:00Z"))

    assert (priced.total_time, priced.total_parking_time, priced.total_energy) == (D(1), D(0), D(5))


def test_a_running_session_needs_now_and_a_session_cannot_end_before_it_starts():
    hourly = tariff(element(component("TIME", "2.00", 1)))
    with pytest.raises(ValueError, match="now"):
        price_session(hourly, session("2024-03-04T10:00:00Z", None), "UTC")
    with pytest.raises(ValueError, match="before it starts"):
        price_session(hourly, session("2024-03-04T10:00:00Z", "2024-03-04T09:00:00Z"), "UTC")


def test_a_tariff_not_yet_in_force_at_the_start_is_noted():
    future = tariff(element(component("TIME", "2.00", 1)), start_date_time="2030-01-01T00:00:00Z")
    priced = price_session(future, steady_session("2024-03-04T10:00:00Z", charging_minutes=60, kwh=10), "UTC")

    assert [note.code for note in priced.notes] == [NoteCode.TARIFF_NOT_IN_FORCE]


def test_power_and_state_of_charge_samples_become_period_dimensions():
    car = steady_session(
        "2024-03-04T10:00:00Z",
        charging_minutes=60,
        kwh=40,
        power_kw=[{"timestamp": "2024-03-04T10:05:00Z", "value": "49.5"}, {"timestamp": "2024-03-04T10:35:00Z", "value": "31.2"}],
        state_of_charge=[{"timestamp": "2024-03-04T10:05:00Z", "value": 20}, {"timestamp": "2024-03-04T10:55:00Z", "value": 80}],
    )

    priced = price_session(tariff(element(component("ENERGY", "0.30", 1))), car, "UTC")

    volumes = {d.type.value: d.volume for d in priced.charging_periods[0].dimensions}
    assert volumes == {"ENERGY": D(40), "TIME": D(1), "MAX_POWER": D("49.5"), "MIN_POWER": D("31.2"), "STATE_OF_CHARGE": D(80)}


def test_a_zero_length_session_still_has_one_period_and_its_start_fee():
    fee = tariff(element(component("FLAT", "0.50", 1), component("ENERGY", "0.30", 1)))
    priced = price_session(fee, session("2024-03-04T10:00:00Z", "2024-03-04T10:00:00Z", readings=[("2024-03-04T10:00:00Z", 10)]), "UTC")

    assert len(priced.charging_periods) == 1
    assert priced.total_cost.excl_vat == D("0.50")
