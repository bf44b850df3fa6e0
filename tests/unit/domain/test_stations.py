"""The connector state machine of OCPP 1.6 §4.9 and what a station entity answers about its sessions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from csms.domain.stations import ActiveSession, Connector, NetworkCounts, Station, StatusChange, is_expected_transition


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


# --- what the network's counts count -----------------------------------------------------------------


def _station(*connectors: tuple[str, str], connected: bool = True) -> Station:
    return Station(
        charge_point_id="CP1",
        connection_id="conn-1" if connected else None,
        connectors=tuple(
            Connector(connector_id=n, status=status, error_code=error_code) for n, (status, error_code) in enumerate(connectors)
        ),
    )


@pytest.mark.parametrize(
    ("connectors", "charging", "faulted"),
    [
        ([("Available", "NoError"), ("Charging", "NoError")], True, False),
        ([("Available", "NoError"), ("SuspendedEV", "NoError")], False, False),  # plugged in, not drawing
        ([("Faulted", "GroundFailure"), ("Available", "NoError")], False, True),  # connector 0: the station itself
        ([("Available", "NoError"), ("Charging", "HighTemperature")], True, True),  # an error while still charging
        ([("Available", "NoError"), ("Faulted", "NoError"), ("Charging", "NoError")], True, True),
        ([("Available", "Error")], False, True),  # a lenient station's code outside the 1.6 enum is an error too
        ([], False, False),  # connected, nothing reported yet
    ],
)
def test_a_connected_station_charges_and_is_faulted_by_its_connectors(connectors, charging, faulted):
    station = _station(*connectors)
    assert (station.charging, station.faulted) == (charging, faulted)


def test_an_offline_station_is_neither_charging_nor_faulted_whatever_it_last_reported():
    station = _station(("Faulted", "GroundFailure"), ("Charging", "NoError"), connected=False)
    assert (station.charging, station.faulted) == (False, False)


def test_offline_is_every_known_station_not_connected_and_never_below_zero():
    moment = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert NetworkCounts(total=10, connected=7, charging=3, faulted=1, counted_at=moment).offline == 3
    # Counted a moment apart, a station that connected for the first time in between is in `connected` only.
    assert NetworkCounts(total=10, connected=11, charging=0, faulted=0, counted_at=moment).offline == 0
