"""The connector state machine of OCPP 1.6 §4.9 and what a station entity answers about its sessions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from csms.domain.stations import ActiveSession, Connector, Station, StatusChange, is_expected_transition


@pytest.mark.parametrize(
    ("previous", "current"),
    [
        (None, "Charging"),  # nothing known yet: whatever comes first is taken
        ("Available", "Preparing"),  # A2: a car plugged in
        ("Preparing", "Charging"),  # B3
        ("Charging", "SuspendedEV"),  # C4: the car paused
        ("SuspendedEV", "Charging"),  # D3
        ("Charging", "Finishing"),  # C6
        ("Finishing", "Available"),  # F1: unplugged
        ("Reserved", "Preparing"),  # G2: the driver arrived
        ("Faulted", "Reserved"),  # I7
        ("Available", "Available"),  # a repeat is no transition
    ],
)
def test_transitions_the_state_machine_allows(previous, current):
    assert is_expected_transition(1, previous, current)


@pytest.mark.parametrize(
    ("previous", "current"),
    [
        ("Available", "Finishing"),  # A6 does not exist: nothing was charging
        ("Charging", "Preparing"),  # C2
        ("Charging", "Reserved"),  # C7: an occupied connector cannot be reserved
        ("Preparing", "Unavailable"),  # B8
        ("Finishing", "Charging"),  # F3
        ("Reserved", "Charging"),  # G3
        ("Available", "Plugged"),  # not a 1.6 status at all (a lenient station's)
    ],
)
def test_transitions_the_state_machine_does_not_allow(previous, current):
    assert not is_expected_transition(1, previous, current)
    assert not StatusChange(connector_id=1, previous=previous, current=current).expected


def test_connector_zero_is_only_ever_available_unavailable_or_faulted():
    assert is_expected_transition(0, "Available", "Unavailable")
    assert is_expected_transition(0, None, "Faulted")
    assert not is_expected_transition(0, "Available", "Charging")


def test_a_station_finds_the_session_on_a_connector_without_searching_history():
    started = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    session = ActiveSession(transaction_id=42, connector_id=2, id_tag="TAG", started_at=started)
    station = Station(
        charge_point_id="CP1",
        connectors=(Connector(connector_id=1, status="Available"), Connector(connector_id=2, status="Charging", session=session)),
    )
    assert station.session_on(2) == session
    assert station.session_on(1) is None
    assert station.session_on(3) is None
    assert station.active_sessions == (session,)
    assert station.connector(2).occupied and not station.connector(1).occupied
