from datetime import UTC, datetime, timedelta

import pytest

from csms.domain.authorization import IdTagRecord, authorize, normalize_id_tag, without_vendor_suffix

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STALE = timedelta(hours=24)


def decide(record, **overrides):
    options = dict(now=NOW, allow_concurrent_transactions=False, stale_after=STALE)
    return authorize(record, **(options | overrides))


def test_unknown_id_tag_is_invalid():
    assert decide(None).status == "Invalid"


@pytest.mark.parametrize("status", ["Blocked", "Expired", "Invalid"])
def test_operator_status_other_than_accepted_is_answered_as_is(status):
    assert decide(IdTagRecord("TAG", status)).status == status


def test_accepted_tag_carries_expiry_and_parent():
    record = IdTagRecord("TAG", "Accepted", expiry_date=NOW + timedelta(days=1), parent_id_tag="FLEET")
    result = decide(record)
    assert (result.status, result.expiry_date, result.parent_id_tag) == ("Accepted", NOW + timedelta(days=1), "FLEET")


def test_tag_past_its_expiry_date_is_expired():
    assert decide(IdTagRecord("TAG", "Accepted", expiry_date=NOW - timedelta(seconds=1))).status == "Expired"


def test_tag_in_a_live_transaction_is_concurrent():
    record = IdTagRecord("TAG", "Accepted", active_transaction_id=7, active_transaction_started_at=NOW - timedelta(hours=1))
    assert decide(record).status == "ConcurrentTx"
    assert decide(record, allow_concurrent_transactions=True).status == "Accepted"
    assert decide(record, ignoring_transaction=7).status == "Accepted"


def test_a_stale_transaction_no_longer_blocks_its_tag():
    record = IdTagRecord("TAG", "Accepted", active_transaction_id=7, active_transaction_started_at=NOW - timedelta(hours=25))
    assert decide(record).status == "Accepted"


def test_id_tags_are_case_insensitive_in_ascii_only():
    assert normalize_id_tag("04a2b3c4") == normalize_id_tag("04A2B3C4") == "04A2B3C4"


@pytest.mark.parametrize("lookalike", ["\u017fIGIL1", "S\u0131gil1", " SIGIL1", "SIGIL1\t", "SIGIL1 "])
def test_a_lookalike_of_a_tag_is_another_tag(lookalike):
    assert normalize_id_tag(lookalike) != normalize_id_tag("SIGIL1")


@pytest.mark.parametrize(
    ("sent", "separator", "card"),
    [
        ("04A2B3C4_SERIAL42", "_", "04A2B3C4"),  # KEBA-style: the station's serial after the card
        ("04A2B3C4_A_B", "_", "04A2B3C4"),  # cut at the first separator: the suffix may hold it too
        ("04A2B3C4::X", "::", "04A2B3C4"),
        ("04A2B3C4", "_", "04A2B3C4"),  # no suffix sent (a remote start's tag, an app's)
        ("_SERIAL42", "_", "_SERIAL42"),  # nothing before the separator: no card would be left
        ("04A2B3C4_SERIAL42", None, "04A2B3C4_SERIAL42"),  # a station without the option
        ("04A2B3C4X1", "x", "04A2B3C4X1"),  # matched exactly, not case-insensitively
    ],
)
def test_a_vendor_suffix_is_cut_at_the_stations_separator(sent, separator, card):
    assert without_vendor_suffix(sent, separator) == card
