from datetime import UTC, datetime, timedelta, timezone

from csms.domain.transactions import TRANSACTION_ID_MAX, start_fingerprint, transaction_id_from_counter

START = dict(charge_point_id="CP1", connector_id=1, id_tag="TAG", timestamp=datetime(2026, 1, 1, tzinfo=UTC), meter_start=10)


def test_the_same_start_has_the_same_fingerprint_whatever_the_timestamp_offset():
    same_moment = datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert start_fingerprint(**START) == start_fingerprint(**(START | {"timestamp": same_moment}))


def test_any_difference_makes_another_start():
    base = start_fingerprint(**START)
    for change in ({"connector_id": 2}, {"id_tag": "OTHER"}, {"meter_start": 11}, {"charge_point_id": "CP2"},
                   {"timestamp": START["timestamp"] + timedelta(seconds=1)}):
        assert start_fingerprint(**(START | change)) != base


def test_transaction_ids_stay_positive_int32_and_skip_zero():
    assert transaction_id_from_counter(1) == 1
    assert transaction_id_from_counter(TRANSACTION_ID_MAX) == TRANSACTION_ID_MAX
    assert transaction_id_from_counter(TRANSACTION_ID_MAX + 1) == 1
