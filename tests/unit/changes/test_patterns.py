"""Our in-process filter matcher agrees with EventBridge's (moto's implementation) on the stream's patterns."""

from __future__ import annotations

import json

import pytest
from moto.events.models import EventPattern

from csms.changes.patterns import UnsupportedPattern, matches
from csms.changes.reactions import FILTER_PATTERNS, MAX_FILTERS, REACTIONS
from tests.fakes.stream import stream_record

TRANSACTION = {"pk": "TX#7", "sk": "TRANSACTION", "transactionId": 7, "chargePointId": "CP1"}
STOPPED = {**TRANSACTION, "stoppedAt": "2026-11-24T11:00:00.000Z"}
READING = {**TRANSACTION, "lastMeterWh": 1200}

RECORDS = [
    stream_record("1", "INSERT", TRANSACTION),
    stream_record("2", "MODIFY", READING, TRANSACTION),
    stream_record("3", "MODIFY", STOPPED, TRANSACTION),
    stream_record("4", "MODIFY", {**STOPPED, "cdrId": "C"}, STOPPED),
    stream_record("5", "INSERT", {"pk": "CP#CP1", "sk": "STOP#42#x", "chargePointId": "CP1"}),
    stream_record("6", "INSERT", {"pk": "TX#7", "sk": "EVENT#abc", "eventType": "X"}),
    stream_record("7", "REMOVE", None, {"pk": "TX#7", "sk": "EVENT#abc", "eventType": "X"}),
    stream_record("8", "INSERT", {"pk": "TX#7", "sk": "RUN#tx-7", "workflow": "W"}),
    stream_record("9", "MODIFY", {"pk": "CP#CP1", "sk": "STATION", "stoppedAt": "x"}, {"pk": "CP#CP1", "sk": "STATION"}),
    stream_record("10", "INSERT", {"pk": "COUNTER", "sk": "TRANSACTION", "value": 1}),
    stream_record("11", "INSERT", {"pk": "SITE#depot", "sk": "ALLOC#START#7", "siteId": "depot"}),
    stream_record("12", "INSERT", {"pk": "SITE#depot", "sk": "ALLOCATION", "version": 1}),
]


@pytest.mark.parametrize("pattern", FILTER_PATTERNS, ids=lambda pattern: json.dumps(pattern)[:60])
@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record["dynamodb"]["SequenceNumber"])
def test_the_matcher_agrees_with_eventbridge(pattern, record):
    assert matches(pattern, record) is EventPattern.load(json.dumps(pattern)).matches_event(record)


def test_each_record_reaches_only_the_reactions_meant_for_it():
    reached = {record["dynamodb"]["SequenceNumber"]: [r.name for r in REACTIONS if r.applies_to(record)] for record in RECORDS}
    assert reached == {
        "1": [], "2": [], "3": ["billing hand-off", "session end", "load control after a stop"], "4": [],
        "5": ["unmatched stop"], "6": ["follow-up"], "7": [], "8": ["follow-up"], "9": [], "10": [], "11": ["follow-up"],
        "12": [],
    }  # fmt: skip


def test_the_stream_stays_within_lambdas_filter_quota():
    assert len(FILTER_PATTERNS) <= MAX_FILTERS


def test_absent_objects_have_absent_fields():
    assert matches({"OldImage": {"stoppedAt": {"S": [{"exists": False}]}}}, {})
    assert not matches({"OldImage": {"stoppedAt": {"S": [{"exists": True}]}}}, {})


def test_syntax_it_does_not_know_is_refused_not_guessed():
    with pytest.raises(UnsupportedPattern):
        matches({"eventName": [{"anything-but": "REMOVE"}]}, {"eventName": "INSERT"})
    with pytest.raises(UnsupportedPattern):
        matches({"eventName": "INSERT"}, {"eventName": "INSERT"})
