"""A sample session (the console's tariff preview) is priced like a station's session: same rules, same figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from csms.domain.tariffs.pricing import price_session
from csms.domain.tariffs.sample import InvalidSample, sample_consumption

from .builders import at, component, element, steady_session, tariff

D = Decimal
ISSUE_TARIFF = tariff(
    element(component("ENERGY", "0.30", 1, vat=20), component("TIME", "2.00", 1, vat=20), component("FLAT", "1.00", 1, vat=20)),
    element(component("PARKING_TIME", "6.00", 60, vat=20)),
)


def test_a_sample_costs_what_the_same_session_from_a_station_costs():
    sample = sample_consumption(
        start=at("2024-05-01T10:00:00Z"), end=at("2024-05-01T11:45:00Z"), energy_wh=D(12_500), charging_end=at("2024-05-01T11:15:00Z")
    )
    station = steady_session("2024-05-01T10:00:00Z", charging_minutes=75, parking_minutes=30, kwh="12.5")

    priced, expected = price_session(ISSUE_TARIFF, sample, "Europe/Paris"), price_session(ISSUE_TARIFF, station, "Europe/Paris")

    assert priced.total_cost == expected.total_cost
    assert priced.total_cost.excl_vat == D("3.75") + D("2.50") + D("1.00") + D("3.00")  # energy, 75 min, flat, 30 min parked
    assert (priced.total_energy, priced.total_time, priced.total_parking_time) == (D("12.5"), D("1.75"), D("0.5"))  # total_time: the whole session (OCPI)


def test_without_a_charging_end_the_car_charges_until_the_end():
    sample = sample_consumption(start=at("2024-05-01T10:00:00Z"), end=at("2024-05-01T11:00:00Z"), energy_wh=D(7_000))

    priced = price_session(ISSUE_TARIFF, sample, "UTC")

    assert (priced.total_parking_time, priced.total_time, priced.total_energy) == (D(0), D(1), D(7))


@pytest.mark.parametrize(
    ("end", "charging_end", "field"),
    [("2024-05-01T09:00:00Z", None, "endDateTime"), ("2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z", "chargingEndDateTime")],
)
def test_times_out_of_order_name_the_field(end, charging_end, field):
    with pytest.raises(InvalidSample) as refused:
        sample_consumption(
            start=at("2024-05-01T10:00:00Z"), end=at(end), energy_wh=D(1), charging_end=at(charging_end) if charging_end else None
        )
    assert refused.value.field == field


def test_a_sample_longer_than_a_month_is_refused():
    with pytest.raises(InvalidSample, match="more than 31 days"):
        sample_consumption(start=at("2024-05-01T10:00:00Z"), end=at("2024-06-02T10:00:00Z"), energy_wh=D(1))
