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


class Execution:
    """What `_wait_until` uses of moto's Environment; records each wait instead of waiting."""

    def __init__(self, clock, *, on_wait=None):
        self.stack = []
        self.next_state_name = "Wait"
        self.event_history_context = SimpleNamespace(source_event_id=1)
        self.waits: list[float] = []
        self.running = True
        self._clock, self._on_wait = clock, on_wait
        self.program_state_event = SimpleNamespace(wait=self._wait)

    def is_running(self) -> bool:
        return self.running

    def _wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        (self._on_wait or (lambda: self._clock.advance(seconds=seconds)))()
        return False


@pytest.fixture
def wait_until(monkeypatch, clock):
    monkeypatch.setattr(workflows, "get_services", lambda: SimpleNamespace(clock=clock))

    def run(timestamp: str, execution: Execution) -> Execution:
        wait = Timestamp.__new__(Timestamp)  # the literal's own check would refuse the invalid one before eval
        wait.string = StringLiteral(literal_value=timestamp)
        workflows._wait_until(wait, execution)
        return execution

    return run


def test_a_wait_lasts_until_the_timestamp_by_the_csms_clock(wait_until, clock):
    target = clock.now() + timedelta(seconds=2, milliseconds=100)
    execution = wait_until(to_iso(target), Execution(clock))
    assert clock.now() >= target  # never early: whole seconds are not rounded down
    assert all(0 < seconds <= workflows.CLOCK_POLL_SECONDS for seconds in execution.waits)


def test_a_timestamp_hours_ahead_is_hours_ahead_in_utc(wait_until, clock, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    target = clock.now() + timedelta(hours=5)
    wait_until(to_iso(target), Execution(clock))
    assert clock.now() >= target and clock.now() - target < timedelta(seconds=1)


def test_a_timestamp_in_the_past_does_not_wait(wait_until, clock):
    assert wait_until(to_iso(clock.now() - timedelta(minutes=1)), Execution(clock)).waits == []


def test_a_clock_moved_by_hand_ends_the_wait(wait_until, clock):
    def moved_on() -> None:
        clock.advance(hours=1)  # a test jumps past the moment: the next look at the clock ends the wait

    execution = wait_until(to_iso(clock.now() + timedelta(minutes=15)), Execution(clock, on_wait=moved_on))
    assert len(execution.waits) == 1


def test_a_stopped_execution_stops_waiting(wait_until, clock):
    def stopped() -> None:
        execution.running = False

    execution = Execution(clock, on_wait=stopped)
    wait_until(to_iso(clock.now() + timedelta(days=1)), execution)
    assert len(execution.waits) == 1


def test_a_timestamp_step_functions_would_refuse_fails_the_execution(wait_until, clock):
    with pytest.raises(FailureEventException):
        wait_until("tomorrow", Execution(clock))

