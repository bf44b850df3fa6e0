"""Threshold crossings (issue 10 §4): upward only, never for a session that started above, each at most once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from csms.domain.metering import state_of_charge
from csms.domain.thresholds import Crossing, energy_crossings, session_crossings, soc_crossings
from csms.domain.transactions import Transaction, TransactionStart
from csms.runtime.settings import Settings

D = Decimal
EIGHTY = (D(80),)


def test_a_reading_climbing_past_80_crosses_it():
    assert soc_crossings(EIGHTY, first=D(40), previous=D(79), current=D(81)) == [Crossing("SoC", D(80), D(81))]


def test_reaching_the_threshold_exactly_crosses_it_and_the_next_reading_does_not_again():
    assert soc_crossings(EIGHTY, first=D(40), previous=D(79), current=D(80)) == [Crossing("SoC", D(80), D(80))]
    assert soc_crossings(EIGHTY, first=D(40), previous=D(80), current=D(85)) == []


def test_a_falling_reading_crosses_nothing():
    assert soc_crossings(EIGHTY, first=D(40), previous=D(85), current=D(78)) == []


def test_a_session_that_started_above_the_threshold_never_crosses_it_even_after_a_dip():
    assert soc_crossings(EIGHTY, first=D(85), previous=D(85), current=D(90)) == []
    assert soc_crossings(EIGHTY, first=D(85), previous=D(79), current=D(82)) == []
    assert soc_crossings(EIGHTY, first=D(80), previous=D(80), current=D(81)) == []  # started at it


def test_the_first_reading_of_a_session_is_its_start_not_a_crossing():
    assert soc_crossings(EIGHTY, first=D(85), previous=None, current=D(85)) == []


def test_one_reading_can_cross_several_thresholds_lowest_first():
    crossings = soc_crossings((D(90), D(50), D(80)), first=D(20), previous=D(45), current=D(92))
    assert [crossing.threshold for crossing in crossings] == [D(50), D(80), D(90)]
    assert {crossing.value for crossing in crossings} == {D(92)}


def test_energy_thresholds_count_the_energy_delivered_in_the_session():
    assert energy_crossings((D(5000), D(10000)), previous_wh=D(0), current_wh=D(5000)) == [
        Crossing("Energy.Active.Import.Register", D(5000), D(5000))
    ]
    assert energy_crossings((D(5000), D(10000)), previous_wh=D(4000), current_wh=D(12000)) == [
        Crossing("Energy.Active.Import.Register", D(5000), D(12000)),
        Crossing("Energy.Active.Import.Register", D(10000), D(12000)),
    ]
    assert energy_crossings((D(5000),), previous_wh=D(5000), current_wh=D(6000)) == []


def _transaction(notify_at_energy_wh: tuple[int, ...] = (), **fields) -> Transaction:
    start = TransactionStart(
        charge_point_id="CP1", connector_id=1, id_tag="T", meter_start=100_000,
        started_at=datetime(2026, 1, 1, tzinfo=UTC), authorization_status="Accepted", notify_at_energy_wh=notify_at_energy_wh,
    )  # fmt: skip
    return Transaction(transaction_id=7, start=start, **fields)


def test_a_session_s_crossings_come_from_the_transaction_before_the_reading():
    before = _transaction(first_soc=D(60), last_soc=D(78), last_meter_wh=D(104_000), notify_at_energy_wh=(5000,))
    crossings = session_crossings(before, energy_register_wh=D(106_000), soc=D(81), soc_thresholds=EIGHTY)
    assert crossings == [Crossing("SoC", D(80), D(81)), Crossing("Energy.Active.Import.Register", D(5000), D(6000))]


def test_without_a_previous_reading_energy_counts_from_the_start_and_soc_from_this_reading():
    before = _transaction(notify_at_energy_wh=(1000,))
    crossings = session_crossings(before, energy_register_wh=D(101_500), soc=D(85), soc_thresholds=EIGHTY)
    assert crossings == [Crossing("Energy.Active.Import.Register", D(1000), D(1500))]


@pytest.mark.parametrize(
    ("sampled", "expected"),
    [
        ([{"value": "81", "measurand": "SoC", "unit": "Percent", "location": "EV"}], D(81)),
        ([{"value": "81.5", "measurand": "SoC"}], D("81.5")),  # unit and location as the field sends them most
        ([{"value": "12000"}, {"value": "64", "measurand": "SoC", "unit": "Percent"}], D(64)),
        ([{"value": "81", "measurand": "SoC", "unit": "Wh"}], None),
        ([{"value": "81", "measurand": "SoC", "location": "Outlet"}], None),
        ([{"value": "181", "measurand": "SoC"}], None),
        ([{"value": "high", "measurand": "SoC"}], None),
        ([{"value": "12000"}], None),
    ],
)
def test_the_state_of_charge_is_the_ev_s_percent(sampled, expected):
    assert state_of_charge(sampled) == expected


def test_soc_thresholds_are_comma_separated_percents_80_by_default():
    assert Settings(table_name="t").soc_thresholds == (D(80),)
    assert Settings.from_environment({"TABLE_NAME": "t", "SOC_THRESHOLDS": "50, 80"}).soc_thresholds == (D(50), D(80))
    assert Settings.from_environment({"TABLE_NAME": "t", "SOC_THRESHOLDS": ""}).soc_thresholds == ()
    with pytest.raises(ValueError, match="soc_thresholds"):
        Settings.from_environment({"TABLE_NAME": "t", "SOC_THRESHOLDS": "120"})
