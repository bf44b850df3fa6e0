"""moto's Wait states, as the local runtime runs them: until the timestamp by the CSMS clock, never early."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringLiteral
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp

from csms.domain.clock import to_iso
from local import workflows


@pytest.fixture
def seconds_until(monkeypatch, clock):
    monkeypatch.setattr(workflows, "get_services", lambda: SimpleNamespace(clock=clock))

    def wait_for(timestamp: str) -> int:
        env = SimpleNamespace(
            stack=[], is_running=lambda: True, next_field_name=None, next_state_name="Wait",
            event_history_context=SimpleNamespace(source_event_id=1),
        )  # fmt: skip
        wait = Timestamp.__new__(Timestamp)  # the literal's own check would refuse the invalid one before eval
        wait.string = StringLiteral(literal_value=timestamp)
        return workflows._seconds_until(wait, env)

    return wait_for


def test_a_wait_lasts_until_the_timestamp_rounded_up(seconds_until, clock):
    assert seconds_until(to_iso(clock.now() + timedelta(seconds=2, milliseconds=100))) == 3
    assert seconds_until(to_iso(clock.now() + timedelta(hours=5))) == 5 * 3600  # UTC, whatever TZ says


def test_a_timestamp_in_the_past_does_not_wait(seconds_until, clock):
    assert seconds_until(to_iso(clock.now() - timedelta(minutes=1))) == 0


def test_a_timestamp_step_functions_would_refuse_fails_the_execution(seconds_until):
    with pytest.raises(FailureEventException):
        seconds_until("tomorrow")
