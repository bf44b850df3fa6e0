"""Applying an allocation (domain/load_control.py): the profiles, their variants, and which may go out now."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from csms.domain.load_control import (
    TX_PROFILE_ID_BASE,
    ConnectorControl,
    InFlight,
    Variant,
    command_id,
    ignores_allocation,
    plan,
    tx_default_profile,
    tx_profile,
    variants,
)
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
    return [(send.control.charge_point_id, str(send.limit_a), send.increase) for send in sends]


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
