"""Applying an allocation (domain/load_control.py): the profiles, their variants, and which may go out now."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from csms.domain.allocation import IdleConnectors
from csms.domain.load_control import (
    TX_PROFILE_ID_BASE,
    ConnectorControl,
    InFlight,
    Send,
    StationControl,
    Variant,
    cleared_profile_ids,
    command_id,
    idle_connectors,
    plan,
    start_attempt,
    steered_sessions,
    tx_default_profile,
    tx_profile,
    variants,
)
from csms.domain.measured_current import ignores_allocation
from csms.domain.sites import Site
from csms.domain.stations import ActiveSession, Connector, Station
from csms.ocpp.v16.actions import Action
from csms.ocpp.v16.enums import ChargingRateUnitType
from csms.ocpp.v16.validation import parse_request

A, W = ChargingRateUnitType.AMPERE, ChargingRateUnitType.WATT
SAFE = Decimal(6)


def control(cp: str, target: str, confirmed: str | None = None, *in_flight: str, refused: bool = False) -> ConnectorControl:
    return ConnectorControl(
        charge_point_id=cp, connector_id=1, transaction_id=int(cp[-1]), target_a=Decimal(target),
        confirmed_a=Decimal(confirmed) if confirmed is not None else None,
        in_flight=tuple(InFlight(command_id=f"{cp}-{n}", limit_a=Decimal(limit), attempt=0) for n, limit in enumerate(in_flight)),
        refused=refused,
    )  # fmt: skip


def sent(sends) -> list[tuple[str, str, bool]]:
    """`CP1` for a TxProfile, `CP1/default` for a TxDefaultProfile."""
    return [
        (send.control.charge_point_id, str(send.limit_a), send.increase)
        if isinstance(send, Send)
        else (f"{send.station.charge_point_id}/default", str(send.limit_a), send.increase)
        for send in sends
    ]


def station(cp: str, target: str | None, accepted: str | None = None, *in_flight: str, refused: bool = False) -> StationControl:
    return StationControl(
        charge_point_id=cp, default_target_a=Decimal(target) if target is not None else None,
        default_a=Decimal(accepted) if accepted is not None else None,
        default_in_flight=tuple(InFlight(command_id=f"{cp}-d{n}", limit_a=Decimal(limit), attempt=0) for n, limit in enumerate(in_flight)),
        default_refused=refused,
    )  # fmt: skip


def by_id(*stations: StationControl) -> dict[str, StationControl]:
    return {s.charge_point_id: s for s in stations}


def test_a_txprofile_names_its_transaction_has_a_stable_id_and_is_a_valid_set_charging_profile():
    payload = tx_profile(2, 77, Decimal("10.6"), Variant(stack_level=3, unit=A), voltage_v=Decimal(230), phases=3)
    assert payload == {
        "connectorId": 2,
        "csChargingProfiles": {
            "chargingProfileId": TX_PROFILE_ID_BASE + 2, "transactionId": 77, "stackLevel": 3,
            "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
            "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.6, "numberPhases": 3}]},
        },
    }  # fmt: skip
    parse_request(Action.SET_CHARGING_PROFILE, payload)  # the 1.6 schema's word


def test_a_w_station_gets_the_total_over_its_phases_rounded_down():
    payload = tx_profile(1, 1, Decimal("6.1"), Variant(stack_level=0, unit=W), voltage_v=Decimal(230), phases=1)
    assert payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 1403.0


def test_the_default_profile_goes_on_connector_0_at_the_safe_current():
    payload = tx_default_profile(Decimal(6), Variant(stack_level=0, unit=A), voltage_v=Decimal(230), phases=3)
    assert payload["connectorId"] == 0
    assert payload["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile"
    assert "transactionId" not in payload["csChargingProfiles"]
    parse_request(Action.SET_CHARGING_PROFILE, payload)


@pytest.mark.parametrize(
    ("configuration", "expected"),
    [
        ({}, [(0, A), (0, W)]),
        ({"ChargeProfileMaxStackLevel": "8", "ChargingScheduleAllowedChargingRateUnit": "Current,Power"}, [(8, A), (0, A), (0, W)]),
        ({"ChargeProfileMaxStackLevel": "0", "ChargingScheduleAllowedChargingRateUnit": "Power"}, [(0, W), (0, A)]),
        ({"ChargeProfileMaxStackLevel": "garbage"}, [(0, A), (0, W)]),
    ],
)
def test_a_rejected_profile_is_offered_again_as_stations_accept_it(configuration, expected):
    assert [(v.stack_level, v.unit) for v in variants(configuration)] == expected


def test_decreases_go_out_at_once_and_increases_wait_for_them():
    controls = [control("CP1", "16", "32"), control("CP2", "16")]  # CP2 just started: its bound is the safe current
    assert sent(plan(controls, safe_current_a=SAFE, reachable={"CP1", "CP2"})) == [("CP1", "16", False)]


def test_increases_go_once_every_decrease_is_accepted():
    controls = [control("CP1", "16", "16"), control("CP2", "16")]
    assert sent(plan(controls, safe_current_a=SAFE, reachable={"CP1", "CP2"})) == [("CP2", "16", True)]


def test_a_decrease_in_flight_keeps_the_bound_high_until_it_is_answered():
    controls = [control("CP1", "16", "32", "16"), control("CP2", "16")]
    assert sent(plan(controls, safe_current_a=SAFE, reachable={"CP1", "CP2"})) == []


def test_a_refused_or_unreachable_station_is_sent_nothing_but_an_unreachable_ones_decrease_still_holds_increases():
    controls = [control("CP1", "10", "32"), control("CP2", "16"), control("CP3", "6", refused=True)]
    assert sent(plan(controls, safe_current_a=SAFE, reachable={"CP2", "CP3"})) == []


def test_a_paused_session_gets_a_zero_profile_at_once():
    assert sent(plan([control("CP1", "0")], safe_current_a=SAFE, reachable={"CP1"})) == [("CP1", "0", False)]


def test_nothing_is_sent_for_what_the_station_has_or_will_have():
    controls = [control("CP1", "16", "16"), control("CP2", "10", "16", "10")]
    assert plan(controls, safe_current_a=SAFE, reachable={"CP1", "CP2"}) == []


def test_command_ids_are_deterministic_per_version_and_connector():
    assert command_id("depot", 3, "CP1", 1) == command_id("depot", 3, "CP1", 1) != command_id("depot", 4, "CP1", 1)


@pytest.mark.parametrize(
    ("samples", "flagged"),
    [
        ((Decimal(16), Decimal(16), Decimal(16)), True),
        ((Decimal(16), Decimal(16)), False),  # two samples: a ramp, not yet a station ignoring its limit
        ((Decimal(16), Decimal("8.8"), Decimal(16)), False),  # within 10 %
        ((Decimal("8.9"), Decimal("8.9"), Decimal("8.9")), False),  # above by 10 % but not by 1 A
    ],
)
def test_a_station_is_flagged_after_three_samples_above_its_limit_by_10_percent_and_1_a(samples, flagged):
    assert ignores_allocation(Decimal(8), samples) is flagged


def test_a_station_measured_above_its_limit_is_sent_nothing_more():
    measured = replace(control("CP1", "6", "8"), measured_a=(Decimal(16),) * 3)
    assert plan([measured], safe_current_a=SAFE, reachable={"CP1"}) == []


def test_a_lowered_default_goes_at_once_and_the_increases_wait_for_it():
    # CP1's session may take the site once CP2's idle connector can no longer start at 6 A.
    controls = [control("CP1", "32", "6")]
    stations = by_id(station("CP1", "6", "6"), station("CP2", "0", "6"))
    assert sent(plan(controls, safe_current_a=SAFE, reachable={"CP1", "CP2"}, stations=stations)) == [("CP2/default", "0", False)]
    stations = by_id(station("CP1", "6", "6"), station("CP2", "0", "6", "0"))  # sent, not answered: still 6 A
    assert sent(plan(controls, safe_current_a=SAFE, reachable={"CP1", "CP2"}, stations=stations)) == []
    stations = by_id(station("CP1", "6", "6"), station("CP2", "0", "0"))
    assert sent(plan(controls, safe_current_a=SAFE, reachable={"CP1", "CP2"}, stations=stations)) == [("CP1", "32", True)]


def test_a_raised_default_waits_for_the_sessions_decreases():
    controls = [control("CP1", "26", "32")]
    stations = by_id(station("CP2", "6", "0"))
    assert sent(plan(controls, safe_current_a=SAFE, reachable={"CP1", "CP2"}, stations=stations)) == [("CP1", "26", False)]
    controls = [control("CP1", "26", "26")]
    assert sent(plan(controls, safe_current_a=SAFE, reachable={"CP1", "CP2"}, stations=stations)) == [("CP2/default", "6", True)]


def test_a_session_that_started_under_a_default_of_0_draws_0_until_its_profile_raises_it():
    started = replace(control("CP2", "6"), started_a=Decimal(0))
    controls = [control("CP1", "26", "32"), started]
    stations = by_id(station("CP2", "0", "0"))
    assert sent(plan(controls, safe_current_a=SAFE, reachable={"CP1", "CP2"}, stations=stations)) == [("CP1", "26", False)]


def test_a_station_that_never_accepted_a_default_may_draw_the_safe_current_and_gets_its_default():
    assert sent(plan([], safe_current_a=SAFE, reachable={"CP1"}, stations=by_id(station("CP1", "6")))) == [
        ("CP1/default", "6", False)
    ]
    assert plan([], safe_current_a=SAFE, reachable=set(), stations=by_id(station("CP1", "6"))) == []  # not connected
    assert plan([], safe_current_a=SAFE, reachable={"CP1"}, stations=by_id(station("CP1", "6", refused=True))) == []


SITE = Site(site_id="depot", name="Depot", max_current_a=Decimal(32), phases=3, voltage_v=Decimal(230), charge_point_ids=("CP1", "CP2", "CP3"))
T0 = datetime(2026, 11, 24, 10, tzinfo=UTC)


def a_station(cp: str, *, connected: bool = True, sessions: tuple[int, ...] = (), connectors: int = 1) -> Station:
    return Station(
        charge_point_id=cp, connection_id=f"conn-{cp}" if connected else None,
        connectors=tuple(
            Connector(
                connector_id=n, status="Charging" if n in sessions else "Available",
                session=ActiveSession(transaction_id=int(cp[-1]) * 10 + n, connector_id=n, id_tag="T", started_at=T0) if n in sessions else None,
            )
            for n in range(1, connectors + 1)
        ),
    )  # fmt: skip


def test_a_session_whose_station_is_away_counts_at_its_bound_not_at_a_target_it_cannot_receive():
    controls = {("CP1", 1): replace(control("CP1", "10", "16"), transaction_id=11)}
    sessions = steered_sessions(SITE, [a_station("CP1", connected=False, sessions=(1,))], controls, {})
    assert [(s.unreachable, s.allocated_current_a) for s in sessions] == [(True, Decimal(16))]
    sessions = steered_sessions(SITE, [a_station("CP1", sessions=(1,))], controls, {})
    assert [(s.unreachable, s.allocated_current_a) for s in sessions] == [(False, Decimal(16))]


def test_idle_connectors_are_those_without_a_session_counted_at_their_default_when_it_cannot_be_changed():
    stations = [
        a_station("CP1", sessions=(1,), connectors=2),
        a_station("CP2", connected=False),
        a_station("CP3", connectors=0),
        a_station("CP9"),  # not the site's
    ]
    known = by_id(station("CP2", "6", "6", "0"))
    assert idle_connectors(SITE, stations, known) == [
        IdleConnectors(charge_point_id="CP1", count=1),
        IdleConnectors(charge_point_id="CP2", count=1, fixed_a=Decimal(6)),
        IdleConnectors(charge_point_id="CP3", count=1),  # none reported yet: at least one
    ]
    refused = by_id(station("CP1", "6", refused=True))
    assert idle_connectors(SITE, stations[:1], refused) == [IdleConnectors(charge_point_id="CP1", count=1, fixed_a=SAFE)]


def test_a_station_starts_at_the_first_variant_it_has_not_rejected():
    options = variants({"ChargeProfileMaxStackLevel": "8"})
    assert start_attempt(options, [Variant(stack_level=8, unit=A)]) == 1
    assert start_attempt(options, []) == 0
    assert start_attempt(options, [Variant(stack_level=3, unit=A)]) == 0  # not among them (its configuration changed)
    assert start_attempt(options, options) == 0  # it rejected them all: from the start again


def test_a_station_leaving_its_site_is_cleared_of_our_default_and_every_connectors_txprofile_by_id():
    assert cleared_profile_ids([2, 1, 2]) == [TX_PROFILE_ID_BASE, TX_PROFILE_ID_BASE + 1, TX_PROFILE_ID_BASE + 2]
    parse_request(Action.CLEAR_CHARGING_PROFILE, {"id": TX_PROFILE_ID_BASE})
