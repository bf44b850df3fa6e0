from datetime import timedelta
from decimal import Decimal

from csms.domain.limit_checks import LimitStop, Reading, Trend, crossing, limit_stop
from csms.domain.limits import LimitKind, Money, SessionLimits
from tests.fakes.clock import EPOCH

MINUTE = timedelta(minutes=1)


PRECISE = EPOCH + timedelta(milliseconds=250)
"""A station that stamps its readings to the millisecond: its intervals are what they say."""


def trend(previous_wh: float | None, latest_wh: float, *, interval: timedelta = MINUTE) -> Trend:
    previous = Reading(PRECISE, Decimal(str(previous_wh))) if previous_wh is not None else None
    return Trend(previous, Reading(PRECISE + interval, Decimal(str(latest_wh))))


def test_a_limit_is_reached_at_its_value_not_only_past_it():
    assert crossing(trend(900, 1000), Decimal(1000)) == timedelta(0)
    assert crossing(trend(None, 1001), Decimal(1000)) == timedelta(0)


def test_the_crossing_is_extrapolated_when_it_comes_before_the_next_sample():
    # 150 kW for a minute: 2500 Wh a minute; 1250 Wh to go is half a minute after the latest reading.
    assert crossing(trend(17_500, 20_000), Decimal(21_250)) == timedelta(seconds=30)
    assert crossing(trend(17_500, 20_000), Decimal(22_500)) == MINUTE  # exactly at the next sample: still predicted


def test_whole_second_stamps_are_read_as_the_longest_interval_they_allow_so_the_stop_is_never_early():
    # 10:00:00 and 10:00:03 may be 3.99 s apart: 183 Wh in up to 4 s, so 34 Wh to go take at least 0.743 s.
    stamped = Trend(Reading(EPOCH, Decimal(183)), Reading(EPOCH + timedelta(seconds=3), Decimal(366)))
    assert crossing(stamped, Decimal(400)) == timedelta(seconds=34 * 4 / 183)
    assert crossing(stamped, Decimal(366 + 183)) is None  # 4 s away at the slowest: the next sample decides


def test_no_prediction_when_the_next_sample_comes_first_or_nothing_rises():
    assert crossing(trend(17_500, 20_000), Decimal(22_501)) is None
    assert crossing(trend(20_000, 20_000), Decimal(20_001)) is None  # not charging
    assert crossing(trend(None, 20_000), Decimal(20_001)) is None  # one reading: no rate
    assert crossing(trend(19_000, 20_000, interval=timedelta(0)), Decimal(20_001)) is None


def test_the_first_limit_to_be_reached_stops_the_session():
    limits = SessionLimits(max_energy_wh=21_250, max_cost=Money(Decimal("10.00"), "EUR"), max_soc=80)
    received = EPOCH + timedelta(hours=1)
    energy = trend(17_500, 20_000)
    cost = Trend(Reading(PRECISE, Decimal("9.00")), Reading(PRECISE + MINUTE, Decimal("9.50")))  # 10.00 in a minute
    assert limit_stop(limits, energy=energy, cost=cost, received_at=received) == LimitStop(
        LimitKind.ENERGY, received + timedelta(seconds=30)
    )
    soc = Trend(None, Reading(EPOCH + MINUTE, Decimal(80)))
    assert limit_stop(limits, energy=energy, cost=cost, soc=soc, received_at=received) == LimitStop(LimitKind.SOC, received)


def test_without_prediction_only_a_reading_at_or_past_the_limit_stops():
    limits = SessionLimits(max_energy_wh=21_250)
    received = EPOCH + timedelta(hours=1)
    assert limit_stop(limits, energy=trend(17_500, 20_000), received_at=received, predict=False) is None
    assert limit_stop(limits, energy=trend(20_000, 22_500), received_at=received, predict=False) == LimitStop(
        LimitKind.ENERGY, received
    )


def test_a_limit_without_a_reading_of_its_kind_is_never_reached():
    assert limit_stop(SessionLimits(max_soc=80), energy=trend(0, 50_000), received_at=EPOCH) is None
    assert limit_stop(SessionLimits(max_duration_seconds=60), energy=trend(0, 50_000), received_at=EPOCH) is None
